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

    /// Announces, once, each contract in force that was registered before contracts were
    /// announced (issue #18), so the audit scheduler plans its staff's education too; run at
    /// every start. A contract whose end is scheduled to be announced was announced already; one
    /// that has ended is not in force and needs nothing. Answers how many were announced.
    @discardableResult
    func announceUnannounced(now: Date, on connection: PostgresConnection) throws -> Int {
        let ids: [UUID] = try connection.query(
            """
            SELECT c.id FROM \(unescaped: table("contracts")) c
            WHERE c.ends_at > \(now) AND NOT EXISTS (
                SELECT 1 FROM \(unescaped: table("timers")) t WHERE t.kind = \(Self.contractEndedTimerKind) AND t.key = c.id::text)
            ORDER BY c.id FOR UPDATE OF c
            """
        ).rows.map { try $0.decode("id") }
        for id in ids {
            guard let contract = try contract(id: id, on: connection) else { continue }
            try announceRegistration(contract, now: now, on: connection)
        }
        return ids.count
    }

    /// The end timer: the contract is no longer in force.
    func fireContractEnded(_ payload: TimerPayload, context: inout TransactionContext) throws {
        guard let id = payload.contractId, let contract = try contract(id: id, on: context.connection) else { return }
        try announce(contract, change: .ended, now: context.now, on: context.connection)
    }
}
