public import Foundation

/// Constants of the envelope format: CloudEvents 1.0, JSON event format, structured mode.
public enum EnvelopeFormat {
    /// The only `specversion` accepted.
    public static let specVersion = "1.0"
    /// The media type of a structured-mode message body (the AMQP `content_type`).
    public static let mediaType = "application/cloudevents+json"
    /// The `datacontenttype` of every contract: `data` is a JSON value.
    public static let dataContentType = "application/json"

    /// A new message id: a lowercase random UUID.
    public static func newID() -> String { UUID().lowercasedString }

    /// The attributes (and members) this module reads itself; every other member is kept as an extension.
    static let coreMembers: Set<String> = [
        "specversion", "id", "source", "type", "time", "subject", "datacontenttype", "correlationid", "causationid",
        "dataclassification", "traceparent", "data", "data_base64",
    ]

    /// Whether a media type (parameters ignored, case-insensitive) is `expected`.
    public static func mediaType(_ value: String, is expected: String) -> Bool {
        let essence = value.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        return essence.trimmingCharacters(in: .whitespaces).lowercased() == expected
    }
}

/// What a message caused by another one inherits: the correlation, the causing id and the trace.
public struct Causation: Sendable, Hashable {
    /// The id of the causing message; becomes the `causationid`.
    public var messageID: String
    /// The conversation the causing message belongs to; becomes the `correlationid`.
    public var correlationID: String
    /// The causing message's trace; the new message continues it as a child span.
    public var traceParent: TraceParent?

    public init(messageID: String, correlationID: String, traceParent: TraceParent?) {
        self.messageID = messageID
        self.correlationID = correlationID
        self.traceParent = traceParent
    }
}

/// A CloudEvent whose `data` is kept as the JSON bytes received, for routing, the inbox and
/// dead-letter handling without decoding the payload.
///
/// Decoding is strict: `specversion` must be `1.0`; `id`, `source`, `type`, `time` and
/// `dataclassification` must be present and valid; `datacontenttype`, when present, must be
/// `application/json`. Unknown extension attributes are kept in ``extensions``.
public struct RawEnvelope: Sendable, Hashable {
    /// The message id; with ``source`` it identifies the message (see ``deduplicationKey``).
    public var id: String
    /// Where the message comes from, a URI-reference without white space.
    public var source: String
    /// The CloudEvents `type`, the wire name of a ``MessageType``.
    public var type: String
    /// When the occurrence happened (or the message was made); millisecond precision.
    public var time: Date
    /// What the message is about within its source: an id, never personal data.
    public var subject: String?
    /// The conversation the message belongs to (extension `correlationid`).
    public var correlationID: String?
    /// The id of the message that caused this one (extension `causationid`).
    public var causationID: String?
    /// How carefully the data must be handled (extension `dataclassification`).
    public var dataClassification: DataClassification
    /// The W3C trace context (distributed-tracing extension `traceparent`).
    public var traceParent: TraceParent?
    /// Every other attribute, kept as received.
    public var extensions: [String: JSONValue]
    /// The `data` member exactly as received, or nil when the message has none.
    public var data: [UInt8]?
    /// The AMQP `reply_to` of the delivery this envelope came in; not part of the event.
    public var replyTo: String?
    /// The AMQP `app_id` of the delivery this envelope came in; not part of the event.
    public var appID: String?

    public init(
        id: String = EnvelopeFormat.newID(),
        source: String,
        type: String,
        time: Date = .now,
        subject: String? = nil,
        correlationID: String? = nil,
        causationID: String? = nil,
        dataClassification: DataClassification,
        traceParent: TraceParent? = .random(),
        extensions: [String: JSONValue] = [:],
        data: [UInt8]?,
        replyTo: String? = nil,
        appID: String? = nil
    ) {
        self.id = id
        self.source = source
        self.type = type
        self.time = ContractsJSON.wirePrecision(time)
        self.subject = subject
        self.correlationID = correlationID
        self.causationID = causationID
        self.dataClassification = dataClassification
        self.traceParent = traceParent
        self.extensions = extensions
        self.data = data
        self.replyTo = replyTo
        self.appID = appID
    }

