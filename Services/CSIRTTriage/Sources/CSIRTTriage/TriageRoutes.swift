import Acknowledgement
import Contracts
import Directory
import Foundation
import Hummingbird
import Logging
import NIOCore
import Postgres
import ServiceRuntime

/// The CSIRT HTTP API (issue #4 item 9). Every request but the acknowledgement link carries a
/// bearer token (Directory tokens); a department or section sees only its own cases, ward-wide
/// roles see all.
///
/// - `GET  /v1/cases[?state=&limit=]` — list
/// - `GET  /v1/cases/{caseNumber}` — the case, its obligations and history
/// - `POST /v1/cases/{caseNumber}/qualification` `{"decision": "incident"|"not-incident", "reason"}`
/// - `POST /v1/cases/{caseNumber}/acknowledgement` `{"reason"?}`
/// - `POST /v1/cases/{caseNumber}/transitions` `{"action": "investigate"|..., "reason"?}`
/// - `POST /v1/cases/{caseNumber}/comments` `{"text"}`
/// - `PUT  /v1/cases/{caseNumber}/verdicts` `{"verdicts": {...}, "reason"}`
/// - `GET  /v1/cases/{caseNumber}/obligations`
/// - `POST /v1/cases/{caseNumber}/obligations/{id}/filing` `{"reference"}`
/// - `POST /v1/cases/{caseNumber}/assignees` `{"personId", "reason"?}`; `DELETE .../assignees/{personId}`
/// - `POST /v1/cases/{caseNumber}/restrictions` `{"targets": [{"kind", "name"}], "reason", "from"?, "until"?}`
/// - `POST /v1/cases/{caseNumber}/restrictions/{id}/decision` `{"decision": "approve"|"reject", "reason"?}`
/// - `POST /v1/cases/{caseNumber}/restrictions/{id}/lifting` `{"reason"}`
/// - `GET  /v1/history/verification` — checks the hash chain (handlers only)
/// - `POST /v1/acknowledgements/{token}` — acknowledge from a notification link (no bearer)
struct TriageRoutes: Sendable {
    let engine: TriageEngine
    let database: PostgresPool
    let ackSecret: String
    let logger: Logger

    func add(to router: Router<BasicRequestContext>) {
        router.get("/v1/cases") { request, _ in
            try await respond { try await list(request) }
        }
        router.get("/v1/cases/:number") { request, context in
            try await respond { try await show(request, number: context.parameters.get("number") ?? "") }
        }
        router.post("/v1/cases/:number/qualification") { request, context in
            try await respond { try await qualify(request, number: context.parameters.get("number") ?? "") }
        }
        router.post("/v1/cases/:number/acknowledgement") { request, context in
            try await respond { try await act(request, number: context.parameters.get("number") ?? "", fixed: .acknowledge) }
        }
        router.post("/v1/cases/:number/transitions") { request, context in
            try await respond { try await act(request, number: context.parameters.get("number") ?? "", fixed: nil) }
        }
        router.post("/v1/cases/:number/comments") { request, context in
            try await respond { try await comment(request, number: context.parameters.get("number") ?? "") }
        }
        router.put("/v1/cases/:number/verdicts") { request, context in
            try await respond { try await verdicts(request, number: context.parameters.get("number") ?? "") }
        }
        router.get("/v1/cases/:number/obligations") { request, context in
            try await respond { try await obligations(request, number: context.parameters.get("number") ?? "") }
        }
        router.post("/v1/cases/:number/obligations/:id/filing") { request, context in
            try await respond {
                try await file(request, number: context.parameters.get("number") ?? "", obligation: context.parameters.get("id") ?? "")
            }
        }
        router.post("/v1/cases/:number/assignees") { request, context in
            try await respond { try await assign(request, number: context.parameters.get("number") ?? "") }
        }
        router.delete("/v1/cases/:number/assignees/:person") { request, context in
            try await respond {
                try await unassign(request, number: context.parameters.get("number") ?? "", person: context.parameters.get("person") ?? "")
            }
        }
        router.post("/v1/cases/:number/restrictions") { request, context in
            try await respond { try await restrict(request, number: context.parameters.get("number") ?? "") }
        }
        router.post("/v1/cases/:number/restrictions/:id/decision") { request, context in
            try await respond {
                try await decide(request, number: context.parameters.get("number") ?? "", restriction: context.parameters.get("id") ?? "")
            }
        }
        router.post("/v1/cases/:number/restrictions/:id/lifting") { request, context in
            try await respond {
                try await lift(request, number: context.parameters.get("number") ?? "", restriction: context.parameters.get("id") ?? "")
            }
        }
        addDigest(to: router)
        router.get("/v1/history/verification") { request, _ in
            try await respond { try await verify(request) }
        }
        router.post("/v1/acknowledgements/:token") { _, context in
            try await respond { try await acknowledgeByLink(context.parameters.get("token") ?? "") }
        }
        // Opening the link from a mail is a GET, and mail scanners fetch links on their own:
        // the GET only shows a page whose button POSTs, so nothing is acknowledged by a preview.
        router.get("/v1/acknowledgements/:token") { _, context in
            Self.acknowledgementPage(token: context.parameters.get("token") ?? "")
        }
    }

