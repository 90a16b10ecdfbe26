import Contracts
import Directory
public import Foundation
import Logging
public import Postgres
public import ServiceRuntime
public import WardCalendar

extension AuditSchedulerError.Code {
    /// Accepting a residual risk above the ward's appetite needs the CISO's decision with a
    /// reason (Art. 11, 26).
    public static let needsCISO = Self(name: "needs-ciso")
}

/// The risk register (Art. 26, issue #18 item 1): risks of registered assets with their inherent
/// and residual level on the ward's scale, a treatment, and a review date the scheduler chases
/// as a `risk-review` duty. Every change is an entry of the hash-chained duty ledger whose
/// subject is the risk: that is the risk's history.
///
/// Who may do what (Arts. 11, 14-18): a section's information security officer owns the
/// section's assets (Art. 18(4)) and carries out the risk management of its findings
/// (Art. 18(6)(5)), so registers, reassesses and treats its section's risks; the ward-wide
/// officers who run risk management — the CISO, the general security officer (who reports
/// its results, Art. 14(4)(3)), the general security manager (Art. 16) and the general system
/// administrator (risk management of audit findings for the core systems, Art. 15(2)(2)) — act
/// on every risk. The department security officer, who grasps the risk management of the
/// department and approves its results (Art. 17(6)(5)-(6)), may also review its department's
/// risks. Accepting a residual risk above the appetite is the CISO's decision alone, with a
/// reason. Every token of a unit sees its unit's risks; ward-wide tokens see all.
extension AuditSchedulerStore {
    /// Ward-wide roles that register and treat any risk.
    static let riskManagers: Set<DirectoryRole> = [.ciso, .generalSecurityOfficer, .generalSecurityManager, .generalSystemAdministrator]
    /// The template id of the risk review duties and of a reduce treatment's duty.
    static let riskReviewTemplate = "risk-review"
    static let riskReductionTemplate = "risk-reduction"
    /// Summary: a review is "due" from today through this many days ahead.
    static let reviewsDueWithinDays = 30

    func scale() throws -> RiskScale {
        guard let riskScale else { throw AuditSchedulerError(.conflict, "the risk register has no risk scale configured (ISMS_AUDIT_RISK_SCALE_FILE)") }
        return riskScale
    }

    // MARK: Authorisation

    static func mayView(_ risk: RiskRecord, _ actor: DutyActor) -> Bool {
        guard let unit = actor.unitCode else { return true }
        return risk.sectionCode == unit || risk.departmentCode == unit
    }

    /// Register, reassess and treat (and accept within the appetite).
    static func mayManageRisk(sectionCode: String, _ actor: DutyActor) -> Bool {
        if actor.unitCode == nil { return riskManagers.contains(actor.role) }
        return actor.role == .sectionSecurityOfficer && actor.unitCode == sectionCode
    }

    static func mayReview(_ risk: RiskRecord, _ actor: DutyActor) -> Bool {
        mayManageRisk(sectionCode: risk.sectionCode, actor) || (actor.role == .departmentSecurityOfficer && actor.unitCode == risk.departmentCode)
    }

    /// The rule of acceptance: a reason always; above the appetite the CISO only (Art. 11, 26).
    static func checkAcceptance(level: String, scale: RiskScale, reason: String?, by actor: DutyActor) throws {
        let reason = reason?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        if scale.isAboveAppetite(level) {
            guard actor.role == .ciso else {
                throw AuditSchedulerError(
                    .needsCISO,
                    "the residual level '\(level)' is above the ward's appetite ('\(scale.appetiteLevel.id)'): accepting it is the CISO's decision, with a reason (Art. 11, 26)")
            }
            guard !reason.isEmpty else {
                throw AuditSchedulerError(.invalid, "the CISO accepts a residual risk above the appetite with a reason", field: "/reason")
            }
        }
        guard !reason.isEmpty else { throw AuditSchedulerError(.invalid, "accepting a risk needs a reason", field: "/reason") }
    }

    // MARK: Registering and changing

