import Contracts
import Directory
import Foundation
import Hummingbird
import Logging
import NIOCore

import Postgres

/// The operators' HTTP API (issue #5 item 9), bearer tokens from the directory. Ward-wide
/// operator roles only: CSIRT, the general security manager and officer, the system
/// administrator and the CISO.
///
/// - `GET /v1/notifications?state=&eventId=&recipient=&limit=`
/// - `GET /v1/notifications/{id}` (with its delivery log)
/// - `POST /v1/notifications/{id}/retry`
/// - `GET /v1/silences?all=true`, `POST /v1/silences`, `POST /v1/silences/{id}/expire`
struct NotifierRoutes: Sendable {
    let operations: NotifierOperations
    let database: PostgresPool
    let directory: DirectoryStore
    let logger: Logger

    static let operatorRoles: Set<DirectoryRole> = [.csirt, .generalSecurityManager, .generalSecurityOfficer, .generalSystemAdministrator, .ciso]

    /// The body of `POST /v1/silences`.
    struct SilenceRequest: Decodable {
        var matchers: [String]
        var endsAt: Date?
        var duration: String?
        var reason: String
        var includeSeverity1: Bool?
    }

    func add(to router: Router<BasicRequestContext>) {
        router.get("/v1/notifications") { request, _ in
            try await authorised(request) { _ in
                let query = request.uri.queryParameters
                let state = query.get("state").map { String($0) }
                let eventID = query.get("eventId").map { String($0) }
                let recipient = query.get("recipient").map { String($0) }
                let limit = query.get("limit", as: Int.self) ?? 50
                let records = try await database.withConnection { connection in
                    try operations.notifications(state: state, eventID: eventID, recipient: recipient, limit: limit, on: connection)
                }
                return try json(.ok, ["notifications": records])
            }
        }
        router.get("/v1/notifications/:id") { request, context in
            try await authorised(request) { _ in
                guard let id = context.parameters.get("id", as: Int64.self) else { return problem(.notFound, "No such notification") }
                let found = try await database.withConnection { connection in try operations.notification(id: id, on: connection) }
                guard let found else { return problem(.notFound, "No such notification") }
                return try json(.ok, Detail(notification: found.record, log: found.log))
            }
        }
        router.post("/v1/notifications/:id/retry") { request, context in
            try await authorised(request) { grant in
                guard let id = context.parameters.get("id", as: Int64.self) else { return problem(.notFound, "No such notification") }
                do {
                    let record = try await database.withTransaction { connection in
                        try operations.retry(id: id, by: "token:\(grant.label)", on: connection)
                    }
                    return try json(.accepted, record)
                } catch let error as NotifierError {
                    return problem(error.code == .notFound ? .notFound : .conflict, error.detail)
                }
            }
        }
        addVerification(to: router)
        router.get("/v1/silences") { request, _ in
            try await authorised(request) { _ in
                let all = request.uri.queryParameters.get("all") == "true"
                let silences = try await database.withConnection { connection in try operations.silences(includeExpired: all, on: connection) }
                return try json(.ok, ["silences": silences])
            }
        }
        router.post("/v1/silences") { request, context in
            try await authorised(request) { grant in
                var request = request
                let body = try await request.collectBody(upTo: 64 * 1024)
                let parsed: SilenceRequest
                do {
                    parsed = try ContractsJSON.decoder().decode(SilenceRequest.self, from: Data(body.readableBytesView))
                } catch {
                    return problem(.badRequest, "The body must be {\"matchers\": [...], \"endsAt\" or \"duration\", \"reason\"}: \(error)")
                }
                do {
                    let matchers = try parsed.matchers.map { text throws(NotifierError) in try NotificationRouting.Matcher(parsing: text) }
                    let now = Date()
                    guard let endsAt = parsed.endsAt ?? parsed.duration.flatMap(NotifierDurations.parse).map({ now.addingTimeInterval($0.secondsValue) }) else {
                        return problem(.badRequest, "Give endsAt (RFC 3339) or duration (such as 2h)")
                    }
                    let silence = try await database.withTransaction { connection in
                        try operations.addSilence(
                            matchers: matchers, endsAt: endsAt, reason: parsed.reason, createdBy: "token:\(grant.label)",
                            includeSeverity1: parsed.includeSeverity1 ?? false, now: now, on: connection)
                    }
                    logger.info("silence added", metadata: ["notifier.silence": "\(silence.id)", "token.id": "\(grant.id)"])
                    return try json(.created, silence)
                } catch let error as NotifierError {
                    return problem(.unprocessableContent, error.detail)
                }
            }
        }
        router.post("/v1/silences/:id/expire") { request, context in
            try await authorised(request) { grant in
                guard let id = context.parameters.get("id", as: UUID.self) else { return problem(.notFound, "No such silence") }
                do {
                    let silence = try await database.withTransaction { connection in
                        try operations.expireSilence(id: id, by: "token:\(grant.label)", on: connection)
                    }
                    return try json(.ok, silence)
                } catch let error as NotifierError {
                    return problem(.notFound, error.detail)
                }
            }
        }
    }

    struct Detail: Encodable {
        var notification: NotificationRecord
        var log: [DeliveryLogEntry]
    }

    func authorised(_ request: Request, _ body: (TokenGrant) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else {
            return problem(.unauthorized, "A bearer token is required")
        }
        let token = String(header.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces)
        let directory = directory
        let grant = try await database.withConnection { connection in try directory.tokens.verify(token: token, on: connection) }
        guard let grant else { return problem(.unauthorized, "The token is unknown, revoked or expired") }
        guard Self.operatorRoles.contains(grant.role) else { return problem(.forbidden, "Only ward-wide operator roles may manage notifications") }
        return try await body(grant)
    }

    func json(_ status: HTTPResponse.Status, _ value: some Encodable) throws -> Response {
        let encoder = ContractsJSON.encoder()
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
    }

    func problem(_ status: HTTPResponse.Status, _ detail: String) -> Response {
        let body: [String: Any] = ["type": "https://isms.ward.example/problems/\(status.code)", "title": status.reasonPhrase, "status": status.code, "detail": detail]
        var headers = HTTPFields()
        headers[.contentType] = "application/problem+json"
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer" }
        let data = (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data()
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
