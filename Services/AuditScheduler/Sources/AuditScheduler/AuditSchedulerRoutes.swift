import Contracts
import Directory
import Foundation
import Hummingbird
import Postgres
public import ServiceRuntime
import WardCalendar

/// The scheduler's HTTP API (issue #6 item 7; docs/openapi.yaml). Every request carries a bearer
/// token bound to a role and a unit; a unit sees and acts on its own duties only.
///
/// - `GET  /v1/duties?fiscalYear=&status=&overdue=&unit=&template=&kind=&origin=&limit=`
/// - `POST /v1/duties/on-demand`, `GET /v1/on-demand-duties`, `GET /v1/improvement-actions` (issue #18; `+OnDemand`)
/// - `GET  /v1/duties/{id}`
/// - `POST /v1/duties/{id}/complete` `{evidence:[{fileName,sha256}], notes, participants?, eligible?, checklistScore?, checklistMax?}`
/// - `POST /v1/duties/{id}/reschedule` `{dueDate, reason}`
/// - `POST /v1/duties/{id}/auditor` `{personId}` (audit chief; Art. 13(2) refusal is 409)
/// - `GET  /v1/findings?status=&unit=&fiscalYear=`, `GET /v1/findings/{id}`
/// - `POST /v1/findings` `{auditDutyId, severity, title, treatmentPlan}`
/// - `POST /v1/findings/{id}/result` `{notes, treatmentPlan?}`
/// - `POST /v1/findings/{id}/review` `{approve, comment}` (department security officer, Art. 17(6)(6))
/// - `GET  /v1/reports/effectiveness?fiscalYear=`
/// - `GET  /v1/audit-plan?fiscalYear=`
/// - `GET  /v1/recurrence-measures?from=&to=` — the duties of the measures of closed cases (issue #18)
struct AuditSchedulerRoutes: Sendable {
    let store: AuditSchedulerStore
    let database: PostgresPool
    let clock: @Sendable () -> Date