    /// `source` and `id` together: the key that identifies a message for de-duplication
    /// everywhere (inbox rows, logs). `source` holds no white space, so the space is unambiguous.
    public var deduplicationKey: String { "\(source) \(id)" }

    /// The registered message type, if `type` is one the system knows.
    public var messageType: MessageType? { MessageTypes.named(type) }

    /// What a message caused by this one inherits.
    public var causation: Causation {
        Causation(messageID: id, correlationID: correlationID ?? id, traceParent: traceParent)
    }

    /// The `data` member parsed, or nil when there is none.
    public func dataValue() throws(ContractError) -> JSONValue? {
        guard let data else { return nil }
        return try JSONValue(parsing: data)
    }

    /// Decodes `data` into a payload. When the payload type is a ``MessagePayload`` the
    /// envelope's `type` must be its wire name.
    public func decode<Payload: Codable & Sendable>(as _: Payload.Type = Payload.self) throws(ContractError) -> Envelope<Payload> {
        if let bound = Payload.self as? any MessagePayload.Type, bound.messageType.wireName != type {
            throw ContractError(.typeMismatch, attribute: "type", detail: "expected \(bound.messageType.wireName), got \(type)")
        }
        guard let data else { throw ContractError(.invalidPayload, attribute: "data", detail: "the message has no data") }
        let payload: Payload
        do {
            payload = try ContractsJSON.decoder().decode(Payload.self, from: Data(data))
        } catch let error as DecodingError {
            throw ContractError(.invalidPayload, attribute: "data", detail: Self.describe(error))
        } catch {
            throw ContractError(.invalidPayload, attribute: "data", detail: "\(error)")
        }
        return Envelope(
            id: id,
            source: source,
            type: type,
            time: time,
            subject: subject,
            correlationID: correlationID,
            causationID: causationID,
            dataClassification: dataClassification,
            traceParent: traceParent,
            extensions: extensions,
            data: payload
        )
    }

