import Contracts
import Directory
import Foundation
import Hummingbird
import Logging
import NIOCore
import Postgres
import ServiceRuntime

/// The contractor registry's HTTP API (issue #7 item 6, documented in docs/openapi.yaml).
/// Every request carries a bearer token bound to a role and a unit (``ContractorAccess``).
///
/// - `GET /v1/contractor-baseline`: the baseline profile and the six checklists
/// - `GET|POST /v1/contractors`, `GET /v1/contractors/{id}`, `PUT /v1/contractors/{id}/profile`,
///   `POST /v1/contractors/{id}/certifications`
/// - `GET|POST /v1/contracts`, `GET /v1/contracts/{id}`
/// - `GET|POST /v1/contracts/{id}/subcontracts` (the chain gate, Art. 6(3))
/// - `POST /v1/contracts/{id}/attestations` (Art. 28), `POST /v1/contracts/{id}/return-certificate`,
///   `POST /v1/contracts/{id}/unapproved-subcontractors`, `POST /v1/contracts/{id}/evidence`
/// - `GET /v1/contractor-violations`, `POST /v1/contractor-violations/{id}/resolve`
/// - `GET /v1/contractor-measures` (Art. 11(5)(8)), `GET /v1/subcontract-decisions/verify`
struct ContractorRoutes: Sendable {
    let registry: ContractorRegistry
    let database: PostgresPool
    let logger: Logger
    let clock: @Sendable () -> Date

    static let maximumBodyBytes = 256 * 1024

