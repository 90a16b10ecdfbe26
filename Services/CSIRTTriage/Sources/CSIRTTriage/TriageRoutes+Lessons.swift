import Contracts
import Directory
import Foundation
import Hummingbird
import Postgres
import ServiceRuntime
import WardCalendar

/// `GET /v1/reports/lessons?from=YYYY-MM-DD&to=YYYY-MM-DD`: the cases closed in the period with
/// the lessons of their latest closing (Art. 27(1), 27(2); issue #18), for the management review
/// (Art. 11(5)). Japan-time days, both inclusive; `from` defaults to the start of the fiscal year
/// (1 April), `to` to today. The ward's data, so ward-wide roles only.
extension TriageRoutes {
    func addLessons(to routes: APIRoutes) {
        routes.get("/v1/reports/lessons") { request, context in
            let grant = try context.requireGrant()
            guard grant.unitCode == nil else { throw TriageError(code: .forbidden, detail: "the lessons report is for ward-wide roles") }
            let (from, to) = try Self.period(APIQuery(request), today: CivilDate.inTokyo(Date()))
            let engine = engine
            let report = try await database.withConnection { connection in try engine.lessonsReport(from: from, to: to, on: connection) }
            return try APIResponse.json(report)
        }
    }

    /// `from` and `to` of a report's query: 400 when one is not a date; 422 for a year outside
    /// 2000-2200 or `to` before `from` (schema-valid, refused by a rule).
    static func period(_ query: APIQuery, today: CivilDate) throws(APIProblem) -> (from: CivilDate, to: CivilDate) {
        func date(_ name: String) throws(APIProblem) -> CivilDate? {
            guard let text = try query.string(name) else { return nil }
            guard let date = CivilDate(iso: text) else { throw .badRequest("\(name) must be a date YYYY-MM-DD.") }
            // A date, but outside the years the ward keeps: a rule, not a malformed request.
            guard (2000...2200).contains(date.year) else { throw .unprocessable("\(name) must be in the years 2000 to 2200.") }
            return date
        }
        let to = try date("to") ?? today
        let from = try date("from") ?? CivilDate(year: today.month >= 4 ? today.year : today.year - 1, month: 4, day: 1)
        guard from <= to else { throw .unprocessable("from must not be after to (from defaults to the start of the fiscal year).") }
        return (from, to)
    }
}