    /// Registers a risk of a registered asset; its inherent level comes from the matrix, its
    /// first review is scheduled as a `risk-review` duty of the owning section.
    @discardableResult
    public func registerRisk(_ request: RiskRequest, by actor: DutyActor, now: Date, on connection: PostgresConnection) throws -> RiskDetail {
        let scale = try scale()
        let today = CivilDate.inTokyo(now)
        let assetID = request.assetID.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !assetID.isEmpty, assetID.unicodeScalars.count <= 100 else { throw AuditSchedulerError(.invalid, "assetId must be 1 to 100 characters", field: "/assetId") }
        let title = try Self.text(request.title, "title", max: 500)
        let threat = try Self.text(request.threat, "threat", max: 5_000)
        let vulnerability = try Self.text(request.vulnerability, "vulnerability", max: 5_000)
        let (sectionCode, suggestedImpact) = try assetOwner(assetID: assetID, sectionCode: request.sectionCode, scale: scale, on: connection)
        guard let section = try directory.sections(codes: [sectionCode], on: connection)[sectionCode] else {
            throw AuditSchedulerError(.invalid, "sectionCode '\(sectionCode)' is not a section of the directory", field: "/sectionCode")
        }
        guard Self.mayManageRisk(sectionCode: section.code, actor) else {
            throw AuditSchedulerError(.forbidden, "\(actor.role.rawValue) at \(actor.unitCode ?? "the ward") may not register risks of \(section.code) (Art. 18(4), 18(6)(5))")
        }
        guard let impact = request.impact ?? suggestedImpact else {
            throw AuditSchedulerError(.invalid, "impact is required (the asset's classification suggests it only for a registered asset)", field: "/impact")
        }
        let level = try Self.level(scale, likelihood: request.likelihood, impact: impact, "")
        let sources = try Self.checked(request.sources ?? [])
        let reviewDate = try request.reviewDate.map { try Self.futureDate($0, "reviewDate", today: today) }
            ?? today.adding(days: scale.levels[scale.levelIndex(of: level)!].reviewIntervalDays)
        let id = UUID()
        let at = Self.millisecondPrecision(now)
        let sourcesJSON = try Self.json(sources)
        _ = try connection.query(
            """
            INSERT INTO \(unescaped: table("risks")) (
                id, asset_id, section_code, department_code, title, threat, vulnerability, inherent_likelihood, inherent_impact, inherent_level,
                review_date, sources, created_at, updated_at)
            VALUES (
                \(id), \(assetID), \(section.code), \(section.departmentCode), \(title), \(threat), \(vulnerability), \(request.likelihood), \(impact),
                \(level), \(reviewDate.iso)::date, \(sourcesJSON)::jsonb, \(at), \(at))
            """)
        var risk = try self.risk(id: id, today: today, forUpdate: true, on: connection)!
        try scheduleReview(of: &risk, on: reviewDate, today: today, now: now, on: connection)
        try appendRiskHistory("risk.registered", risk, actor: actor, reason: nil, at: at, on: connection)
        return try riskDetail(id: id, visibleTo: nil, today: today, on: connection)!
    }

    /// Reassesses a risk (threat, vulnerability, inherent likelihood and impact), moves its
    /// review date, or adds the finding, case or self-inspection that bears on it.
    @discardableResult
    public func updateRisk(id: UUID, _ update: RiskUpdate, by actor: DutyActor, now: Date, on connection: PostgresConnection) throws -> RiskDetail {
        let scale = try scale()
        let today = CivilDate.inTokyo(now)
        var risk = try lockedRisk(id: id, actor: actor, today: today, on: connection)
        guard Self.mayManageRisk(sectionCode: risk.sectionCode, actor) else {
            throw AuditSchedulerError(.forbidden, "\(actor.role.rawValue) may not change risks of \(risk.sectionCode)")
        }
        if let title = update.title { risk.title = try Self.text(title, "title", max: 500) }
        if let threat = update.threat { risk.threat = try Self.text(threat, "threat", max: 5_000) }
        if let vulnerability = update.vulnerability { risk.vulnerability = try Self.text(vulnerability, "vulnerability", max: 5_000) }
        let likelihood = update.likelihood ?? risk.inherentLikelihood
        let impact = update.impact ?? risk.inherentImpact
        risk.inherentLevel = try Self.level(scale, likelihood: likelihood, impact: impact, "")
        (risk.inherentLikelihood, risk.inherentImpact) = (likelihood, impact)
        if let source = update.source { risk.sources = try Self.checked(risk.sources + [source]) }
        let reason = try update.reason.map { try Self.text($0, "reason", max: 2_000) }
        let at = Self.millisecondPrecision(now)
        let sourcesJSON = try Self.json(risk.sources)
        _ = try connection.query(
            """
            UPDATE \(unescaped: table("risks")) SET title = \(risk.title), threat = \(risk.threat), vulnerability = \(risk.vulnerability),
                inherent_likelihood = \(likelihood), inherent_impact = \(impact), inherent_level = \(risk.inherentLevel),
                sources = \(sourcesJSON)::jsonb, updated_at = \(at)
            WHERE id = \(id)
            """)
        if let text = update.reviewDate {
            let date = try Self.futureDate(text, "reviewDate", today: today)
            if date != risk.reviewDate { try scheduleReview(of: &risk, on: date, today: today, now: now, on: connection) }
        }
        try appendRiskHistory("risk.updated", try self.risk(id: id, today: today, forUpdate: false, on: connection)!, actor: actor, reason: reason, at: at, on: connection)
        return try riskDetail(id: id, visibleTo: nil, today: today, on: connection)!
    }