    static func acknowledgementPage(token: String) -> Response {
        let escaped = token.filter { $0.isLetter || $0.isNumber || "-_.".contains($0) }
        let html = """
            <!doctype html><html lang="ja"><head><meta charset="utf-8"><title>インシデントの確認 / Acknowledge</title></head>
            <body><p>このインシデントを確認し、エスカレーションを止めますか？ / Acknowledge this incident and stop its escalation?</p>
            <form method="post" action="/v1/acknowledgements/\(escaped)"><button type="submit">確認する / Acknowledge</button></form></body></html>
            """
        return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    // MARK: Handlers

    private func list(_ request: Request) async throws -> Response {
        let grant = try await authenticate(request)
        let limit = request.uri.queryParameters.get("limit", as: Int.self) ?? 50
        let state = try request.uri.queryParameters.get("state").map { text in
            guard let state = CaseState(rawValue: String(text)) else { throw TriageError(code: .invalidRequest, detail: "unknown state \(text)") }
            return state
        }
        let engine = engine
        let cases = try await database.withConnection { connection in
            try engine.store.list(visibility: Self.visibility(grant), state: state, limit: limit, on: connection)
        }
        return try json(["cases": cases])
    }

    struct CaseDetail: Encodable {
        var `case`: CaseRecord
        var assignees: [CaseAssignee]
        var restrictions: [UseRestriction]
        var obligations: [CaseObligation]
        var history: [CaseHistoryEntry]
    }

    private func show(_ request: Request, number: String) async throws -> Response {
        let grant = try await authenticate(request)
        let engine = engine
        let detail = try await database.withConnection { connection -> CaseDetail in
            guard let record = try engine.store.find(caseNumber: number, on: connection),
                  Self.visibility(grant).allows(sectionCode: record.sectionCode, departmentCode: record.departmentCode)
            else { throw TriageError(code: .notFound, detail: "no case \(number)") }
            return CaseDetail(
                case: record, assignees: try engine.assignees(caseID: record.id, on: connection),
                restrictions: try engine.restrictions(caseID: record.id, on: connection),
                obligations: try engine.obligations(caseID: record.id, on: connection),
                history: try engine.store.history(caseID: record.id, on: connection))
        }
        return try json(detail)
    }

    struct QualifyBody: Decodable {
        var decision: CaseQualification
        var reason: String?
    }

    private func qualify(_ request: Request, number: String) async throws -> Response {
        let grant = try await authenticate(request)
        let body = try await decode(QualifyBody.self, request)
        return try await perform(grant, number: number, action: body.decision == .incident ? .confirm : .discard, reason: body.reason)
    }

    struct ActBody: Decodable {
        var action: CaseAction?
        var reason: String?
    }

    private func act(_ request: Request, number: String, fixed: CaseAction?) async throws -> Response {
        let grant = try await authenticate(request)
        let body = try await decode(ActBody.self, request, allowEmpty: fixed != nil)
        guard let action = fixed ?? body.action else { throw TriageError(code: .invalidRequest, detail: "name the action") }
        return try await perform(grant, number: number, action: action, reason: body.reason)
    }

    private func perform(_ grant: TokenGrant, number: String, action: CaseAction, reason: String?) async throws -> Response {
        let record = try await transaction { engine, context in
            try engine.perform(action, caseNumber: number, actor: Self.actor(grant), reason: reason, visibility: Self.visibility(grant), context: &context)
        }
        return try json(record)
    }

    struct CommentBody: Decodable {
        var text: String
    }

    private func comment(_ request: Request, number: String) async throws -> Response {
        let grant = try await authenticate(request)
        let body = try await decode(CommentBody.self, request)
        try await transaction { engine, context in
            try engine.comment(body.text, caseNumber: number, actor: Self.actor(grant), visibility: Self.visibility(grant), context: &context)
        }
        return Response(status: .noContent)
    }

    struct VerdictsBody: Decodable {
        var verdicts: StatutoryVerdicts
        var affectedPersons: AffectedPersons?
        var reason: String
    }

    private func verdicts(_ request: Request, number: String) async throws -> Response {
        let grant = try await authenticate(request)
        let body = try await decode(VerdictsBody.self, request)
        let record = try await transaction { engine, context in
            try engine.updateVerdicts(body.verdicts, affectedPersons: body.affectedPersons, caseNumber: number, actor: Self.actor(grant), reason: body.reason, context: &context)
        }
        return try json(record)
    }

    private func obligations(_ request: Request, number: String) async throws -> Response {
        let grant = try await authenticate(request)
        let engine = engine
        let list = try await database.withConnection { connection in
            guard let record = try engine.store.find(caseNumber: number, on: connection),
                  Self.visibility(grant).allows(sectionCode: record.sectionCode, departmentCode: record.departmentCode)
            else { throw TriageError(code: .notFound, detail: "no case \(number)") }
            return try engine.obligations(caseID: record.id, on: connection)
        }
        return try json(["obligations": list])
    }

    struct FilingBody: Decodable {
        var reference: String
    }

    private func file(_ request: Request, number: String, obligation: String) async throws -> Response {
        let grant = try await authenticate(request)
        let body = try await decode(FilingBody.self, request)
        guard let id = UUID(uuidString: obligation) else { throw TriageError(code: .notFound, detail: "no obligation \(obligation)") }
        let filed = try await transaction { engine, context in
            try engine.fileObligation(caseNumber: number, obligationID: id, reference: body.reference, actor: Self.actor(grant), context: &context)
        }
        return try json(filed)
    }

    struct AssignBody: Decodable {
        var personId: String
        var reason: String?
    }

    private func assign(_ request: Request, number: String) async throws -> Response {
        let grant = try await authenticate(request)
        let body = try await decode(AssignBody.self, request)
        let assignees = try await transaction { engine, context in
            try engine.assign(personID: body.personId, caseNumber: number, actor: Self.actor(grant), reason: body.reason, context: &context)
        }
        return try json(["assignees": assignees], status: .created)
    }

    private func unassign(_ request: Request, number: String, person: String) async throws -> Response {
        let grant = try await authenticate(request)
        let assignees = try await transaction { engine, context in
            try engine.assign(personID: person, assign: false, caseNumber: number, actor: Self.actor(grant), reason: nil, context: &context)
        }
        return try json(["assignees": assignees])
    }

    private func restrict(_ request: Request, number: String) async throws -> Response {
        let grant = try await authenticate(request)
        let order = try await decode(UseRestrictionOrder.self, request)
        let restriction = try await transaction { engine, context in
            try engine.orderRestriction(order, caseNumber: number, actor: Self.actor(grant), context: &context)
        }
        return try json(restriction, status: .created)
    }

    struct DecisionBody: Decodable {
        enum Decision: String, Decodable { case approve, reject }
        var decision: Decision
        var reason: String?
    }

    private func decide(_ request: Request, number: String, restriction: String) async throws -> Response {
        let grant = try await authenticate(request)
        let body = try await decode(DecisionBody.self, request)
        guard let id = UUID(uuidString: restriction) else { throw TriageError(code: .notFound, detail: "no restriction \(restriction)") }
        let decided = try await transaction { engine, context in
            try engine.decideRestriction(
                id: id, caseNumber: number, approve: body.decision == .approve, reason: body.reason, actor: Self.actor(grant), context: &context)
        }
        return try json(decided)
    }

    struct LiftBody: Decodable {
        var reason: String
    }

    private func lift(_ request: Request, number: String, restriction: String) async throws -> Response {
        let grant = try await authenticate(request)
        let body = try await decode(LiftBody.self, request)
        guard let id = UUID(uuidString: restriction) else { throw TriageError(code: .notFound, detail: "no restriction \(restriction)") }
        let lifted = try await transaction { engine, context in
            try engine.liftRestriction(id: id, caseNumber: number, reason: body.reason, actor: Self.actor(grant), context: &context)
        }
        return try json(lifted)
    }

    private func verify(_ request: Request) async throws -> Response {
        let grant = try await authenticate(request)
        guard CaseLifecycle.handlers.contains(grant.role) || grant.role == .auditChief else {
            throw TriageError(code: .forbidden, detail: "only incident handlers and the audit chief verify the history")
        }
        let engine = engine
        let result = try await database.withConnection { connection in try engine.store.verifyChain(on: connection) }
        return try json(result, status: result.isIntact ? .ok : .conflict)
    }

    /// A notification link: the signed token names the case and the person; the person's role
    /// for this case is looked up in the directory (chain of the case's section, or CSIRT).
    private func acknowledgeByLink(_ token: String) async throws -> Response {
        guard let claim = AcknowledgementToken.verify(token, secret: ackSecret, now: Date()) else {
            throw TriageError(code: .forbidden, detail: "the acknowledgement link is invalid or expired")
        }
        let record = try await transaction { engine, context in
            guard let found = try engine.store.find(caseNumber: claim.caseNumber, on: context.connection) else {
                throw TriageError(code: .notFound, detail: "no case \(claim.caseNumber)")
            }
            let role = try Self.role(of: claim.personID, for: found, engine: engine, on: context.connection)
            return try engine.perform(.acknowledge, caseNumber: claim.caseNumber, actor: TriageActor(id: "person:\(claim.personID)", role: role), reason: "acknowledged from a notification link", context: &context)
        }
        return try json(record)
    }

    /// The highest role `personID` holds for the case: in its chain, or CSIRT.
    static func role(of personID: String, for record: CaseRecord, engine: TriageEngine, on connection: PostgresConnection) throws -> DirectoryRole? {
        let chain = (try? engine.directory.escalationTargets(sectionCode: record.sectionCode, on: connection)) ?? []
        if let step = chain.last(where: { $0.people.contains { $0.id == personID } }), CaseLifecycle.acknowledgers.contains(step.role) {
            return step.role
        }
        if try engine.directory.people(role: .csirt, on: connection).contains(where: { $0.id == personID }) { return .csirt }
        return chain.last(where: { $0.people.contains { $0.id == personID } })?.role
    }

    // MARK: Plumbing

    static func visibility(_ grant: TokenGrant) -> CaseVisibility {
        grant.unitCode.map(CaseVisibility.unit) ?? .all
    }

    static func actor(_ grant: TokenGrant) -> TriageActor {
        TriageActor(id: "token:\(grant.id.uuidString.lowercased())", role: grant.role)
    }

    func transaction<T: Sendable>(_ body: @escaping @Sendable (TriageEngine, inout TransactionContext) throws -> T) async throws -> T {
        let engine = engine
        let logger = logger
        return try await database.withTransaction { connection in
            var context = TransactionContext(connection: connection, schema: engine.store.schema, logger: logger, now: Date())
            let result = try body(engine, &context)
            try Outbox.enqueue(context.outgoing, schema: engine.store.schema, on: connection)
            return result
        }
    }

    func authenticate(_ request: Request) async throws -> TokenGrant {
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else {
            throw HTTPProblem(status: .unauthorized, title: "A bearer token is required", detail: "Send Authorization: Bearer <token>; `isms token issue` makes one.")
        }
        let token = String(header.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces)
        let tokens = engine.directory.tokens
        guard let grant = try await database.withConnection({ connection in try tokens.verify(token: token, on: connection) }) else {
            throw HTTPProblem(status: .unauthorized, title: "The token is not valid", detail: "The token is unknown, revoked or expired.")
        }
        return grant
    }

    func decode<T: Decodable>(_: T.Type, _ request: Request, allowEmpty: Bool = false) async throws -> T {
        var request = request
        let buffer = try await request.collectBody(upTo: 64 * 1024)
        var bytes = Data(Array(buffer: buffer))
        if bytes.isEmpty && allowEmpty { bytes = Data("{}".utf8) }
        do {
            return try ContractsJSON.decoder().decode(T.self, from: bytes)
        } catch {
            throw TriageError(code: .invalidRequest, detail: "the body does not decode: \(error)")
        }
    }

    func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: try ContractsJSON.encoder().encode(value))))
    }

    func respond(_ body: () async throws -> Response) async throws -> Response {
        do {
            return try await body()
        } catch let problem as HTTPProblem {
            return problem.response
        } catch let error as TriageError {
            let status: HTTPResponse.Status = switch error.code {
            case .notFound: .notFound
            case .forbidden: .forbidden
            case .conflict, .invalidTransition: .conflict
            default: .unprocessableContent
            }
            return HTTPProblem(status: status, title: error.code.description, detail: error.detail).response
        }
    }
}

/// An RFC 9457 problem document.
struct HTTPProblem: Error {
    var status: HTTPResponse.Status
    var title: String
    var detail: String

    var response: Response {
        let body: [String: Any] = ["type": "https://isms.ward.example/problems/\(status.code)", "title": title, "status": status.code, "detail": detail]
        var headers = HTTPFields()
        headers[.contentType] = "application/problem+json"
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer" }
        let data = (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
