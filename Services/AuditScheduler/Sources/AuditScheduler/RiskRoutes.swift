import Contracts
import Directory
import Foundation
import Hummingbird
import Postgres
import ServiceRuntime
import WardCalendar

/// The risk register's HTTP API (Art. 26, issue #18 item 1; docs/openapi.yaml, tag `risks`).
/// Strings of every body are screened for My Numbers by the API layer before these routes see
/// them, like all free text that enters the scheduler.
///
/// - `GET  /v1/risks?unit=&asset=&treatment=&level=&aboveAppetite=&reviewOverdue=&limit=&cursor=`
/// - `POST /v1/risks` `{assetId, sectionCode?, title, threat, vulnerability, likelihood, impact?, reviewDate?, sources?}`
/// - `GET  /v1/risks/summary` (the review pack and the heat map)
/// - `GET  /v1/risks/scale` (the configured scale, for forms)
/// - `GET  /v1/risks/{id}` (with its history, verified, and the caller's allowed actions)
/// - `PUT  /v1/risks/{id}` `{title?, threat?, vulnerability?, likelihood?, impact?, reviewDate?, source?, reason?}`
/// - `POST /v1/risks/{id}/treat` `{treatment, measures?, ownerRole?, ownerUnit?, dueDate?, transferTo?, residualLikelihood?, residualImpact?, reason?}`
/// - `POST /v1/risks/{id}/accept` `{residualLikelihood?, residualImpact?, reason}`
/// - `POST /v1/risks/{id}/review` `{notes, residualLikelihood?, residualImpact?, nextReviewDate?}`
/// - `GET  /v1/risks/{id}/history/verify`
struct RiskRoutes: Sendable {
    let store: AuditSchedulerStore
    let database: PostgresPool
    let clock: @Sendable () -> Date

