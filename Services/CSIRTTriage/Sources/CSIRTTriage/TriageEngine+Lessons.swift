import Contracts
import Directory
public import Foundation
public import Postgres
import PostgresMigrations
import ServiceRuntime
public import WardCalendar

/// The `case_lessons` table (issue #18 item 2): one row per closing, append-only.
struct LessonsStore: Sendable {
    let schema: String

    var table: String { "\(Migrator.quoted(schema)).case_lessons" }
    var cases: String { "\(Migrator.quoted(schema)).cases" }

    func insert(_ lessons: CaseLessons, caseID: UUID, caseNumber: String, on connection: PostgresConnection) throws {
        _ = try connection.query(
            """
            INSERT INTO \(unescaped: table) (id, case_id, case_number, recorded_at, recorded_by, cause, measures, erp_change_needed, erp_change_note)
            VALUES (\(lessons.id), \(caseID), \(caseNumber), \(lessons.recordedAt), \(lessons.recordedBy), \(lessons.cause),
                    \(PostgresJSON(lessons.measures)), \(lessons.erpChange.needed), \(lessons.erpChange.note))
            """)
    }

    /// Every closing's lessons of a case, newest first.
    func lessons(caseID: UUID, on connection: PostgresConnection) throws -> [CaseLessons] {
        try connection.query(
            """
            SELECT id, recorded_at, recorded_by, cause, measures, erp_change_needed, erp_change_note FROM \(unescaped: table)
            WHERE case_id = \(caseID) ORDER BY recorded_at DESC, id
            """
        ).rows.map(Self.lessons(from:))
    }

    /// The latest lessons of each case closed in `[from, before)`, oldest closing first.
    func closed(from: Date, before: Date, on connection: PostgresConnection) throws -> [(caseNumber: String, lessons: CaseLessons)] {
        try connection.query(
            """
            SELECT * FROM (
                SELECT DISTINCT ON (l.case_id) l.case_number, l.id, l.recorded_at, l.recorded_by, l.cause, l.measures, l.erp_change_needed,
                       l.erp_change_note
                FROM \(unescaped: table) l
                WHERE l.recorded_at >= \(from) AND l.recorded_at < \(before)
                ORDER BY l.case_id, l.recorded_at DESC
            ) latest ORDER BY recorded_at, case_number
            """
        ).rows.map { (try $0.decode("case_number"), try Self.lessons(from: $0)) }
    }

    static func lessons(from row: PostgresRow) throws -> CaseLessons {
        CaseLessons(
            id: try row.decode("id"), cause: try row.decode("cause"),
            measures: try row.decode("measures", as: PostgresJSON<[RecurrenceMeasure]>.self).value,
            erpChange: ERPChange(needed: try row.decode("erp_change_needed"), note: try row.decode("erp_change_note")),
            recordedAt: try row.decode("recorded_at"), recordedBy: try row.decode("recorded_by"))
    }
}

/// `GET /v1/reports/lessons?from&to`: the cases closed in a period with their lessons, for the
/// management review (Art. 11(5); issue #18). Dates are Japan-time days, both inclusive.
public struct LessonsReport: Sendable, Hashable, Codable {
    public struct Case: Sendable, Hashable, Codable {
        public struct Measure: Sendable, Hashable, Codable {
            public var id: UUID
            public var description: String
            public var ownerRole: String
            public var ownerUnit: String
            public var dueDate: String
        }

        public var caseNumber: String
        public var closedAt: Date
        public var cause: String
        public var erpChange: ERPChange
        public var measures: [Measure]
    }

    public struct Summary: Sendable, Hashable, Codable {
        /// Cases closed in the period (each once, with its latest closing).
        public var closed: Int
        /// Of those, the ones with at least one measure (every closing since issue #18 has one).
        public var withMeasures: Int
        /// Of those, the ones that propose a change of the emergency response plan (Art. 27(2)).
        public var erpChangesProposed: Int
    }

    public var from: String
    public var to: String
    public var cases: [Case]
    public var summary: Summary
}

extension TriageEngine {
    var lessonsStore: LessonsStore { LessonsStore(schema: schema) }

    /// Validates the lessons a close gives against the directory and the day in Japan.
    func validatedLessons(_ draft: LessonsDraft?, actor: TriageActor, context: TransactionContext) throws -> CaseLessons {
        guard let draft else { throw LessonsDraft.missing }
        let connection = context.connection
        let directory = directory
        return try draft.validated(today: CivilDate.inTokyo(context.now), at: ContractsJSON.wirePrecision(context.now), by: actor.id) { code in
            if try directory.section(code: code, on: connection) != nil { return .section }
            if try directory.department(code: code, on: connection) != nil { return .department }
            return nil
        }
    }

    /// Stores the lessons of a case just closed, appends their history row and emits
    /// `incident.lessons-recorded` in the closing transaction (Art. 27(1), 27(2)).
    func recordLessons(_ lessons: CaseLessons, of record: CaseRecord, actor: TriageActor, context: inout TransactionContext) throws {
        try lessonsStore.insert(lessons, caseID: record.id, caseNumber: record.caseNumber, on: context.connection)
        try store.history.append(
            caseID: record.id, caseNumber: record.caseNumber, action: "lessons", actor: actor.id, role: actor.role?.rawValue, at: lessons.recordedAt,
            reason: "lessons of the closing (Art. 27(1), 27(2))", before: [String: String](), after: lessons, on: context.connection)
        try context.emit(IncidentLessonsRecorded(
                caseNumber: record.caseNumber, caseId: record.id, lessonsId: lessons.id, severity: record.severity.severity,
                sectionCode: record.sectionCode, departmentCode: record.departmentCode, cause: lessons.cause,
                measures: lessons.measures.map {
                    .init(id: $0.id, description: $0.description, ownerRole: $0.ownerRole.rawValue, ownerUnit: $0.ownerUnit, dueDate: $0.dueDate)
                },
                erpChange: .init(needed: lessons.erpChange.needed, note: lessons.erpChange.note), actor: actor.id,
                myNumberDetected: record.myNumberDetected, closedAt: lessons.recordedAt), time: lessons.recordedAt)
    }

    /// Every closing's lessons of a case, newest first.
    public func lessons(caseID: UUID, on connection: PostgresConnection) throws -> [CaseLessons] {
        try lessonsStore.lessons(caseID: caseID, on: connection)
    }

    /// The cases closed from `from` through `to` (Japan-time days) with their latest lessons.
    public func lessonsReport(from: CivilDate, to: CivilDate, on connection: PostgresConnection) throws -> LessonsReport {
        let closed = try lessonsStore.closed(from: from.startInTokyo(), before: to.adding(days: 1).startInTokyo(), on: connection)
        let cases = closed.map { caseNumber, lessons in
            LessonsReport.Case(
                caseNumber: caseNumber, closedAt: lessons.recordedAt, cause: lessons.cause, erpChange: lessons.erpChange,
                measures: lessons.measures.map {
                    .init(id: $0.id, description: $0.description, ownerRole: $0.ownerRole.rawValue, ownerUnit: $0.ownerUnit, dueDate: $0.dueDate)
                })
        }
        return LessonsReport(
            from: from.iso, to: to.iso, cases: cases,
            summary: .init(
                closed: cases.count, withMeasures: cases.filter { !$0.measures.isEmpty }.count,
                erpChangesProposed: cases.filter(\.erpChange.needed).count))
    }
}
