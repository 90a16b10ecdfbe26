public import Foundation

/// `jp.ward.isms.incident.reported.v1`: intake recorded an incident (Art. 27). CSIRT triages
/// it, the notifier tells the reporting chain (Art. 16(7)).
///
/// Title and description are masked: a My Number never travels in clear text. The message is
/// `restricted` when a My Number was detected, otherwise `confidential`.
public struct IncidentReported: MessagePayload {
    public static var messageType: MessageType { MessageTypes.incidentReported }

    /// The reporter as recorded: kept in this internal event so CSIRT can call back.
    public struct Reporter: Sendable, Hashable, Codable {
        public var name: String
        public var contact: String

        public init(name: String, contact: String) {
            self.name = name
            self.contact = contact
        }
    }

    /// The id intake gave the incident.
    public var intakeID: UUID
    /// The producer's `reportId`.
    public var reportID: UUID
    /// The CloudEvents `source` of the producer that filed the report.
    public var producer: String
    public var reporter: Reporter
    /// The reporting section's code.
    public var sectionCode: String
    /// The code of the department the section belongs to, from the directory.
    public var departmentCode: String
    public var occurredAt: Date
    public var detectedAt: Date
    /// When the ward learned of it: the statutory reporting clock starts here (Art. 8).
    public var knownAt: Date
    /// When the producer sent the report (the command's `time`).
    public var reportedAt: Date
    /// When intake recorded it.
    public var recordedAt: Date
    public var category: IncidentCategory
    public var affectedAssets: [AffectedAsset]
    public var answers: IncidentAnswers
    public var affectedPersons: AffectedPersons
    /// The title, My Numbers masked.
    public var title: String
    /// The description, My Numbers masked.
    public var description: String
    /// Whether a My Number was found (and masked) in the report.
    public var myNumberDetected: Bool
    public var attachments: [IncidentAttachment]
    /// The producer's grouping key, as submitted (issue #16).
    public var correlationKey: String?

    public init(
        intakeID: UUID,
        reportID: UUID,
        producer: String,
        reporter: Reporter,
        sectionCode: String,
        departmentCode: String,
        occurredAt: Date,
        detectedAt: Date,
        knownAt: Date,
        reportedAt: Date,
        recordedAt: Date,
        category: IncidentCategory,
        affectedAssets: [AffectedAsset],
        answers: IncidentAnswers,
        affectedPersons: AffectedPersons,
        title: String,
        description: String,
        myNumberDetected: Bool,
        attachments: [IncidentAttachment],
        correlationKey: String? = nil
    ) {
        self.intakeID = intakeID
        self.reportID = reportID
        self.producer = producer
        self.reporter = reporter
        self.sectionCode = sectionCode
        self.departmentCode = departmentCode
        self.occurredAt = occurredAt
        self.detectedAt = detectedAt
        self.knownAt = knownAt
        self.reportedAt = reportedAt
        self.recordedAt = recordedAt
        self.category = category
        self.affectedAssets = affectedAssets
        self.answers = answers
        self.affectedPersons = affectedPersons
        self.title = title
        self.description = description
        self.myNumberDetected = myNumberDetected
        self.attachments = attachments
        self.correlationKey = correlationKey
    }

    enum CodingKeys: String, CodingKey {
        case intakeID = "intakeId"
        case reportID = "reportId"
        case producer, reporter, sectionCode, departmentCode, occurredAt, detectedAt, knownAt, reportedAt, recordedAt, category,
            affectedAssets, answers, affectedPersons, title, description, myNumberDetected, attachments, correlationKey
    }

    public var subject: String? { intakeID.lowercasedString }

    /// Restricted when a My Number was detected (Art. 3(10)), otherwise confidential.
    public var dataClassification: DataClassification { myNumberDetected ? .restricted : .confidential }
}
