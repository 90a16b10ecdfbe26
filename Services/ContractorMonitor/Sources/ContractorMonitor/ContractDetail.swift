public import Foundation
public import Postgres

/// Everything about one contract, as the API and `isms contractors show` present it.
public struct ContractDetail: Sendable, Hashable, Codable {
    public var contract: Contract
    public var contractor: Contractor
    public var state: ContractState
    public var specialProvisions: [SpecialProvisionSet]
    /// The contractor's own profile against the baseline (Art. 6(1)); empty when it meets it.
    public var baselineShortfalls: [SubcontractShortfall]
    public var chain: SubcontractChain
    public var periods: [ContractorRegistry.PeriodStatus]
    public var returnCertificateDueAt: Date
    public var violations: [ContractorViolation]
    public var evidence: [ContractorEvidence]
}

extension ContractorRegistry {
    /// The contract with its contractor, chain, attestation periods, violations and evidence.
    public func contractDetail(id: UUID, now: Date, on connection: PostgresConnection) throws -> ContractDetail? {
        guard let contract = try contract(id: id, on: connection) else { return nil }
        guard let contractor = try contractor(id: contract.contractorID, on: connection) else {
            throw ContractorMonitorError(.corruptData, "the contract's contractor is missing")
        }
        let violations = try violations(in: .section(contract.sectionCode), state: nil, on: connection).filter { $0.contractID == id }
        return ContractDetail(
            contract: contract, contractor: contractor, state: contract.state(at: now), specialProvisions: contract.specialProvisions,
            baselineShortfalls: SubcontractGate.meetsBaseline(contractor.profile, baseline: baseline, handlesMyNumber: contract.handlesMyNumber).shortfalls,
            chain: try subcontractChain(contractID: id, on: connection), periods: try periodStatuses(contract: contract, now: now, on: connection),
            returnCertificateDueAt: contract.returnCertificateDueAt, violations: violations, evidence: try evidence(contractID: id, on: connection))
    }
}
