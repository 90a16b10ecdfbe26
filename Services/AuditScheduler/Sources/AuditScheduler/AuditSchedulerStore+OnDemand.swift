import Contracts
import Directory
public import Foundation
import MyNumber
public import Postgres
import ServiceRuntime
public import WardCalendar

/// What ordering a duty on demand takes (Arts. 23-25: education, self-inspection and audit
/// "periodically and as needed", 定期的にまたは必要に応じて).
public struct DutyOrderRequest: Sendable, Hashable, Codable {
    /// `education`, `self-inspection` or `audit`.
    public var kind: DutyKind
    /// A section or department of the directory; an audit is of a section (Art. 25 各課).
    public var unitCode: String
    /// `YYYY-MM-DD`, today or later; a closing day moves to the next opening day.
    public var dueDate: String
    /// Why the duty is needed; My Numbers are masked before it is stored.
    public var reason: String
    /// The case it comes from, e.g. `INC-2026-000042`.
    public var caseNumber: String?
    /// An audit's auditor, checked for independence like a planned audit's (Art. 13(2)).
    public var auditorPersonID: String?

    public init(kind: DutyKind, unitCode: String, dueDate: String, reason: String, caseNumber: String? = nil, auditorPersonID: String? = nil) {
        self.kind = kind
        self.unitCode = unitCode
        self.dueDate = dueDate
        self.reason = reason
        self.caseNumber = caseNumber
        self.auditorPersonID = auditorPersonID
    }

    enum CodingKeys: String, CodingKey {
        case kind, unitCode, dueDate, reason, caseNumber, auditorPersonID = "auditorPersonId"
    }
}

/// Where an on-demand duty or improvement action stands, for the review pack.
public enum DutyProgress: String, Sendable, Hashable, Codable {
    case done
    case open
    case overdue

    init(_ duty: DutyRecord) {
        self = duty.status == .completed ? .done : duty.overdue ? .overdue : .open
    }
}

/// `GET /v1/on-demand-duties?from&to`: the duties ordered in the period.
public struct OnDemandDutiesReport: Sendable, Hashable, Codable {
    public struct Item: Sendable, Hashable, Codable {
        public var id: UUID
        public var kind: DutyKind
        public var unitCode: String
        public var reason: String
        public var caseNumber: String?
        public var dueDate: CivilDate
        public var status: DutyProgress
    }

    public struct Summary: Sendable, Hashable, Codable {
        public var ordered: Int
        public var done: Int
        /// Not done and not yet past due.
        public var open: Int
        /// Not done and past due.
        public var overdue: Int
    }

    public var duties: [Item]
    public var summary: Summary
}

/// `GET /v1/improvement-actions?from&to`: the improvement actions opened in the period.
public struct ImprovementActionsReport: Sendable, Hashable, Codable {
    public struct Item: Sendable, Hashable, Codable {
        public var id: UUID
        public var unitCode: String
        /// The self-inspection's score, in per cent of its checklist's maximum.
        public var score: Double
        /// The mark it fell below, in per cent.
        public var mark: Double
        public var dueDate: CivilDate
        public var status: DutyProgress
        public var selfInspectionDutyID: UUID

        enum CodingKeys: String, CodingKey {
            case id, unitCode, score, mark, dueDate, status, selfInspectionDutyID = "selfInspectionDutyId"
        }
    }

    public struct Summary: Sendable, Hashable, Codable {
        public var opened: Int
        public var done: Int
        public var open: Int
        public var overdue: Int
    }

    public var actions: [Item]
    public var summary: Summary
}

extension AuditSchedulerStore {
    /// The kinds that may be ordered on demand, with their article.
    static let orderableKinds: [DutyKind: String] = [.education: "Art. 23", .selfInspection: "Art. 24", .audit: "Art. 25"]

    /// Who may order a duty on demand. Education and self-inspection: the CISO (Art. 11), the
    /// general security officer who runs general education and collects self-inspection results
    /// (Art. 14(3), (4)), the information policy chief who administers them (Art. 16), and CSIRT,
    /// which orders them after an incident to prevent its recurrence (Art. 22, 27). An audit: the
    /// CISO, and the audit chief, who plans audits (Art. 13(3)(1)); nobody else, so audits stay
    /// independent of those they examine (Art. 13(2)). Unit tokens never order: a section does
    /// not order its own extra duties.
    public static func mayOrder(_ kind: DutyKind, _ actor: DutyActor) -> Bool {
        guard actor.unitCode == nil else { return false }
        switch kind {
        case .education, .selfInspection: return [.ciso, .generalSecurityOfficer, .generalSecurityManager, .csirt].contains(actor.role)
        case .audit: return [.ciso, .auditChief].contains(actor.role)
        default: return false
        }
    }

