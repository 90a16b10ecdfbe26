import Contracts
import Directory
import Foundation
import Hummingbird
import Logging
import Postgres
public import ServiceRuntime

/// The operators' HTTP API (issue #5 item 9), bearer tokens from the directory. Ward-wide
/// operator roles only: CSIRT, the general security manager and officer, the system
/// administrator and the CISO.
///
/// - `GET /v1/notifications?state=&eventId=&recipient=&caseNumber=&limit=` (`caseNumber`: what a
///   case page shows; the incident handlers, CSIRT, the CISO and the general security officer
///   and manager, are operator roles already)
/// - `GET /v1/notifications/{id}` (with its delivery log)
/// - `POST /v1/notifications/{id}/retry`
/// - `GET /v1/silences?all=true`, `POST /v1/silences`, `POST /v1/silences/{id}/expire`
struct NotifierRoutes: Sendable {
    let operations: NotifierOperations
    let database: PostgresPool
    let directory: DirectoryStore
    let logger: Logger

    static let operatorRoles = OperatorRoles.all

    /// The body of `POST /v1/silences`.
    struct SilenceRequest: Decodable {
        var matchers: [String]
        var endsAt: Date?
        var duration: String?
        var reason: String
        var includeSeverity1: Bool?
    }

    func add(to routes: APIRoutes) {
        routes.get("/v1/notifications") { request, context in
            _ = try operatorGrant(context)
            let query = APIQuery(request)
            let page = try PageRequest(query)
            let before = try page.after.map { cursor throws(APIProblem) in
                guard let id = cursor[0].flatMap(Int64.init) else { throw .badRequest("cursor is not one this API gave out.") }
                return id
            }
            let state = try query.string("state", oneOf: ["queued", "sending", "sent", "failed", "acknowledged", "silenced", "grouped", "cancelled"])
            let (eventID, recipient, caseNumber) = (try query.string("eventId"), try query.string("recipient"), try query.string("caseNumber"))
            let records = try await database.withConnection { connection in
                try operations.notifications(
                    state: state, eventID: eventID, recipient: recipient, caseNumber: caseNumber, limit: page.limit + 1, before: before, on: connection)
            }
            let (items, next) = page.page(records) { PageCursor([String($0.id)]) }
            return try APIResponse.page(items, key: "notifications", next: next)
        }
        routes.get("/v1/notifications/:id") { _, context in
            _ = try operatorGrant(context)
            let id = try Self.notificationID(context)
            guard let found = try await database.withConnection({ connection in try operations.notification(id: id, on: connection) }) else {
                throw APIProblem.notFound("No notification \(id).")
            }
            return try APIResponse.json(Detail(notification: found.record, log: found.log))
        }
        routes.post("/v1/notifications/:id/retry") { _, context in
            let grant = try operatorGrant(context)
            let id = try Self.notificationID(context)
            let record = try await database.withTransaction { connection in
                try operations.retry(id: id, by: "token:\(grant.label)", on: connection)
            }
            return try APIResponse.json(record, status: .accepted)
        }
        routes.get("/v1/silences") { request, context in
            _ = try operatorGrant(context)
            let query = APIQuery(request)
            let (all, page) = (try query.bool("all") ?? false, try PageRequest(query))
            let after = try page.afterTimeAndID()
            let silences = try await database.withConnection { connection in
                try operations.silences(includeExpired: all, limit: page.limit + 1, after: after.map { ($0.0, $0.1) }, on: connection)
            }
            let (items, next) = page.page(silences) { PageCursor(time: $0.createdAt, id: $0.id.lowercasedString) }
            return try APIResponse.page(items, key: "silences", next: next)
        }
        routes.post("/v1/silences") { request, context in
            let grant = try operatorGrant(context)
            let body = try await request.decodeJSON(as: SilenceRequest.self, context: context)
            let matchers = try body.matchers.map { text throws(NotifierError) in try NotificationRouting.Matcher(parsing: text) }
            let now = Date()
            guard let endsAt = body.endsAt ?? body.duration.flatMap(NotifierDurations.parse).map({ now.addingTimeInterval($0.secondsValue) }) else {
                throw APIProblem.unprocessable("Give endsAt (RFC 3339) or duration (such as 2h).")
            }
            let silence = try await database.withTransaction { connection in
                try operations.addSilence(
                    matchers: matchers, endsAt: endsAt, reason: body.reason, createdBy: "token:\(grant.label)",
                    includeSeverity1: body.includeSeverity1 ?? false, now: now, on: connection)
            }
            logger.info("silence added", metadata: ["notifier.silence": "\(silence.id)", "token.id": "\(grant.id)"])
            return try APIResponse.json(silence, status: .created)
        }
        routes.post("/v1/silences/:id/expire") { _, context in
            let grant = try operatorGrant(context)
            let id = try context.uuid("id", "silence")
            let silence = try await database.withTransaction { connection in
                try operations.expireSilence(id: id, by: "token:\(grant.label)", on: connection)
            }
            return try APIResponse.json(silence)
        }
        addVerification(to: routes)
    }

    struct Detail: Encodable {
        var notification: NotificationRecord
        var log: [DeliveryLogEntry]
    }

    /// The grant, if its role is one of the ward-wide operator roles.
    func operatorGrant(_ context: APIRequestContext) throws -> TokenGrant {
        let grant = try context.requireGrant()
        guard Self.operatorRoles.contains(grant.role) else { throw APIProblem.forbidden("Only ward-wide operator roles may manage notifications.") }
        return grant
    }

    private static func notificationID(_ context: APIRequestContext) throws(APIProblem) -> Int64 {
        guard let id = context.parameters.get("id", as: Int64.self) else { throw .notFound("No notification \(context.text("id")).") }
        return id
    }
}

extension NotifierError: APIProblemConvertible {
    public var problem: APIProblem {
        switch code {
        case .notFound: .notFound(detail)
        case .invalidState: .conflict(detail)
        default: .unprocessable(detail)
        }
    }
}