    func add(to routes: APIRoutes) {
        routes.get("/v1/risks") { request, context in
            try await handle(context) { actor, now in
                let query = APIQuery(request)
                let page = try PageRequest(query)
                let treatment = try query.string("treatment", oneOf: RiskTreatment.allCases.map(\.rawValue) + ["untreated"])
                var filter = RiskFilter(
                    unitCode: try query.string("unit"), assetID: try query.string("asset"), treatment: treatment.flatMap(RiskTreatment.init(rawValue:)),
                    untreatedOnly: treatment == "untreated", level: try query.string("level"), aboveAppetiteOnly: try query.bool("aboveAppetite") ?? false,
                    reviewOverdueOnly: try query.bool("reviewOverdue") ?? false, limit: page.limit + 1)
                filter.after = try page.afterTimeAndID().map { (createdAt: $0.0, id: $0.1) }
                let store = store
                let risks = try await database.withConnection { [filter] connection in
                    try store.risks(filter, visibleTo: actor, today: CivilDate.inTokyo(now), on: connection)
                }
                let (items, next) = page.page(risks) { PageCursor(time: $0.createdAt, id: $0.id.lowercasedString) }
                return try APIResponse.page(items, key: "risks", next: next)
            }
        }
        routes.post("/v1/risks") { request, context in
            try await handle(context) { actor, now in
                let body = try await request.decodeJSON(as: RiskRequest.self, context: context)
                let store = store
                let detail = try await database.withTransaction { connection in try store.registerRisk(body, by: actor, now: now, on: connection) }
                return try APIResponse.json(detail, status: .created, headers: [.location: "/v1/risks/\(detail.risk.id.lowercasedString)"])
            }
        }
        routes.get("/v1/risks/summary") { _, context in
            try await handle(context) { actor, now in
                let store = store
                let summary = try await database.withConnection { connection in
                    try store.riskSummary(visibleTo: actor, today: CivilDate.inTokyo(now), on: connection)
                }
                return try APIResponse.json(summary)
            }
        }
        routes.get("/v1/risks/scale") { _, context in
            try await handle(context) { _, _ in try APIResponse.json(ScaleBody(try store.scale())) }
        }
        routes.get("/v1/risks/:id") { _, context in
            let id = context.parameters.get("id", as: UUID.self)
            return try await handle(context) { actor, now in
                guard let id else { throw AuditSchedulerError(.notFound, "no such risk") }
                let store = store
                let detail = try await database.withConnection { connection in
                    try store.riskDetail(id: id, visibleTo: actor, today: CivilDate.inTokyo(now), on: connection)
                }
                guard let detail else { throw AuditSchedulerError(.notFound, "no risk \(id) is visible to this token") }
                return try APIResponse.json(detail)
            }
        }
        routes.put("/v1/risks/:id") { request, context in
            let id = context.parameters.get("id", as: UUID.self)
            return try await handle(context) { actor, now in
                let body = try await request.decodeJSON(as: RiskUpdate.self, context: context)
                guard let id else { throw AuditSchedulerError(.notFound, "no such risk") }
                let store = store
                return try APIResponse.json(try await database.withTransaction { connection in try store.updateRisk(id: id, body, by: actor, now: now, on: connection) })
            }
        }
        routes.post("/v1/risks/:id/treat") { request, context in
            let id = context.parameters.get("id", as: UUID.self)
            return try await handle(context) { actor, now in
                let body = try await request.decodeJSON(as: RiskTreatmentRequest.self, context: context)
                guard let id else { throw AuditSchedulerError(.notFound, "no such risk") }
                let store = store
                return try APIResponse.json(try await database.withTransaction { connection in try store.treatRisk(id: id, body, by: actor, now: now, on: connection) })
            }
        }
        routes.post("/v1/risks/:id/accept") { request, context in
            let id = context.parameters.get("id", as: UUID.self)
            return try await handle(context) { actor, now in
                let body = try await request.decodeJSON(as: AcceptBody.self, context: context)
                guard let id else { throw AuditSchedulerError(.notFound, "no such risk") }
                let treatment = RiskTreatmentRequest(
                    treatment: .accept, residualLikelihood: body.residualLikelihood, residualImpact: body.residualImpact, reason: body.reason)
                let store = store
                return try APIResponse.json(try await database.withTransaction { connection in try store.treatRisk(id: id, treatment, by: actor, now: now, on: connection) })
            }
        }
        routes.post("/v1/risks/:id/review") { request, context in
            let id = context.parameters.get("id", as: UUID.self)
            return try await handle(context) { actor, now in
                let body = try await request.decodeJSON(as: RiskReviewRequest.self, context: context)
                guard let id else { throw AuditSchedulerError(.notFound, "no such risk") }
                let store = store
                return try APIResponse.json(try await database.withTransaction { connection in try store.reviewRisk(id: id, body, by: actor, now: now, on: connection) })
            }
        }
        routes.get("/v1/risks/:id/history/verify") { _, context in
            let id = context.parameters.get("id", as: UUID.self)
            return try await handle(context) { actor, now in
                guard let id else { throw AuditSchedulerError(.notFound, "no such risk") }
                let store = store
                let result = try await database.withConnection { connection -> HistoryVerificationBody? in
                    guard let detail = try store.riskDetail(id: id, visibleTo: actor, today: CivilDate.inTokyo(now), on: connection) else { return nil }
                    let broken = try store.verifyRiskHistory(id: id, on: connection)
                    return HistoryVerificationBody(riskId: id, entries: detail.history.count, intact: broken == nil, brokenSeq: broken?.seq, problem: broken?.problem)
                }
                guard let result else { throw AuditSchedulerError(.notFound, "no risk \(id) is visible to this token") }
                return try APIResponse.json(result)
            }
        }
    }

    private func handle(_ context: APIRequestContext, _ body: (DutyActor, Date) async throws -> Response) async throws -> Response {
        try await body(DutyActor(grant: try context.requireGrant()), clock())
    }
}

struct AcceptBody: Decodable {
    var residualLikelihood: Int?
    var residualImpact: Int?
    var reason: String
}

struct HistoryVerificationBody: Encodable {
    var riskId: UUID
    var entries: Int
    var intact: Bool
    var brokenSeq: Int64?
    var problem: String?
}

/// The configured scale as forms and the heat map read it.
struct ScaleBody: Encodable {
    var likelihood: [RiskScale.Step]
    var impact: [RiskScale.Step]
    var levels: [RiskScale.Level]
    /// `[likelihood - 1][impact - 1]`: level ids.
    var matrix: [[String]]
    var appetite: String

    init(_ scale: RiskScale) {
        likelihood = scale.likelihood
        impact = scale.impact
        levels = scale.levels
        matrix = scale.matrix.map { row in row.map { scale.levels[$0].id } }
        appetite = scale.appetiteLevel.id
    }
}
