/// One kind of message on the bus: its wire name, what it is for and where its schema lives.
///
/// The wire name is declared here, never derived from a Swift type name, so renaming a type
/// cannot break a consumer. A breaking change is a new wire name (`.v2`), published beside the
/// old one for a while.
public struct MessageType: Sendable, Hashable, CustomStringConvertible {
    /// Whether a message asks one service to act, states a fact, or answers a command.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// To exactly one service, through the direct exchange `isms.commands`.
        case command
        /// A fact, to whoever listens, through the topic exchange `isms.events`.
        case event
        /// An answer to a command, through the default exchange to the command's `reply_to` queue.
        case reply
    }

    /// The prefix of every wire name: the ward's reverse-DNS name and the system.
    public static let wireNamePrefix = "jp.ward.isms."

    /// The CloudEvents `type`, e.g. `jp.ward.isms.incident.reported.v1`.
    public let wireName: String
    /// Command, event or reply.
    public let kind: Kind
    /// The JSON Schema of the `data` member, a file in the module's `Schemas` folder.
    public let schemaFile: String
    /// The classification a message of this type carries unless its payload says otherwise.
    public let defaultClassification: DataClassification
    /// One line on what the message means.
    public let summary: String

    public init(wireName: String, kind: Kind, schemaFile: String, defaultClassification: DataClassification, summary: String) {
        precondition(wireName.hasPrefix(Self.wireNamePrefix), "a wire name starts with \(Self.wireNamePrefix)")
        self.wireName = wireName
        self.kind = kind
        self.schemaFile = schemaFile
        self.defaultClassification = defaultClassification
        self.summary = summary
    }

    /// The routing key: the wire name without its prefix, e.g. `incident.reported.v1`.
    public var routingKey: String { String(wireName.dropFirst(Self.wireNamePrefix.count)) }

    /// Where a message of this type is published; nil for replies, which go to their command's
    /// `reply_to` queue (see ``MessageRoute/reply(to:)``).
    public var route: MessageRoute? {
        switch kind {
        case .command: MessageRoute(exchange: BusLayout.commandsExchange, routingKey: routingKey)
        case .event: MessageRoute(exchange: BusLayout.eventsExchange, routingKey: routingKey)
        case .reply: nil
        }
    }

    public var description: String { wireName }
}

/// An exchange and routing key to publish to.
public struct MessageRoute: Sendable, Hashable {
    public var exchange: String
    public var routingKey: String

    public init(exchange: String, routingKey: String) {
        self.exchange = exchange
        self.routingKey = routingKey
    }

    /// A reply: the default exchange, routed by queue name to the command's `reply_to`.
    public static func reply(to queue: String) -> MessageRoute {
        MessageRoute(exchange: "", routingKey: queue)
    }
}

/// Every message type the system knows.
public enum MessageTypes {
    /// A department files an incident report (Art. 27). Command to incident intake.
    public static let submitIncidentReport = MessageType(
        wireName: "jp.ward.isms.incident-report.submit.v1",
        kind: .command,
        schemaFile: "incident-report.submit.v1.schema.json",
        defaultClassification: .confidential,
        summary: "A producer files a security incident report; incident intake answers accepted or rejected."
    )

    /// Intake recorded a report (or had already recorded it). Reply to the producer.
    public static let incidentReportAccepted = MessageType(
        wireName: "jp.ward.isms.incident-report.accepted.v1",
        kind: .reply,
        schemaFile: "incident-report.accepted.v1.schema.json",
        defaultClassification: .internal,
        summary: "Incident intake recorded the report; `duplicate` is true when the reportId was seen before."
    )

    /// Intake refused a report, field by field. Reply to the producer.
    public static let incidentReportRejected = MessageType(
        wireName: "jp.ward.isms.incident-report.rejected.v1",
        kind: .reply,
        schemaFile: "incident-report.rejected.v1.schema.json",
        defaultClassification: .internal,
        summary: "Incident intake refused the report; each error names the field by JSON pointer."
    )

    /// An incident was recorded and must be triaged and notified. Event.
    public static let incidentReported = MessageType(
        wireName: "jp.ward.isms.incident.reported.v1",
        kind: .event,
        schemaFile: "incident.reported.v1.schema.json",
        defaultClassification: .confidential,
        summary: "An incident report was recorded by intake (My Numbers masked); CSIRT triages it, the notifier tells the chain."
    )

    /// A designated handler of My Number data read a report's restricted original; triage records it in the case history. Event.
    public static let incidentReportOriginalViewed = MessageType(
        wireName: "jp.ward.isms.incident-report.original-viewed.v1",
        kind: .event,
        schemaFile: "incident-report.original-viewed.v1.schema.json",
        defaultClassification: .internal,
        summary: "A designated handler of the reporting section read the restricted original of a report (which token, when); the text stays in intake."
    )

    /// The organisation directory was re-imported. Event.
    public static let directoryChanged = MessageType(
        wireName: "jp.ward.isms.directory.changed.v1",
        kind: .event,
        schemaFile: "directory.changed.v1.schema.json",
        defaultClassification: .internal,
        summary: "A new version of the organisation directory was imported; services refresh what they derive from it."
    )

    /// Every message type, each exactly once. Each service's file in `Contracts/Services/`
    /// lists the types that service originates.
    public static let all: [MessageType] =
        incidentIntake + directory + csirtTriage + notifier + auditScheduler + contractorMonitor

    private static let byWireName: [String: MessageType] = Dictionary(uniqueKeysWithValues: all.map { ($0.wireName, $0) })

    /// The message type with this CloudEvents `type`, if the system knows it.
    public static func named(_ wireName: String) -> MessageType? {
        byWireName[wireName]
    }
}

/// A payload type bound to its message type, so envelopes fill in `type`, `subject` and
/// `dataclassification` on their own.
public protocol MessagePayload: Codable, Sendable, Hashable {
    /// The message type this payload is the `data` of.
    static var messageType: MessageType { get }
    /// The CloudEvents `subject` for this payload: an id, never personal data.
    var subject: String? { get }
    /// The classification of this particular message.
    var dataClassification: DataClassification { get }
}

extension MessagePayload {
    public var subject: String? { nil }
    public var dataClassification: DataClassification { Self.messageType.defaultClassification }
}

/// The programs that talk on the bus; the raw value is the executable name and the AMQP `app_id`.
public enum ServiceName: String, Sendable, Hashable, CaseIterable, Codable {
    case incidentIntake = "incident-intake"
    case csirtTriage = "csirt-triage"
    case auditScheduler = "audit-scheduler"
    case contractorMonitor = "contractor-monitor"
    case notifier = "notifier"
    /// The command-line tool for operators, CSIRT and producers.
    case isms = "isms"

    /// The CloudEvents `source` of messages this service originates, e.g. `urn:isms:service:incident-intake`.
    /// Replicas share it: their ids are UUIDs, so `source` + `id` stays unique.
    public var source: String { "urn:isms:service:\(rawValue)" }
}
