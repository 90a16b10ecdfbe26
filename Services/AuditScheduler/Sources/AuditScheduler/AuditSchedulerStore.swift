import Contracts
public import Directory
public import Foundation
import Logging
public import Postgres
public import ServiceRuntime
public import WardCalendar

/// The audit scheduler's state in PostgreSQL: duties, the audit plan, findings and the
/// append-only ledger. Every call runs on a connection the caller holds, inside the caller's
/// transaction (a consumer's, a timer's, an HTTP request's or the CLI's); events go to the
/// schema's outbox in that same transaction.
///
/// The `isms duties ...` and `isms findings ...` commands call these functions directly.
public struct AuditSchedulerStore: Sendable {
    /// The service's schema (`audit`).
    public let schema: String
    public let directory: DirectoryStore
    public let calendar: DutyCalendar
    public let wardCalendar: WardCalendar
    /// The ward's risk scale (`deploy/config/risk-scale.yaml`); the risk register needs it.
    public let riskScale: RiskScale?

    /// The durable timer kind that sends a duty's notices; the key is the duty id.
    public static let noticeTimerKind = "audit.duty-notice"
    /// The durable timer kind of the daily materialisation sweep.
    public static let materialiseTimerKind = "audit.materialise"

    /// - Precondition: `schema` is a plain lowercase identifier (it comes from code or configuration).
    public init(
        schema: String = AuditSchedulerService.schema, directory: DirectoryStore = DirectoryStore(), calendar: DutyCalendar, wardCalendar: WardCalendar = WardCalendar(),
        riskScale: RiskScale? = nil
    ) {
        precondition(schema.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_") }, "schema '\(schema)' is not a plain identifier")
        self.schema = schema
        self.directory = directory
        self.calendar = calendar
        self.wardCalendar = wardCalendar
        self.riskScale = riskScale
    }

    var planner: DutyPlanner { DutyPlanner(calendar: calendar, wardCalendar: wardCalendar) }

    func table(_ name: String) -> String { "\"\(schema)\".\(name)" }

    // MARK: Materialisation

    /// Creates the occurrences from the start of the current fiscal year through `horizonDays`
    /// ahead that do not exist yet, with their notice timers. Idempotent and safe with replicas:
    /// each row is inserted with ON CONFLICT DO NOTHING on (template, unit, date), and only the
    /// inserting call schedules its timer.
    @discardableResult
    public func materialise(today: CivilDate, now: Date, on connection: PostgresConnection) throws -> MaterialisationResult {
        let sections = try directory.sections(on: connection)
        let departments = try directory.departments(on: connection).map(\.code)
        let from = calendar.fiscalYearStart(calendar.fiscalYear(of: today))
        let through = today.adding(days: calendar.horizonDays)
        let contracts = try self.contracts(on: connection)
        let planned = try planner.plan(from: from, through: through, sections: sections, departments: departments, contracts: contracts) { year in
            try auditPlan(fiscalYear: year, sections: sections.map(\.code), on: connection)
        }
        var created = 0
        for duty in planned {
            if try insert(duty, findingID: nil, today: today, now: now, on: connection) != nil { created += 1 }
        }
        return MaterialisationResult(planned: planned.count, created: created)
    }

    /// Inserts one occurrence unless it exists; returns its id when this call created it.
    /// `measure` names the recurrence-prevention measure (and its case) a duty follows up, `riskID`
    /// the risk a review or treatment duty is for (issue #18).
    func insert(
        _ duty: PlannedDuty, findingID: UUID?, measure: (id: UUID, caseNumber: String)? = nil, riskID: UUID? = nil, today: CivilDate, now: Date,
        on connection: PostgresConnection
    ) throws -> UUID? {
        let recipients = DutyRecipient.escalation(owner: duty.owner, sectionCode: duty.sectionCode, departmentCode: duty.departmentCode)
        let timeline = DutyTimeline(
            dueDate: duty.dueDate, reminderDays: duty.reminderDays, escalateAfterDays: duty.escalateAfterDays, escalationLevels: recipients.count,
            calendar: wardCalendar, noticeHour: calendar.noticeHour)
        // A duty created late is not chased for notices that fell before it existed.
        let lastStage = timeline.lastStep(before: today)
        let id = UUID()
        let inserted = try connection.query(
            """
            INSERT INTO \(unescaped: table("duties")) (
                id, template_id, kind, title, article, unit_kind, unit_code, department_code, occurrence_date, finding_id, fiscal_year,
                owner_role, due_date, original_due_date, reminder_days, escalate_after_days, last_stage, escalation_level, measure_id, case_number, source_id, risk_id)
            VALUES (
                \(id), \(duty.templateID), \(duty.kind.rawValue), \(duty.title), \(duty.article), \(duty.unitKind.rawValue), \(duty.unitCode ?? ""),
                \(duty.departmentCode), \(duty.occurrenceDate.iso)::date, \(findingID), \(duty.fiscalYear), \(duty.owner.rawValue),
                \(duty.dueDate.iso)::date, \(duty.dueDate.iso)::date, \(duty.reminderDays), \(duty.escalateAfterDays), \(lastStage),
                \(Self.escalationLevel(timeline: timeline, lastStage: lastStage)), \(measure?.id), \(measure?.caseNumber), \(duty.sourceID), \(riskID))
            ON CONFLICT DO NOTHING
            RETURNING id
            """
        )
        guard !inserted.rows.isEmpty else { return nil }
        try scheduleNextNotice(dutyID: id, timeline: timeline, after: lastStage, now: now, on: connection)
        return id
    }

    /// The sections planned for audit in fiscal year `fiscalYear`, planning them first when no
    /// plan exists (Art. 13(3)(1), 25). Replicas serialise on an advisory lock per year, so a
    /// year gets exactly one plan.
    public func auditPlan(fiscalYear: Int, sections: [String], on connection: PostgresConnection) throws -> Set<String> {
        _ = try connection.query("SELECT pg_advisory_xact_lock(hashtext(\(schema + ".audit_plan")), \(fiscalYear))")
        let existing = try connection.query("SELECT section_code FROM \(unescaped: table("audit_plan")) WHERE fiscal_year = \(fiscalYear)")
        if !existing.rows.isEmpty {
            return Set(try existing.rows.map { try $0.decode("section_code", as: String.self) })
        }
        let history = try connection.query(
            """
            SELECT section_code, max(fiscal_year) AS last FROM \(unescaped: table("audit_plan"))
            WHERE fiscal_year < \(fiscalYear) GROUP BY section_code
            """)
        var last: [String: Int] = [:]
        for row in history.rows { last[try row.decode("section_code")] = try row.decode("last") }
        let plan = AuditRotation.plan(sections: sections, lastAudited: last, year: fiscalYear, cycleYears: calendar.auditCycleYears)
        for section in plan {
            _ = try connection.query(
                "INSERT INTO \(unescaped: table("audit_plan")) (fiscal_year, section_code) VALUES (\(fiscalYear), \(section)) ON CONFLICT DO NOTHING")
        }
        return Set(plan)
    }

    /// The stored audit plan of a fiscal year, without planning.
    public func storedAuditPlan(fiscalYear: Int, on connection: PostgresConnection) throws -> [String] {
        try connection.query("SELECT section_code FROM \(unescaped: table("audit_plan")) WHERE fiscal_year = \(fiscalYear) ORDER BY section_code")
            .rows.map { try $0.decode("section_code") }
    }

    // MARK: Notices

    func timeline(for duty: DutyRecord) -> (DutyTimeline, [DutyRecipient]) {
        let recipients = DutyRecipient.escalation(owner: duty.owningRole, sectionCode: duty.sectionCode, departmentCode: duty.departmentCode)
        let timeline = DutyTimeline(
            dueDate: duty.dueDate, reminderDays: duty.reminderDays, escalateAfterDays: duty.escalateAfterDays, escalationLevels: recipients.count,
            calendar: wardCalendar, noticeHour: calendar.noticeHour)
        return (timeline, recipients)
    }

    static func escalationLevel(timeline: DutyTimeline, lastStage: Int) -> Int {
        guard lastStage >= 0, lastStage < timeline.steps.count, case .escalated(let level) = timeline.steps[lastStage].stage else { return 0 }
        return level
    }

    private func scheduleNextNotice(dutyID: UUID, timeline: DutyTimeline, after index: Int, now: Date, on connection: PostgresConnection) throws {
        let key = dutyID.lowercasedString
        if let next = timeline.next(after: index, now: now) {
            try DurableTimers.schedule(kind: Self.noticeTimerKind, key: key, at: max(timeline.steps[next].at, now), on: connection, schema: schema)
        } else {
            try DurableTimers.cancel(kind: Self.noticeTimerKind, key: key, on: connection, schema: schema)
        }
    }

    /// Sends every notice of the duty that is due by `now` (a reminder, the due notice, the overdue
    /// notice, escalations) and schedules the timer for the next one. Called by the notice timer.
    public func sendDueNotices(dutyID: UUID, context: inout TransactionContext) throws {
        let (now, connection) = (context.now, context.connection)
        guard var duty = try duties(where: "d.id = \(dutyID)", today: CivilDate.inTokyo(now), forUpdate: true, on: connection).first,
            duty.status == .open
        else { return }
        let (timeline, recipients) = timeline(for: duty)
        var index = duty.lastStage
        while let next = timeline.next(after: index, now: now), timeline.steps[next].at <= now {
            let step = timeline.steps[next]
            if case .escalated(let level) = step.stage { duty.escalationLevel = level }
            try notice(step.stage, duty: duty, recipients: recipients, context: &context)
            index = next
        }
        _ = try connection.query(
            """
            UPDATE \(unescaped: table("duties")) SET last_stage = \(index), escalation_level = \(duty.escalationLevel) WHERE id = \(dutyID)
            """)
        try scheduleNextNotice(dutyID: dutyID, timeline: timeline, after: index, now: now, on: connection)
    }

    func notice(_ stage: DutyStage, duty: DutyRecord, recipients: [DutyRecipient], context: inout TransactionContext) throws {
        let reference = Self.reference(duty)
        let owner = DutyRecipient.at(duty.owningRole, sectionCode: duty.sectionCode, departmentCode: duty.departmentCode)
            ?? DutyRecipient(role: duty.owningRole, unitCode: nil)
        let ownerRecipient = DutyNoticeRecipient(role: owner.role.rawValue, unitCode: owner.unitCode)
        let daysOverdue = max(0, duty.dueDate.days(until: CivilDate.inTokyo(context.now)))
        switch stage {
        case .dueSoon(let days):
            try context.emit(DutyDueSoon(duty: reference, recipient: ownerRecipient, daysBefore: days))
        case .due:
            try context.emit(DutyDue(duty: reference, recipient: ownerRecipient))
        case .overdue:
            try context.emit(DutyOverdue(duty: reference, recipient: ownerRecipient, daysOverdue: daysOverdue))
        case .escalated(let level):
            let target = recipients[min(level, recipients.count) - 1]
            try context.emit(DutyEscalated(
                duty: reference, recipient: DutyNoticeRecipient(role: target.role.rawValue, unitCode: target.unitCode), level: level, daysOverdue: daysOverdue))
        }
    }

    static func reference(_ duty: DutyRecord) -> DutyReference {
        DutyReference(
            dutyID: duty.id, templateID: duty.templateID, kind: duty.kind.rawValue, title: duty.title, article: duty.article,
            unit: .init(kind: duty.unitKind.rawValue, code: duty.unitCode, departmentCode: duty.departmentCode), owingRole: duty.owningRole.rawValue,
            dueDate: duty.dueDate.iso, fiscalYear: duty.fiscalYear)
    }

    // MARK: Queries

    /// Duties matching `filter` that `actor` may see (a unit token sees its unit's duties; a
    /// department token also its sections'), by due date.
    public func duties(_ filter: DutyFilter, visibleTo actor: DutyActor?, today: CivilDate, on connection: PostgresConnection) throws -> [DutyRecord] {
        var query: PostgresQuery = "true"
        if let year = filter.fiscalYear { query.append(unescaped: " AND d.fiscal_year = "); query.append(bind: year) }
        if let status = filter.status { query.append(unescaped: " AND d.status = "); query.append(bind: status.rawValue) }
        if filter.overdueOnly { query.append(unescaped: " AND d.status = 'open' AND d.due_date < "); query.append(bind: today.iso); query.append(unescaped: "::date") }
        if let template = filter.templateID { query.append(unescaped: " AND d.template_id = "); query.append(bind: template) }
        if let kind = filter.kind { query.append(unescaped: " AND d.kind = "); query.append(bind: kind.rawValue) }
        if let origin = filter.origin { query.append(unescaped: " AND " + Self.condition(origin)) }
        for unit in [filter.unitCode, actor?.unitCode].compactMap({ $0 }) {
            query.append(unescaped: " AND (d.unit_code = "); query.append(bind: unit)
            query.append(unescaped: " OR d.department_code = "); query.append(bind: unit); query.append(unescaped: ")")
        }
        if let after = filter.after {
            query.append(unescaped: " AND (d.due_date, d.template_id, COALESCE(d.unit_code, ''), d.id) > (")
            query.append(bind: after.dueDate.iso); query.append(unescaped: "::date, ")
            query.append(bind: after.templateID); query.append(unescaped: ", ")
            query.append(bind: after.unitCode); query.append(unescaped: ", ")
            query.append(bind: after.id); query.append(unescaped: "::uuid)")
        }
        query.append(unescaped: " ORDER BY d.due_date, d.template_id, COALESCE(d.unit_code, ''), d.id LIMIT ")
        query.append(bind: max(1, min(filter.limit, 10_000)))
        return try duties(where: query, today: today, forUpdate: false, on: connection)
    }

    /// One duty with its completion, reschedules and notice timeline; nil when it does not exist
    /// or `actor` may not see it.
    public func duty(id: UUID, visibleTo actor: DutyActor?, today: CivilDate, on connection: PostgresConnection) throws -> DutyDetail? {
        guard let duty = try duties(where: "d.id = \(id)", today: today, forUpdate: false, on: connection).first,
            actor.map({ Self.mayView(duty, $0) }) ?? true
        else { return nil }
        let completion = try connection.query(
            """
            SELECT completed_at, on_time, actor_role, actor_unit, notes, evidence::text AS evidence, participants, eligible, checklist_score, checklist_max
            FROM \(unescaped: table("duty_completions")) WHERE duty_id = \(id)
            """
        ).rows.first.map { row in
            DutyCompletionRecord(
                completedAt: try row.decode("completed_at"), onTime: try row.decode("on_time"), actorRole: try Self.role(row.decode("actor_role")),
                actorUnit: try row.decode("actor_unit"),
                request: DutyCompletionRequest(
                    evidence: try JSONDecoder().decode([DutyEvidence].self, from: Data(try row.decode("evidence", as: String.self).utf8)),
                    notes: try row.decode("notes"), participants: try row.decode("participants"), eligible: try row.decode("eligible"),
                    checklistScore: try row.decode("checklist_score"), checklistMax: try row.decode("checklist_max")))
        }
        let reschedules = try connection.query(
            """
            SELECT from_due::text AS from_due, to_due::text AS to_due, reason, actor_role, actor_unit, rescheduled_at
            FROM \(unescaped: table("duty_reschedules")) WHERE duty_id = \(id) ORDER BY id
            """
        ).rows.map { row in
            DutyRescheduleRecord(
                fromDue: try Self.date(row.decode("from_due")), toDue: try Self.date(row.decode("to_due")), reason: try row.decode("reason"),
                actorRole: try Self.role(row.decode("actor_role")), actorUnit: try row.decode("actor_unit"), rescheduledAt: try row.decode("rescheduled_at"))
        }
        let (timeline, recipients) = timeline(for: duty)
        let steps = timeline.steps.enumerated().map { index, step in
            var recipient: DutyRecipient?
            if case .escalated(let level) = step.stage { recipient = recipients[level - 1] }
            return DutyNoticeStep(stage: step.stage.description, day: step.day, at: step.at, sent: index <= duty.lastStage, recipient: recipient)
        }
        return DutyDetail(duty: duty, completion: completion, reschedules: reschedules, timeline: steps)
    }

    func duties(where condition: PostgresQuery, today: CivilDate, forUpdate: Bool, on connection: PostgresConnection) throws -> [DutyRecord] {
        var query: PostgresQuery = """
            SELECT d.id, d.template_id, d.kind, d.title, d.article, d.unit_kind, d.unit_code, d.department_code,
                   d.occurrence_date::text AS occurrence_date, d.due_date::text AS due_date, d.original_due_date::text AS original_due_date,
                   d.fiscal_year, d.owner_role, d.status, d.escalation_level, d.finding_id, d.auditor_person_id, d.completed_at,
                   d.last_stage, d.reminder_days, d.escalate_after_days, d.source_id, d.risk_id,
                   o.reason AS order_reason, o.case_number AS order_case_number, i.self_inspection_duty_id
            FROM \(unescaped: table("duties")) d
            LEFT JOIN \(unescaped: table("duty_orders")) o ON o.duty_id = d.id
            LEFT JOIN \(unescaped: table("improvement_actions")) i ON i.duty_id = d.id
            WHERE
            """
        query.append(unescaped: " ")
        query.sql += Self.rebase(condition, after: query.binds.count).sql
        query.binds += condition.binds
        if forUpdate { query.append(unescaped: " FOR UPDATE OF d") }
        return try connection.query(query).rows.map { row in
            let unit: String = try row.decode("unit_code")
            let due = try Self.date(row.decode("due_date"))
            let status = DutyStatus(rawValue: try row.decode("status")) ?? .open
            let findingID: UUID? = try row.decode("finding_id")
            let sourceID: UUID? = try row.decode("source_id")
            let reason: String? = try row.decode("order_reason")
            let improves: UUID? = try row.decode("self_inspection_duty_id")
            let origin: DutyOrigin =
                reason != nil ? .onDemand : improves != nil ? .improvement : findingID != nil ? .finding : sourceID != nil ? .contract : .calendar
            var record = DutyRecord(
                id: try row.decode("id"), templateID: try row.decode("template_id"), kind: DutyKind(rawValue: try row.decode("kind")) ?? .other,
                title: try row.decode("title"), article: try row.decode("article"),
                unitKind: DutyUnitKind(rawValue: try row.decode("unit_kind")) ?? .ward, unitCode: unit.isEmpty ? nil : unit,
                departmentCode: try row.decode("department_code"), occurrenceDate: try Self.date(row.decode("occurrence_date")), dueDate: due,
                originalDueDate: try Self.date(row.decode("original_due_date")), fiscalYear: try row.decode("fiscal_year"),
                owningRole: try Self.role(row.decode("owner_role")), status: status, overdue: status == .open && due < today,
                escalationLevel: try row.decode("escalation_level"), findingID: try row.decode("finding_id"),
                riskID: try row.decode("risk_id"), auditorPersonID: try row.decode("auditor_person_id"), completedAt: try row.decode("completed_at"), lastStage: try row.decode("last_stage"),
                reminderDays: try row.decode("reminder_days"), escalateAfterDays: try row.decode("escalate_after_days"))
            record.origin = origin
            record.reason = reason
            record.caseNumber = try row.decode("order_case_number")
            record.contractID = origin == .contract ? sourceID : nil
            record.selfInspectionDutyID = improves
            return record
        }
    }

    /// Renumbers `$n` placeholders of a fragment that is appended after `offset` binds.
    static func rebase(_ query: PostgresQuery, after offset: Int) -> PostgresQuery {
        guard offset > 0 else { return query }
        var result = ""
        var scalars = query.sql.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar? = scalars.next()
        while let scalar = pending {
            pending = scalars.next()
            guard scalar == "$", let first = pending, ("0"..."9").contains(first) else {
                result.unicodeScalars.append(scalar)
                continue
            }
            var digits = ""
            while let digit = pending, ("0"..."9").contains(digit) {
                digits.unicodeScalars.append(digit)
                pending = scalars.next()
            }
            result += "$\(Int(digits)! + offset)"
        }
        return PostgresQuery(unsafeSQL: result, binds: query.binds)
    }

    // MARK: Authorisation

    /// Whether `actor` may see `duty`: ward-wide roles see everything, a unit token its unit's
    /// duties (a department token also its sections').
    static func mayView(_ duty: DutyRecord, _ actor: DutyActor) -> Bool {
        guard let unit = actor.unitCode else { return true }
        return duty.unitCode == unit || duty.departmentCode == unit
    }

    /// Whether `actor` may complete `duty`: the owing role itself, the ward's managers (Art. 14,
    /// 16), or — for duties a unit owes — a token of that unit or its department. A duty owed by
    /// a ward-wide role (an audit, say) is never the audited unit's to complete.
    static func mayAct(on duty: DutyRecord, _ actor: DutyActor) -> Bool {
        guard let unit = actor.unitCode else {
            return actor.role == duty.owningRole || DutyActor.managers.contains(actor.role)
        }
        guard !duty.owningRole.isWardWide else { return false }
        return duty.unitCode == unit || duty.departmentCode == unit
    }

    /// Whether `actor` may move a due date: the ward's managers, the audit chief for audits, and
    /// a department security officer for the duties of the department's units.
    static func mayReschedule(_ duty: DutyRecord, _ actor: DutyActor) -> Bool {
        if DutyActor.managers.contains(actor.role) { return true }
        if actor.role == .auditChief, duty.kind == .audit || duty.kind == .auditPlan { return true }
        if actor.role == .departmentSecurityOfficer, let unit = actor.unitCode, !duty.owningRole.isWardWide {
            return duty.departmentCode == unit
        }
        return false
    }

    // MARK: Completion and rescheduling

    /// Completes an open duty with evidence, append-only: the completion is recorded in the
    /// ledger and the completions table (neither can be changed afterwards), reminders stop, and
    /// `duty.completed` is emitted. Education needs participants/eligible (Art. 23), self-inspection
    /// a checklist score (Art. 24). Risk treatment completes through the finding's approval.
    @discardableResult
    public func complete(
        dutyID: UUID, with request: DutyCompletionRequest, by actor: DutyActor, context: inout TransactionContext
    ) throws -> DutyRecord {
        let (now, connection) = (context.now, context.connection)
        let today = CivilDate.inTokyo(now)
        guard let duty = try duties(where: "d.id = \(dutyID)", today: today, forUpdate: true, on: connection).first, Self.mayView(duty, actor) else {
            throw AuditSchedulerError(.notFound, "no duty \(dutyID)")
        }
        guard Self.mayAct(on: duty, actor) else {
            throw AuditSchedulerError(.forbidden, "\(actor.role.rawValue) at \(actor.unitCode ?? "the ward") may not complete a duty owed by \(duty.owningRole.rawValue)")
        }
        guard duty.status == .open else { throw AuditSchedulerError(.conflict, "the duty is \(duty.status.rawValue); a completion is recorded once") }
        guard duty.kind != .riskTreatment || duty.findingID == nil else {
            throw AuditSchedulerError(.conflict, "risk treatment is completed when the department security officer approves the finding's result (Art. 17(6)(6))")
        }
        guard duty.kind != .riskReview else {
            throw AuditSchedulerError(.conflict, "a risk review is completed by reviewing the risk (POST /v1/risks/{id}/review, isms risks review)")
        }
        try Self.validate(request, kind: duty.kind)
        try record(completion: request, of: duty, by: actor, context: &context)
        // Art. 24: a score below the mark opens an improvement action (issue #18).
        try openImprovementIfNeeded(after: duty, completion: request, by: actor, now: now, on: connection)
        return try duties(where: "d.id = \(dutyID)", today: today, forUpdate: false, on: connection)[0]
    }

    func record(completion request: DutyCompletionRequest, of duty: DutyRecord, by actor: DutyActor, context: inout TransactionContext) throws {
        let connection = context.connection
        let at = Self.millisecondPrecision(context.now)
        let onTime = at < duty.dueDate.endInTokyo()
        let seq = try appendLedger(type: "duty.completed", subject: duty.id, actor: actor, body: LedgerCompletion(dutyID: duty.id, onTime: onTime, request: request), at: at, on: connection)
        let evidence = String(decoding: try ContractsJSON.encoder().encode(request.evidence), as: UTF8.self)
        _ = try connection.query(
            """
            INSERT INTO \(unescaped: table("duty_completions")) (
                duty_id, completed_at, on_time, actor_role, actor_unit, notes, evidence, participants, eligible, checklist_score, checklist_max, ledger_seq)
            VALUES (
                \(duty.id), \(at), \(onTime), \(actor.role.rawValue), \(actor.unitCode), \(request.notes), \(evidence)::jsonb, \(request.participants),
                \(request.eligible), \(request.checklistScore), \(request.checklistMax), \(seq))
            """)
        _ = try connection.query("UPDATE \(unescaped: table("duties")) SET status = 'completed', completed_at = \(at) WHERE id = \(duty.id)")
        try DurableTimers.cancel(kind: Self.noticeTimerKind, key: duty.id.lowercasedString, on: connection, schema: schema)
        let event = DutyCompleted(
            duty: Self.reference(duty), completedAt: at, onTime: onTime, completedByRole: actor.role.rawValue, evidenceCount: request.evidence.count)
        try context.emit(event, time: at)
    }

    static func validate(_ request: DutyCompletionRequest, kind: DutyKind) throws {
        guard !request.evidence.isEmpty || !request.notes.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw AuditSchedulerError(.invalid, "a completion needs evidence (file name and sha256) or notes")
        }
        for item in request.evidence {
            guard !item.fileName.isEmpty, item.fileName.unicodeScalars.count <= 255 else { throw AuditSchedulerError(.invalid, "an evidence file name is empty or too long") }
            guard item.sha256.count == 64, item.sha256.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else {
                throw AuditSchedulerError(.invalid, "the sha256 of \(item.fileName) must be 64 lowercase hex digits")
            }
        }
        guard request.notes.count <= 10_000 else { throw AuditSchedulerError(.invalid, "notes are limited to 10000 characters") }
        // The counts are people and checklist points of one unit: a ward's staff, not billions.
        for (name, value) in [("participants", request.participants), ("eligible", request.eligible)] {
            guard (0...1_000_000).contains(value ?? 0) else { throw AuditSchedulerError(.invalid, "\(name) must be from 0 to 1000000") }
        }
        for (name, value) in [("checklistScore", request.checklistScore), ("checklistMax", request.checklistMax)] {
            guard (0.0...1_000_000.0).contains(value ?? 0) else { throw AuditSchedulerError(.invalid, "\(name) must be from 0 to 1000000") }
        }
        switch kind {
        case .education:
            guard let participants = request.participants, let eligible = request.eligible, eligible > 0, (0...eligible).contains(participants) else {
                throw AuditSchedulerError(.invalid, "education (Art. 23) is completed with participants and eligible, 0 ≤ participants ≤ eligible, eligible > 0")
            }
        case .selfInspection:
            guard let score = request.checklistScore, let maximum = request.checklistMax, maximum > 0, score >= 0, score <= maximum else {
                throw AuditSchedulerError(.invalid, "self-inspection (Art. 24) is completed with checklistScore and checklistMax, 0 ≤ score ≤ max")
            }
        default:
            break
        }
    }

