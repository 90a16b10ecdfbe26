import Contracts
import Directory
import Foundation
import Hummingbird
import ServiceRuntime

/// `POST /v1/digests` `{"days"?: 7}`: sends the masked incident digest (Art. 10, 16(7)) to every
/// section's security staff now, covering the cases opened in the last `days` days (1 to 366).
/// Incident handlers only; the periodic digest runs on its own timer. `isms incidents digest`
/// calls it.
extension TriageRoutes {
    struct DigestBody: Decodable {
        var days: Int?
    }

    func addDigest(to routes: APIRoutes) {
        routes.post("/v1/digests") { request, context in
            let grant = try context.requireGrant()
            guard CaseLifecycle.handlers.contains(grant.role) else {
                throw TriageError(code: .forbidden, detail: "Only incident handlers send the digest.")
            }
            let days = try await request.decodeJSON(as: DigestBody.self, context: context, allowEmpty: true).days ?? 7
            guard (1...366).contains(days) else { throw TriageError(code: .invalidRequest, detail: "days must be 1 to 366") }
            let digest = try await transaction { engine, transaction in
                try engine.sendDigest(periodStart: transaction.now.addingTimeInterval(-Double(days) * 86_400), every: nil, context: &transaction)
            }
            return try APIResponse.json(digest, status: .created)
        }
    }
}