    func add(to router: Router<BasicRequestContext>) {
        router.get("/v1/contractor-baseline") { request, _ in
            try await handle(request) { _, _ in
                (.ok, try encode(registry.baseline))
            }
        }
        router.get("/v1/contractors") { request, _ in
            try await handle(request) { grant, _ in
                guard ContractorAccess.scope(for: grant) != nil else { throw forbidden() }
                let registry = registry
                let contractors = try await database.withConnection { try registry.contractors(on: $0) }
                return (.ok, try encode(["contractors": contractors]))
            }
        }
        router.post("/v1/contractors") { request, _ in
            try await handle(request) { grant, body in
                guard ContractorAccess.canManageContractors(grant) else { throw forbidden() }
                let input = try decode(ContractorRegistry.ContractorInput.self, body)
                let (registry, now) = (registry, clock())
                let contractor = try await database.withTransaction { try registry.registerContractor(input, now: now, on: $0) }
                return (.created, try encode(contractor))
            }
        }
        router.get("/v1/contractors/:id") { request, context in
            let id = context.parameters.get("id", as: UUID.self)
            return try await handle(request) { grant, _ in
                guard ContractorAccess.scope(for: grant) != nil else { throw forbidden() }
                guard let id else { throw ContractorMonitorError(.notFound, "no such contractor") }
                let registry = registry
                let found = try await database.withConnection { connection -> ContractorView? in
                    guard let contractor = try registry.contractor(id: id, on: connection) else { return nil }
                    return ContractorView(contractor: contractor, certifications: try registry.certifications(contractorID: id, on: connection))
                }
                guard let found else { throw ContractorMonitorError(.notFound, "no contractor \(id)") }
                return (.ok, try encode(found))
            }
        }
        router.put("/v1/contractors/:id/profile") { request, context in
            let id = context.parameters.get("id", as: UUID.self)
            return try await handle(request) { grant, body in
                guard ContractorAccess.canManageContractors(grant) else { throw forbidden() }
                guard let id else { throw ContractorMonitorError(.notFound, "no such contractor") }
                let input = try decode(ProfileInput.self, body)
                let (registry, now) = (registry, clock())
                let contractor = try await database.withTransaction {
                    try registry.updateProfile(contractorID: id, profile: input.profile, evidence: input.evidence, recordedBy: grant.label, now: now, on: $0)
                }
                return (.ok, try encode(contractor))
            }
        }
        router.post("/v1/contractors/:id/certifications") { request, context in
            let id = context.parameters.get("id", as: UUID.self)
            return try await handle(request) { grant, body in
                guard ContractorAccess.canManageContractors(grant) else { throw forbidden() }
                guard let id else { throw ContractorMonitorError(.notFound, "no such contractor") }
                let input = try decode(CertificationInput.self, body)
                guard let validUntil = AttestationSchedule.startOfDay(input.validUntil).map({ $0.addingTimeInterval(86_400) }) else {
                    throw ContractorMonitorError(.invalidRequest, "validUntil: a YYYY-MM-DD day (the last valid day)")
                }
                let (registry, now) = (registry, clock())
                let certification = try await database.withTransaction {
                    try registry.addCertification(contractorID: id, name: input.name, validUntil: validUntil, evidence: input.evidence, recordedBy: grant.label, now: now, on: $0)
                }
                return (.created, try encode(certification))
            }
        }
        router.get("/v1/contracts") { request, _ in
            try await handle(request) { grant, _ in
                guard let scope = ContractorAccess.scope(for: grant) else { throw forbidden() }
                let (registry, now) = (registry, clock())
                let contracts = try await database.withConnection { try registry.contracts(in: scope, on: $0) }
                return (.ok, try encode(["contracts": contracts.map { ContractSummary(contract: $0, state: $0.state(at: now)) }]))
            }
        }
        router.post("/v1/contracts") { request, _ in
            try await handle(request) { grant, body in
                let input = try decode(ContractorRegistry.ContractInput.self, body)
                guard ContractorAccess.canManage(grant, sectionCode: input.sectionCode) else { throw forbidden() }
                let (registry, now) = (registry, clock())
                let contract = try await database.withTransaction { try registry.registerContract(input, createdBy: grant.label, now: now, on: $0) }
                return (.created, try encode(contract))
            }
        }
        router.get("/v1/contracts/:id") { request, context in
            let id = context.parameters.get("id", as: UUID.self)
            return try await handle(request) { grant, _ in
                let (registry, now) = (registry, clock())
                guard let id else { throw ContractorMonitorError(.notFound, "no such contract") }
                let detail = try await database.withConnection { try registry.contractDetail(id: id, now: now, on: $0) }
                // A contract of another unit is answered like a missing one: its existence is not disclosed.
                guard let detail, ContractorAccess.canRead(grant, sectionCode: detail.contract.sectionCode, departmentCode: detail.contract.departmentCode) else {
                    throw ContractorMonitorError(.notFound, "no contract \(id)")
                }
                return (.ok, try encode(detail))
            }
        }
        router.get("/v1/contracts/:id/subcontracts") { request, context in
            let id = context.parameters.get("id", as: UUID.self)
            return try await handle(request) { grant, _ in
                let registry = registry
                let (contract, chain, decisions) = try await database.withConnection { connection in
                    let contract = try readable(id, grant: grant, on: connection)
                    return (contract, try registry.subcontractChain(contractID: contract.id, on: connection), try registry.subcontractDecisions(contractID: contract.id, on: connection))
                }
                return (.ok, try encode(ChainView(contractId: contract.id, chain: chain, decisions: decisions)))
            }
        }
        router.post("/v1/contracts/:id/subcontracts") { request, context in
            let id = context.parameters.get("id", as: UUID.self)
            return try await handle(request) { grant, body in
                let input = try decode(SubcontractInput.self, body)
                let (registry, now) = (registry, clock())
                let decision = try await database.withTransaction { connection in
                    let contract = try manageable(id, grant: grant, on: connection)
                    return try registry.requestSubcontract(
                        contractID: contract.id, parentLinkID: input.parentLinkId, subcontractorID: input.subcontractorId, approver: grant.label, now: now, on: connection)
                }
                // A refusal is recorded (append-only) and answered 422 with every shortfall.
                return (decision.decision == .approved ? .created : .unprocessableContent, try encode(decision))
            }
        }
        router.post("/v1/contracts/:id/attestations") { request, context in
            let id = context.parameters.get("id", as: UUID.self)
            return try await handle(request) { grant, body in
                let input = try decode(ContractorRegistry.AttestationInput.self, body)
                let (registry, now) = (registry, clock())
                let outcome = try await database.withTransaction { connection in
                    let contract = try manageable(id, grant: grant, on: connection)
                    return try registry.submitAttestation(input, contractID: contract.id, recordedBy: grant.label, now: now, on: connection)
                }
                return (.created, try encode(outcome))
            }
        }
        router.post("/v1/contracts/:id/return-certificate") { request, context in
            let id = context.parameters.get("id", as: UUID.self)
            return try await handle(request) { grant, body in
                let input = try decode(ContractorRegistry.EvidenceFile.self, body)
                let (registry, now) = (registry, clock())
                let contract = try await database.withTransaction { connection in
                    let contract = try manageable(id, grant: grant, on: connection)
                    return try registry.recordReturnCertificate(contractID: contract.id, evidence: input, recordedBy: grant.label, now: now, on: connection)
                }
                return (.ok, try encode(contract))
            }
        }
        router.post("/v1/contracts/:id/unapproved-subcontractors") { request, context in
            let id = context.parameters.get("id", as: UUID.self)
            return try await handle(request) { grant, body in
                let input = try decode(DeclaredSubcontractor.self, body)
                let (registry, now) = (registry, clock())
                let violation = try await database.withTransaction { connection in
                    let contract = try manageable(id, grant: grant, on: connection)
                    return try registry.reportUnapprovedSubcontractor(contractID: contract.id, subcontractor: input, reportedBy: grant.label, now: now, on: connection)
                }
                return (.created, try encode(violation))
            }
        }
        router.post("/v1/contracts/:id/evidence") { request, context in
            let id = context.parameters.get("id", as: UUID.self)
            return try await handle(request) { grant, body in
                let input = try decode(EvidenceInput.self, body)
                let (registry, now) = (registry, clock())
                let evidence = try await database.withTransaction { connection in
                    let contract = try manageable(id, grant: grant, on: connection)
                    return try registry.addEvidence(
                        .init(fileName: input.fileName, sha256: input.sha256), kind: input.kind ?? .other, contractID: contract.id,
                        contractorID: contract.contractorID, recordedBy: grant.label, now: now, on: connection)
                }
                return (.created, try encode(evidence))
            }
        }
        router.get("/v1/contractor-violations") { request, _ in
            let stateText = request.uri.queryParameters.get("state") ?? "open"
            return try await handle(request) { grant, _ in
                guard let scope = ContractorAccess.scope(for: grant) else { throw forbidden() }
                let state: ContractorViolation.State?
                switch stateText {
                case "all": state = nil
                default:
                    guard let value = ContractorViolation.State(rawValue: stateText) else {
                        throw ContractorMonitorError(.invalidRequest, "state: open, resolved or all")
                    }
                    state = value
                }
                let registry = registry
                let violations = try await database.withConnection { try registry.violations(in: scope, state: state, on: $0) }
                return (.ok, try encode(["violations": violations]))
            }
        }
        router.post("/v1/contractor-violations/:id/resolve") { request, context in
            let id = context.parameters.get("id", as: UUID.self)
            return try await handle(request) { grant, body in
                let input = try decode(ResolveInput.self, body)
                guard let id else { throw ContractorMonitorError(.notFound, "no such violation") }
                let (registry, now) = (registry, clock())
                let violation = try await database.withTransaction { connection in
                    guard let violation = try registry.violation(id: id, on: connection),
                          ContractorAccess.canRead(grant, sectionCode: violation.sectionCode, departmentCode: violation.departmentCode) else {
                        throw ContractorMonitorError(.notFound, "no violation \(id)")
                    }
                    guard ContractorAccess.canResolve(grant, sectionCode: violation.sectionCode) else { throw forbidden() }
                    return try registry.resolveViolation(id: id, resolution: input.resolution, resolvedBy: grant.label, now: now, on: connection)
                }
                return (.ok, try encode(violation))
            }
        }
        router.get("/v1/contractor-measures") { request, _ in
            let asOfText = request.uri.queryParameters.get("asOf")
            return try await handle(request) { grant, _ in
                guard let scope = ContractorAccess.scope(for: grant) else { throw forbidden() }
                let asOf: Date
                if let asOfText {
                    guard let parsed = ContractsJSON.parseTimestamp(asOfText) ?? AttestationSchedule.startOfDay(asOfText) else {
                        throw ContractorMonitorError(.invalidRequest, "asOf: an RFC 3339 time or a YYYY-MM-DD day")
                    }
                    asOf = parsed
                } else {
                    asOf = clock()
                }
                let registry = registry
                let report = try await database.withConnection { try registry.measures(asOf: asOf, in: scope, on: $0) }
                return (.ok, try encode(report))
            }
        }
        router.get("/v1/subcontract-decisions/verify") { request, _ in
            try await handle(request) { grant, _ in
                guard ContractorAccess.canOversee(grant) else { throw forbidden() }
                let registry = registry
                let verification = try await database.withConnection { try registry.verifyDecisionChain(on: $0) }
                return (.ok, try encode(verification))
            }
        }
    }