    /// Decides a risk's treatment and its residual likelihood and impact. `reduce` needs
    /// measures and a due date, which a `risk-reduction` duty of the owner chases; `transfer`
    /// names to whom; `accept` needs a reason, and above the appetite the CISO (Art. 11, 26).
    @discardableResult
    public func treatRisk(id: UUID, _ request: RiskTreatmentRequest, by actor: DutyActor, now: Date, on connection: PostgresConnection) throws -> RiskDetail {
        let scale = try scale()
        let today = CivilDate.inTokyo(now)
        var risk = try lockedRisk(id: id, actor: actor, today: today, on: connection)
        guard Self.mayManageRisk(sectionCode: risk.sectionCode, actor) else {
            throw AuditSchedulerError(.forbidden, "\(actor.role.rawValue) may not treat risks of \(risk.sectionCode)")
        }
        let likelihood = request.residualLikelihood ?? risk.residualLikelihood ?? risk.inherentLikelihood
        let impact = request.residualImpact ?? risk.residualImpact ?? risk.inherentImpact
        let residual = try Self.level(scale, likelihood: likelihood, impact: impact, "residual ")
        let measures = try request.measures.map { try Self.text($0, "measures", max: 10_000, allowEmpty: true) } ?? ""
        let reason = try request.reason.map { try Self.text($0, "reason", max: 2_000, allowEmpty: true) }
        var owner: (role: DirectoryRole, unit: String?)?
        var due: CivilDate?
        var transferTo: String?
        switch request.treatment {
        case .reduce:
            guard !measures.isEmpty else { throw AuditSchedulerError(.invalid, "a reduce treatment needs its measures", field: "/measures") }
            guard let text = request.dueDate else { throw AuditSchedulerError(.invalid, "a reduce treatment needs a dueDate", field: "/dueDate") }
            due = try Self.futureDate(text, "dueDate", today: today)
            owner = try treatmentOwner(role: request.ownerRole, unit: request.ownerUnit, risk: risk, on: connection)
        case .transfer:
            guard let to = request.transferTo else { throw AuditSchedulerError(.invalid, "a transfer names to whom (transferTo)", field: "/transferTo") }
            transferTo = try Self.text(to, "transferTo", max: 500)
        case .accept:
            try Self.checkAcceptance(level: residual, scale: scale, reason: reason, by: actor)
        case .avoid:
            break
        }
        let at = Self.millisecondPrecision(now)
        let accepted = request.treatment == .accept
        _ = try connection.query(
            """
            UPDATE \(unescaped: table("risks")) SET treatment = \(request.treatment.rawValue), measures = \(measures),
                treatment_owner_role = \(owner?.role.rawValue), treatment_owner_unit = \(owner?.unit), treatment_due = \(due?.iso)::date,
                transfer_to = \(transferTo), residual_likelihood = \(likelihood), residual_impact = \(impact), residual_level = \(residual),
                accepted_by_role = \(accepted ? actor.role.rawValue : nil), accepted_reason = \(accepted ? reason : nil),
                accepted_at = \(accepted ? at : nil), updated_at = \(at)
            WHERE id = \(id)
            """)
        risk = try self.risk(id: id, today: today, forUpdate: false, on: connection)!
        try scheduleTreatment(of: risk, today: today, now: now, on: connection)
        risk = try self.risk(id: id, today: today, forUpdate: false, on: connection)!
        try appendRiskHistory(accepted ? "risk.accepted" : "risk.treated", risk, actor: actor, reason: reason, at: at, on: connection)
        return try riskDetail(id: id, visibleTo: nil, today: today, on: connection)!
    }