    private static func describe(_ error: DecodingError) -> String {
        func pointer(_ path: [any CodingKey]) -> String {
            path.map { "/" + ($0.intValue.map(String.init) ?? $0.stringValue) }.joined()
        }
        switch error {
        case .keyNotFound(let key, let context): return "\(pointer(context.codingPath + [key])): required member missing"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return "\(pointer(context.codingPath)): \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}

// MARK: - JSON

extension RawEnvelope {
    /// Parses a structured-mode CloudEvent (`application/cloudevents+json`).
    public init(jsonBytes: some Collection<UInt8>) throws(ContractError) {
        var parser = JSONParser(Array(jsonBytes))
        guard case .object(let members) = try parser.parseDocument() else {
            throw ContractError(.invalidJSON, detail: "a CloudEvent is a JSON object")
        }

        func string(_ name: String, required: Bool) throws(ContractError) -> String? {
            guard let value = members[name], value != .null else {
                if required { throw ContractError(.missingAttribute, attribute: name, detail: "required attribute \"\(name)\" is missing") }
                return nil
            }
            guard case .string(let text) = value, !text.isEmpty else {
                throw ContractError(.invalidAttribute, attribute: name, detail: "\"\(name)\" must be a non-empty string")
            }
            return text
        }

        let specVersion = try string("specversion", required: true)!
        guard specVersion == EnvelopeFormat.specVersion else {
            throw ContractError(.unsupportedSpecVersion, attribute: "specversion", detail: "specversion \(specVersion) is not 1.0")
        }
        let id = try string("id", required: true)!
        let source = try string("source", required: true)!
        guard !source.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 }) else {
            throw ContractError(.invalidAttribute, attribute: "source", detail: "\"source\" is a URI-reference and holds no white space")
        }
        let type = try string("type", required: true)!
        let timeText = try string("time", required: true)!
        guard let time = ContractsJSON.parseTimestamp(timeText) else {
            throw ContractError(.invalidAttribute, attribute: "time", detail: "\"time\" must be an RFC 3339 date-time")
        }
        if let dataContentType = try string("datacontenttype", required: false),
            !EnvelopeFormat.mediaType(dataContentType, is: EnvelopeFormat.dataContentType)
        {
            throw ContractError(.unsupportedContentType, attribute: "datacontenttype", detail: "datacontenttype must be application/json")
        }
        guard members["data_base64"] == nil else {
            throw ContractError(.unsupportedContentType, attribute: "data_base64", detail: "binary data is not accepted; data must be JSON")
        }
        let classificationText = try string("dataclassification", required: true)!
        guard let classification = DataClassification(rawValue: classificationText) else {
            throw ContractError(
                .invalidAttribute,
                attribute: "dataclassification",
                detail: "dataclassification must be one of public, internal, confidential, restricted"
            )
        }
        var traceParent: TraceParent?
        if let header = try string("traceparent", required: false) {
            guard let parsed = TraceParent(header) else {
                throw ContractError(.invalidAttribute, attribute: "traceparent", detail: "traceparent is not a valid W3C trace context")
            }
            traceParent = parsed
        }

        self.init(
            id: id,
            source: source,
            type: type,
            time: time,
            subject: try string("subject", required: false),
            correlationID: try string("correlationid", required: false),
            causationID: try string("causationid", required: false),
            dataClassification: classification,
            traceParent: traceParent,
            extensions: members.filter { !EnvelopeFormat.coreMembers.contains($0.key) },
            data: parser.topLevelRanges["data"].map { parser.slice($0) }
        )
    }

    /// The envelope as `application/cloudevents+json`: members sorted, `data` spliced in as held
    /// (compact) or re-indented (pretty). Extensions never override core attributes.
    public func jsonBytes(pretty: Bool = false) throws(ContractError) -> [UInt8] {
        var members = attributeMembers()
        if pretty {
            if let data { members["data"] = try JSONValue(parsing: data) }
            return JSONValue.object(members).jsonBytes(pretty: true)
        }
        var raw = members.map { (key: $0.key, json: $0.value.jsonBytes()) }
        if let data { raw.append((key: "data", json: data)) }
        var writer = JSONWriter(pretty: false)
        writer.writeObject(rawMembers: raw)
        return writer.output
    }

    private func attributeMembers() -> [String: JSONValue] {
        var members = extensions.filter { !EnvelopeFormat.coreMembers.contains($0.key) }
        members["specversion"] = .string(EnvelopeFormat.specVersion)
        members["id"] = .string(id)
        members["source"] = .string(source)
        members["type"] = .string(type)
        members["time"] = .string(ContractsJSON.formatTimestamp(time))
        members["datacontenttype"] = .string(EnvelopeFormat.dataContentType)
        members["dataclassification"] = .string(dataClassification.rawValue)
        if let subject { members["subject"] = .string(subject) }
        if let correlationID { members["correlationid"] = .string(correlationID) }
        if let causationID { members["causationid"] = .string(causationID) }
        if let traceParent { members["traceparent"] = .string(traceParent.description) }
        return members
    }
}

// MARK: - Typed envelope

/// A CloudEvent (1.0, structured mode) with a typed payload.
///
/// Build one for a ``MessagePayload`` with ``init(id:source:time:subject:dataClassification:causedBy:correlationID:traceParent:extensions:data:)``,
/// which fills in `type`, `subject`, `dataclassification`, the correlation and the trace.
public struct Envelope<Payload: Codable & Sendable>: Sendable {
    /// The message id; with ``source`` it identifies the message (see ``deduplicationKey``).
    public var id: String
    /// Where the message comes from, a URI-reference without white space.
    public var source: String
    /// The CloudEvents `type`.
    public var type: String
    /// When the occurrence happened (or the message was made); millisecond precision.
    public var time: Date
    /// What the message is about: an id, never personal data.
    public var subject: String?
    /// The conversation the message belongs to (extension `correlationid`).
    public var correlationID: String?
    /// The id of the message that caused this one (extension `causationid`).
    public var causationID: String?
    /// How carefully the data must be handled (extension `dataclassification`).
    public var dataClassification: DataClassification
    /// The W3C trace context (extension `traceparent`).
    public var traceParent: TraceParent?
    /// Other attributes to carry.
    public var extensions: [String: JSONValue]
    /// The payload.
    public var data: Payload

