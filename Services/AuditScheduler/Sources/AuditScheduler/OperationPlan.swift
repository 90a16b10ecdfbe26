public import Directory
public import Contracts
public import Foundation

/// The annual operation plan of the information security measures (Art. 11(5)(1)): for one
/// fiscal year (April–March) the objectives and the duties the ward plans, each with who owns
/// it. The general security officer drafts it, the CISO approves it; an approved version never
/// changes (a change is a new version), and the review compares it with what was done.
public struct OperationPlanDocument: Sendable, Hashable, Codable {
    /// One objective of the year, with who answers for it.
    public struct Objective: Sendable, Hashable, Codable {
        public var text: String
        public var ownerRole: DirectoryRole
        /// A department or section; nil for a ward-wide role.
        public var ownerUnit: String?

        public init(text: String, ownerRole: DirectoryRole, ownerUnit: String? = nil) {
            self.text = text
            self.ownerRole = ownerRole
            self.ownerUnit = ownerUnit
        }
    }

    /// A planned duty: how many of a kind the year should see, for a unit or the whole ward.
    public struct Line: Sendable, Hashable, Codable {
        public var kind: DutyKind
        /// A section, department or contractor code; nil plans the kind across the ward.
        public var unitCode: String?
        public var plannedCount: Int
        public var ownerRole: DirectoryRole
        public var ownerUnit: String?
        public var note: String?

        public init(kind: DutyKind, unitCode: String? = nil, plannedCount: Int, ownerRole: DirectoryRole, ownerUnit: String? = nil, note: String? = nil) {
            self.kind = kind
            self.unitCode = unitCode
            self.plannedCount = plannedCount
            self.ownerRole = ownerRole
            self.ownerUnit = ownerUnit
            self.note = note
        }
    }

    public var objectives: [Objective]
    public var lines: [Line]

    public init(objectives: [Objective], lines: [Line]) {
        self.objectives = objectives
        self.lines = lines
    }

    /// The plan's own rules: something to approve, within bounds a ward's plan has.
    public func validate() throws {
        guard !objectives.isEmpty || !lines.isEmpty else { throw AuditSchedulerError(.invalid, "a plan needs at least one objective or planned duty") }
        guard objectives.count <= 100, lines.count <= 500 else { throw AuditSchedulerError(.invalid, "a plan holds at most 100 objectives and 500 planned duties") }
        for objective in objectives {
            let text = objective.text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !text.isEmpty, objective.text.unicodeScalars.count <= 2_000 else { throw AuditSchedulerError(.invalid, "an objective is 1 to 2000 characters") }
            if let unit = objective.ownerUnit, unit.isEmpty || unit.unicodeScalars.count > 100 {
                throw AuditSchedulerError(.invalid, "a unit code is 1 to 100 characters")
            }
        }
        for line in lines {
            guard (0...100_000).contains(line.plannedCount) else { throw AuditSchedulerError(.invalid, "plannedCount must be from 0 to 100000") }
            guard (line.note?.unicodeScalars.count ?? 0) <= 2_000 else { throw AuditSchedulerError(.invalid, "a note is at most 2000 characters") }
            for code in [line.unitCode, line.ownerUnit].compactMap({ $0 }) {
                guard !code.isEmpty, code.unicodeScalars.count <= 100 else { throw AuditSchedulerError(.invalid, "a unit code is 1 to 100 characters") }
            }
        }
    }
}

/// One stored version of a fiscal year's plan.
public struct OperationPlanVersion: Sendable, Hashable, Codable {
    public enum Status: String, Sendable, Hashable, Codable {
        case draft
        case approved
    }

    public var id: UUID
    public var fiscalYear: Int
    public var version: Int
    public var status: Status
    public var plan: OperationPlanDocument
    /// SHA-256 of the plan's canonical JSON, as the approval's ledger entry recorded it.
    public var documentHash: String
    public var draftedAt: Date
    public var draftedByRole: String
    public var approvedAt: Date?
    public var approvalLedgerSeq: Int64?
}

