import Contracts
import Directory
public import Foundation
public import Postgres
import ServiceRuntime
public import WardCalendar

/// The annual operation plan (Art. 11(5)(1)) in the scheduler's tables: drafts by the general
/// security officer, approval by the CISO as a hash-chained ledger entry, versions.
extension AuditSchedulerStore {
    /// Who drafts the plan and the review pack: the general security officer (Art. 11(5), the
    /// CISO's staff for the management system).
    static let planDrafters: Set<DirectoryRole> = [.generalSecurityOfficer]
    /// Who approves them: the CISO alone (Art. 11(5)).
    static let approvers: Set<DirectoryRole> = [.ciso]

    /// Ward-wide roles read plans and reviews; a unit's token does not.
    static func requireWardWide(_ actor: DutyActor, _ what: String) throws {
        guard actor.unitCode == nil else { throw AuditSchedulerError(.forbidden, "the \(what) is for ward-wide roles (Art. 11(5))") }
    }

    /// Saves `plan` as the fiscal year's draft: the current draft is replaced; when the latest
    /// version is approved (or there is none) a new version starts.
    @discardableResult
    public func saveOperationPlanDraft(
        fiscalYear: Int, plan: OperationPlanDocument, by actor: DutyActor, now: Date, on connection: PostgresConnection
    ) throws -> OperationPlanVersion {
        guard Self.planDrafters.contains(actor.role), actor.unitCode == nil else {
            throw AuditSchedulerError(.forbidden, "the general security officer drafts the operation plan (Art. 11(5)(1))")
        }
        try plan.validate()
        let at = Self.millisecondPrecision(now)
        let document = try CanonicalJSON.text(of: plan)
        _ = try connection.query("SELECT pg_advisory_xact_lock(hashtext(\(schema + ".operation_plans")), \(fiscalYear))")
        let latest = try operationPlanVersions(fiscalYear: fiscalYear, on: connection).last
        if let latest, latest.status == .draft {
            _ = try connection.query(
                """
                UPDATE \(unescaped: table("operation_plans"))
                SET document = \(document), document_hash = encode(sha256(convert_to(\(document), 'UTF8')), 'hex'), updated_at = \(at),
                    drafted_by_role = \(actor.role.rawValue)
                WHERE id = \(latest.id)
                """)
        } else {
            _ = try connection.query(
                """
                INSERT INTO \(unescaped: table("operation_plans")) (id, fiscal_year, version, status, document, document_hash, drafted_at, drafted_by_role, updated_at)
                VALUES (\(UUID()), \(fiscalYear), \((latest?.version ?? 0) + 1), 'draft', \(document),
                        encode(sha256(convert_to(\(document), 'UTF8')), 'hex'), \(at), \(actor.role.rawValue), \(at))
                """)
        }
        return try operationPlanVersions(fiscalYear: fiscalYear, on: connection).last!
    }

    /// The CISO approves the year's draft: a `operation-plan.approved` ledger entry records the
    /// plan's hash, and the row becomes immutable.
    @discardableResult
    public func approveOperationPlan(fiscalYear: Int, by actor: DutyActor, now: Date, on connection: PostgresConnection) throws -> OperationPlanVersion {
        guard Self.approvers.contains(actor.role) else { throw AuditSchedulerError(.forbidden, "only the CISO approves the operation plan (Art. 11(5)(1))") }
        _ = try connection.query("SELECT pg_advisory_xact_lock(hashtext(\(schema + ".operation_plans")), \(fiscalYear))")
        guard let draft = try operationPlanVersions(fiscalYear: fiscalYear, on: connection).last else {
            throw AuditSchedulerError(.notFound, "no operation plan for fiscal year \(fiscalYear)")
        }
        guard draft.status == .draft else {
            throw AuditSchedulerError(.conflict, "version \(draft.version) is already approved; a change is a new draft version")
        }
        let at = Self.millisecondPrecision(now)
        let seq = try appendLedger(
            type: "operation-plan.approved", subject: draft.id, actor: actor,
            body: LedgerApproval(fiscalYear: fiscalYear, version: draft.version, documentHash: draft.documentHash), at: at, on: connection)
        _ = try connection.query(
            "UPDATE \(unescaped: table("operation_plans")) SET status = 'approved', approved_at = \(at), approval_seq = \(seq) WHERE id = \(draft.id)")
        return try operationPlanVersions(fiscalYear: fiscalYear, on: connection).last!
    }

    /// Every version of the year's plan, oldest first.
    public func operationPlanVersions(fiscalYear: Int, on connection: PostgresConnection) throws -> [OperationPlanVersion] {
        try connection.query(
            """
            SELECT id, fiscal_year, version, status, document, document_hash, drafted_at, drafted_by_role, approved_at, approval_seq
            FROM \(unescaped: table("operation_plans")) WHERE fiscal_year = \(fiscalYear) ORDER BY version
            """
        ).rows.map { row in
            let text: String = try row.decode("document")
            return OperationPlanVersion(
                id: try row.decode("id"), fiscalYear: try row.decode("fiscal_year"), version: try row.decode("version"),
                status: OperationPlanVersion.Status(rawValue: try row.decode("status")) ?? .draft,
                plan: try ContractsJSON.decoder().decode(OperationPlanDocument.self, from: Data(text.utf8)),
                documentHash: try row.decode("document_hash"), draftedAt: try row.decode("drafted_at"), draftedByRole: try row.decode("drafted_by_role"),
                approvedAt: try row.decode("approved_at"), approvalLedgerSeq: try row.decode("approval_seq"))
        }
    }

    /// The plan a review reads: the latest approved version, else the draft.
    public func currentOperationPlan(fiscalYear: Int, on connection: PostgresConnection) throws -> OperationPlanVersion? {
        let versions = try operationPlanVersions(fiscalYear: fiscalYear, on: connection)
        return versions.last { $0.status == .approved } ?? versions.last
    }

    /// Plan against result for the fiscal year, from the duties table, at `today`.
    public func operationPlanComparison(fiscalYear: Int, today: CivilDate, on connection: PostgresConnection) throws -> OperationPlanComparison? {
        guard let plan = try currentOperationPlan(fiscalYear: fiscalYear, on: connection) else { return nil }
        let duties = try connection.query(
            """
            SELECT d.kind, d.unit_code, d.department_code, d.status = 'completed' AS completed, coalesce(c.on_time, false) AS on_time,
                   d.status = 'open' AND d.due_date < \(today.iso)::date AS overdue
            FROM \(unescaped: table("duties")) d LEFT JOIN \(unescaped: table("duty_completions")) c ON c.duty_id = d.id
            WHERE d.fiscal_year = \(fiscalYear) AND d.status <> 'cancelled'
            """
        ).rows.compactMap { row -> OperationPlanComparison.Duty? in
            guard let kind = DutyKind(rawValue: try row.decode("kind")) else { return nil }
            let unit: String = try row.decode("unit_code")
            return OperationPlanComparison.Duty(
                kind: kind, unitCode: unit.isEmpty ? nil : unit, departmentCode: try row.decode("department_code"), completed: try row.decode("completed"),
                onTime: try row.decode("on_time"), overdue: try row.decode("overdue"))
        }
        return OperationPlanComparison.compare(plan, duties: duties)
    }
}

struct LedgerApproval: Encodable {
    var fiscalYear: Int
    var version: Int
    var documentHash: String
}
