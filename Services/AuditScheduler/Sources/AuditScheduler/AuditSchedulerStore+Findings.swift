import Contracts
import Directory
import Logging
public import Foundation
public import Postgres
import ServiceRuntime
public import WardCalendar

extension AuditSchedulerStore {
    /// Records a finding of an audit (Art. 25-26) and creates its treatment duty for the audited
    /// section, due by severity (``DutyCalendar/findingDueDays``, rolled to an opening day), with
    /// the usual reminders and escalation. The audit chief records findings (Art. 13(3)(2)); the
    /// information policy chief may, as audit administration (Art. 16).
    @discardableResult
    public func recordFinding(_ request: FindingRequest, by actor: DutyActor, now: Date, on connection: PostgresConnection) throws -> FindingRecord {
        guard actor.role == .auditChief || actor.role == .generalSecurityManager else {
            throw AuditSchedulerError(.forbidden, "findings are recorded by the audit chief (Art. 13(3))")
        }
        let title = request.title.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !title.isEmpty, title.unicodeScalars.count <= 500, request.treatmentPlan.unicodeScalars.count <= 10_000 else {
            throw AuditSchedulerError(.invalid, "a finding needs a title (at most 500 characters); a plan is at most 10000")
        }
        let today = CivilDate.inTokyo(now)
        guard let audit = try duties(where: "d.id = \(request.auditDutyID)", today: today, forUpdate: false, on: connection).first else {
            throw AuditSchedulerError(.notFound, "no audit \(request.auditDutyID)")
        }
        guard audit.kind == .audit, let section = audit.sectionCode, let department = audit.departmentCode else {
            throw AuditSchedulerError(.invalid, "findings are recorded against a section's audit")
        }
        if let assetID = request.assetID {
            // The finding is about an asset of the audited section that is in use (Arts. 4, 25).
            let asset = try AssetRegister(directory: directory).asset(id: assetID, on: connection)
            guard let asset, !asset.retired, asset.sectionCode == section else {
                throw AuditSchedulerError(.invalid, "assetId: '\(assetID)' is not a registered asset in use of section \(section)")
            }
        }
        let days = calendar.findingDueDays[request.severity] ?? FindingSeverity.defaultDueDays[request.severity]!
        let due = planner.dueDate(from: today, offsetDays: days)
        let id = UUID()
        let at = Self.millisecondPrecision(now)
        let template = calendar.riskTreatmentTemplate
        let treatment = PlannedDuty(
            templateID: template?.id ?? "risk-treatment", kind: .riskTreatment, title: template.map { "\($0.title): \(title)" } ?? title,
            article: template?.article ?? "Art. 26", unitKind: .section, unitCode: section, departmentCode: department, occurrenceDate: today,
            dueDate: due, fiscalYear: calendar.fiscalYear(of: today), owner: template?.owner ?? .sectionSecurityOfficer,
            reminderDays: template?.reminderDays ?? calendar.reminderDays, escalateAfterDays: template?.escalateAfterDays ?? calendar.escalateAfterDays)
        _ = try connection.query(
            """
            INSERT INTO \(unescaped: table("findings")) (
                id, audit_duty_id, section_code, department_code, severity, title, treatment_plan, due_date, recorded_at, asset_id)
            VALUES (
                \(id), \(audit.id), \(section), \(department), \(request.severity.rawValue), \(title), \(request.treatmentPlan), \(due.iso)::date, \(at),
                \(request.assetID))
            """)
        let treatmentID = try insert(treatment, findingID: id, today: today, now: now, on: connection)
        _ = try connection.query("UPDATE \(unescaped: table("findings")) SET treatment_duty_id = \(treatmentID) WHERE id = \(id)")
        _ = try appendLedger(
            type: "finding.recorded", subject: id, actor: actor,
            body: LedgerFinding(
                findingID: id, auditDutyID: audit.id, severity: request.severity.rawValue, title: title, treatmentPlan: request.treatmentPlan, dueDate: due.iso,
                assetID: request.assetID),
            at: at, on: connection)
        return try self.finding(id: id, visibleTo: nil, today: today, on: connection)!
    }

