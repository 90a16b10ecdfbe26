import Foundation
import Hummingbird
import Postgres
import ServiceRuntime

/// `GET /v1/delivery-log/verification`: checks the delivery log's hash chain. Answers
/// `{"intact", "entries", "firstBroken"?}`, 200 when intact and 409 naming the first broken
/// row otherwise; ward-wide operator roles only. `isms notifications verify` calls it.
extension NotifierRoutes {
    struct DeliveryLogVerification: Encodable {
        var intact: Bool
        var entries: Int
        var firstBroken: Int64?
    }

    func addVerification(to routes: APIRoutes) {
        routes.get("/v1/delivery-log/verification") { _, context in
            _ = try operatorGrant(context)
            let operations = operations
            let result = try await database.withConnection { connection in try operations.verifyDeliveryLog(on: connection) }
            let body = DeliveryLogVerification(intact: result.firstBroken == nil, entries: result.entries, firstBroken: result.firstBroken)
            return try APIResponse.json(body, status: body.intact ? .ok : .conflict)
        }
    }
}