    /// Moves an open duty's due date (rolled to an opening day) for a recorded reason: the ledger
    /// and the reschedules table keep who moved it, when, from what and why. Notices restart from
    /// the new date; a date in the past sends the overdue notice (and any escalation) at once.
    @discardableResult
    public func reschedule(
        dutyID: UUID, to requested: CivilDate, reason: String, by actor: DutyActor, now: Date, on connection: PostgresConnection
    ) throws -> DutyRecord {
        let today = CivilDate.inTokyo(now)
        let reason = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reason.isEmpty, reason.count <= 2_000 else { throw AuditSchedulerError(.invalid, "a reschedule needs a reason (at most 2000 characters)") }
        // A duty moves within its cycle, not by centuries: a bound also keeps the calendar's
        // arithmetic in the years it knows.
        guard requested >= today.adding(days: -366), requested <= today.adding(days: 5 * 366) else {
            throw AuditSchedulerError(.invalid, "dueDate must be within a year before and five years after today")
        }
        guard var duty = try duties(where: "d.id = \(dutyID)", today: today, forUpdate: true, on: connection).first, Self.mayView(duty, actor) else {
            throw AuditSchedulerError(.notFound, "no duty \(dutyID)")
        }
        guard Self.mayReschedule(duty, actor) else { throw AuditSchedulerError(.forbidden, "\(actor.role.rawValue) may not reschedule this duty") }
        guard duty.status == .open else { throw AuditSchedulerError(.conflict, "the duty is \(duty.status.rawValue)") }
        let newDue = wardCalendar.nextOpeningDay(onOrAfter: requested)
        let at = Self.millisecondPrecision(now)
        let seq = try appendLedger(
            type: "duty.rescheduled", subject: dutyID, actor: actor,
            body: LedgerReschedule(dutyID: dutyID, fromDue: duty.dueDate.iso, toDue: newDue.iso, reason: reason), at: at, on: connection)
        _ = try connection.query(
            """
            INSERT INTO \(unescaped: table("duty_reschedules")) (duty_id, from_due, to_due, reason, actor_role, actor_unit, rescheduled_at, ledger_seq)
            VALUES (\(dutyID), \(duty.dueDate.iso)::date, \(newDue.iso)::date, \(reason), \(actor.role.rawValue), \(actor.unitCode), \(at), \(seq))
            """)
        duty.dueDate = newDue
        let (timeline, _) = timeline(for: duty)
        // Reminders already in the past are dropped; the overdue notice and escalations are not.
        let resume = timeline.steps.lastIndex { step in
            switch step.stage {
            case .dueSoon, .due: step.day < today
            case .overdue, .escalated: false
            }
        } ?? -1
        _ = try connection.query(
            """
            UPDATE \(unescaped: table("duties")) SET due_date = \(newDue.iso)::date, last_stage = \(resume), escalation_level = 0 WHERE id = \(dutyID)
            """)
        try scheduleNextNotice(dutyID: dutyID, timeline: timeline, after: resume, now: now, on: connection)
        return try duties(where: "d.id = \(dutyID)", today: today, forUpdate: false, on: connection)[0]
    }