/// Plan against result (Art. 11(5)(1)): each planned line beside the duties of that kind the
/// fiscal year holds for the line's unit (a department's line counts its sections' duties too;
/// a line without a unit counts the ward's).
public struct OperationPlanComparison: Sendable, Hashable, Codable {
    public struct Line: Sendable, Hashable, Codable {
        public var kind: DutyKind
        public var unitCode: String?
        public var ownerRole: DirectoryRole
        public var ownerUnit: String?
        public var plannedCount: Int
        /// Duties of the year in the calendar (cancelled ones left out).
        public var scheduled: Int
        public var done: Int
        public var doneOnTime: Int
        public var overdue: Int
        /// done / planned; nil when nothing was planned.
        public var completionRate: Double?
    }

    public var fiscalYear: Int
    /// The version compared: the approved one when there is one, else the draft.
    public var version: Int
    public var status: OperationPlanVersion.Status
    public var lines: [Line]
    public var plannedTotal: Int
    public var doneTotal: Int

    /// One duty of the year as the comparison reads it.
    public struct Duty: Sendable, Hashable {
        public var kind: DutyKind
        public var unitCode: String?
        public var departmentCode: String?
        public var completed: Bool
        public var onTime: Bool
        public var overdue: Bool

        public init(kind: DutyKind, unitCode: String?, departmentCode: String?, completed: Bool, onTime: Bool, overdue: Bool) {
            self.kind = kind
            self.unitCode = unitCode
            self.departmentCode = departmentCode
            self.completed = completed
            self.onTime = onTime
            self.overdue = overdue
        }
    }

    /// Pure: counts `duties` against `plan`'s lines.
    public static func compare(_ plan: OperationPlanVersion, duties: [Duty]) -> OperationPlanComparison {
        let lines = plan.plan.lines.map { line in
            let matching = duties.filter { duty in
                duty.kind == line.kind && (line.unitCode.map { duty.unitCode == $0 || duty.departmentCode == $0 } ?? true)
            }
            let done = matching.filter(\.completed).count
            return Line(
                kind: line.kind, unitCode: line.unitCode, ownerRole: line.ownerRole, ownerUnit: line.ownerUnit, plannedCount: line.plannedCount,
                scheduled: matching.count, done: done, doneOnTime: matching.filter { $0.completed && $0.onTime }.count,
                overdue: matching.filter(\.overdue).count, completionRate: line.plannedCount > 0 ? Double(done) / Double(line.plannedCount) : nil)
        }
        return OperationPlanComparison(
            fiscalYear: plan.fiscalYear, version: plan.version, status: plan.status, lines: lines,
            plannedTotal: lines.map(\.plannedCount).reduce(0, +), doneTotal: lines.map(\.done).reduce(0, +))
    }
}

/// One stored version of a fiscal year's management review (Art. 11(5), Art. 29): the pack the
/// console assembled from the services' APIs (canonical JSON, hashed), the general security
/// officer's proposals, and the CISO's decisions. Approved, it never changes.
public struct ManagementReviewVersion: Sendable, Hashable, Codable {
    public var id: UUID
    public var fiscalYear: Int
    public var version: Int
    public var status: OperationPlanVersion.Status
    /// The period the pack covers (`YYYY-MM-DD`, both included).
    public var from: String
    public var to: String
    /// The assembled pack; absent in the list of versions.
    public var pack: JSONValue?
    public var proposals: String
    public var decisions: String
    /// SHA-256 of the canonical JSON of {fiscalYear, version, from, to, pack, proposals, decisions}.
    public var documentHash: String
    public var draftedAt: Date
    public var draftedByRole: String
    public var updatedAt: Date
    public var approvedAt: Date?
    public var approvalLedgerSeq: Int64?
}

/// Whether the approved versions of a year are as the ledger recorded them.
public struct ManagementReviewVerification: Sendable, Hashable, Codable {
    public struct Version: Sendable, Hashable, Codable {
        public var version: Int
        public var storedHash: String
        public var recomputedHash: String
        public var ledgerHash: String?
        public var intact: Bool
    }

    public var fiscalYear: Int
    public var ledgerIntact: Bool
    public var ledgerEntries: Int
    public var versions: [Version]
    public var intact: Bool
}
