import Contracts
import Directory
import Foundation
import Hummingbird
import Postgres
import ServiceRuntime
import WardCalendar

/// The annual operation plan and the management review over HTTP (issue #18; docs/openapi.yaml).
/// Ward-wide roles read; the general security officer drafts, the CISO approves.
///
/// - `GET  /v1/operation-plans/{fiscalYear}` (the latest version), `PUT` a draft `{objectives, lines}`
/// - `POST /v1/operation-plans/{fiscalYear}/approval` (CISO)
/// - `GET  /v1/operation-plans/{fiscalYear}/versions`, `GET .../comparison` (plan against result)
/// - `GET  /v1/management-reviews/{fiscalYear}` (the latest version with its pack), `PUT` a draft `{from, to, pack, proposals?}`
/// - `POST /v1/management-reviews/{fiscalYear}/decisions` `{decisions}`, `POST .../approval` (CISO)
/// - `GET  /v1/management-reviews/{fiscalYear}/versions`, `GET .../versions/{version}`, `GET .../verification`
extension AuditSchedulerRoutes {
    struct ReviewDraftBody: Decodable {
        var from: String
        var to: String
        var pack: JSONValue
        var proposals: String?
    }

    struct DecisionsBody: Decodable {
        var decisions: String
    }

    struct PlanVersionsBody: Encodable {
        var fiscalYear: Int
        var versions: [OperationPlanVersion]
    }

    struct ReviewVersionsBody: Encodable {
        var fiscalYear: Int
        var versions: [ManagementReviewVersion]
    }

    func addPlanAndReview(to routes: APIRoutes) {
        routes.get("/v1/operation-plans/:fiscalYear") { _, context in
            try await yearly(context, "operation plan") { actor, year, _ in
                let store = store
                let latest = try await database.withConnection { try store.operationPlanVersions(fiscalYear: year, on: $0).last }
                guard let latest else { throw AuditSchedulerError(.notFound, "no operation plan for fiscal year \(year)") }
                return try APIResponse.json(latest)
            }
        }
        routes.put("/v1/operation-plans/:fiscalYear") { request, context in
            try await yearly(context, "operation plan") { actor, year, now in
                let plan = try await request.decodeJSON(as: OperationPlanDocument.self, context: context)
                let store = store
                return try APIResponse.json(try await database.withTransaction { connection in
                    try store.saveOperationPlanDraft(fiscalYear: year, plan: plan, by: actor, now: now, on: connection)
                })
            }
        }
        routes.post("/v1/operation-plans/:fiscalYear/approval") { _, context in
            try await yearly(context, "operation plan") { actor, year, now in
                let store = store
                return try APIResponse.json(try await database.withTransaction { connection in
                    try store.approveOperationPlan(fiscalYear: year, by: actor, now: now, on: connection)
                })
            }
        }
        routes.get("/v1/operation-plans/:fiscalYear/versions") { _, context in
            try await yearly(context, "operation plan") { _, year, _ in
                let store = store
                let versions = try await database.withConnection { try store.operationPlanVersions(fiscalYear: year, on: $0) }
                return try APIResponse.json(PlanVersionsBody(fiscalYear: year, versions: versions))
            }
        }
        routes.get("/v1/operation-plans/:fiscalYear/comparison") { _, context in
            try await yearly(context, "operation plan") { _, year, now in
                let store = store
                let comparison = try await database.withConnection { connection in
                    try store.operationPlanComparison(fiscalYear: year, today: CivilDate.inTokyo(now), on: connection)
                }
                guard let comparison else { throw AuditSchedulerError(.notFound, "no operation plan for fiscal year \(year)") }
                return try APIResponse.json(comparison)
            }
        }
        routes.get("/v1/management-reviews/:fiscalYear") { _, context in
            try await yearly(context, "management review") { _, year, _ in
                let store = store
                let latest = try await database.withConnection { try store.managementReviewVersions(fiscalYear: year, withPack: true, on: $0).last }
                guard let latest else { throw AuditSchedulerError(.notFound, "no management review for fiscal year \(year)") }
                return try APIResponse.json(latest)
            }
        }
        routes.put("/v1/management-reviews/:fiscalYear") { request, context in
            try await yearly(context, "management review") { actor, year, now in
                let body = try await request.decodeJSON(as: ReviewDraftBody.self, context: context)
                guard let from = CivilDate(iso: body.from), let to = CivilDate(iso: body.to), (2000...2200).contains(from.year), (2000...2200).contains(to.year)
                else { throw AuditSchedulerError(.invalid, "from and to must be dates YYYY-MM-DD") }
                let store = store
                return try APIResponse.json(try await database.withTransaction { connection in
                    try store.saveManagementReviewDraft(
                        fiscalYear: year, from: from, to: to, pack: body.pack, proposals: body.proposals, by: actor, now: now, on: connection)
                })
            }
        }
        routes.post("/v1/management-reviews/:fiscalYear/decisions") { request, context in
            try await yearly(context, "management review") { actor, year, now in
                let body = try await request.decodeJSON(as: DecisionsBody.self, context: context)
                let store = store
                return try APIResponse.json(try await database.withTransaction { connection in
                    try store.recordManagementReviewDecisions(fiscalYear: year, decisions: body.decisions, by: actor, now: now, on: connection)
                })
            }
        }
        routes.post("/v1/management-reviews/:fiscalYear/approval") { _, context in
            try await yearly(context, "management review") { actor, year, now in
                let store = store
                return try APIResponse.json(try await database.withTransaction { connection in
                    try store.approveManagementReview(fiscalYear: year, by: actor, now: now, on: connection)
                })
            }
        }
        routes.get("/v1/management-reviews/:fiscalYear/versions") { _, context in
            try await yearly(context, "management review") { _, year, _ in
                let store = store
                let versions = try await database.withConnection { try store.managementReviewVersions(fiscalYear: year, withPack: false, on: $0) }
                return try APIResponse.json(ReviewVersionsBody(fiscalYear: year, versions: versions))
            }
        }
        routes.get("/v1/management-reviews/:fiscalYear/versions/:version") { _, context in
            let number = context.parameters.get("version", as: Int.self)
            return try await yearly(context, "management review") { _, year, _ in
                let store = store
                let versions = try await database.withConnection { try store.managementReviewVersions(fiscalYear: year, withPack: true, on: $0) }
                guard let found = versions.first(where: { $0.version == number }) else {
                    throw AuditSchedulerError(.notFound, "no such version of the management review for fiscal year \(year)")
                }
                return try APIResponse.json(found)
            }
        }
        routes.get("/v1/management-reviews/:fiscalYear/verification") { _, context in
            try await yearly(context, "management review") { _, year, _ in
                let store = store
                let result = try await database.withConnection { try store.verifyManagementReviews(fiscalYear: year, on: $0) }
                return try APIResponse.json(result, status: result.intact ? .ok : .conflict)
            }
        }
    }

    /// Runs `body` for a ward-wide token with the path's fiscal year (2000-2200, else 404).
    private func yearly(
        _ context: APIRequestContext, _ what: String, _ body: (DutyActor, Int, Date) async throws -> Response
    ) async throws -> Response {
        let actor = DutyActor(grant: try context.requireGrant())
        try AuditSchedulerStore.requireWardWide(actor, what)
        guard let year = context.parameters.get("fiscalYear", as: Int.self), (2000...2200).contains(year) else {
            throw AuditSchedulerError(.notFound, "no \(what) for that fiscal year")
        }
        return try await body(actor, year, clock())
    }
}