    /// The section reports the result of its treatment (and may update the plan); the finding
    /// waits for the department security officer's approval.
    @discardableResult
    public func submitTreatmentResult(
        findingID: UUID, notes: String, treatmentPlan: String? = nil, by actor: DutyActor, now: Date, on connection: PostgresConnection
    ) throws -> FindingRecord {
        let today = CivilDate.inTokyo(now)
        guard let finding = try findings(where: "f.id = \(findingID) FOR UPDATE OF f", today: today, on: connection).first, Self.mayView(finding, actor) else {
            throw AuditSchedulerError(.notFound, "no finding \(findingID)")
        }
        guard actor.unitCode == nil ? DutyActor.managers.contains(actor.role) : true else {
            throw AuditSchedulerError(.forbidden, "the audited section reports the treatment result")
        }
        guard finding.status == .open else { throw AuditSchedulerError(.conflict, "the finding is \(finding.status.rawValue)") }
        let notes = notes.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !notes.isEmpty, notes.count <= 10_000 else { throw AuditSchedulerError(.invalid, "the result needs notes (at most 10000 characters)") }
        let at = Self.millisecondPrecision(now)
        _ = try appendLedger(
            type: "finding.treated", subject: findingID, actor: actor, body: LedgerFindingStep(findingID: findingID, notes: notes, treatmentPlan: treatmentPlan),
            at: at, on: connection)
        _ = try connection.query(
            """
            UPDATE \(unescaped: table("findings"))
            SET status = 'treated', result_notes = \(notes), treated_at = \(at), treatment_plan = coalesce(\(treatmentPlan), treatment_plan)
            WHERE id = \(findingID)
            """)
        return try self.finding(id: findingID, visibleTo: nil, today: today, on: connection)!
    }

    /// The department security officer approves the treatment's result (Art. 17(6)(6)) — the
    /// finding closes and its treatment duty completes (`duty.completed`) — or sends it back
    /// (`approve: false`), reopening it.
    @discardableResult
    public func reviewTreatment(
        findingID: UUID, approve: Bool, comment: String, by actor: DutyActor, now: Date, on connection: PostgresConnection
    ) throws -> FindingRecord {
        let today = CivilDate.inTokyo(now)
        guard let finding = try findings(where: "f.id = \(findingID) FOR UPDATE OF f", today: today, on: connection).first, Self.mayView(finding, actor) else {
            throw AuditSchedulerError(.notFound, "no finding \(findingID)")
        }
        guard actor.role == .departmentSecurityOfficer, actor.unitCode == finding.departmentCode else {
            throw AuditSchedulerError(.forbidden, "the treatment result is approved by the department security officer of \(finding.departmentCode) (Art. 17(6)(6))")
        }
        guard finding.status == .treated else { throw AuditSchedulerError(.conflict, "the finding is \(finding.status.rawValue); only a treated finding is reviewed") }
        let at = Self.millisecondPrecision(now)
        _ = try appendLedger(
            type: approve ? "finding.approved" : "finding.returned", subject: findingID, actor: actor,
            body: LedgerFindingStep(findingID: findingID, notes: comment, treatmentPlan: nil), at: at, on: connection)
        if approve {
            _ = try connection.query("UPDATE \(unescaped: table("findings")) SET status = 'closed', closed_at = \(at) WHERE id = \(findingID)")
            if let dutyID = finding.treatmentDutyID,
                let duty = try duties(where: "d.id = \(dutyID)", today: today, forUpdate: true, on: connection).first, duty.status == .open
            {
                try connection.emitting(as: .auditScheduler, schema: schema, logger: Logger(label: "audit-scheduler"), now: now) { context in
                    try record(
                        completion: DutyCompletionRequest(evidence: [], notes: [finding.resultNotes ?? "", comment].filter { !$0.isEmpty }.joined(separator: "\n")),
                        of: duty, by: actor, context: &context)
                }
            }
        } else {
            _ = try connection.query("UPDATE \(unescaped: table("findings")) SET status = 'open', treated_at = NULL WHERE id = \(findingID)")
        }
        return try self.finding(id: findingID, visibleTo: nil, today: today, on: connection)!
    }

