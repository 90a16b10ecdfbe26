public import Directory
public import Foundation
public import WardCalendar

/// A failure of an audit-scheduler operation, for the API and the CLI.
public struct AuditSchedulerError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure; new codes may be added.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        let name: String
        /// No such duty or finding (or not visible to the caller).
        public static let notFound = Code(name: "not-found")
        /// The caller's role or unit may not do this.
        public static let forbidden = Code(name: "forbidden")
        /// The duty or finding is not in a state that allows it (already completed, say).
        public static let conflict = Code(name: "conflict")
        /// The request is incomplete or out of range.
        public static let invalid = Code(name: "invalid")
        /// Art. 13(2): the auditor belongs to the audited section or its department.
        public static let auditorNotIndependent = Code(name: "auditor-not-independent")
        public var description: String { name }
    }

    public var code: Code
    public var detail: String
    /// The request's fields at fault, as JSON pointers (`/reason`) with their message, so a form
    /// shows each at its input (issue #18).
    public var fields: [FieldProblem] = []

    /// One field at fault.
    public struct FieldProblem: Sendable, Hashable {
        public var field: String
        public var message: String
    }

    /// `field` (a JSON pointer) names the one request member at fault, when there is one.
    public init(_ code: Code, _ detail: String, field: String? = nil) {
        self.code = code
        self.detail = detail
        self.fields = field.map { [FieldProblem(field: $0, message: detail)] } ?? []
    }

    /// An invalid request with each field's problem; the detail lists them all.
    public init(invalidFields fields: [FieldProblem]) {
        self.init(.invalid, fields.map { "\($0.field.dropFirst()): \($0.message)" }.joined(separator: "; "))
        self.fields = fields
    }

    /// Never: every failure here is about the request or the state, and retrying changes nothing.
    public var isRetriable: Bool { false }
    public var isNotFound: Bool { code == .notFound }
    public var isForbidden: Bool { code == .forbidden }

    public var description: String { "\(code): \(detail)" }
}

/// Who acts: the role and unit of a bearer token (or of the operator using the CLI).
public struct DutyActor: Sendable, Hashable {
    public var role: DirectoryRole
    /// The section or department; nil for ward-wide roles.
    public var unitCode: String?
    /// The token used, for the ledger; nil from the CLI.
    public var tokenID: UUID?

    public init(role: DirectoryRole, unitCode: String?, tokenID: UUID? = nil) {
        self.role = role
        self.unitCode = unitCode
        self.tokenID = tokenID
    }

    public init(grant: TokenGrant) {
        self.init(role: grant.role, unitCode: grant.unitCode, tokenID: grant.id)
    }

    /// Ward-wide roles that run the management system and may act on any duty (Art. 14, 16).
    static let managers: Set<DirectoryRole> = [.ciso, .generalSecurityOfficer, .generalSecurityManager]
}

/// The state of a duty as listed.
public enum DutyStatus: String, Sendable, Hashable, Codable, CaseIterable {
    case open
    case completed
    case cancelled
}

/// One stored duty occurrence.
public struct DutyRecord: Sendable, Hashable, Codable {
    public var id: UUID
    public var templateID: String
    public var kind: DutyKind
    public var title: String
    public var article: String
    public var unitKind: DutyUnitKind
    /// Section, department or contractor code; nil for the ward.
    public var unitCode: String?
    public var departmentCode: String?
    public var occurrenceDate: CivilDate
    public var dueDate: CivilDate
    public var originalDueDate: CivilDate
    public var fiscalYear: Int
    public var owningRole: DirectoryRole
    public var status: DutyStatus
    /// True when open and past its due date (by the day the list was made).
    public var overdue: Bool
    public var escalationLevel: Int
    public var findingID: UUID?
    /// The risk a review or treatment duty belongs to (issue #18 item 1).
    public var riskID: UUID?
    public var auditorPersonID: String?
    public var completedAt: Date?
    var lastStage: Int
    var reminderDays: [Int]
    var escalateAfterDays: Int
    /// Where the duty comes from (issue #18): the calendar, a finding, an order, a contract, a self-inspection.
    public var origin: DutyOrigin = .calendar
    /// An on-demand duty's reason (Arts. 23-25 "as needed"), My Numbers masked.
    public var reason: String?
    /// The case an on-demand duty was ordered from, e.g. `INC-2026-000042`.
    public var caseNumber: String?
    /// A contractor education's contract (Art. 23).
    public var contractID: UUID?
    /// An improvement action's self-inspection (Art. 24).
    public var selfInspectionDutyID: UUID?