    func add(to routes: APIRoutes) {
        addOnDemand(to: routes)
        routes.get("/v1/duties") { request, context in try await handle(context) { actor, now in try await listDuties(request, actor: actor, now: now) } }
        routes.get("/v1/duties/:id") { request, context in
            let id = context.parameters.get("id", as: UUID.self)
            return try await handle(context) { actor, now in
                guard let id else { throw AuditSchedulerError(.notFound, "no such duty") }
                let store = store
                let detail = try await database.withConnection { connection in
                    try store.duty(id: id, visibleTo: actor, today: CivilDate.inTokyo(now), on: connection)
                }
                guard let detail else { throw AuditSchedulerError(.notFound, "no duty \(id) is visible to this token") }
                return try APIResponse.json(detail)
            }
        }
        routes.post("/v1/duties/:id/complete") { request, context in
            let id = context.parameters.get("id", as: UUID.self)
            return try await handle(context) { actor, now in
                let body = try await request.decodeJSON(as: DutyCompletionRequest.self, context: context)
                guard let id else { throw AuditSchedulerError(.notFound, "no such duty") }
                let store = store
                let duty = try await database.withTransaction(emittingAs: .auditScheduler, schema: store.schema, logger: context.logger, now: now) { transaction in
                    try store.complete(dutyID: id, with: body, by: actor, context: &transaction)
                }
                return try APIResponse.json(duty, status: .created)
            }
        }
        routes.post("/v1/duties/:id/reschedule") { request, context in
            let id = context.parameters.get("id", as: UUID.self)
            return try await handle(context) { actor, now in
                let body = try await request.decodeJSON(as: RescheduleBody.self, context: context)
                guard let id else { throw AuditSchedulerError(.notFound, "no such duty") }
                guard let due = CivilDate(iso: body.dueDate) else { throw AuditSchedulerError(.invalid, "dueDate must be YYYY-MM-DD") }
                let store = store
                let duty = try await database.withTransaction { connection in
                    try store.reschedule(dutyID: id, to: due, reason: body.reason, by: actor, now: now, on: connection)
                }
                return try APIResponse.json(duty)
            }
        }
        routes.post("/v1/duties/:id/auditor") { request, context in
            let id = context.parameters.get("id", as: UUID.self)
            return try await handle(context) { actor, now in
                let body = try await request.decodeJSON(as: AuditorBody.self, context: context)
                guard let id else { throw AuditSchedulerError(.notFound, "no such duty") }
                let store = store
                let duty = try await database.withTransaction { connection in
                    try store.assignAuditor(dutyID: id, personID: body.personID, by: actor, now: now, on: connection)
                }
                return try APIResponse.json(duty)
            }
        }
        routes.get("/v1/findings") { request, context in
            try await handle(context) { actor, now in
                let query = APIQuery(request)
                let (status, unit) = (try query.value("status", as: FindingStatus.self), try query.string("unit"))
                let year = try query.int("fiscalYear", in: 2000...2200)
                let page = try PageRequest(query)
                let after = try page.afterTimeAndID()
                let store = store
                let findings = try await database.withConnection { connection in
                    try store.findings(
                        status: status, unitCode: unit, fiscalYear: year, visibleTo: actor, today: CivilDate.inTokyo(now), limit: page.limit + 1,
                        after: after.map { ($0.0, $0.1) }, on: connection)
                }
                let (items, next) = page.page(findings) { PageCursor(time: $0.recordedAt, id: $0.id.lowercasedString) }
                return try APIResponse.page(items, key: "findings", next: next)
            }
        }
        routes.get("/v1/findings/:id") { request, context in
            let id = context.parameters.get("id", as: UUID.self)
            return try await handle(context) { actor, now in
                guard let id else { throw AuditSchedulerError(.notFound, "no such finding") }
                let store = store
                let finding = try await database.withConnection { connection in
                    try store.finding(id: id, visibleTo: actor, today: CivilDate.inTokyo(now), on: connection)
                }
                guard let finding else { throw AuditSchedulerError(.notFound, "no finding \(id) is visible to this token") }
                return try APIResponse.json(finding)
            }
        }
        routes.post("/v1/findings") { request, context in
            try await handle(context) { actor, now in
                let body = try await request.decodeJSON(as: FindingRequest.self, context: context)
                let store = store
                let finding = try await database.withTransaction { connection in try store.recordFinding(body, by: actor, now: now, on: connection) }
                return try APIResponse.json(finding, status: .created)
            }
        }
        routes.post("/v1/findings/:id/result") { request, context in
            let id = context.parameters.get("id", as: UUID.self)
            return try await handle(context) { actor, now in
                let body = try await request.decodeJSON(as: ResultBody.self, context: context)
                guard let id else { throw AuditSchedulerError(.notFound, "no such finding") }
                let store = store
                let finding = try await database.withTransaction { connection in
                    try store.submitTreatmentResult(findingID: id, notes: body.notes, treatmentPlan: body.treatmentPlan, by: actor, now: now, on: connection)
                }
                return try APIResponse.json(finding)
            }
        }
        routes.post("/v1/findings/:id/review") { request, context in
            let id = context.parameters.get("id", as: UUID.self)
            return try await handle(context) { actor, now in
                let body = try await request.decodeJSON(as: ReviewBody.self, context: context)
                guard let id else { throw AuditSchedulerError(.notFound, "no such finding") }
                let store = store
                let finding = try await database.withTransaction { connection in
                    try store.reviewTreatment(findingID: id, approve: body.approve, comment: body.comment ?? "", by: actor, now: now, on: connection)
                }
                return try APIResponse.json(finding)
            }
        }
        routes.get("/v1/reports/effectiveness") { request, context in
            try await handle(context) { actor, now in
                // Art. 11(5): the review's data is the ward's, for ward-wide roles.
                guard actor.unitCode == nil else { throw AuditSchedulerError(.forbidden, "the effectiveness report is for ward-wide roles") }
                let store = store
                let year = try APIQuery(request).int("fiscalYear", in: 2000...2200) ?? store.calendar.fiscalYear(of: CivilDate.inTokyo(now))
                let report = try await database.withConnection { connection in try store.effectivenessReport(fiscalYear: year, now: now, on: connection) }
                return try APIResponse.json(report)
            }
        }
        addRecurrenceMeasures(to: routes)
        routes.get("/v1/audit-plan") { request, context in
            try await handle(context) { _, now in
                let store = store
                let year = try APIQuery(request).int("fiscalYear", in: 2000...2200) ?? store.calendar.fiscalYear(of: CivilDate.inTokyo(now))
                let sections = try await database.withConnection { connection in try store.storedAuditPlan(fiscalYear: year, on: connection) }
                return try APIResponse.json(AuditPlanBody(fiscalYear: year, sections: sections))
            }
        }
        addPlanAndReview(to: routes)
    }

