public import Foundation

/// `jp.ward.isms.incident-report.submit.v1`: a producer files a security incident report
/// (Art. 27). Sent with `reply_to` and `correlation_id`; intake answers with
/// ``IncidentReportAccepted`` or ``IncidentReportRejected``.
public struct SubmitIncidentReport: MessagePayload {
    public static var messageType: MessageType { MessageTypes.submitIncidentReport }

    /// Chosen by the producer and kept across retries: the idempotency key of the report.
    public var reportID: UUID
    public var reporter: IncidentReporter
    /// When the incident happened (or began).
    public var occurredAt: Date
    /// When it was detected.
    public var detectedAt: Date
    /// When the ward learned of it: the statutory reporting clock starts here (Art. 8).
    public var knownAt: Date
    public var category: IncidentCategory
    public var affectedAssets: [AffectedAsset]
    public var answers: IncidentAnswers
    public var affectedPersons: AffectedPersons
    /// A one-line title, 1 to 200 characters.
    public var title: String
    /// What happened, at most 65,536 bytes of UTF-8. May contain personal data; intake masks
    /// any My Number before the report travels further.
    public var description: String
    public var attachments: [IncidentAttachment]
    /// The producer's own grouping of alerts (issue #16): reports of one producer with the same
    /// key join one open case. An identifier (see ``correlationKeyPattern``), never personal data.
    public var correlationKey: String?

    public init(
        reportID: UUID,
        reporter: IncidentReporter,
        occurredAt: Date,
        detectedAt: Date,
        knownAt: Date,
        category: IncidentCategory,
        affectedAssets: [AffectedAsset] = [],
        answers: IncidentAnswers,
        affectedPersons: AffectedPersons,
        title: String,
        description: String,
        attachments: [IncidentAttachment] = [],
        correlationKey: String? = nil
    ) {
        self.reportID = reportID
        self.reporter = reporter
        self.occurredAt = occurredAt
        self.detectedAt = detectedAt
        self.knownAt = knownAt
        self.category = category
        self.affectedAssets = affectedAssets
        self.answers = answers
        self.affectedPersons = affectedPersons
        self.title = title
        self.description = description
        self.attachments = attachments
        self.correlationKey = correlationKey
    }

    enum CodingKeys: String, CodingKey {
        case reportID = "reportId"
        case reporter, occurredAt, detectedAt, knownAt, category, affectedAssets, answers, affectedPersons, title, description,
            attachments, correlationKey
    }

    public var subject: String? { reportID.lowercasedString }

    /// The limit on `description`, in bytes of UTF-8.
    public static let maximumDescriptionBytes = 65_536
    /// The limit on `title`, in characters (Unicode scalars, as JSON Schema counts them).
    public static let maximumTitleLength = 200
    /// What a `correlationKey` may be, as the schema says: 1 to 200 ASCII identifier characters.
    public static let correlationKeyPattern = "^[A-Za-z0-9][A-Za-z0-9._:/@#+-]*$"
}

/// `jp.ward.isms.incident-report.accepted.v1`: intake recorded the report.
public struct IncidentReportAccepted: MessagePayload {
    public static var messageType: MessageType { MessageTypes.incidentReportAccepted }

    /// The producer's `reportId`.
    public var reportID: UUID
    /// The id intake gave the incident; the same for every retry of the report.
    public var intakeID: UUID
    /// When intake first recorded the report.
    public var receivedAt: Date
    /// True when this `reportId` had been recorded before and nothing new was stored.
    public var duplicate: Bool

    public init(reportID: UUID, intakeID: UUID, receivedAt: Date, duplicate: Bool) {
        self.reportID = reportID
        self.intakeID = intakeID
        self.receivedAt = receivedAt
        self.duplicate = duplicate
    }

    enum CodingKeys: String, CodingKey {
        case reportID = "reportId"
        case intakeID = "intakeId"
        case receivedAt, duplicate
    }

    public var subject: String? { reportID.lowercasedString }
}

/// `jp.ward.isms.incident-report.rejected.v1`: intake refused the report, field by field.
public struct IncidentReportRejected: MessagePayload {
    public static var messageType: MessageType { MessageTypes.incidentReportRejected }

    /// One refused field.
    public struct FieldError: Sendable, Hashable, Codable {
        /// A JSON pointer (RFC 6901) into the command's `data`, e.g. `/reporter/sectionCode` or
        /// `/affectedAssets/0/classification`; empty when the problem concerns the whole message
        /// (its envelope, its size).
        public var field: String
        /// Why; see ``ViolationCode``.
        public var code: ViolationCode
        /// A human-readable explanation.
        public var message: String

        public init(field: String, code: ViolationCode, message: String) {
            self.field = field
            self.code = code
            self.message = message
        }

        /// The error a schema violation gives.
        public init(_ violation: SchemaViolation) {
            self.init(field: violation.pointer, code: violation.code, message: violation.message)
        }
    }

    /// The producer's `reportId`, when it could be read.
    public var reportID: UUID?
    /// Every problem found, at least one.
    public var errors: [FieldError]

    public init(reportID: UUID?, errors: [FieldError]) {
        self.reportID = reportID
        self.errors = errors
    }

    enum CodingKeys: String, CodingKey {
        case reportID = "reportId"
        case errors
    }

    public var subject: String? { reportID?.lowercasedString }
}