    enum CodingKeys: String, CodingKey {
        case id, templateID = "templateId", kind, title, article, unitKind, unitCode, departmentCode, occurrenceDate, dueDate, originalDueDate,
            fiscalYear, owningRole, status, overdue, escalationLevel, findingID = "findingId", riskID = "riskId", auditorPersonID = "auditorPersonId",
            completedAt, lastStage, reminderDays, escalateAfterDays, origin, reason, caseNumber, contractID = "contractId",
            selfInspectionDutyID = "selfInspectionDutyId"
    }

    /// The section code when the duty is owed at a section (a contractor's duty is owed at the
    /// contract's section, Art. 18(6)(2)).
    public var sectionCode: String? { unitKind == .section || unitKind == .contractor ? unitCode : nil }
}

/// Where a duty comes from (issue #18).
public enum DutyOrigin: String, Sendable, Hashable, Codable, CaseIterable {
    /// A template's recurrence (deploy/config/duty-calendar.yaml).
    case calendar
    /// An audit finding's treatment (Art. 26).
    case finding
    /// Ordered as needed (Arts. 23-25 必要に応じて), with a reason.
    case onDemand = "on-demand"
    /// A contract in force: its staff's education (Art. 23).
    case contract
    /// A self-inspection scored below the mark (Art. 24).
    case improvement
}

/// A file recorded as evidence of a completed duty: its name and SHA-256 (the file itself stays
/// in the ward's document store).
public struct DutyEvidence: Sendable, Hashable, Codable {
    public var fileName: String
    /// 64 lowercase hex digits.
    public var sha256: String

    public init(fileName: String, sha256: String) {
        self.fileName = fileName
        self.sha256 = sha256
    }
}

/// What a completion records.
public struct DutyCompletionRequest: Sendable, Hashable, Codable {
    public var evidence: [DutyEvidence]
    public var notes: String
    /// Education (Art. 23): how many took part.
    public var participants: Int?
    /// Education: how many should have.
    public var eligible: Int?
    /// Self-inspection (Art. 24): the checklist score and its maximum.
    public var checklistScore: Double?
    public var checklistMax: Double?

    public init(
        evidence: [DutyEvidence], notes: String = "", participants: Int? = nil, eligible: Int? = nil, checklistScore: Double? = nil,
        checklistMax: Double? = nil
    ) {
        self.evidence = evidence
        self.notes = notes
        self.participants = participants
        self.eligible = eligible
        self.checklistScore = checklistScore
        self.checklistMax = checklistMax
    }
}

/// A recorded completion.
public struct DutyCompletionRecord: Sendable, Hashable, Codable {
    public var completedAt: Date
    public var onTime: Bool
    public var actorRole: DirectoryRole
    public var actorUnit: String?
    public var request: DutyCompletionRequest
}

/// A recorded change of due date.
public struct DutyRescheduleRecord: Sendable, Hashable, Codable {
    public var fromDue: CivilDate
    public var toDue: CivilDate
    public var reason: String
    public var actorRole: DirectoryRole
    public var actorUnit: String?
    public var rescheduledAt: Date
}

/// One notice of a duty's timeline, and whether it was sent.
public struct DutyNoticeStep: Sendable, Hashable, Codable {
    public var stage: String
    public var day: CivilDate
    public var at: Date
    public var sent: Bool
    /// For escalations: the level's role and unit.
    public var recipient: DutyRecipient?
}

/// A duty with its completion, reschedules and notice timeline.
public struct DutyDetail: Sendable, Hashable, Codable {
    public var duty: DutyRecord
    public var completion: DutyCompletionRecord?
    public var reschedules: [DutyRescheduleRecord]
    public var timeline: [DutyNoticeStep]
}