    /// The periodic review: notes, the reassessed residual, the next review date (default by the
    /// residual level's interval). It completes the open `risk-review` duty and schedules the
    /// next one. An accepted risk whose residual rises above the appetite needs the CISO again.
    @discardableResult
    public func reviewRisk(id: UUID, _ request: RiskReviewRequest, by actor: DutyActor, now: Date, on connection: PostgresConnection) throws -> RiskDetail {
        let scale = try scale()
        let today = CivilDate.inTokyo(now)
        var risk = try lockedRisk(id: id, actor: actor, today: today, on: connection)
        guard Self.mayReview(risk, actor) else { throw AuditSchedulerError(.forbidden, "\(actor.role.rawValue) may not review risks of \(risk.sectionCode)") }
        let notes = try Self.text(request.notes, "notes", max: 10_000)
        var residual = risk.residualLevel
        if request.residualLikelihood != nil || request.residualImpact != nil {
            let likelihood = request.residualLikelihood ?? risk.residualLikelihood ?? risk.inherentLikelihood
            let impact = request.residualImpact ?? risk.residualImpact ?? risk.inherentImpact
            let level = try Self.level(scale, likelihood: likelihood, impact: impact, "residual ")
            if risk.treatment == .accept, scale.isAboveAppetite(level), scale.levelIndex(of: level)! > scale.levelIndex(of: risk.currentLevel) ?? 0 {
                try Self.checkAcceptance(level: level, scale: scale, reason: notes, by: actor)
            }
            residual = level
            _ = try connection.query(
                """
                UPDATE \(unescaped: table("risks")) SET residual_likelihood = \(likelihood), residual_impact = \(impact), residual_level = \(level) WHERE id = \(id)
                """)
        }
        let current = residual ?? risk.inherentLevel
        let next = try request.nextReviewDate.map { try Self.futureDate($0, "nextReviewDate", today: today) }
            ?? today.adding(days: scale.levels[scale.levelIndex(of: current) ?? 0].reviewIntervalDays)
        guard next > today else { throw AuditSchedulerError(.invalid, "nextReviewDate must be after today", field: "/nextReviewDate") }
        let at = Self.millisecondPrecision(now)
        // A review that leaves the next review where the scheduled one already is (reviewing
        // early, on the registration day, say) is an interim review: it is recorded, and the
        // scheduled review stays open and chased. Otherwise the scheduled review is done.
        if let dutyID = risk.reviewDutyID, let duty = try duties(where: "d.id = \(dutyID)", today: today, forUpdate: true, on: connection).first,
            duty.status == .open, duty.occurrenceDate != next
        {
            try connection.emitting(as: .auditScheduler, schema: schema, logger: Logger(label: "audit-scheduler"), now: now) { context in
                try record(completion: DutyCompletionRequest(evidence: [], notes: notes), of: duty, by: actor, context: &context)
            }
            risk.reviewDutyID = nil
        }
        _ = try connection.query("UPDATE \(unescaped: table("risks")) SET updated_at = \(at) WHERE id = \(id)")
        try scheduleReview(of: &risk, on: next, today: today, now: now, on: connection)
        try appendRiskHistory("risk.reviewed", try self.risk(id: id, today: today, forUpdate: false, on: connection)!, actor: actor, reason: notes, at: at, on: connection)
        return try riskDetail(id: id, visibleTo: nil, today: today, on: connection)!
    }

    // MARK: Duties of a risk

    /// Moves the risk's review to `date`: the open review duty (if any, and for another date) is
    /// cancelled and one for `date` created, idempotently (the occurrence key includes the risk).
    func scheduleReview(of risk: inout RiskRecord, on date: CivilDate, today: CivilDate, now: Date, on connection: PostgresConnection) throws {
        if let old = risk.reviewDutyID { try cancelDuty(old, unlessOccurringOn: date, on: connection) }
        let duty = PlannedDuty(
            templateID: Self.riskReviewTemplate, kind: .riskReview, title: "リスクの見直し: \(risk.title)", article: "Art. 26", unitKind: .section,
            unitCode: risk.sectionCode, departmentCode: risk.departmentCode, occurrenceDate: date, dueDate: wardCalendar.nextOpeningDay(onOrAfter: date),
            fiscalYear: calendar.fiscalYear(of: date), owner: .sectionSecurityOfficer, reminderDays: calendar.reminderDays,
            escalateAfterDays: calendar.escalateAfterDays)
        let id = try insertOrFind(duty, riskID: risk.id, today: today, now: now, on: connection)
        guard try duties(where: "d.id = \(id)", today: today, forUpdate: false, on: connection).first?.status != .completed else {
            // That day's review is done and its occurrence keeps its key: the next is on another day.
            throw AuditSchedulerError(.invalid, "a review due on \(date.iso) is already completed; choose another date", field: "/nextReviewDate")
        }
        _ = try connection.query("UPDATE \(unescaped: table("risks")) SET review_date = \(date.iso)::date, review_duty_id = \(id) WHERE id = \(risk.id)")
        risk.reviewDate = date
        risk.reviewDutyID = id
    }

    /// A reduce treatment's due date is chased like any duty: a `risk-treatment` duty of the
    /// treatment's owner (template `risk-reduction`), completed through the duties API with
    /// evidence. Another treatment cancels an open one.
    func scheduleTreatment(of risk: RiskRecord, today: CivilDate, now: Date, on connection: PostgresConnection) throws {
        guard risk.treatment == .reduce, let due = risk.treatmentDueDate, let role = risk.treatmentOwnerRole else {
            if let old = risk.treatmentDutyID { try cancelDuty(old, unlessOccurringOn: nil, on: connection) }
            _ = try connection.query("UPDATE \(unescaped: table("risks")) SET treatment_duty_id = NULL WHERE id = \(risk.id)")
            return
        }
        if let old = risk.treatmentDutyID { try cancelDuty(old, unlessOccurringOn: due, on: connection) }
        let unitKind: DutyUnitKind = switch role.unitKind {
        case .ward: .ward
        case .department: .department
        case .section: .section
        }
        let department = unitKind == .section ? risk.departmentCode : risk.treatmentOwnerUnit
        let duty = PlannedDuty(
            templateID: Self.riskReductionTemplate, kind: .riskTreatment, title: "リスク対応（低減）: \(risk.title)", article: "Art. 26",
            unitKind: unitKind, unitCode: risk.treatmentOwnerUnit, departmentCode: department, occurrenceDate: due,
            dueDate: wardCalendar.nextOpeningDay(onOrAfter: due), fiscalYear: calendar.fiscalYear(of: due), owner: role,
            reminderDays: calendar.reminderDays, escalateAfterDays: calendar.escalateAfterDays)
        let id = try insertOrFind(duty, riskID: risk.id, today: today, now: now, on: connection)
        _ = try connection.query("UPDATE \(unescaped: table("risks")) SET treatment_duty_id = \(id) WHERE id = \(risk.id)")
    }

