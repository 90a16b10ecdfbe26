import Directory
import Hummingbird

/// The operators' dead-letter API that every service's runtime serves for its own work queues
/// (issue #17 item 5); ward-wide operator roles only (``OperatorRoles``). `queue` is a work
/// queue of this service; another service's queue is answered 404, since its dead letters are
/// that service's to serve.
///
/// - `GET /v1/dead-letters?queue=&limit=` — the head of `<queue>.dlq` (no cursor: a queue has
///   no key to resume from; `depth` says how many there are)
/// - `GET /v1/dead-letters/{messageId}?queue=` — one, with every header and the masked body
/// - `POST /v1/dead-letters/{messageId}/replay?queue=` — back to where it was first sent
/// - `POST /v1/dead-letters/{messageId}/discard?queue=` with `{"reason": "..."}` — recorded, removed
public struct DeadLetterRoutes: Sendable {
    let deadLetters: DeadLetters

    public init(deadLetters: DeadLetters) {
        self.deadLetters = deadLetters
    }

    /// The body of a discard; a missing or blank reason is refused by the rule (422), not as malformed.
    struct DiscardRequest: Decodable {
        var reason: String?
    }

    public func add(to routes: APIRoutes) {
        let deadLetters = deadLetters
        routes.get("/v1/dead-letters") { request, context in
            _ = try OperatorRoles.grant(context, doing: "read dead letters")
            let query = APIQuery(request)
            let queue = try Self.queue(query)
            let limit = try query.int("limit", in: 1...PageRequest.maximumLimit) ?? PageRequest.defaultLimit
            _ = try deadLetters.deadLetterQueue(queue)
            return try APIResponse.json(try await deadLetters.list(queue: queue, limit: limit))
        }
        routes.get("/v1/dead-letters/:messageId") { request, context in
            _ = try OperatorRoles.grant(context, doing: "read dead letters")
            let queue = try Self.queue(APIQuery(request))
            return try APIResponse.json(try await deadLetters.show(queue: queue, messageID: context.text("messageId")))
        }
        routes.post("/v1/dead-letters/:messageId/replay") { request, context in
            let grant = try OperatorRoles.grant(context, doing: "replay dead letters")
            let queue = try Self.queue(APIQuery(request))
            let outcome = try await deadLetters.replay(queue: queue, messageID: context.text("messageId"), by: "token:\(grant.label)")
            return try APIResponse.json(outcome)
        }
        routes.post("/v1/dead-letters/:messageId/discard") { request, context in
            let grant = try OperatorRoles.grant(context, doing: "discard dead letters")
            let queue = try Self.queue(APIQuery(request))
            _ = try deadLetters.deadLetterQueue(queue)
            let body = try await request.decodeJSON(as: DiscardRequest.self, context: context)
            let outcome = try await deadLetters.discard(queue: queue, messageID: context.text("messageId"), reason: body.reason ?? "", by: "token:\(grant.label)")
            return try APIResponse.json(outcome)
        }
    }

    /// The required `queue` parameter.
    static func queue(_ query: APIQuery) throws(APIProblem) -> String {
        guard let queue = try query.string("queue"), !queue.isEmpty else {
            throw .badRequest("queue is required: the work queue whose dead letters to work (see `isms status`).")
        }
        return queue
    }
}
