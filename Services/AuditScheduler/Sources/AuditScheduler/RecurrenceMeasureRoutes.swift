import Directory
import Foundation
import Hummingbird
import Postgres
import ServiceRuntime
import WardCalendar

/// `GET /v1/recurrence-measures?from=YYYY-MM-DD&to=YYYY-MM-DD` (issue #18): the duties that
/// follow up the recurrence-prevention measures of closed cases (Art. 27(1)), due in the period
/// (Japan-time days, both inclusive; `from` defaults to the start of the fiscal year, `to` to its
/// end), each done, open or overdue, with a summary for the management review (Art. 11(5)). A
/// unit token sees its unit's measures; ward-wide roles see all.
extension AuditSchedulerRoutes {
    func addRecurrenceMeasures(to routes: APIRoutes) {
        routes.get("/v1/recurrence-measures") { request, context in
            let actor = DutyActor(grant: try context.requireGrant())
            let today = CivilDate.inTokyo(clock())
            let query = APIQuery(request)
            func date(_ name: String) throws(APIProblem) -> CivilDate? {
                guard let text = try query.string(name) else { return nil }
                guard let date = CivilDate(iso: text) else { throw .badRequest("\(name) must be a date YYYY-MM-DD.") }
                // A date, but outside the years the ward keeps: a rule, not a malformed request.
                guard (2000...2200).contains(date.year) else { throw .unprocessable("\(name) must be in the years 2000 to 2200.") }
                return date
            }
            let year = store.calendar.fiscalYear(of: today)
            let from = try date("from") ?? store.calendar.fiscalYearStart(year)
            let to = try date("to") ?? store.calendar.fiscalYearStart(year + 1).adding(days: -1)
            guard from <= to else { throw APIProblem.unprocessable("from must not be after to (both default to the current fiscal year).") }
            let scheduler = store
            let report = try await database.withConnection { connection in
                try scheduler.recurrenceMeasures(from: from, to: to, visibleTo: actor, today: today, on: connection)
            }
            return try APIResponse.json(report)
        }
    }
}
