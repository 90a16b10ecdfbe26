import Contracts
import Directory
import Foundation
import Hummingbird
import NIOCore
import Postgres
import WardCalendar

/// The scheduler's HTTP API (issue #6 item 7; docs/openapi.yaml). Every request carries a bearer
/// token bound to a role and a unit; a unit sees and acts on its own duties only.
///
/// - `GET  /v1/duties?fiscalYear=&status=&overdue=&unit=&template=&kind=&limit=`
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
struct AuditSchedulerRoutes: Sendable {
    let store: AuditSchedulerStore
    let database: PostgresPool
    let clock: @Sendable () -> Date

    static let maximumBodyBytes = 256 * 1024

    func add(to router: Router<BasicRequestContext>) {
        router.get("/v1/duties") { request, _ in try await handle(request) { actor, now in try await listDuties(request, actor: actor, now: now) } }
        router.get("/v1/duties/:id") { request, context in
            let id = context.parameters.get("id", as: UUID.self)
            return try await handle(request) { actor, now in
                guard let id else { throw AuditSchedulerError(.notFound, "no such duty") }
                let store = store
                let detail = try await database.withConnection { connection in
                    try store.duty(id: id, visibleTo: actor, today: CivilDate.inTokyo(now), on: connection)
                }
                guard let detail else { throw AuditSchedulerError(.notFound, "no duty \(id) is visible to this token") }
                return try Self.json(detail)
            }
        }
        router.post("/v1/duties/:id/complete") { request, context in
            let id = context.parameters.get("id", as: UUID.self)
            return try await handle(request) { actor, now in
                let body = try await Self.decode(DutyCompletionRequest.self, from: request)
                guard let id else { throw AuditSchedulerError(.notFound, "no such duty") }
                let store = store
                let duty = try await database.withTransaction { connection in try store.complete(dutyID: id, with: body, by: actor, now: now, on: connection) }
                return try Self.json(duty, status: .created)
            }
        }
        router.post("/v1/duties/:id/reschedule") { request, context in
            let id = context.parameters.get("id", as: UUID.self)
            return try await handle(request) { actor, now in
                let body = try await Self.decode(RescheduleBody.self, from: request)
                guard let id else { throw AuditSchedulerError(.notFound, "no such duty") }
                guard let due = CivilDate(iso: body.dueDate) else { throw AuditSchedulerError(.invalid, "dueDate must be YYYY-MM-DD") }
                let store = store
                let duty = try await database.withTransaction { connection in
                    try store.reschedule(dutyID: id, to: due, reason: body.reason, by: actor, now: now, on: connection)
                }
                return try Self.json(duty)
            }
        }
        router.post("/v1/duties/:id/auditor") { request, context in
            let id = context.parameters.get("id", as: UUID.self)
            return try await handle(request) { actor, now in
                let body = try await Self.decode(AuditorBody.self, from: request)
                guard let id else { throw AuditSchedulerError(.notFound, "no such duty") }
                let store = store
                let duty = try await database.withTransaction { connection in
                    try store.assignAuditor(dutyID: id, personID: body.personID, by: actor, now: now, on: connection)
                }
                return try Self.json(duty)
            }
        }
        router.get("/v1/findings") { request, _ in
            try await handle(request) { actor, now in
                let parameters = request.uri.queryParameters
                let status = try parameters.get("status").map { text in
                    guard let value = FindingStatus(rawValue: text) else { throw AuditSchedulerError(.invalid, "status must be open, treated or closed") }
                    return value
                }
                let unit = parameters.get("unit")
                let year = parameters.get("fiscalYear", as: Int.self)
                let store = store
                let findings = try await database.withConnection { connection in
                    try store.findings(status: status, unitCode: unit, fiscalYear: year, visibleTo: actor, today: CivilDate.inTokyo(now), on: connection)
                }
                return try Self.json(["findings": findings])
            }
        }
        router.get("/v1/findings/:id") { request, context in
            let id = context.parameters.get("id", as: UUID.self)
            return try await handle(request) { actor, now in
                guard let id else { throw AuditSchedulerError(.notFound, "no such finding") }
                let store = store
                let finding = try await database.withConnection { connection in
                    try store.finding(id: id, visibleTo: actor, today: CivilDate.inTokyo(now), on: connection)
                }
                guard let finding else { throw AuditSchedulerError(.notFound, "no finding \(id) is visible to this token") }
                return try Self.json(finding)
            }
        }
        router.post("/v1/findings") { request, _ in
            try await handle(request) { actor, now in
                let body = try await Self.decode(FindingRequest.self, from: request)
                let store = store
                let finding = try await database.withTransaction { connection in try store.recordFinding(body, by: actor, now: now, on: connection) }
                return try Self.json(finding, status: .created)
            }
        }
        router.post("/v1/findings/:id/result") { request, context in
            let id = context.parameters.get("id", as: UUID.self)
            return try await handle(request) { actor, now in
                let body = try await Self.decode(ResultBody.self, from: request)
                guard let id else { throw AuditSchedulerError(.notFound, "no such finding") }
                let store = store
                let finding = try await database.withTransaction { connection in
                    try store.submitTreatmentResult(findingID: id, notes: body.notes, treatmentPlan: body.treatmentPlan, by: actor, now: now, on: connection)
                }
                return try Self.json(finding)
            }
        }
        router.post("/v1/findings/:id/review") { request, context in
            let id = context.parameters.get("id", as: UUID.self)
            return try await handle(request) { actor, now in
                let body = try await Self.decode(ReviewBody.self, from: request)
                guard let id else { throw AuditSchedulerError(.notFound, "no such finding") }
                let store = store
                let finding = try await database.withTransaction { connection in
                    try store.reviewTreatment(findingID: id, approve: body.approve, comment: body.comment ?? "", by: actor, now: now, on: connection)
                }
                return try Self.json(finding)
            }
        }
        router.get("/v1/reports/effectiveness") { request, _ in
            try await handle(request) { actor, now in
                // Art. 11(5): the review's data is the ward's, for ward-wide roles.
                guard actor.unitCode == nil else { throw AuditSchedulerError(.forbidden, "the effectiveness report is for ward-wide roles") }
                let store = store
                let year = request.uri.queryParameters.get("fiscalYear", as: Int.self) ?? store.calendar.fiscalYear(of: CivilDate.inTokyo(now))
                let report = try await database.withConnection { connection in try store.effectivenessReport(fiscalYear: year, now: now, on: connection) }
                return try Self.json(report)
            }
        }
        router.get("/v1/audit-plan") { request, _ in
            try await handle(request) { _, now in
                let store = store
                let year = request.uri.queryParameters.get("fiscalYear", as: Int.self) ?? store.calendar.fiscalYear(of: CivilDate.inTokyo(now))
                let sections = try await database.withConnection { connection in try store.storedAuditPlan(fiscalYear: year, on: connection) }
                return try Self.json(AuditPlanBody(fiscalYear: year, sections: sections))
            }
        }
    }