    /// Assigns the auditor of an audit (Art. 25). Only the audit chief assigns (Art. 13(3)), and
    /// an auditor who holds a role at the audited section or in its department is refused
    /// (Art. 13(2)) with ``AuditSchedulerError/Code/auditorNotIndependent``.
    @discardableResult
    public func assignAuditor(dutyID: UUID, personID: String, by actor: DutyActor, now: Date, on connection: PostgresConnection) throws -> DutyRecord {
        let today = CivilDate.inTokyo(now)
        guard actor.role == .auditChief else { throw AuditSchedulerError(.forbidden, "only the audit chief assigns auditors (Art. 13(3))") }
        guard let duty = try duties(where: "d.id = \(dutyID)", today: today, forUpdate: true, on: connection).first else {
            throw AuditSchedulerError(.notFound, "no duty \(dutyID)")
        }
        guard duty.kind == .audit, let section = duty.sectionCode else { throw AuditSchedulerError(.invalid, "only a section's audit takes an auditor") }
        guard duty.status == .open else { throw AuditSchedulerError(.conflict, "the audit is \(duty.status.rawValue)") }
        let organisation = try directory.organisation(on: connection)
        if let conflict = AuditorIndependence.conflict(personID: personID, sectionCode: section, organisation: organisation) {
            throw AuditSchedulerError(.auditorNotIndependent, conflict.reason)
        }
        _ = try appendLedger(
            type: "audit.auditor-assigned", subject: dutyID, actor: actor, body: LedgerAuditor(dutyID: dutyID, personID: personID, sectionCode: section),
            at: Self.millisecondPrecision(now), on: connection)
        _ = try connection.query("UPDATE \(unescaped: table("duties")) SET auditor_person_id = \(personID) WHERE id = \(dutyID)")
        return try duties(where: "d.id = \(dutyID)", today: today, forUpdate: false, on: connection)[0]
    }