    // MARK: Request plumbing

    struct ContractorView: Codable, Sendable {
        var contractor: Contractor
        var certifications: [ContractorCertification]
    }

    struct ContractSummary: Codable, Sendable {
        var contract: Contract
        var state: ContractState
    }

    struct ChainView: Codable, Sendable {
        var contractId: UUID
        var chain: SubcontractChain
        var decisions: [ContractorRegistry.SubcontractDecision]
    }

    struct ProfileInput: Codable, Sendable {
        var profile: SafeguardProfile
        var evidence: ContractorRegistry.EvidenceFile?
    }

    struct CertificationInput: Codable, Sendable {
        var name: String
        /// The last valid day, `YYYY-MM-DD`.
        var validUntil: String
        var evidence: ContractorRegistry.EvidenceFile?
    }

    struct SubcontractInput: Codable, Sendable {
        var parentLinkId: UUID?
        var subcontractorId: UUID
    }

    struct EvidenceInput: Codable, Sendable {
        var fileName: String
        var sha256: String
        var kind: ContractorEvidence.Kind?
    }

    struct ResolveInput: Codable, Sendable {
        var resolution: String
    }

    private func readable(_ id: UUID?, grant: TokenGrant, on connection: PostgresConnection) throws -> Contract {
        guard let id, let contract = try registry.contract(id: id, on: connection),
              ContractorAccess.canRead(grant, sectionCode: contract.sectionCode, departmentCode: contract.departmentCode) else {
            throw ContractorMonitorError(.notFound, "no such contract")
        }
        return contract
    }