    private func listDuties(_ request: Request, actor: DutyActor, now: Date) async throws -> Response {
        let query = APIQuery(request)
        let page = try PageRequest(query)
        let today = CivilDate.inTokyo(now)
        var filter = DutyFilter(
            fiscalYear: try query.int("fiscalYear", in: 2000...2200) ?? store.calendar.fiscalYear(of: today), status: try query.value("status", as: DutyStatus.self),
            overdueOnly: try query.bool("overdue") ?? false, unitCode: try query.string("unit"), templateID: try query.string("template"),
            kind: try query.value("kind", as: DutyKind.self), limit: page.limit + 1)
        filter.origin = try query.value("origin", as: DutyOrigin.self)
        if let cursor = page.after {
            guard let due = cursor[0].flatMap(CivilDate.init(iso:)), let template = cursor[1], let unit = cursor[2], let id = cursor[3].flatMap(UUID.init(uuidString:)) else {
                throw APIProblem.badRequest("cursor is not one this API gave out.")
            }
            filter.after = DutySortKey(dueDate: due, templateID: template, unitCode: unit, id: id)
        }
        let store = store
        let duties = try await database.withConnection { [filter] connection in try store.duties(filter, visibleTo: actor, today: today, on: connection) }
        let (items, next) = page.page(duties) { PageCursor([$0.dueDate.iso, $0.templateID, $0.unitCode ?? "", $0.id.lowercasedString]) }
        return try APIResponse.page(items, key: "duties", next: next)
    }

    /// Runs `body` as the token's actor at the scheduler's now.
    private func handle(_ context: APIRequestContext, _ body: (DutyActor, Date) async throws -> Response) async throws -> Response {
        try await body(DutyActor(grant: try context.requireGrant()), clock())
    }
}

extension AuditSchedulerError: APIProblemConvertible {
    public var problem: APIProblem {
        switch code {
        case .notFound: .notFound(detail)
        case .forbidden: .forbidden(detail)
        case .conflict: .conflict(detail)
        case .auditorNotIndependent: APIProblem(.conflict, title: "The auditor is not independent of the audited unit", detail: detail)
        case .needsCISO: APIProblem(.forbidden, title: "Accepting this residual risk is the CISO's decision", detail: detail, extensions: ["code": .string("needs-ciso")])
        default:
            if fields.isEmpty {
                .unprocessable(detail)
            } else {
                // The fields at fault, as intake names them: `{field, code, message}`.
                APIProblem(
                    .unprocessableContent, title: "The request is invalid", detail: detail,
                    extensions: [
                        "errors": .array(fields.map { .object(["field": .string($0.field), "code": .string(code.description), "message": .string($0.message)]) })
                    ])
            }
        }
    }
}

struct RescheduleBody: Decodable {
    var dueDate: String
    var reason: String
}

struct AuditorBody: Decodable {
    var personID: String

    enum CodingKeys: String, CodingKey {
        case personID = "personId"
    }
}

struct ResultBody: Decodable {
    var notes: String
    var treatmentPlan: String?
}

struct ReviewBody: Decodable {
    var approve: Bool
    var comment: String?
}

struct AuditPlanBody: Encodable {
    var fiscalYear: Int
    var sections: [String]
}
