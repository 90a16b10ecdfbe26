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

    func addDigest(to router: Router<BasicRequestContext>) {
        router.post("/v1/digests") { request, _ in
            try await respond { try await sendDigest(request) }
        }
    }

    private func sendDigest(_ request: Request) async throws -> Response {
        let grant = try await authenticate(request)
        guard CaseLifecycle.handlers.contains(grant.role) else {
            throw TriageError(code: .forbidden, detail: "only incident handlers send the digest")
        }
        let days = try await decode(DigestBody.self, request, allowEmpty: true).days ?? 7
        guard (1...366).contains(days) else { throw TriageError(code: .invalidRequest, detail: "days must be 1 to 366") }
        let digest = try await transaction { engine, context in
            try engine.sendDigest(periodStart: context.now.addingTimeInterval(-Double(days) * 86_400), every: nil, context: &context)
        }
        return try json(digest, status: .created)
    }
}
