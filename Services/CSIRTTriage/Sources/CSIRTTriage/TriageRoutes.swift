import Acknowledgement
import Contracts
import Directory
import Foundation
import Hummingbird
import Logging
import Postgres
public import ServiceRuntime

/// The CSIRT HTTP API (issue #4 item 9). Every request but the acknowledgement link carries a
/// bearer token (Directory tokens); a department or section sees only its own cases, ward-wide
/// roles see all.
///
/// - `GET  /v1/cases[?state=&severity=&section=&department=&category=&assignee=&from=&to=&q=&acknowledged=&limit=&cursor=]` — list
/// - `GET  /v1/restrictions[?status=]` — use restrictions across cases (the approvers only)
/// - `GET  /v1/cases/{caseNumber}` — the case, its reports (the first 1000), obligations and history
/// - `POST /v1/cases/{caseNumber}/merge` `{"into", "reason"}`; `POST .../split` `{"sourceKind", "sourceId", "reason"}` (issue #16)
/// - `POST /v1/cases/{caseNumber}/qualification` `{"decision": "incident"|"not-incident", "reason"}`
/// - `POST /v1/cases/{caseNumber}/acknowledgement` `{"reason"?}`
/// - `POST /v1/cases/{caseNumber}/transitions` `{"action": "investigate"|..., "reason"?}`; `close` also needs
///   `"lessons": {"cause", "measures": [{"description", "ownerRole", "ownerUnit", "dueDate"}], "erpChange": {"needed", "note"?}}` (issue #18)
/// - `GET  /v1/reports/lessons?from=&to=` — cases closed in the period with their lessons (ward-wide roles)
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

    func add(to routes: APIRoutes) {
        routes.get("/v1/cases") { request, context in try await list(request, grant: context.requireGrant()) }
        routes.get("/v1/cases/:number") { _, context in try await show(context.text("number"), grant: context.requireGrant()) }
        routes.post("/v1/cases/:number/qualification") { request, context in
            let body = try await request.decodeJSON(as: QualifyBody.self, context: context)
            return try await perform(
                context.requireGrant(), number: context.text("number"), action: body.decision == .incident ? .confirm : .discard, reason: body.reason)
        }
        routes.post("/v1/cases/:number/acknowledgement") { request, context in
            let body = try await request.decodeJSON(as: ActBody.self, context: context, allowEmpty: true)
            return try await perform(context.requireGrant(), number: context.text("number"), action: .acknowledge, reason: body.reason)
        }
        routes.post("/v1/cases/:number/transitions") { request, context in
            let body = try await request.decodeJSON(as: ActBody.self, context: context)
            guard let action = body.action else { throw APIProblem.badRequest("/action is required.") }
            return try await perform(context.requireGrant(), number: context.text("number"), action: action, reason: body.reason, lessons: body.lessons)
        }
        routes.post("/v1/cases/:number/comments") { request, context in
            let body = try await request.decodeJSON(as: CommentBody.self, context: context)
            let grant = try context.requireGrant()
            try await transaction { engine, transaction in
                try engine.comment(body.text, caseNumber: context.text("number"), actor: Self.actor(grant), visibility: Self.visibility(grant), context: &transaction)
            }
            return Response(status: .noContent)
        }
        routes.put("/v1/cases/:number/verdicts") { request, context in
            let body = try await request.decodeJSON(as: VerdictsBody.self, context: context)
            let grant = try context.requireGrant()
            return try APIResponse.json(try await transaction { engine, transaction in
                try engine.updateVerdicts(
                    body.verdicts, affectedPersons: body.affectedPersons, caseNumber: context.text("number"), actor: Self.actor(grant), reason: body.reason,
                    context: &transaction)
            })
        }
        routes.get("/v1/cases/:number/obligations") { _, context in
            let grant = try context.requireGrant()
            let engine = engine
            let list = try await database.withConnection { connection in
                try engine.obligations(caseID: try Self.visibleCase(context.text("number"), grant, engine, connection).id, on: connection)
            }
            return try APIResponse.json(["obligations": list])
        }
        routes.post("/v1/cases/:number/obligations/:id/filing") { request, context in
            let body = try await request.decodeJSON(as: FilingBody.self, context: context)
            let (grant, id) = (try context.requireGrant(), try context.uuid("id", "obligation"))
            return try APIResponse.json(try await transaction { engine, transaction in
                try engine.fileObligation(caseNumber: context.text("number"), obligationID: id, reference: body.reference, actor: Self.actor(grant), context: &transaction)
            })
        }
        routes.post("/v1/cases/:number/assignees") { request, context in
            let body = try await request.decodeJSON(as: AssignBody.self, context: context)
            let grant = try context.requireGrant()
            let assignees = try await transaction { engine, transaction in
                try engine.assign(personID: body.personId, caseNumber: context.text("number"), actor: Self.actor(grant), reason: body.reason, context: &transaction)
            }
            return try APIResponse.json(["assignees": assignees], status: .created)
        }
        routes.delete("/v1/cases/:number/assignees/:person") { _, context in
            let grant = try context.requireGrant()
            let assignees = try await transaction { engine, transaction in
                try engine.assign(
                    personID: context.text("person"), assign: false, caseNumber: context.text("number"), actor: Self.actor(grant), reason: nil, context: &transaction)
            }
            return try APIResponse.json(["assignees": assignees])
        }
        routes.post("/v1/cases/:number/restrictions") { request, context in
            let order = try await request.decodeJSON(as: UseRestrictionOrder.self, context: context)
            let grant = try context.requireGrant()
            return try APIResponse.json(
                try await transaction { engine, transaction in
                    try engine.orderRestriction(order, caseNumber: context.text("number"), actor: Self.actor(grant), context: &transaction)
                }, status: .created)
        }
        routes.post("/v1/cases/:number/restrictions/:id/decision") { request, context in
            let body = try await request.decodeJSON(as: DecisionBody.self, context: context)
            let (grant, id) = (try context.requireGrant(), try context.uuid("id", "restriction"))
            return try APIResponse.json(try await transaction { engine, transaction in
                try engine.decideRestriction(
                    id: id, caseNumber: context.text("number"), approve: body.decision == .approve, reason: body.reason, actor: Self.actor(grant),
                    context: &transaction)
            })
        }
        routes.post("/v1/cases/:number/restrictions/:id/lifting") { request, context in
            let body = try await request.decodeJSON(as: LiftBody.self, context: context)
            let (grant, id) = (try context.requireGrant(), try context.uuid("id", "restriction"))
            return try APIResponse.json(try await transaction { engine, transaction in
                try engine.liftRestriction(id: id, caseNumber: context.text("number"), reason: body.reason, actor: Self.actor(grant), context: &transaction)
            })
        }
        addCorrelation(to: routes)
        routes.get("/v1/restrictions") { request, context in try await restrictions(request, grant: context.requireGrant()) }
        routes.get("/v1/history/verification") { _, context in try await verify(grant: context.requireGrant()) }
        routes.post("/v1/acknowledgements/:token", access: .open) { _, context in try await acknowledgeByLink(context.text("token")) }
        // Opening the link from a mail is a GET, and mail scanners fetch links on their own:
        // the GET only shows a page whose button POSTs, so nothing is acknowledged by a preview.
        routes.get("/v1/acknowledgements/:token", access: .open) { _, context in Self.acknowledgementPage(token: context.text("token")) }
        addDigest(to: routes)
        addLessons(to: routes)
        addStatistics(to: routes)
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

    private func list(_ request: Request, grant: TokenGrant) async throws -> Response {
        let query = APIQuery(request)
        let page = try PageRequest(query)
        let filter = try Self.caseFilter(query)
        let after = try page.after.map { cursor throws(APIProblem) in
            guard let openedAt = cursor.time(0), let number = cursor[1] else { throw .badRequest("cursor is not one this API gave out.") }
            return (openedAt: openedAt, caseNumber: number)
        }
        let engine = engine
        let cases = try await database.withConnection { connection in
            try engine.store.list(visibility: Self.visibility(grant), filter: filter, limit: page.limit + 1, after: after, on: connection)
        }
        let (items, next) = page.page(cases) { PageCursor(time: $0.openedAt, id: $0.caseNumber) }
        return try APIResponse.page(items, key: "cases", next: next)
    }

    /// The list's filters from the query (`GET /v1/cases`); an unknown state or category, a
    /// severity outside 1-4, a time that is not RFC 3339 or a value given twice is a 400.
    static func caseFilter(_ query: APIQuery) throws(APIProblem) -> CaseListFilter {
        let text = try query.string("q")
        // Counted in code points, as JSON Schema's maxLength does (not grapheme clusters: a
        // letter with ten combining marks is one Character and eleven code points).
        if let text, text.unicodeScalars.count > 200 { throw .badRequest("q is at most 200 characters.") }
        let source = try query.string("source")
        if let source, source.unicodeScalars.count > 100 { throw .badRequest("source is at most 100 characters.") }
        return CaseListFilter(
            state: try query.value("state", as: CaseState.self), severity: try query.int("severity", in: 1...4),
            sectionCode: try query.string("section"), departmentCode: try query.string("department"),
            category: try query.value("category", as: IncidentCategory.self), assignee: try query.string("assignee"),
            openedFrom: try query.time("from"), openedBefore: try query.time("to"), titleContains: text?.isEmpty == true ? nil : text,
            acknowledged: try query.bool("acknowledged"), sourceID: source)
    }

    struct CaseDetail: Encodable {
        var `case`: CaseRecord
        var assignees: [CaseAssignee]
        var restrictions: [UseRestriction]
        var obligations: [CaseObligation]
        var history: [CaseHistoryEntry]
        /// The life-cycle actions this token's role may take from the case's state (a form
        /// offers only these; a reason the action needs is still asked for).
        var allowedActions: [CaseAction]
        /// Whether this case's history rows are unedited and linked into the chain.
        var historyVerified: Bool
        /// The case's reports, oldest first: at most ``reportsShown``; `case.reportCount` is
        /// the total (a storm's case may hold 100,000, issue #16).
        var reports: [CaseReport]
        /// The lessons of the latest closing (issue #18; Art. 27(1), 27(2)); nil when never closed.
        var lessons: CaseLessons?
        /// Those of earlier closings of a case reopened since, newest first.
        var earlierLessons: [CaseLessons]
    }

    /// How many of a case's reports its detail lists (the store's own bound of one read).
    static let reportsShown = 1000

    private func show(_ number: String, grant: TokenGrant) async throws -> Response {
        let engine = engine
        let detail = try await database.withConnection { connection -> CaseDetail in
            let record = try Self.visibleCase(number, grant, engine, connection)
            let lessons = try engine.lessons(caseID: record.id, on: connection)
            return CaseDetail(
                case: record, assignees: try engine.assignees(caseID: record.id, on: connection),
                restrictions: try engine.restrictions(caseID: record.id, on: connection),
                obligations: try engine.obligations(caseID: record.id, on: connection),
                history: try engine.store.history(caseID: record.id, on: connection),
                allowedActions: CaseLifecycle.allowedActions(state: record.state, qualification: record.qualification, role: grant.role),
                historyVerified: try engine.store.verifyHistory(caseID: record.id, on: connection),
                reports: Array(try engine.caseReports(caseID: record.id, on: connection).prefix(Self.reportsShown)),
                lessons: lessons.first, earlierLessons: Array(lessons.dropFirst()))
        }
        return try APIResponse.json(detail)
    }

    /// Use restrictions across the cases this token sees, oldest order first: the approvers'
    /// "decisions waiting for you" (Art. 27(3)); nobody else decides, so nobody else lists.
    private func restrictions(_ request: Request, grant: TokenGrant) async throws -> Response {
        guard UseRestriction.approvers.contains(grant.role) else {
            throw TriageError(code: .forbidden, detail: "Only the CISO and the general security officer decide on use restrictions (Art. 27(3)).")
        }
        let query = APIQuery(request)
        let page = try PageRequest(query)
        let status = try query.value("status", as: UseRestriction.Status.self)
        let after = try page.afterTimeAndID()
        let engine = engine
        let found = try await database.withConnection { connection in
            try engine.restrictions(
                status: status, unit: grant.unitCode, limit: page.limit + 1, after: after.map { (orderedAt: $0.0, id: $0.1) }, on: connection)
        }
        let (items, next) = page.page(found) { PageCursor(time: $0.restriction.orderedAt, id: $0.restriction.id.lowercasedString) }
        return try APIResponse.page(items, key: "restrictions", next: next)
    }

    /// The case, if the grant may see it; otherwise the same 404 as for a missing one.
    static func visibleCase(_ number: String, _ grant: TokenGrant, _ engine: TriageEngine, _ connection: PostgresConnection) throws -> CaseRecord {
        guard let record = try engine.store.find(caseNumber: number, on: connection),
            visibility(grant).allows(sectionCode: record.sectionCode, departmentCode: record.departmentCode)
        else { throw TriageError(code: .notFound, detail: "No case \(number) is visible to this token.") }
        return record
    }

    struct QualifyBody: Decodable {
        var decision: CaseQualification
        var reason: String?
    }

    struct ActBody: Decodable {
        var action: CaseAction?
        var reason: String?
        /// Closing only (issue #18).
        var lessons: LessonsDraft?
    }

    private func perform(_ grant: TokenGrant, number: String, action: CaseAction, reason: String?, lessons: LessonsDraft? = nil) async throws -> Response {
        let record = try await transaction { engine, context in
            try engine.perform(
                action, caseNumber: number, actor: Self.actor(grant), reason: reason, lessons: lessons, visibility: Self.visibility(grant), context: &context)
        }
        return try APIResponse.json(record)
    }

    struct CommentBody: Decodable {
        var text: String
    }

    struct VerdictsBody: Decodable {
        var verdicts: StatutoryVerdicts
        var affectedPersons: AffectedPersons?
        var reason: String
    }

    struct FilingBody: Decodable {
        var reference: String
    }

    struct AssignBody: Decodable {
        var personId: String
        var reason: String?
    }

    struct DecisionBody: Decodable {
        enum Decision: String, Decodable { case approve, reject }
        var decision: Decision
        var reason: String?
    }

    struct LiftBody: Decodable {
        var reason: String
    }

    private func verify(grant: TokenGrant) async throws -> Response {
        guard CaseLifecycle.handlers.contains(grant.role) || grant.role == .auditChief else {
            throw TriageError(code: .forbidden, detail: "Only incident handlers and the audit chief verify the history.")
        }
        let engine = engine
        let result = try await database.withConnection { connection in try engine.store.verifyChain(on: connection) }
        return try APIResponse.json(result, status: result.isIntact ? .ok : .conflict)
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
        return try APIResponse.json(record)
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
        TriageActor(id: "token:\(grant.id.lowercasedString)", role: grant.role)
    }

    func transaction<T: Sendable>(_ body: @escaping @Sendable (TriageEngine, inout TransactionContext) throws -> T) async throws -> T {
        let engine = engine
        return try await database.withTransaction(emittingAs: .csirtTriage, schema: engine.store.schema, logger: logger) { context in
            try body(engine, &context)
        }
    }
}

extension TriageError: APIProblemConvertible {
    public var problem: APIProblem {
        switch code {
        case .notFound: .notFound(detail)
        case .forbidden: .forbidden(detail)
        case .conflict: .conflict(detail)
        case .invalidTransition: APIProblem(.conflict, title: "Not allowed in the case's current state", detail: detail)
        case .invalidRequest where !fieldProblems.isEmpty:
            APIProblem(
                .unprocessableContent, title: "Refused by a rule", detail: detail,
                extensions: ["errors": .array(fieldProblems.map { ["field": .string($0.field), "code": .string($0.code), "message": .string($0.message)] })])
        default: .unprocessable(detail)
        }
    }
}
