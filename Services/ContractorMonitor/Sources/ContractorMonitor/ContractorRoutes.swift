import Contracts
import Directory
import Foundation
import Hummingbird
import Logging
import Postgres
public import ServiceRuntime

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

    func add(to routes: APIRoutes) {
        routes.get("/v1/contractor-baseline") { request, context in
            try await handle(request, context) { _, _ in
                try APIResponse.json(registry.baseline)
            }
        }
        routes.get("/v1/contractors") { request, context in
            try await handle(request, context) { grant, _ in
                guard ContractorAccess.scope(for: grant) != nil else { throw forbidden() }
                let (registry, page) = (registry, try PageRequest(APIQuery(request)))
                let after = try page.afterTextAndID()
                let contractors = try await database.withConnection { try registry.contractors(limit: page.limit + 1, after: after, on: $0) }
                let (items, next) = page.page(contractors) { PageCursor([$0.name, $0.id.lowercasedString]) }
                return try APIResponse.page(items, key: "contractors", next: next)
            }
        }
        routes.post("/v1/contractors") { request, context in
            try await handle(request, context) { grant, body in
                guard ContractorAccess.canManageContractors(grant) else { throw forbidden() }
                let input = try APIRequestDecoder.decode(ContractorRegistry.ContractorInput.self, from: body)
                let (registry, now) = (registry, clock())
                let contractor = try await database.withTransaction { try registry.registerContractor(input, now: now, on: $0) }
                return try APIResponse.json(contractor, status: .created)
            }
        }
        routes.get("/v1/contractors/:id") { request, context in
            let id = context.parameters.get("id", as: UUID.self)
            return try await handle(request, context) { grant, _ in
                guard ContractorAccess.scope(for: grant) != nil else { throw forbidden() }
                guard let id else { throw ContractorMonitorError(.notFound, "no such contractor") }
                let registry = registry
                let found = try await database.withConnection { connection -> ContractorView? in
                    guard let contractor = try registry.contractor(id: id, on: connection) else { return nil }
                    return ContractorView(contractor: contractor, certifications: try registry.certifications(contractorID: id, on: connection))
                }
                guard let found else { throw ContractorMonitorError(.notFound, "no contractor \(id)") }
                return try APIResponse.json(found)
            }
        }
        routes.put("/v1/contractors/:id/profile") { request, context in
            let id = context.parameters.get("id", as: UUID.self)
            return try await handle(request, context) { grant, body in
                guard ContractorAccess.canManageContractors(grant) else { throw forbidden() }
                guard let id else { throw ContractorMonitorError(.notFound, "no such contractor") }
                let input = try APIRequestDecoder.decode(ProfileInput.self, from: body)
                let (registry, now) = (registry, clock())
                let contractor = try await database.withTransaction {
                    try registry.updateProfile(contractorID: id, profile: input.profile, evidence: input.evidence, recordedBy: grant.label, now: now, on: $0)
                }
                return try APIResponse.json(contractor)
            }
        }
        routes.post("/v1/contractors/:id/certifications") { request, context in
            let id = context.parameters.get("id", as: UUID.self)
            return try await handle(request, context) { grant, body in
                guard ContractorAccess.canManageContractors(grant) else { throw forbidden() }
                guard let id else { throw ContractorMonitorError(.notFound, "no such contractor") }
                let input = try APIRequestDecoder.decode(CertificationInput.self, from: body)
                guard let validUntil = AttestationSchedule.startOfDay(input.validUntil).map({ $0.addingTimeInterval(86_400) }) else {
                    throw ContractorMonitorError(.invalidRequest, "validUntil: a YYYY-MM-DD day (the last valid day)")
                }
                let (registry, now) = (registry, clock())
                let certification = try await database.withTransaction {
                    try registry.addCertification(contractorID: id, name: input.name, validUntil: validUntil, evidence: input.evidence, recordedBy: grant.label, now: now, on: $0)
                }
                return try APIResponse.json(certification, status: .created)
            }
        }
        routes.get("/v1/contracts") { request, context in
            try await handle(request, context) { grant, _ in
                guard let scope = ContractorAccess.scope(for: grant) else { throw forbidden() }
                let (registry, now, page) = (registry, clock(), try PageRequest(APIQuery(request)))
                let after = try page.afterTextAndID()
                let contracts = try await database.withConnection { try registry.contracts(in: scope, limit: page.limit + 1, after: after, on: $0) }
                let (items, next) = page.page(contracts) { PageCursor([$0.reference, $0.id.lowercasedString]) }
                return try APIResponse.page(items.map { ContractSummary(contract: $0, state: $0.state(at: now)) }, key: "contracts", next: next)
            }
        }
        routes.post("/v1/contracts") { request, context in
            try await handle(request, context) { grant, body in
                let input = try APIRequestDecoder.decode(ContractorRegistry.ContractInput.self, from: body)
                guard ContractorAccess.canManage(grant, sectionCode: input.sectionCode) else { throw forbidden() }
                let (registry, now) = (registry, clock())
                let contract = try await database.withTransaction { try registry.registerContract(input, createdBy: grant.label, now: now, on: $0) }
                return try APIResponse.json(contract, status: .created)
            }
        }
        routes.get("/v1/contracts/:id") { request, context in
            let id = context.parameters.get("id", as: UUID.self)
            return try await handle(request, context) { grant, _ in
                let (registry, now) = (registry, clock())
                guard let id else { throw ContractorMonitorError(.notFound, "no such contract") }
                let detail = try await database.withConnection { try registry.contractDetail(id: id, now: now, on: $0) }
                // A contract of another unit is answered like a missing one: its existence is not disclosed.
                guard let detail, ContractorAccess.canRead(grant, sectionCode: detail.contract.sectionCode, departmentCode: detail.contract.departmentCode) else {
                    throw ContractorMonitorError(.notFound, "no contract \(id)")
                }
                return try APIResponse.json(detail)
            }
        }
        routes.get("/v1/contracts/:id/subcontracts") { request, context in
            let id = context.parameters.get("id", as: UUID.self)
            return try await handle(request, context) { grant, _ in
                let registry = registry
                let (contract, chain, decisions) = try await database.withConnection { connection in
                    let contract = try readable(id, grant: grant, on: connection)
                    return (contract, try registry.subcontractChain(contractID: contract.id, on: connection), try registry.subcontractDecisions(contractID: contract.id, on: connection))
                }
                return try APIResponse.json(ChainView(contractId: contract.id, chain: chain, decisions: decisions))
            }
        }
        routes.post("/v1/contracts/:id/subcontracts") { request, context in
            let id = context.parameters.get("id", as: UUID.self)
            return try await handle(request, context) { grant, body in
                let input = try APIRequestDecoder.decode(SubcontractInput.self, from: body)
                let (registry, now) = (registry, clock())
                let decision = try await database.withTransaction { connection in
                    let contract = try manageable(id, grant: grant, on: connection)
                    return try registry.requestSubcontract(
                        contractID: contract.id, parentLinkID: input.parentLinkId, subcontractorID: input.subcontractorId, approver: grant.label, now: now, on: connection)
                }
                // A refusal is recorded (append-only) and answered 422 with every shortfall.
                return try APIResponse.json(decision, status: decision.decision == .approved ? .created : .unprocessableContent)
            }
        }
        routes.post("/v1/contracts/:id/attestations") { request, context in
            let id = context.parameters.get("id", as: UUID.self)
            return try await handle(request, context) { grant, body in
                let input = try APIRequestDecoder.decode(ContractorRegistry.AttestationInput.self, from: body)
                let (registry, now) = (registry, clock())
                let outcome = try await database.withTransaction { connection in
                    let contract = try manageable(id, grant: grant, on: connection)
                    return try registry.submitAttestation(input, contractID: contract.id, recordedBy: grant.label, now: now, on: connection)
                }
                return try APIResponse.json(outcome, status: .created)
            }
        }
        routes.post("/v1/contracts/:id/return-certificate") { request, context in
            let id = context.parameters.get("id", as: UUID.self)
            return try await handle(request, context) { grant, body in
                let input = try APIRequestDecoder.decode(ContractorRegistry.EvidenceFile.self, from: body)
                let (registry, now) = (registry, clock())
                let contract = try await database.withTransaction { connection in
                    let contract = try manageable(id, grant: grant, on: connection)
                    return try registry.recordReturnCertificate(contractID: contract.id, evidence: input, recordedBy: grant.label, now: now, on: connection)
                }
                return try APIResponse.json(contract)
            }
        }
        routes.post("/v1/contracts/:id/unapproved-subcontractors") { request, context in
            let id = context.parameters.get("id", as: UUID.self)
            return try await handle(request, context) { grant, body in
                let input = try APIRequestDecoder.decode(DeclaredSubcontractor.self, from: body)
                let (registry, now) = (registry, clock())
                let violation = try await database.withTransaction { connection in
                    let contract = try manageable(id, grant: grant, on: connection)
                    return try registry.reportUnapprovedSubcontractor(contractID: contract.id, subcontractor: input, reportedBy: grant.label, now: now, on: connection)
                }
                return try APIResponse.json(violation, status: .created)
            }
        }
        routes.post("/v1/contracts/:id/evidence") { request, context in
            let id = context.parameters.get("id", as: UUID.self)
            return try await handle(request, context) { grant, body in
                let input = try APIRequestDecoder.decode(EvidenceInput.self, from: body)
                let (registry, now) = (registry, clock())
                let evidence = try await database.withTransaction { connection in
                    let contract = try manageable(id, grant: grant, on: connection)
                    return try registry.addEvidence(
                        .init(fileName: input.fileName, sha256: input.sha256), kind: input.kind ?? .other, contractID: contract.id,
                        contractorID: contract.contractorID, recordedBy: grant.label, now: now, on: connection)
                }
                return try APIResponse.json(evidence, status: .created)
            }
        }
        routes.get("/v1/contractor-violations") { request, context in
            let stateText = try APIQuery(request).string("state", oneOf: ["open", "resolved", "all"]) ?? "open"
            return try await handle(request, context) { grant, _ in
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
                let (registry, page) = (registry, try PageRequest(APIQuery(request)))
                let after = try page.afterTimeAndID()
                let violations = try await database.withConnection {
                    try registry.violations(in: scope, state: state, limit: page.limit + 1, after: after.map { ($0.0, $0.1) }, on: $0)
                }
                let (items, next) = page.page(violations) { PageCursor(time: $0.detectedAt, id: $0.id.lowercasedString) }
                return try APIResponse.page(items, key: "violations", next: next)
            }
        }
        routes.post("/v1/contractor-violations/:id/resolve") { request, context in
            let id = context.parameters.get("id", as: UUID.self)
            return try await handle(request, context) { grant, body in
                let input = try APIRequestDecoder.decode(ResolveInput.self, from: body)
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
                return try APIResponse.json(violation)
            }
        }
        routes.get("/v1/contractor-measures") { request, context in
            let asOfText = try APIQuery(request).string("asOf")
            return try await handle(request, context) { grant, _ in
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
                return try APIResponse.json(report)
            }
        }
        routes.get("/v1/subcontract-decisions/verify") { request, context in
            try await handle(request, context) { grant, _ in
                guard ContractorAccess.canOversee(grant) else { throw forbidden() }
                let registry = registry
                let verification = try await database.withConnection { try registry.verifyDecisionChain(on: $0) }
                return try APIResponse.json(verification)
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

    /// Runs `body` with the grant and the request's body.
    private func handle(_ request: Request, _ context: APIRequestContext, _ body: (TokenGrant, [UInt8]) async throws -> Response) async throws -> Response {
        var request = request
        return try await body(try context.requireGrant(), Array(buffer: try await request.collectBody(upTo: context.maxUploadSize)))
    }
}

extension ContractorMonitorError: APIProblemConvertible {
    public var problem: APIProblem {
        switch code {
        case .notFound: .notFound(detail)
        case .forbidden: .forbidden(detail)
        case .conflict: .conflict(detail)
        case .invalidRequest: APIProblem(.unprocessableContent, title: "The request is invalid", detail: detail, extensions: problems.isEmpty ? [:] : ["errors": .array(problems.map(JSONValue.string))])
        default: APIProblem(.internalServerError, title: "Internal error", detail: "The request could not be completed.")
        }
    }
}