    /// Inserts the risk's duty, or finds the one with its occurrence key (reopening it if it was
    /// cancelled: the risk went back to that date).
    func insertOrFind(_ duty: PlannedDuty, riskID: UUID, today: CivilDate, now: Date, on connection: PostgresConnection) throws -> UUID {
        if let id = try insert(duty, findingID: nil, riskID: riskID, today: today, now: now, on: connection) { return id }
        let row = try connection.query(
            """
            SELECT id, status FROM \(unescaped: table("duties"))
            WHERE template_id = \(duty.templateID) AND unit_code = \(duty.unitCode ?? "") AND occurrence_date = \(duty.occurrenceDate.iso)::date
              AND finding_id IS NULL AND risk_id = \(riskID)
            FOR UPDATE
            """
        ).rows[0]
        let id: UUID = try row.decode("id")
        if try row.decode("status", as: String.self) == DutyStatus.cancelled.rawValue {
            _ = try connection.query("UPDATE \(unescaped: table("duties")) SET status = 'open', last_stage = -1, escalation_level = 0 WHERE id = \(id)")
            let record = try duties(where: "d.id = \(id)", today: today, forUpdate: false, on: connection)[0]
            let (timeline, _) = timeline(for: record)
            let resume = timeline.lastStep(before: today)
            _ = try connection.query("UPDATE \(unescaped: table("duties")) SET last_stage = \(resume) WHERE id = \(id)")
            if let next = timeline.next(after: resume, now: now) {
                try DurableTimers.schedule(kind: Self.noticeTimerKind, key: id.lowercasedString, at: max(timeline.steps[next].at, now), on: connection, schema: schema)
            }
        }
        return id
    }

    /// Cancels an open duty and its notices, unless it is for `date` already.
    func cancelDuty(_ id: UUID, unlessOccurringOn date: CivilDate?, on connection: PostgresConnection) throws {
        var condition: PostgresQuery = "id = \(id) AND status = 'open'"
        if let date { condition.append(unescaped: " AND occurrence_date <> "); condition.append(bind: date.iso); condition.append(unescaped: "::date") }
        var query: PostgresQuery = "UPDATE \(unescaped: table("duties")) SET status = 'cancelled' WHERE "
        query.sql += Self.rebase(condition, after: query.binds.count).sql
        query.binds += condition.binds
        if try connection.query(query).affectedRows > 0 {
            try DurableTimers.cancel(kind: Self.noticeTimerKind, key: id.lowercasedString, on: connection, schema: schema)
        }
    }

    /// The owner of a reduce treatment: by default the risk section's security officer.
    func treatmentOwner(role: DirectoryRole?, unit: String?, risk: RiskRecord, on connection: PostgresConnection) throws -> (role: DirectoryRole, unit: String?) {
        let role = role ?? .sectionSecurityOfficer
        switch role.unitKind {
        case .ward:
            guard unit == nil else { throw AuditSchedulerError(.invalid, "\(role.rawValue) is a ward-wide role: ownerUnit must be absent") }
            return (role, nil)
        case .section:
            let code = unit ?? risk.sectionCode
            guard try directory.sections(codes: [code], on: connection)[code] != nil else {
                throw AuditSchedulerError(.invalid, "ownerUnit '\(code)' is not a section of the directory")
            }
            return (role, code)
        case .department:
            let code = unit ?? risk.departmentCode
            guard try directory.departments(on: connection).contains(where: { $0.code == code }) else {
                throw AuditSchedulerError(.invalid, "ownerUnit '\(code)' is not a department of the directory")
            }
            return (role, code)
        }
    }

    // MARK: Reading