    private func listDuties(_ request: Request, actor: DutyActor, now: Date) async throws -> Response {
        let parameters = request.uri.queryParameters
        let today = CivilDate.inTokyo(now)
        let status = try parameters.get("status").map { text in
            guard let value = DutyStatus(rawValue: text) else { throw AuditSchedulerError(.invalid, "status must be open, completed or cancelled") }
            return value
        }
        let kind = try parameters.get("kind").map { text in
            guard let value = DutyKind(rawValue: text) else { throw AuditSchedulerError(.invalid, "unknown kind \(text)") }
            return value
        }
        let filter = DutyFilter(
            fiscalYear: parameters.get("fiscalYear", as: Int.self) ?? store.calendar.fiscalYear(of: today), status: status,
            overdueOnly: parameters.get("overdue") == "true", unitCode: parameters.get("unit"), templateID: parameters.get("template"), kind: kind,
            limit: parameters.get("limit", as: Int.self) ?? 1000)
        let store = store
        let duties = try await database.withConnection { connection in try store.duties(filter, visibleTo: actor, today: today, on: connection) }
        return try Self.json(["duties": duties])
    }

    /// Authenticates, runs `body`, and maps errors to RFC 9457 problems.
    private func handle(_ request: Request, _ body: (DutyActor, Date) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else {
            return Self.problem(.unauthorized, "A bearer token is required", "Send Authorization: Bearer <token>; `isms token issue` makes one.")
        }
        let token = String(header.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces)
        let grant = try await database.withConnection { connection in try DirectoryTokens(store: store.directory).verify(token: token, on: connection) }
        guard let grant else { return Self.problem(.unauthorized, "The token is not valid", "The token is unknown, revoked or expired.") }
        do {
            return try await body(DutyActor(grant: grant), clock())
        } catch let error as AuditSchedulerError {
            let status: HTTPResponse.Status =
                switch error.code {
                case .notFound: .notFound
                case .forbidden: .forbidden
                case .conflict, .auditorNotIndependent: .conflict
                default: .unprocessableContent
                }
            return Self.problem(status, error.code.description, error.detail)
        }
    }

    static func decode<T: Decodable>(_ type: T.Type, from request: Request) async throws -> T {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: maximumBodyBytes)
        } catch is NIOTooManyBytesError {
            throw AuditSchedulerError(.invalid, "the body is larger than \(maximumBodyBytes) bytes")
        }
        do {
            return try ContractsJSON.decoder().decode(T.self, from: Data(Array(buffer: buffer)))
        } catch {
            throw AuditSchedulerError(.invalid, "the body is not the JSON this endpoint takes: \(error)")
        }
    }

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = ContractsJSON.encoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
    }

    static func problem(_ status: HTTPResponse.Status, _ title: String, _ detail: String) -> Response {
        let body: [String: Any] = ["type": "https://isms.ward.example/problems/\(status.code)", "title": title, "status": status.code, "detail": detail]
        var headers = HTTPFields()
        headers[.contentType] = "application/problem+json"
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer" }
        let data = (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
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