    private func manageable(_ id: UUID?, grant: TokenGrant, on connection: PostgresConnection) throws -> Contract {
        let contract = try readable(id, grant: grant, on: connection)
        guard ContractorAccess.canManage(grant, sectionCode: contract.sectionCode) else { throw forbidden() }
        return contract
    }

    private func forbidden() -> ContractorMonitorError {
        ContractorMonitorError(.forbidden, "this token's role and unit do not allow this")
    }

    private func decode<T: Decodable>(_ type: T.Type, _ body: [UInt8]) throws -> T {
        do {
            return try ContractsJSON.decoder().decode(T.self, from: Data(body))
        } catch let error as DecodingError {
            throw ContractorMonitorError(.invalidRequest, "the body does not match the request format", problems: [Self.describe(error)])
        }
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let text = context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
            return text.isEmpty ? "(body)" : text
        }
        switch error {
        case .keyNotFound(let key, let context): return "\(path(context)).\(key.stringValue): required"
        case .typeMismatch(_, let context), .valueNotFound(_, let context): return "\(path(context)): wrong type"
        case .dataCorrupted(let context): return "\(path(context)): \(context.debugDescription)"
        @unknown default: return "invalid body"
        }
    }

    private func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        Array(try ContractsJSON.encoder().encode(value))
    }

    /// Authenticates, reads the body, runs `body`, and turns errors into problem documents.
    private func handle(_ request: Request, _ body: (TokenGrant, [UInt8]) async throws -> (HTTPResponse.Status, [UInt8])) async throws -> Response {
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else {
            return problem(.unauthorized, "A bearer token is required", "Send Authorization: Bearer <token>; `isms token issue` makes one.")
        }
        let token = String(header.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces)
        let grant = try await database.withConnection { [directory = registry.directory] connection in
            try directory.tokens.verify(token: token, on: connection)
        }
        guard let grant else { return problem(.unauthorized, "The token is not valid", "The token is unknown, revoked or expired.") }
        var request = request
        let bytes: [UInt8]
        do {
            bytes = Array(buffer: try await request.collectBody(upTo: Self.maximumBodyBytes))
        } catch is NIOTooManyBytesError {
            return problem(.contentTooLarge, "The request is too large", "A request body may hold at most \(Self.maximumBodyBytes) bytes.")
        }
        do {
            let (status, payload) = try await body(grant, bytes)
            return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: payload)))
        } catch let error as ContractorMonitorError {
            switch error.code {
            case .notFound: return problem(.notFound, "Not found", error.detail)
            case .forbidden: return problem(.forbidden, "Forbidden", error.detail)
            case .conflict: return problem(.conflict, "Conflict", error.detail)
            case .invalidRequest: return problem(.unprocessableContent, "The request is invalid", error.detail, problems: error.problems)
            default:
                logger.error("contractor request failed", metadata: ["error": "\(error)"])
                return problem(.internalServerError, "Internal error", "The request could not be completed.")
            }
        }
    }

    private func problem(_ status: HTTPResponse.Status, _ title: String, _ detail: String, problems: [String] = []) -> Response {
        var document: [String: Any] = ["type": "https://isms.ward.example/problems/\(status.code)", "title": title, "status": status.code, "detail": detail]
        if !problems.isEmpty { document["errors"] = problems }
        var headers = HTTPFields()
        headers[.contentType] = "application/problem+json"
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer" }
        let data = (try? JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
