import Contracts
import Foundation
import Hummingbird
import Postgres
import ServiceRuntime
import WardCalendar

/// Duties on demand (issue #18 item 3; docs/openapi.yaml):
///
/// - `POST /v1/duties/on-demand` `{kind, unitCode, dueDate, reason, caseNumber?, auditorPersonId?}` → 201 with the duty
/// - `GET  /v1/on-demand-duties?from=&to=` (ward-wide roles; default: this fiscal year)
/// - `GET  /v1/improvement-actions?from=&to=` (ward-wide roles; default: this fiscal year)
extension AuditSchedulerRoutes {
    func addOnDemand(to routes: APIRoutes) {
        routes.post("/v1/duties/on-demand") { request, context in
            let body = try await request.decodeJSON(as: DutyOrderRequest.self, context: context)
            let grant = try context.requireGrant()
            let (store, now) = (store, clock())
            let duty = try await database.withTransaction { connection in
                try store.order(body, by: DutyActor(grant: grant), now: now, on: connection)
            }
            return try APIResponse.json(duty, status: .created)
        }
        routes.get("/v1/on-demand-duties") { request, context in
            let (from, to, today) = try period(request, context)
            let store = store
            let report = try await database.withConnection { connection in try store.onDemandDuties(from: from, through: to, today: today, on: connection) }
            return try APIResponse.json(report)
        }
        routes.get("/v1/improvement-actions") { request, context in
            let (from, to, today) = try period(request, context)
            let store = store
            let report = try await database.withConnection { connection in
                try store.improvementActions(from: from, through: to, today: today, on: connection)
            }
            return try APIResponse.json(report)
        }
    }

    /// `from` and `to` (inclusive, `YYYY-MM-DD`), by default the current fiscal year; the review
    /// pack's data is the ward's, for ward-wide roles (Art. 11(5)).
    private func period(_ request: Request, _ context: APIRequestContext) throws -> (CivilDate, CivilDate, CivilDate) {
        let actor = DutyActor(grant: try context.requireGrant())
        guard actor.unitCode == nil else { throw AuditSchedulerError(.forbidden, "this report is for ward-wide roles") }
        let today = CivilDate.inTokyo(clock())
        let query = APIQuery(request)
        let year = store.calendar.fiscalYear(of: today)
        func day(_ name: String, default value: CivilDate) throws -> CivilDate {
            guard let text = try query.string(name) else { return value }
            // The years the calendar's arithmetic and PostgreSQL's dates share (no year 0).
            guard let day = CivilDate(iso: text), (2000...2200).contains(day.year) else {
                throw AuditSchedulerError(.invalid, "\(name) must be YYYY-MM-DD in 2000-2200")
            }
            return day
        }
        let from = try day("from", default: store.calendar.fiscalYearStart(year))
        let to = try day("to", default: store.calendar.fiscalYearEnd(year))
        guard from <= to, from.days(until: to) <= 3_660 else { throw AuditSchedulerError(.invalid, "from must be on or before to, at most ten years apart") }
        return (from, to, today)
    }
}