    /// Orders an extra education, self-inspection or audit for a unit (Arts. 23-25 "as needed"):
    /// a duty in the same table as the calendar's, chased by the same reminders and escalation,
    /// with its reason (and case) recorded in the ledger and in `duty_orders`.
    @discardableResult
    public func order(_ request: DutyOrderRequest, by actor: DutyActor, now: Date, on connection: PostgresConnection) throws -> DutyRecord {
        guard let article = Self.orderableKinds[request.kind] else {
            throw AuditSchedulerError(.invalid, "kind: only education, self-inspection or audit is ordered on demand (Arts. 23-25)")
        }
        guard Self.mayOrder(request.kind, actor) else {
            throw AuditSchedulerError(
                .forbidden,
                request.kind == .audit
                    ? "an audit is ordered by the CISO or the audit chief (Art. 13(3))"
                    : "\(request.kind.rawValue) is ordered by the CISO, the general security officer, the information policy chief or CSIRT")
        }
        let today = CivilDate.inTokyo(now)
        var problems: [AuditSchedulerError.FieldProblem] = []
        let reason = MyNumberScreener().screen(request.reason.trimmingCharacters(in: .whitespacesAndNewlines)).masked
        if reason.isEmpty || reason.unicodeScalars.count > 2000 { problems.append(.init(field: "/reason", message: "say why the duty is needed (1 to 2000 characters)")) }
        let caseNumber = request.caseNumber?.trimmingCharacters(in: .whitespaces)
        if let caseNumber, !caseNumber.isEmpty, !Self.isCaseNumber(caseNumber) { problems.append(.init(field: "/caseNumber", message: "a case number such as INC-2026-000042")) }
        let requested = CivilDate(iso: request.dueDate)
        if let requested {
            if requested < today || requested > today.adding(days: 366) { problems.append(.init(field: "/dueDate", message: "from today to a year ahead")) }
        } else {
            problems.append(.init(field: "/dueDate", message: "a YYYY-MM-DD day"))
        }
        let section = try directory.section(code: request.unitCode, on: connection)
        let department = section == nil ? try directory.departments(on: connection).first { $0.code == request.unitCode } : nil
        if section == nil, department == nil {
            problems.append(.init(field: "/unitCode", message: "no section or department '\(request.unitCode)' in the directory"))
        } else if request.kind == .audit, section == nil {
            problems.append(.init(field: "/unitCode", message: "an audit is of a section (Art. 25)"))
        }
        guard problems.isEmpty, let requested else { throw AuditSchedulerError(invalidFields: problems) }
        if let person = request.auditorPersonID, request.kind == .audit, let section {
            let organisation = try directory.organisation(on: connection)
            if let conflict = AuditorIndependence.conflict(personID: person, sectionCode: section.code, organisation: organisation) {
                throw AuditSchedulerError(.auditorNotIndependent, conflict.reason)
            }
        } else if request.auditorPersonID != nil {
            throw AuditSchedulerError(invalidFields: [.init(field: "/auditorPersonId", message: "only an audit takes an auditor")])
        }

        let template = calendar.templates.first { $0.kind == request.kind && $0.recurrence != nil }
        let unitKind: DutyUnitKind = section == nil ? .department : .section
        let unitCode = section?.code ?? request.unitCode
        let departmentCode = section?.departmentCode ?? request.unitCode
        let owner: DirectoryRole = request.kind == .audit ? .auditChief : unitKind == .section ? .sectionSecurityOfficer : .departmentSecurityOfficer
        let orderID = UUID()
        let planned = PlannedDuty(
            templateID: "on-demand-\(request.kind.rawValue)", kind: request.kind,
            title: String(String.UnicodeScalarView("（臨時）\(template?.title ?? Self.defaultTitles[request.kind]!)".unicodeScalars.prefix(200))),
            article: article, unitKind: unitKind, unitCode: unitCode, departmentCode: departmentCode, occurrenceDate: today,
            dueDate: wardCalendar.nextOpeningDay(onOrAfter: requested), fiscalYear: calendar.fiscalYear(of: today), owner: owner,
            reminderDays: template?.reminderDays ?? calendar.reminderDays, escalateAfterDays: template?.escalateAfterDays ?? calendar.escalateAfterDays,
            sourceID: orderID)
        guard let dutyID = try insert(planned, findingID: nil, today: today, now: now, on: connection) else {
            throw AuditSchedulerError(.conflict, "the order was recorded already")
        }
        let at = Self.millisecondPrecision(now)
        let recordedCase = caseNumber?.isEmpty == false ? caseNumber : nil
        let seq = try appendLedger(
            type: "duty.ordered", subject: dutyID, actor: actor,
            body: LedgerOrder(
                dutyID: dutyID, kind: request.kind.rawValue, unitCode: unitCode, dueDate: planned.dueDate.iso, reason: reason, caseNumber: recordedCase),
            at: at, on: connection)
        _ = try connection.query(
            """
            INSERT INTO \(unescaped: table("duty_orders")) (duty_id, kind, reason, case_number, ordered_by_role, ordered_by_unit, ordered_at, ledger_seq)
            VALUES (\(dutyID), \(request.kind.rawValue), \(reason), \(recordedCase), \(actor.role.rawValue), \(actor.unitCode), \(at), \(seq))
            """)
        if let person = request.auditorPersonID {
            _ = try appendLedger(
                type: "audit.auditor-assigned", subject: dutyID, actor: actor, body: LedgerAuditor(dutyID: dutyID, personID: person, sectionCode: unitCode),
                at: at, on: connection)
            _ = try connection.query("UPDATE \(unescaped: table("duties")) SET auditor_person_id = \(person) WHERE id = \(dutyID)")
        }
        return try duties(where: "d.id = \(dutyID)", today: today, forUpdate: false, on: connection)[0]
    }