    // MARK: Ledger

    /// The duty ledger's chain in `schema` (`isms verify` checks it too).
    public static func ledger(schema: String) -> HashChainLedger {
        HashChainLedger(
            name: "duty ledger", schema: schema, table: "ledger",
            columns: [
                .init("recorded_at", .timestamp), .init("entry_type", .text), .init("subject_id", .uuid), .init("actor_role", .text),
                .init("actor_unit", .text), .init("actor_token", .uuid), .init("body", .text),
            ])
    }

    /// Appends an entry to the hash-chained ledger (the shared ``HashChainLedger``); the body
    /// is stored as the canonical JSON text that was hashed.
    func appendLedger(type: String, subject: UUID, actor: DutyActor, body: some Encodable, at: Date, on connection: PostgresConnection) throws -> Int64 {
        try Self.ledger(schema: schema).append(
            [
                "recorded_at": .timestamp(at), "entry_type": .text(type), "subject_id": .uuid(subject), "actor_role": .text(actor.role.rawValue),
                "actor_unit": .text(actor.unitCode), "actor_token": .uuid(actor.tokenID), "body": .text(try CanonicalJSON.text(of: body)),
            ], on: connection
        ).seq
    }

    /// Recomputes every entry's hash and link, in order (for `isms duties verify`).
    public func verifyLedger(on connection: PostgresConnection) throws -> LedgerVerification {
        let result = try Self.ledger(schema: schema).verify(on: connection)
        return LedgerVerification(entries: result.rowsChecked, valid: result.isIntact, firstBrokenSeq: result.brokenRow?.seq)
    }

    // MARK: Helpers

    static func millisecondPrecision(_ date: Date) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970 * 1000).rounded() / 1000)
    }

    static func date(_ text: String) throws -> CivilDate {
        guard let date = CivilDate(iso: text) else { throw PostgresError(code: .decoding, message: "not a date: \(text)") }
        return date
    }

    static func role(_ text: String) throws -> DirectoryRole {
        guard let role = DirectoryRole(rawValue: text) else { throw PostgresError(code: .decoding, message: "unknown role \(text)") }
        return role
    }
}

struct LedgerCompletion: Encodable {
    var dutyID: UUID
    var onTime: Bool
    var request: DutyCompletionRequest
}

struct LedgerReschedule: Encodable {
    var dutyID: UUID
    var fromDue: String
    var toDue: String
    var reason: String
}

struct LedgerAuditor: Encodable {
    var dutyID: UUID
    var personID: String
    var sectionCode: String
}