    /// Findings that `actor` may see, newest first; at most `limit`, after (recorded, id) `after`.
    public func findings(
        status: FindingStatus? = nil, unitCode: String? = nil, fiscalYear: Int? = nil, visibleTo actor: DutyActor?, today: CivilDate,
        limit: Int? = nil, after: (recordedAt: Date, id: UUID)? = nil, on connection: PostgresConnection
    ) throws -> [FindingRecord] {
        var condition: PostgresQuery = "true"
        if let status { condition.append(unescaped: " AND f.status = "); condition.append(bind: status.rawValue) }
        for unit in [unitCode, actor?.unitCode].compactMap({ $0 }) {
            condition.append(unescaped: " AND (f.section_code = "); condition.append(bind: unit)
            condition.append(unescaped: " OR f.department_code = "); condition.append(bind: unit); condition.append(unescaped: ")")
        }
        if let fiscalYear {
            condition.append(unescaped: " AND f.recorded_at >= "); condition.append(bind: calendar.fiscalYearStart(fiscalYear).startInTokyo())
            condition.append(unescaped: " AND f.recorded_at < "); condition.append(bind: calendar.fiscalYearStart(fiscalYear + 1).startInTokyo())
        }
        if let after {
            condition.append(unescaped: " AND (f.recorded_at, f.id) < (")
            condition.append(bind: after.recordedAt); condition.append(unescaped: "::timestamptz, ")
            condition.append(bind: after.id); condition.append(unescaped: "::uuid)")
        }
        condition.append(unescaped: " ORDER BY f.recorded_at DESC, f.id DESC")
        if let limit { condition.append(unescaped: " LIMIT "); condition.append(bind: limit) }
        return try findings(where: condition, today: today, on: connection)
    }

    /// One finding, if `actor` may see it.
    public func finding(id: UUID, visibleTo actor: DutyActor?, today: CivilDate, on connection: PostgresConnection) throws -> FindingRecord? {
        guard let found = try findings(where: "f.id = \(id)", today: today, on: connection).first else { return nil }
        return actor.map { Self.mayView(found, $0) } ?? true ? found : nil
    }

    static func mayView(_ finding: FindingRecord, _ actor: DutyActor) -> Bool {
        guard let unit = actor.unitCode else { return true }
        return finding.sectionCode == unit || finding.departmentCode == unit
    }

    func findings(where condition: PostgresQuery, today: CivilDate, on connection: PostgresConnection) throws -> [FindingRecord] {
        var query: PostgresQuery = """
            SELECT f.id, f.audit_duty_id, f.section_code, f.department_code, f.severity, f.title, f.treatment_plan, f.due_date::text AS due_date,
                   f.status, f.treatment_duty_id, f.result_notes, f.recorded_at, f.treated_at, f.closed_at, f.asset_id
            FROM \(unescaped: table("findings")) f WHERE
            """
        query.append(unescaped: " ")
        query.sql += Self.rebase(condition, after: query.binds.count).sql
        query.binds += condition.binds
        return try connection.query(query).rows.map { row in
            let status = FindingStatus(rawValue: try row.decode("status")) ?? .open
            let due = try Self.date(row.decode("due_date"))
            return FindingRecord(
                id: try row.decode("id"), auditDutyID: try row.decode("audit_duty_id"), sectionCode: try row.decode("section_code"),
                departmentCode: try row.decode("department_code"), severity: FindingSeverity(rawValue: try row.decode("severity")) ?? .medium,
                title: try row.decode("title"), treatmentPlan: try row.decode("treatment_plan"), dueDate: due, status: status,
                treatmentDutyID: try row.decode("treatment_duty_id"), resultNotes: try row.decode("result_notes"), recordedAt: try row.decode("recorded_at"),
                treatedAt: try row.decode("treated_at"), closedAt: try row.decode("closed_at"), overdue: status != .closed && due < today,
                assetID: try row.decode("asset_id"))
        }
    }
}

struct LedgerFinding: Encodable {
    var findingID: UUID
    var auditDutyID: UUID
    var severity: String
    var title: String
    var treatmentPlan: String
    var dueDate: String
    /// Omitted when nil, so entries written before issue #18 hash as they did.
    var assetID: String?
}

struct LedgerFindingStep: Encodable {
    var findingID: UUID
    var notes: String
    var treatmentPlan: String?
}