    static let defaultTitles: [DutyKind: String] = [
        .education: "情報セキュリティ教育の実施", .selfInspection: "情報セキュリティ自己点検の実施", .audit: "情報セキュリティ監査の実施",
    ]

    static func isCaseNumber(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        return parts.count == 3 && parts[0] == "INC" && parts[1].count == 4 && parts[2].count == 6
            && (parts[1] + parts[2]).allSatisfy { $0.isASCII && $0.isNumber }
    }

    // MARK: Improvement actions (Art. 24)

    /// Opens the improvement action a self-inspection below the mark calls for (Art. 24: self-
    /// inspection drives self-improvement; Art. 18(7): the section takes the measures): a duty of
    /// kind `improvement` for the same unit, due ``SelfInspectionRules/improvementDueDays`` later,
    /// chased like any duty. At most one per self-inspection. Returns its id when this call opened it.
    @discardableResult
    func openImprovementIfNeeded(
        after selfInspection: DutyRecord, completion: DutyCompletionRequest, by actor: DutyActor, now: Date, on connection: PostgresConnection
    ) throws -> UUID? {
        guard selfInspection.kind == .selfInspection, let mark = calendar.selfInspection.improvementBelow,
            let score = completion.checklistScore, let maximum = completion.checklistMax, maximum > 0
        else { return nil }
        let percent = score / maximum * 100
        guard percent < mark else { return nil }
        let today = CivilDate.inTokyo(now)
        let template = calendar.templates.first { $0.kind == .improvement }
        var owner = template?.owner ?? .sectionSecurityOfficer
        if selfInspection.unitKind == .department, owner.unitKind == .section { owner = .departmentSecurityOfficer }
        if selfInspection.unitKind == .ward, !owner.isWardWide { owner = selfInspection.owningRole }
        let title = template?.title ?? "自己点検結果に基づく改善"
        let planned = PlannedDuty(
            templateID: template?.id ?? "improvement", kind: .improvement,
            title: String(String.UnicodeScalarView("\(title)（\(Self.percentText(percent))%）".unicodeScalars.prefix(200))),
            article: template?.article ?? "Art. 24", unitKind: selfInspection.unitKind, unitCode: selfInspection.unitCode,
            departmentCode: selfInspection.departmentCode, occurrenceDate: today,
            dueDate: planner.dueDate(from: today, offsetDays: calendar.selfInspection.improvementDueDays), fiscalYear: calendar.fiscalYear(of: today),
            owner: owner, reminderDays: template?.reminderDays ?? calendar.reminderDays,
            escalateAfterDays: template?.escalateAfterDays ?? calendar.escalateAfterDays, sourceID: selfInspection.id)
        guard let id = try insert(planned, findingID: nil, today: today, now: now, on: connection) else { return nil }
        let at = Self.millisecondPrecision(now)
        _ = try connection.query(
            """
            INSERT INTO \(unescaped: table("improvement_actions")) (duty_id, self_inspection_duty_id, score_percent, mark_percent, opened_at)
            VALUES (\(id), \(selfInspection.id), \(percent), \(mark), \(at))
            """)
        _ = try appendLedger(
            type: "improvement.opened", subject: id, actor: actor,
            body: LedgerImprovement(dutyID: id, selfInspectionDutyID: selfInspection.id, scorePercent: percent, markPercent: mark, dueDate: planned.dueDate.iso),
            at: at, on: connection)
        return id
    }

