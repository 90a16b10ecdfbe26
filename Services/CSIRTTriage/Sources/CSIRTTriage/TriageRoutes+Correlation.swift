import Contracts
import Foundation
import Hummingbird
import ServiceRuntime

/// CSIRT's hands on correlation (issue #16; Art. 27: one incident, one case with its whole
/// history): merge a case into another, or split a report a rule joined wrongly out into a case
/// of its own. The engine decides who may and when; refusals are its ``TriageError``s.
///
/// - `POST /v1/cases/{caseNumber}/merge` `{"into": "INC-…", "reason"}` → 200, the survivor
/// - `POST /v1/cases/{caseNumber}/split` `{"sourceKind", "sourceId", "reason"}` → 201, the new case
extension TriageRoutes {
    struct MergeBody: Decodable {
        var into: String
        var reason: String
    }

    struct SplitBody: Decodable {
        enum Kind: String, Decodable { case incidentReport = "incident-report", contractorViolation = "contractor-violation" }
        var sourceKind: Kind
        var sourceId: String
        var reason: String
    }

    /// The longest source id a request may name, in code points (as JSON Schema counts).
    static let maxSourceIDLength = 100

    func addCorrelation(to routes: APIRoutes) {
        routes.post("/v1/cases/:number/merge") { request, context in
            let body = try await request.decodeJSON(as: MergeBody.self, context: context)
            let (grant, number) = (try context.requireGrant(), context.text("number"))
            let survivor = try await transaction { engine, transaction in
                // The engine acts ward-wide (only ward-wide roles may merge); a token bound to a
                // unit still never reaches a case it cannot see.
                for visible in [number, body.into] { _ = try Self.visibleCase(visible, grant, engine, transaction.connection) }
                return try engine.merge(caseNumber: number, into: body.into, actor: Self.actor(grant), reason: body.reason, context: &transaction)
            }
            return try APIResponse.json(survivor)
        }
        routes.post("/v1/cases/:number/split") { request, context in
            let body = try await request.decodeJSON(as: SplitBody.self, context: context)
            let (grant, number) = (try context.requireGrant(), context.text("number"))
            guard (1...Self.maxSourceIDLength).contains(body.sourceId.unicodeScalars.count) else {
                throw TriageError(code: .invalidRequest, detail: "sourceId must be 1 to \(Self.maxSourceIDLength) characters")
            }
            // Intake ids are lowercase UUIDs; one typed in capitals names the same report.
            let id = UUID(uuidString: body.sourceId)?.lowercasedString ?? body.sourceId
            let source = CaseSource(kind: body.sourceKind.rawValue, id: id)
            let opened = try await transaction { engine, transaction in
                _ = try Self.visibleCase(number, grant, engine, transaction.connection)
                return try engine.split(source: source, outOf: number, actor: Self.actor(grant), reason: body.reason, context: &transaction)
            }
            return try APIResponse.json(opened, status: .created)
        }
    }
}