    /// Risks `actor` may see, newest first.
    public func risks(_ filter: RiskFilter, visibleTo actor: DutyActor?, today: CivilDate, on connection: PostgresConnection) throws -> [RiskRecord] {
        let scale = try scale()
        var condition: PostgresQuery = "true"
        for unit in [filter.unitCode, actor?.unitCode].compactMap({ $0 }) {
            condition.append(unescaped: " AND (r.section_code = "); condition.append(bind: unit)
            condition.append(unescaped: " OR r.department_code = "); condition.append(bind: unit); condition.append(unescaped: ")")
        }
        if let asset = filter.assetID { condition.append(unescaped: " AND r.asset_id = "); condition.append(bind: asset) }
        if let treatment = filter.treatment { condition.append(unescaped: " AND r.treatment = "); condition.append(bind: treatment.rawValue) }
        if filter.untreatedOnly { condition.append(unescaped: " AND r.treatment IS NULL") }
        if let level = filter.level { condition.append(unescaped: " AND COALESCE(r.residual_level, r.inherent_level) = "); condition.append(bind: level) }
        if filter.aboveAppetiteOnly {
            let above = scale.levels.suffix(from: scale.appetite + 1).map(\.id)
            condition.append(unescaped: " AND COALESCE(r.residual_level, r.inherent_level) = ANY("); condition.append(bind: Array(above)); condition.append(unescaped: ")")
        }
        if filter.reviewOverdueOnly { condition.append(unescaped: " AND r.review_date < "); condition.append(bind: today.iso); condition.append(unescaped: "::date") }
        if let after = filter.after {
            condition.append(unescaped: " AND (r.created_at, r.id) < (")
            condition.append(bind: after.createdAt); condition.append(unescaped: "::timestamptz, ")
            condition.append(bind: after.id); condition.append(unescaped: "::uuid)")
        }
        condition.append(unescaped: " ORDER BY r.created_at DESC, r.id DESC LIMIT ")
        condition.append(bind: max(1, min(filter.limit, 10_000)))
        return try risks(where: condition, today: today, on: connection)
    }

    /// One risk with its history (verified) and the actions `actor` may take; nil when it does
    /// not exist or `actor` may not see it.
    public func riskDetail(id: UUID, visibleTo actor: DutyActor?, today: CivilDate, on connection: PostgresConnection) throws -> RiskDetail? {
        guard let risk = try risk(id: id, today: today, forUpdate: false, on: connection), actor.map({ Self.mayView(risk, $0) }) ?? true else { return nil }
        let history = try connection.query(
            """
            SELECT seq, recorded_at, entry_type, actor_role, actor_unit, body, hash FROM \(unescaped: table("ledger"))
            WHERE subject_id = \(id) ORDER BY seq
            """
        ).rows.map { row in
            RiskHistoryEntry(
                seq: try row.decode("seq"), recordedAt: try row.decode("recorded_at"), entryType: try row.decode("entry_type"),
                actorRole: try row.decode("actor_role"), actorUnit: try row.decode("actor_unit"),
                body: try JSONDecoder().decode(JSONValue.self, from: Data(try row.decode("body", as: String.self).utf8)), hash: try row.decode("hash"))
        }
        let broken = try Self.ledger(schema: schema).verifyRows(where: "subject_id", equals: id, on: connection)
        var actions: [String] = []
        if let actor {
            if Self.mayManageRisk(sectionCode: risk.sectionCode, actor) { actions += ["update", "treat", "accept"] }
            if Self.mayReview(risk, actor) { actions.append("review") }
        }
        return RiskDetail(risk: risk, history: history, historyVerified: broken == nil, allowedActions: actions)
    }

    /// Verifies the rows of one risk's history (each unedited and linked to the row before it).
    public func verifyRiskHistory(id: UUID, on connection: PostgresConnection) throws -> HashChainLedger.BrokenRow? {
        try Self.ledger(schema: schema).verifyRows(where: "subject_id", equals: id, on: connection)
    }

    /// The register's state and the heat map, over the risks `actor` may see.
    public func riskSummary(visibleTo actor: DutyActor?, today: CivilDate, on connection: PostgresConnection) throws -> RiskSummary {
        let scale = try scale()
        let all = try risks(RiskFilter(limit: 10_000), visibleTo: actor, today: today, on: connection)
        return Self.summary(of: all, scale: scale, today: today)
    }