    /// An envelope with every attribute given.
    public init(
        id: String = EnvelopeFormat.newID(),
        source: String,
        type: String,
        time: Date = .now,
        subject: String? = nil,
        correlationID: String? = nil,
        causationID: String? = nil,
        dataClassification: DataClassification,
        traceParent: TraceParent? = .random(),
        extensions: [String: JSONValue] = [:],
        data: Payload
    ) {
        self.id = id
        self.source = source
        self.type = type
        self.time = ContractsJSON.wirePrecision(time)
        self.subject = subject
        self.correlationID = correlationID
        self.causationID = causationID
        self.dataClassification = dataClassification
        self.traceParent = traceParent
        self.extensions = extensions
        self.data = data
    }

    /// An envelope for a registered payload.
    ///
    /// - `subject` and `dataClassification` default to what the payload says.
    /// - With `causedBy`, the message joins the cause's conversation (`correlationid`), names it
    ///   as `causationid`, and continues its trace as a child span.
    /// - Without, the message starts a conversation of its own (`correlationid` = `id`) and a new trace.
    public init(
        id: String = EnvelopeFormat.newID(),
        source: String,
        time: Date = .now,
        subject: String? = nil,
        dataClassification: DataClassification? = nil,
        causedBy cause: Causation? = nil,
        correlationID: String? = nil,
        traceParent: TraceParent? = nil,
        extensions: [String: JSONValue] = [:],
        data: Payload
    ) where Payload: MessagePayload {
        self.init(
            id: id,
            source: source,
            type: Payload.messageType.wireName,
            time: time,
            subject: subject ?? data.subject,
            correlationID: correlationID ?? cause?.correlationID ?? id,
            causationID: cause?.messageID,
            dataClassification: dataClassification ?? data.dataClassification,
            traceParent: traceParent ?? cause?.traceParent?.child() ?? .random(),
            extensions: extensions,
            data: data
        )
    }

    /// `source` and `id` together: the de-duplication key (see ``RawEnvelope/deduplicationKey``).
    public var deduplicationKey: String { "\(source) \(id)" }

    /// What a message caused by this one inherits.
    public var causation: Causation {
        Causation(messageID: id, correlationID: correlationID ?? id, traceParent: traceParent)
    }

    /// The envelope with its payload encoded.
    public func raw() throws(ContractError) -> RawEnvelope {
        let payload: Data
        do {
            payload = try ContractsJSON.encoder().encode(data)
        } catch {
            throw ContractError(.encodingFailed, attribute: "data", detail: "\(error)")
        }
        return RawEnvelope(
            id: id,
            source: source,
            type: type,
            time: time,
            subject: subject,
            correlationID: correlationID,
            causationID: causationID,
            dataClassification: dataClassification,
            traceParent: traceParent,
            extensions: extensions,
            data: Array(payload)
        )
    }

    /// The envelope as `application/cloudevents+json` (members sorted; see ``RawEnvelope/jsonBytes(pretty:)``).
    public func jsonBytes(pretty: Bool = false) throws(ContractError) -> [UInt8] {
        try raw().jsonBytes(pretty: pretty)
    }

    /// Parses and decodes a structured-mode CloudEvent; see ``RawEnvelope/decode(as:)``.
    public init(jsonBytes: some Collection<UInt8>) throws(ContractError) {
        self = try RawEnvelope(jsonBytes: jsonBytes).decode(as: Payload.self)
    }
}

extension Envelope: Equatable where Payload: Equatable {}
extension Envelope: Hashable where Payload: Hashable {}
