public import Foundation

/// `jp.ward.isms.incident.case-opened.v1`: CSIRT triage opened a case (Art. 27).
///
/// Carries masked text only; restricted when a My Number was detected in the report.
public struct IncidentCaseOpened: MessagePayload {
    public static var messageType: MessageType { MessageTypes.incidentCaseOpened }

    /// What a case was opened from.
    public struct Source: Sendable, Hashable, Codable {
        /// `incident-report` (intake) or `contractor-violation` (contractor monitor).
        public var kind: String
        /// The originating id: intake id, violation id.
        public var id: String

        public init(kind: String, id: String) {
            self.kind = kind
            self.id = id
        }
    }

    /// `INC-<year>-<6 digits>`.
    public var caseNumber: String
    public var caseId: UUID
    public var source: Source
    /// 1 (critical) to 4 (low).
    public var severity: Int
    /// The id of the severity rule that decided.
    public var severityRule: String
    public var sectionCode: String
    public var departmentCode: String
    public var category: IncidentCategory
    /// The title, My Numbers masked.
    public var title: String
    public var myNumberDetected: Bool
    public var knownAt: Date
    public var openedAt: Date

    public init(
        caseNumber: String, caseId: UUID, source: Source, severity: Int, severityRule: String, sectionCode: String,
        departmentCode: String, category: IncidentCategory, title: String, myNumberDetected: Bool, knownAt: Date, openedAt: Date
    ) {
        self.caseNumber = caseNumber
        self.caseId = caseId
        self.source = source
        self.severity = severity
        self.severityRule = severityRule
        self.sectionCode = sectionCode
        self.departmentCode = departmentCode
        self.category = category
        self.title = title
        self.myNumberDetected = myNumberDetected
        self.knownAt = knownAt
        self.openedAt = openedAt
    }

    public var subject: String? { caseNumber }
    public var dataClassification: DataClassification { myNumberDetected ? .restricted : .confidential }
}

/// `jp.ward.isms.incident.escalated.v1`: one level of the reporting chain (Art. 14, 16-19), or
/// CSIRT beside it (Art. 22), is to be told about a case. Person ids only, no personal data.
public struct IncidentEscalated: MessagePayload {
    public static var messageType: MessageType { MessageTypes.incidentEscalated }

    public var caseNumber: String
    public var caseId: UUID
    public var severity: Int
    /// Position in the chain: 0 section staff … 5 CISO; CSIRT has level 0.
    public var level: Int
    /// The `DirectoryRole` raw value, e.g. `sectionSecurityOfficer`.
    public var role: String
    /// The section or department the role is held at; nil for ward-wide roles.
    public var unitCode: String?
    /// Directory person ids of everyone holding the role there.
    public var recipients: [String]
    /// `initial` when the case opened, `timeout` when nobody acknowledged in time.
    public var reason: String
    public var sectionCode: String
    public var departmentCode: String
    public var escalatedAt: Date
    /// When the next level is told unless somebody acknowledges; nil at the end of the chain.
    public var nextEscalationAt: Date?

    public init(
        caseNumber: String, caseId: UUID, severity: Int, level: Int, role: String, unitCode: String?, recipients: [String],
        reason: String, sectionCode: String, departmentCode: String, escalatedAt: Date, nextEscalationAt: Date?
    ) {
        self.caseNumber = caseNumber
        self.caseId = caseId
        self.severity = severity
        self.level = level
        self.role = role
        self.unitCode = unitCode
        self.recipients = recipients
        self.reason = reason
        self.sectionCode = sectionCode
        self.departmentCode = departmentCode
        self.escalatedAt = escalatedAt
        self.nextEscalationAt = nextEscalationAt
    }

    public var subject: String? { caseNumber }
}

/// `jp.ward.isms.incident.acknowledged.v1`: somebody responsible acknowledged a case; its
/// escalation stopped.
public struct IncidentAcknowledged: MessagePayload {
    public static var messageType: MessageType { MessageTypes.incidentAcknowledged }

    public var caseNumber: String
    public var caseId: UUID
    public var severity: Int
    /// `person:<id>` (from a notification link) or `token:<id>` (API token).
    public var actor: String
    /// The acting role, when known.
    public var role: String?
    public var acknowledgedAt: Date

    public init(caseNumber: String, caseId: UUID, severity: Int, actor: String, role: String?, acknowledgedAt: Date) {
        self.caseNumber = caseNumber
        self.caseId = caseId
        self.severity = severity
        self.actor = actor
        self.role = role
        self.acknowledgedAt = acknowledgedAt
    }

    public var subject: String? { caseNumber }
}

/// `jp.ward.isms.incident.obligation-reminder.v1`: a statutory obligation of a case (APPI
/// Art. 68, PPC Rule Art. 43-44; My Number Act Art. 29-4) is due soon, due today or overdue.
public struct IncidentObligationReminder: MessagePayload {
    public static var messageType: MessageType { MessageTypes.incidentObligationReminder }

    public var caseNumber: String
    public var caseId: UUID
    public var obligationId: UUID
    /// The rule's id in deploy/config/statutory-rules.yaml, e.g. `appi-68-preliminary`.
    public var rule: String
    /// `preliminary-report`, `final-report` or `notice-to-persons`.
    public var kind: String
    /// `required`, or `to-decide` while a verdict is unknown.
    public var status: String
    /// `reminder`, `due-today` or `overdue`.
    public var stage: String
    /// The last day (Japan), `YYYY-MM-DD`.
    public var dueDate: String
    /// The instant the period ends (00:00 JST after the last day).
    public var dueAt: Date
    /// Where the obligation comes from, as copied from the rules.
    public var law: String
    public var sectionCode: String
    public var remindedAt: Date

    public init(
        caseNumber: String, caseId: UUID, obligationId: UUID, rule: String, kind: String, status: String, stage: String,
        dueDate: String, dueAt: Date, law: String, sectionCode: String, remindedAt: Date
    ) {
        self.caseNumber = caseNumber
        self.caseId = caseId
        self.obligationId = obligationId
        self.rule = rule
        self.kind = kind
        self.status = status
        self.stage = stage
        self.dueDate = dueDate
        self.dueAt = dueAt
        self.law = law
        self.sectionCode = sectionCode
        self.remindedAt = remindedAt
    }

    public var subject: String? { caseNumber }
}
