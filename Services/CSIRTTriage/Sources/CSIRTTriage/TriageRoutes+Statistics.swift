import Directory
public import Foundation
import Hummingbird
public import Postgres
import PostgresMigrations
import ServiceRuntime
public import WardCalendar

/// `GET /v1/reports/incidents?from=YYYY-MM-DD&to=YYYY-MM-DD` (issue #18): the incident statistic
/// of the management review (Art. 11(5)(7)), ``IncidentStatistics``. Ward-wide roles only: the
/// review's data is the ward's. Without `from`/`to` the current fiscal year (April–March) so far.
extension TriageRoutes {
    /// The longest period one request counts: a review covers a year; a few years compare.
    static let longestStatisticDays = 5 * 366

    func addStatistics(to routes: APIRoutes) {
        routes.get("/v1/reports/incidents") { request, context in
            let grant = try context.requireGrant()
            guard grant.unitCode == nil else {
                throw TriageError(code: .forbidden, detail: "The incident statistic is for ward-wide roles (Art. 11(5)).")
            }
            let (from, to) = try Self.period(APIQuery(request), today: CivilDate.inTokyo(Date()))
            let store = engine.store
            let statistics = try await database.withConnection { connection in
                try store.incidentStatistics(from: from, to: to, now: Date(), on: connection)
            }
            return try APIResponse.json(statistics)
        }
    }

    /// `from` and `to` of a report's query (the incident statistic, the lessons); missing ones
    /// default to the fiscal year of `today`.
    static func period(_ query: APIQuery, today: CivilDate) throws -> (CivilDate, CivilDate) {
        func date(_ name: String) throws -> CivilDate? {
            guard let text = try query.string(name) else { return nil }
            guard let date = CivilDate(iso: text) else { throw APIProblem.badRequest("\(name) must be a date YYYY-MM-DD.") }
            // Well-formed but outside what a review covers: a rule's refusal, not a malformed request.
            guard (2000...2200).contains(date.year) else { throw APIProblem.unprocessable("\(name) must be in the years 2000 to 2200.") }
            return date
        }
        let fiscalYear = today.month >= 4 ? today.year : today.year - 1
        let from = try date("from") ?? CivilDate(year: fiscalYear, month: 4, day: 1)
        let to = try date("to") ?? CivilDate(year: fiscalYear + 1, month: 3, day: 31)
        guard from <= to else { throw APIProblem.unprocessable("from must not be after to.") }
        guard from.days(until: to) < longestStatisticDays else { throw APIProblem.unprocessable("the period is at most \(longestStatisticDays) days.") }
        return (from, to)
    }
}

extension TriageStore {
    /// The statistic of the cases opened from `from` through `to` (Japan days) at `now`.
    public func incidentStatistics(from: CivilDate, to: CivilDate, now: Date, on connection: PostgresConnection) throws -> IncidentStatistics {
        let cases = "\(Migrator.quoted(schema)).cases"
        let obligations = "\(Migrator.quoted(schema)).obligations"
        let (start, end) = (from.startInTokyo(), to.adding(days: 1).startInTokyo())
        let rows = try connection.query(
            """
            SELECT opened_at, severity, category, department_code, state = 'merged' AS merged,
                   coalesce(qualification, '') = 'not-incident' AS not_incident
            FROM \(unescaped: cases) WHERE opened_at >= \(start) AND opened_at < \(end)
            """
        ).rows.map { row in
            IncidentStatistics.CaseRow(
                openedAt: try row.decode("opened_at"), severity: try row.decode("severity"), category: try row.decode("category"),
                departmentCode: try row.decode("department_code"), merged: try row.decode("merged"), notIncident: try row.decode("not_incident"))
        }
        // The obligations of the counted cases; a merged case's obligations moved to its survivor.
        let due = try connection.query(
            """
            SELECT o.due_at, o.filed_at FROM \(unescaped: obligations) o JOIN \(unescaped: cases) c ON c.id = o.case_id
            WHERE c.opened_at >= \(start) AND c.opened_at < \(end) AND c.state <> 'merged'
              AND coalesce(c.qualification, '') <> 'not-incident' AND o.status <> 'not-required'
            """
        ).rows.map { row in IncidentStatistics.ObligationRow(dueAt: try row.decode("due_at"), filedAt: try row.decode("filed_at")) }
        return IncidentStatistics.compute(from: from, to: to, cases: rows, obligations: due, now: now)
    }
}