    static func percentText(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%.1f", value)
    }

    // MARK: Reports for the review pack

    /// The duties ordered from `from` through `to` (by the day they were ordered), for ward-wide roles.
    public func onDemandDuties(from: CivilDate, through to: CivilDate, today: CivilDate, on connection: PostgresConnection) throws -> OnDemandDutiesReport {
        let duties = try duties(
            where: "o.duty_id IS NOT NULL AND d.occurrence_date BETWEEN \(from.iso)::date AND \(to.iso)::date ORDER BY d.occurrence_date, d.due_date, d.id",
            today: today, forUpdate: false, on: connection)
        let items = duties.map { duty in
            OnDemandDutiesReport.Item(
                id: duty.id, kind: duty.kind, unitCode: duty.unitCode ?? "", reason: duty.reason ?? "", caseNumber: duty.caseNumber, dueDate: duty.dueDate,
                status: DutyProgress(duty))
        }
        return OnDemandDutiesReport(
            duties: items,
            summary: .init(
                ordered: items.count, done: items.filter { $0.status == .done }.count, open: items.filter { $0.status == .open }.count,
                overdue: items.filter { $0.status == .overdue }.count))
    }

    /// The improvement actions opened from `from` through `to`, for ward-wide roles.
    public func improvementActions(from: CivilDate, through to: CivilDate, today: CivilDate, on connection: PostgresConnection) throws -> ImprovementActionsReport {
        let rows = try connection.query(
            """
            SELECT duty_id, score_percent, mark_percent FROM \(unescaped: table("improvement_actions"))
            """
        ).rows.map { row in (try row.decode("duty_id", as: UUID.self), try row.decode("score_percent", as: Double.self), try row.decode("mark_percent", as: Double.self)) }
        let marks = Dictionary(uniqueKeysWithValues: rows.map { ($0.0, ($0.1, $0.2)) })
        let duties = try duties(
            where: "i.duty_id IS NOT NULL AND d.occurrence_date BETWEEN \(from.iso)::date AND \(to.iso)::date ORDER BY d.occurrence_date, d.due_date, d.id",
            today: today, forUpdate: false, on: connection)
        let items = duties.compactMap { duty -> ImprovementActionsReport.Item? in
            guard let figures = marks[duty.id], let source = duty.selfInspectionDutyID else { return nil }
            return .init(
                id: duty.id, unitCode: duty.unitCode ?? "", score: figures.0, mark: figures.1, dueDate: duty.dueDate, status: DutyProgress(duty),
                selfInspectionDutyID: source)
        }
        return ImprovementActionsReport(
            actions: items,
            summary: .init(
                opened: items.count, done: items.filter { $0.status == .done }.count, open: items.filter { $0.status == .open }.count,
                overdue: items.filter { $0.status == .overdue }.count))
    }
}

struct LedgerOrder: Encodable {
    var dutyID: UUID
    var kind: String
    var unitCode: String
    var dueDate: String
    var reason: String
    var caseNumber: String?
}

struct LedgerImprovement: Encodable {
    var dutyID: UUID
    var selfInspectionDutyID: UUID
    var scorePercent: Double
    var markPercent: Double
    var dueDate: String
}