    /// The summary of `risks` (pure, so a fixture's counts are checked without a database).
    public static func summary(of risks: [RiskRecord], scale: RiskScale, today: CivilDate) -> RiskSummary {
        let ids = scale.levels.map(\.id)
        var byTreatment = RiskSummary.ByTreatment()
        var inherentLevels = Dictionary(uniqueKeysWithValues: ids.map { ($0, 0) })
        var residualLevels = inherentLevels
        let empty = Array(repeating: Array(repeating: 0, count: scale.impact.count), count: scale.likelihood.count)
        var (inherentMap, residualMap) = (empty, empty)
        var (above, acceptedByCISO, due, overdue) = (0, 0, 0, 0)
        for risk in risks {
            switch risk.treatment {
            case .reduce: byTreatment.reduce += 1
            case .accept: byTreatment.accept += 1
            case .transfer: byTreatment.transfer += 1
            case .avoid: byTreatment.avoid += 1
            case nil: byTreatment.untreated += 1
            }
            inherentLevels[risk.inherentLevel, default: 0] += 1
            residualLevels[risk.currentLevel, default: 0] += 1
            if scale.likelihood.indices.contains(risk.inherentLikelihood - 1), scale.impact.indices.contains(risk.inherentImpact - 1) {
                inherentMap[risk.inherentLikelihood - 1][risk.inherentImpact - 1] += 1
            }
            let (l, i) = (risk.residualLikelihood ?? risk.inherentLikelihood, risk.residualImpact ?? risk.inherentImpact)
            if scale.likelihood.indices.contains(l - 1), scale.impact.indices.contains(i - 1) { residualMap[l - 1][i - 1] += 1 }
            if risk.aboveAppetite {
                above += 1
                if risk.treatment == .accept, risk.acceptedByRole == .ciso { acceptedByCISO += 1 }
            }
            if risk.reviewDate < today {
                overdue += 1
            } else if risk.reviewDate <= today.adding(days: reviewsDueWithinDays) {
                due += 1
            }
        }
        let levels = scale.matrix.map { row in row.map { scale.levels[$0].id } }
        return RiskSummary(
            total: risks.count, byTreatment: byTreatment, byLevel: .init(inherent: inherentLevels, residual: residualLevels),
            heatMap: .init(
                likelihood: scale.likelihood.map(\.en), impact: scale.impact.map(\.en), likelihoodJa: scale.likelihood.map(\.ja),
                impactJa: scale.impact.map(\.ja), inherent: inherentMap, residual: residualMap, levels: levels),
            aboveAppetite: above, acceptedByCISO: acceptedByCISO, reviewsDue: due, reviewsOverdue: overdue, appetite: scale.appetiteLevel.id, levels: ids,
            dueWithinDays: reviewsDueWithinDays)
    }

    func lockedRisk(id: UUID, actor: DutyActor, today: CivilDate, on connection: PostgresConnection) throws -> RiskRecord {
        guard let risk = try risk(id: id, today: today, forUpdate: true, on: connection), Self.mayView(risk, actor) else {
            throw AuditSchedulerError(.notFound, "no risk \(id)")
        }
        return risk
    }

    func risk(id: UUID, today: CivilDate, forUpdate: Bool, on connection: PostgresConnection) throws -> RiskRecord? {
        var condition: PostgresQuery = "r.id = \(id)"
        if forUpdate { condition.append(unescaped: " FOR UPDATE") }
        return try risks(where: condition, today: today, on: connection).first
    }

    func risks(where condition: PostgresQuery, today: CivilDate, on connection: PostgresConnection) throws -> [RiskRecord] {
        let scale = try scale()
        var query: PostgresQuery = """
            SELECT r.id, r.asset_id, r.section_code, r.department_code, r.title, r.threat, r.vulnerability, r.inherent_likelihood, r.inherent_impact,
                   r.inherent_level, r.treatment, r.measures, r.treatment_owner_role, r.treatment_owner_unit, r.treatment_due::text AS treatment_due,
                   r.transfer_to, r.residual_likelihood, r.residual_impact, r.residual_level, r.accepted_by_role, r.accepted_reason, r.accepted_at,
                   r.review_date::text AS review_date, r.sources::text AS sources, r.review_duty_id, r.treatment_duty_id, r.created_at, r.updated_at
            FROM \(unescaped: table("risks")) r WHERE
            """
        query.append(unescaped: " ")
        query.sql += Self.rebase(condition, after: query.binds.count).sql
        query.binds += condition.binds
        return try connection.query(query).rows.map { row in
            let inherent: String = try row.decode("inherent_level")
            let residual: String? = try row.decode("residual_level")
            let review = try Self.date(row.decode("review_date"))
            let current = residual ?? inherent
            return RiskRecord(
                id: try row.decode("id"), assetID: try row.decode("asset_id"), sectionCode: try row.decode("section_code"),
                departmentCode: try row.decode("department_code"), title: try row.decode("title"), threat: try row.decode("threat"),
                vulnerability: try row.decode("vulnerability"), inherentLikelihood: try row.decode("inherent_likelihood"),
                inherentImpact: try row.decode("inherent_impact"), inherentLevel: inherent,
                treatment: try row.decode("treatment", as: String?.self).flatMap(RiskTreatment.init(rawValue:)), measures: try row.decode("measures"),
                treatmentOwnerRole: try row.decode("treatment_owner_role", as: String?.self).flatMap(DirectoryRole.init(rawValue:)),
                treatmentOwnerUnit: try row.decode("treatment_owner_unit"),
                treatmentDueDate: try row.decode("treatment_due", as: String?.self).flatMap(CivilDate.init(iso:)), transferTo: try row.decode("transfer_to"),
                residualLikelihood: try row.decode("residual_likelihood"), residualImpact: try row.decode("residual_impact"), residualLevel: residual,
                currentLevel: current, aboveAppetite: scale.isAboveAppetite(current),
                acceptedByRole: try row.decode("accepted_by_role", as: String?.self).flatMap(DirectoryRole.init(rawValue:)),
                acceptedReason: try row.decode("accepted_reason"), acceptedAt: try row.decode("accepted_at"), reviewDate: review, reviewOverdue: review < today,
                sources: try JSONDecoder().decode([RiskSource].self, from: Data(try row.decode("sources", as: String.self).utf8)),
                reviewDutyID: try row.decode("review_duty_id"), treatmentDutyID: try row.decode("treatment_duty_id"), createdAt: try row.decode("created_at"),
                updatedAt: try row.decode("updated_at"))
        }
    }

