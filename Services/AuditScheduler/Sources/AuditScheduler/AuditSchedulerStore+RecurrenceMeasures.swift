public import Contracts
public import Directory
public import Foundation
import Logging
public import Postgres
public import ServiceRuntime
public import WardCalendar

/// One recurrence-prevention measure duty as `GET /v1/recurrence-measures` lists it (issue #18).
public struct RecurrenceMeasureDuty: Sendable, Hashable, Codable {
    public enum Status: String, Sendable, Hashable, Codable {
        case done, open, overdue
    }

    /// The duty's id (what `POST /v1/duties/{id}/complete` takes).
    public var id: UUID
    /// The measure's id in triage's lessons.
    public var measureId: UUID
    public var caseNumber: String
    public var description: String
    public var unitCode: String
    public var role: DirectoryRole
    public var dueDate: String
    public var status: Status
    public var completedAt: Date?
    /// Whether it was completed by the end of its due date (nil while open).
    public var onTime: Bool?
}

/// `GET /v1/recurrence-measures?from&to`: the measure duties due in the period and how they stand.
public struct RecurrenceMeasureReport: Sendable, Hashable, Codable {
    public struct Summary: Sendable, Hashable, Codable {
        public var total: Int
        public var done: Int
        public var doneOnTime: Int
        public var open: Int
        public var overdue: Int
    }

    public var from: String
    public var to: String
    public var measures: [RecurrenceMeasureDuty]
    public var summary: Summary
}

extension AuditSchedulerStore {
    /// The template id and kind of a measure's duty; no calendar template is needed (the ladder
    /// is the calendar's, like any duty's).
    static let recurrenceMeasureTemplate = "recurrence-measure"

    /// Art. 27(1): one duty per recurrence-prevention measure of a closed case, owed by the
    /// measure's role at its unit, due on its date, chased by the reminder ladder and escalated
    /// like any duty. Keyed by the measure id: a redelivered event (or one past the inbox) makes
    /// none again. Returns how many duties this call created.
    @discardableResult
    public func recordMeasures(of lessons: IncidentLessonsRecorded, now: Date, on connection: PostgresConnection) throws -> Int {
        let today = CivilDate.inTokyo(now)
        var created = 0
        for measure in lessons.measures {
            guard let role = DirectoryRole(rawValue: measure.ownerRole), let due = CivilDate(iso: measure.dueDate) else {
                throw PermanentFailure(code: "invalid-measure", reason: "measure \(measure.id) has role \(measure.ownerRole) and due date \(measure.dueDate)")
            }
            // The unit as the directory has it now: a section belongs to a department; a code
            // gone from the directory since the close is still owed, as a section of the case's.
            var unitKind = DutyUnitKind.section
            var departmentCode: String? = lessons.departmentCode
            if let section = try directory.section(code: measure.ownerUnit, on: connection) {
                departmentCode = section.departmentCode
            } else if try directory.department(code: measure.ownerUnit, on: connection) != nil || measure.ownerUnit == lessons.departmentCode {
                unitKind = .department
                departmentCode = measure.ownerUnit
            }
            let duty = PlannedDuty(
                templateID: Self.recurrenceMeasureTemplate, kind: .recurrenceMeasure,
                title: String("再発防止策 \(lessons.caseNumber): \(measure.description)".prefix(500)), article: "Art. 27(1)", unitKind: unitKind,
                unitCode: measure.ownerUnit, departmentCode: departmentCode, occurrenceDate: today, dueDate: due,
                fiscalYear: calendar.fiscalYear(of: due), owner: role, reminderDays: calendar.reminderDays, escalateAfterDays: calendar.escalateAfterDays)
            if try insert(duty, findingID: nil, measure: (measure.id, lessons.caseNumber), today: today, now: now, on: connection) != nil { created += 1 }
        }
        return created
    }

    /// The measure duties due from `from` through `to`, by due date, with a summary.
    public func recurrenceMeasures(from: CivilDate, to: CivilDate, visibleTo actor: DutyActor?, today: CivilDate, on connection: PostgresConnection) throws
        -> RecurrenceMeasureReport
    {
        let unit = actor?.unitCode
        let rows = try connection.query(
            """
            SELECT d.id, d.measure_id, d.case_number, d.title, d.unit_code, d.owner_role, d.due_date::text AS due_date, d.status, d.completed_at,
                   c.on_time
            FROM \(unescaped: table("duties")) d
            LEFT JOIN \(unescaped: table("duty_completions")) c ON c.duty_id = d.id
            WHERE d.kind = \(DutyKind.recurrenceMeasure.rawValue) AND d.measure_id IS NOT NULL AND d.status <> 'cancelled'
              AND d.due_date >= \(from.iso)::date AND d.due_date <= \(to.iso)::date
              AND (\(unit)::text IS NULL OR d.unit_code = \(unit) OR d.department_code = \(unit))
            ORDER BY d.due_date, d.case_number, d.id
            """)
        let measures = try rows.rows.map { row -> RecurrenceMeasureDuty in
            let due = try Self.date(row.decode("due_date"))
            let caseNumber: String = try row.decode("case_number")
            let title: String = try row.decode("title")
            let prefix = "再発防止策 \(caseNumber): "
            let status: RecurrenceMeasureDuty.Status =
                try row.decode("status", as: String.self) == DutyStatus.completed.rawValue ? .done : due < today ? .overdue : .open
            return RecurrenceMeasureDuty(
                id: try row.decode("id"), measureId: try row.decode("measure_id"), caseNumber: caseNumber,
                description: title.hasPrefix(prefix) ? String(title.dropFirst(prefix.count)) : title, unitCode: try row.decode("unit_code"),
                role: try Self.role(row.decode("owner_role")), dueDate: due.iso, status: status, completedAt: try row.decode("completed_at"),
                onTime: try row.decode("on_time"))
        }
        return RecurrenceMeasureReport(
            from: from.iso, to: to.iso, measures: measures,
            summary: .init(
                total: measures.count, done: measures.filter { $0.status == .done }.count,
                doneOnTime: measures.filter { $0.status == .done && $0.onTime == true }.count,
                open: measures.filter { $0.status == .open }.count, overdue: measures.filter { $0.status == .overdue }.count))
    }
}

/// `incident.lessons-recorded`: a case was closed with its measures; each becomes a duty.
public struct LessonsRecordedHandler: Sendable {
    public let store: AuditSchedulerStore

    public init(store: AuditSchedulerStore) {
        self.store = store
    }

    public func handle(_ envelope: RawEnvelope, context: inout TransactionContext) throws {
        let lessons: IncidentLessonsRecorded
        do {
            lessons = try envelope.decode(as: IncidentLessonsRecorded.self).data
        } catch {
            throw PermanentFailure(code: "invalid-payload", reason: "\(error)")
        }
        let created = try store.recordMeasures(of: lessons, now: context.now, on: context.connection)
        context.logger.info(
            "recurrence measures planned",
            metadata: ["case.number": "\(lessons.caseNumber)", "measures": "\(lessons.measures.count)", "duties.created": "\(created)"])
    }
}
