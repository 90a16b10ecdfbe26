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
}