    // MARK: History

    /// One history entry: the risk's state after the change, and why.
    func appendRiskHistory(_ type: String, _ risk: RiskRecord, actor: DutyActor, reason: String?, at: Date, on connection: PostgresConnection) throws {
        _ = try appendLedger(type: type, subject: risk.id, actor: actor, body: LedgerRisk(risk: risk, reason: reason), at: at, on: connection)
    }

    // MARK: Assets

    /// The section that owns the asset (its information security officer owns the risk,
    /// Art. 18(4)) and the impact its classification suggests (Art. 9(2)). A risk names a
    /// registered asset in use (`directory.assets`, issue #18 item 0): an unknown or retired one
    /// is refused (422), and a `sectionCode` given must be the asset's.
    func assetOwner(assetID: String, sectionCode: String?, scale: RiskScale, on connection: PostgresConnection) throws -> (section: String, suggestedImpact: Int?) {
        guard let asset = try AssetRegister(directory: directory).asset(id: assetID, on: connection), !asset.retired else {
            throw AuditSchedulerError(.invalid, "assetId: '\(assetID)' is not a registered asset in use (isms assets, /v1/assets)", field: "/assetId")
        }
        if let sectionCode, !sectionCode.isEmpty, sectionCode != asset.sectionCode {
            throw AuditSchedulerError(.invalid, "sectionCode: asset '\(assetID)' belongs to section \(asset.sectionCode), not \(sectionCode)", field: "/sectionCode")
        }
        return (asset.sectionCode, scale.suggestedImpact(for: asset.classification))
    }

    // MARK: Checks

    static func text(_ value: String, _ name: String, max: Int, allowEmpty: Bool = false) throws -> String {
        let text = value.trimmingCharacters(in: .whitespacesAndNewlines)
        guard allowEmpty || !text.isEmpty, text.unicodeScalars.count <= max else {
            throw AuditSchedulerError(.invalid, "\(name) must be \(allowEmpty ? 0 : 1) to \(max) characters", field: "/\(name)")
        }
        return text
    }

    static func level(_ scale: RiskScale, likelihood: Int, impact: Int, _ what: String) throws -> String {
        guard let level = scale.level(likelihood: likelihood, impact: impact) else {
            let residual = !what.isEmpty
            let field = (1...scale.likelihood.count).contains(likelihood) ? (residual ? "/residualImpact" : "/impact") : (residual ? "/residualLikelihood" : "/likelihood")
            throw AuditSchedulerError(
                .invalid, "\(what)likelihood must be 1 to \(scale.likelihood.count) and \(what)impact 1 to \(scale.impact.count) (the ward's risk scale)", field: field)
        }
        return level.id
    }

    static func futureDate(_ text: String, _ name: String, today: CivilDate) throws -> CivilDate {
        guard let date = CivilDate(iso: text) else { throw AuditSchedulerError(.invalid, "\(name) must be YYYY-MM-DD", field: "/\(name)") }
        guard date >= today, date <= today.adding(days: 5 * 366) else {
            throw AuditSchedulerError(.invalid, "\(name) must be from today to five years ahead", field: "/\(name)")
        }
        return date
    }

    static func checked(_ sources: [RiskSource]) throws -> [RiskSource] {
        guard sources.count <= 50 else { throw AuditSchedulerError(.invalid, "a risk keeps at most 50 sources") }
        var unique: [RiskSource] = []
        for source in sources {
            let reference = source.reference.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !reference.isEmpty, reference.unicodeScalars.count <= 100 else { throw AuditSchedulerError(.invalid, "a source's reference must be 1 to 100 characters") }
            let item = RiskSource(kind: source.kind, reference: reference)
            if !unique.contains(item) { unique.append(item) }
        }
        return unique
    }

    static func json(_ value: some Encodable) throws -> String {
        String(decoding: try ContractsJSON.encoder().encode(value), as: UTF8.self)
    }
}

/// A risk history entry's body: the state after the change and the reason given.
struct LedgerRisk: Encodable {
    var risk: RiskRecord
    var reason: String?
}
