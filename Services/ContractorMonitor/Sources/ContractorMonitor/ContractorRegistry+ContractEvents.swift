import Contracts
import Foundation
import Postgres
import ServiceRuntime

/// `contractor.contract-changed.v1` (issue #18 item 3): the audit scheduler plans the education
/// of contractors' staff (Art. 23) for the contracts in force, so it hears of every contract
/// registered and of every contract that ends.
extension ContractorRegistry {
    /// The durable timer that announces a contract's end (key `<contract>`), at the start of the
    /// day after its last day.
    static let contractEndedTimerKind = "contractor.contract-ended"

    /// Emits `contract-changed` for `contract` in the caller's transaction (through the outbox).
    func announce(_ contract: Contract, change: ContractChange, now: Date, on connection: PostgresConnection) throws {
        let contractorName = try contractor(id: contract.contractorID, on: connection)?.name ?? "(unknown)"
        try emit(
            ContractorContractChanged(
                contractID: contract.id, contractReference: contract.reference, contractorID: contract.contractorID,
                contractorName: contractorName, sectionCode: contract.sectionCode, departmentCode: contract.departmentCode, change: change,
                startDate: AttestationSchedule.day(of: contract.startsAt),
                // endsAt is the start of the day after the last day.
                endDate: AttestationSchedule.day(of: contract.endsAt.addingTimeInterval(-1)), handlesMyNumber: contract.handlesMyNumber,
                changedAt: now),
            now: now, on: connection)
    }

    /// Announces a new contract and schedules the announcement of its end.
    func announceRegistration(_ contract: Contract, now: Date, on connection: PostgresConnection) throws {
        try announce(contract, change: .registered, now: now, on: connection)
        try DurableTimers.schedule(
            kind: Self.contractEndedTimerKind, key: contract.id.lowercasedString, at: contract.endsAt,
            payloadJSON: Self.timerPayload(["contractId": contract.id.lowercasedString]), on: connection, schema: schema)
    }

    /// The end timer: the contract is no longer in force.
    func fireContractEnded(_ payload: TimerPayload, context: inout TransactionContext) throws {
        guard let id = payload.contractId, let contract = try contract(id: id, on: context.connection) else { return }
        try announce(contract, change: .ended, now: context.now, on: context.connection)
    }
}