/// What to list.
/// Where a duty sorts in a list: by due date, then template, unit and id.
public struct DutySortKey: Sendable, Hashable {
    public var dueDate: CivilDate
    public var templateID: String
    public var unitCode: String
    public var id: UUID
}

public struct DutyFilter: Sendable, Hashable {
    public var fiscalYear: Int?
    public var status: DutyStatus?
    /// Only overdue (open and past due).
    public var overdueOnly: Bool
    /// A section or department code: duties of that unit (a department includes its sections).
    public var unitCode: String?
    public var templateID: String?
    public var kind: DutyKind?
    /// Only duties of this origin (issue #18).
    public var origin: DutyOrigin?
    public var limit: Int
    /// The sort key of the last duty of the page before (keyset pagination).
    public var after: DutySortKey?

    public init(
        fiscalYear: Int? = nil, status: DutyStatus? = nil, overdueOnly: Bool = false, unitCode: String? = nil, templateID: String? = nil,
        kind: DutyKind? = nil, limit: Int = 1000
    ) {
        self.fiscalYear = fiscalYear
        self.status = status
        self.overdueOnly = overdueOnly
        self.unitCode = unitCode
        self.templateID = templateID
        self.kind = kind
        self.limit = limit
    }
}

/// The state of an audit finding's treatment (Art. 26).
public enum FindingStatus: String, Sendable, Hashable, Codable, CaseIterable {
    /// Recorded; the section is treating it.
    case open
    /// The section reported its result; waiting for the department security officer.
    case treated
    /// The department security officer approved the result (Art. 17(6)(6)).
    case closed
}

/// An audit finding and its treatment.
public struct FindingRecord: Sendable, Hashable, Codable {
    public var id: UUID
    public var auditDutyID: UUID
    public var sectionCode: String
    public var departmentCode: String
    public var severity: FindingSeverity
    public var title: String
    public var treatmentPlan: String
    public var dueDate: CivilDate
    public var status: FindingStatus
    public var treatmentDutyID: UUID?
    public var resultNotes: String?
    public var recordedAt: Date
    public var treatedAt: Date?
    public var closedAt: Date?
    /// Open or treated and past its due date.
    public var overdue: Bool
    /// The registered information asset the finding is about, if any (issue #18 item 0).
    public var assetID: String?

    enum CodingKeys: String, CodingKey {
        case id, auditDutyID = "auditDutyId", sectionCode, departmentCode, severity, title, treatmentPlan, dueDate, status,
            treatmentDutyID = "treatmentDutyId", resultNotes, recordedAt, treatedAt, closedAt, overdue, assetID = "assetId"
    }
}

/// What the audit chief records for a finding.
public struct FindingRequest: Sendable, Hashable, Codable {
    public var auditDutyID: UUID
    public var severity: FindingSeverity
    public var title: String
    public var treatmentPlan: String
    /// A registered asset of the audited section the finding is about (issue #18 item 0).
    public var assetID: String?

    public init(auditDutyID: UUID, severity: FindingSeverity, title: String, treatmentPlan: String = "", assetID: String? = nil) {
        self.auditDutyID = auditDutyID
        self.severity = severity
        self.title = title
        self.treatmentPlan = treatmentPlan
        self.assetID = assetID
    }

    enum CodingKeys: String, CodingKey {
        case auditDutyID = "auditDutyId", severity, title, treatmentPlan, assetID = "assetId"
    }
}

/// What ``AuditSchedulerStore/materialise(today:now:on:)`` did.
public struct MaterialisationResult: Sendable, Hashable {
    /// Occurrences planned in the window.
    public var planned: Int
    /// Of those, how many this call created (the others existed).
    public var created: Int
}

/// The outcome of checking the ledger's hash chain.
public struct LedgerVerification: Sendable, Hashable, Codable {
    public var entries: Int
    public var valid: Bool
    /// The first entry whose hash or link does not match.
    public var firstBrokenSeq: Int64?
}
