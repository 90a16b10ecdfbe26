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

/// `jp.ward.isms.incident.assigned.v1`: the designated handlers of a case changed (issue #4
/// item 9). Intake keeps the list so that only these people may read the restricted original
/// of the report; the notifier tells the person assigned.
public struct IncidentAssigned: MessagePayload {
    public static var messageType: MessageType { MessageTypes.incidentAssigned }

    public var caseNumber: String
    public var caseId: UUID
    public var source: IncidentCaseOpened.Source
    /// `assigned` or `unassigned`.
    public var change: String
    /// The person the change is about.
    public var personId: String
    /// Every designated handler after the change (directory person ids).
    public var assignees: [String]
    /// `person:<id>`, `token:<id>` or a CLI operator.
    public var actor: String
    public var role: String?
    public var severity: Int
    public var sectionCode: String
    /// Orders changes of one case: a consumer ignores one older than what it holds.
    public var changedAt: Date

    public init(
        caseNumber: String, caseId: UUID, source: IncidentCaseOpened.Source, change: String, personId: String, assignees: [String], actor: String,
        role: String?, severity: Int, sectionCode: String, changedAt: Date
    ) {
        self.caseNumber = caseNumber
        self.caseId = caseId
        self.source = source
        self.change = change
        self.personId = personId
        self.assignees = assignees
        self.actor = actor
        self.role = role
        self.severity = severity
        self.sectionCode = sectionCode
        self.changedAt = changedAt
    }

    public var subject: String? { caseNumber }
}

/// `jp.ward.isms.incident.restriction-changed.v1`: a use restriction of a case (Art. 27(3))
/// was ordered, approved (in force), rejected, or lifted.
public struct IncidentRestrictionChanged: MessagePayload {
    public static var messageType: MessageType { MessageTypes.incidentRestrictionChanged }

    /// What is restricted.
    public struct Target: Sendable, Hashable, Codable {
        /// `asset`, `system` or `account`.
        public var kind: String
        public var name: String

        public init(kind: String, name: String) {
            self.kind = kind
            self.name = name
        }
    }

    public var caseNumber: String
    public var caseId: UUID
    public var restrictionId: UUID
    /// `awaiting-approval`, `in-force`, `rejected` or `lifted`.
    public var status: String
    public var targets: [Target]
    /// Why the use is restricted (screened: My Numbers masked).
    public var reason: String
    public var effectiveFrom: Date
    public var effectiveUntil: Date?
    /// Who ordered, approved, rejected or lifted it.
    public var actor: String
    public var role: String?
    /// The approver's or lifter's reason.
    public var decisionReason: String?
    public var severity: Int
    public var sectionCode: String
    public var departmentCode: String
    public var changedAt: Date

    public init(
        caseNumber: String, caseId: UUID, restrictionId: UUID, status: String, targets: [Target], reason: String, effectiveFrom: Date,
        effectiveUntil: Date?, actor: String, role: String?, decisionReason: String?, severity: Int, sectionCode: String,
        departmentCode: String, changedAt: Date
    ) {
        self.caseNumber = caseNumber
        self.caseId = caseId
        self.restrictionId = restrictionId
        self.status = status
        self.targets = targets
        self.reason = reason
        self.effectiveFrom = effectiveFrom
        self.effectiveUntil = effectiveUntil
        self.actor = actor
        self.role = role
        self.decisionReason = decisionReason
        self.severity = severity
        self.sectionCode = sectionCode
        self.departmentCode = departmentCode
        self.changedAt = changedAt
    }

    public var subject: String? { caseNumber }
}

/// `jp.ward.isms.incident.digest.v1`: the periodic sharing of recent incidents with every
/// section's security staff (Art. 10, 16(7)). Masked: no titles, descriptions, reporters or
/// people, only what happened where and how it stands.
public struct IncidentDigest: MessagePayload {
    public static var messageType: MessageType { MessageTypes.incidentDigest }

    public struct Case: Sendable, Hashable, Codable {
        public var caseNumber: String
        public var severity: Int
        public var category: IncidentCategory
        public var state: String
        public var departmentCode: String
        /// The day it was opened (Japan), `YYYY-MM-DD`.
        public var openedOn: String

        public init(caseNumber: String, severity: Int, category: IncidentCategory, state: String, departmentCode: String, openedOn: String) {
            self.caseNumber = caseNumber
            self.severity = severity
            self.category = category
            self.state = state
            self.departmentCode = departmentCode
            self.openedOn = openedOn
        }
    }

    public var periodStart: Date
    public var periodEnd: Date
    /// Cases opened in the period (discarded ones excluded).
    public var total: Int
    /// Count per severity ("1"..."4") and per category.
    public var bySeverity: [String: Int]
    public var byCategory: [String: Int]
    /// The cases, most severe first, at most 200.
    public var cases: [Case]
    /// Every section's security staff (person ids).
    public var recipients: [String]
    public var generatedAt: Date

    public init(
        periodStart: Date, periodEnd: Date, total: Int, bySeverity: [String: Int], byCategory: [String: Int], cases: [Case], recipients: [String],
        generatedAt: Date
    ) {
        self.periodStart = periodStart
        self.periodEnd = periodEnd
        self.total = total
        self.bySeverity = bySeverity
        self.byCategory = byCategory
        self.cases = cases
        self.recipients = recipients
        self.generatedAt = generatedAt
    }
}
