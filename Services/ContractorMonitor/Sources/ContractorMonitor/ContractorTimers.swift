import Contracts
import Foundation
import Logging
import Postgres
public import ServiceRuntime

/// The durable timers of the contractor monitor.
public enum ContractorTimerKind {
    /// A reminder before an attestation's due date (key `<contract>/<period>`).
    public static let attestationDue = "contractor.attestation-due"
    /// The end of an attestation's grace period (key `<contract>/<period>`).
    public static let attestationOverdue = "contractor.attestation-overdue"
    /// The deadline of the certificate of data return or deletion (key `<contract>`).
    public static let returnCertificateDue = "contractor.return-certificate-due"
    /// A certification's expiry (key `<certification>`).
    public static let certificationExpiry = "contractor.certification-expiry"
}

extension ContractorRegistry {
    /// The timer handlers of the service; each runs in the transaction that deletes its timer.
    public var timerHandlers: [any TimerHandler] {
        [
            ContractorTimerHandler(kind: ContractorTimerKind.attestationDue, registry: self) { registry, payload, context in
                try registry.fireAttestationDue(payload, context: &context)
            },
            ContractorTimerHandler(kind: ContractorTimerKind.attestationOverdue, registry: self) { registry, payload, context in
                try registry.fireAttestationOverdue(payload, context: &context)
            },
            ContractorTimerHandler(kind: ContractorTimerKind.returnCertificateDue, registry: self) { registry, payload, context in
                try registry.fireReturnCertificateDue(payload, context: &context)
            },
            ContractorTimerHandler(kind: ContractorTimerKind.certificationExpiry, registry: self) { registry, payload, context in
                try registry.fireCertificationExpiry(payload, context: &context)
            },
            ContractorTimerHandler(kind: Self.contractEndedTimerKind, registry: self) { registry, payload, context in
                try registry.fireContractEnded(payload, context: &context)
            },
        ]
    }

    struct TimerPayload: Decodable {
        var contractId: UUID?
        var period: String?
        var certificationId: UUID?
    }

    func reminder(contract: Contract, period: AttestationSchedule.Period, on context: TransactionContext) throws -> ContractorAttestationReminder {
        ContractorAttestationReminder(
            contractID: contract.id, contractReference: contract.reference, contractorID: contract.contractorID,
            contractorName: try contractor(id: contract.contractorID, on: context.connection)?.name ?? "(unknown)",
            sectionCode: contract.sectionCode, departmentCode: contract.departmentCode, period: period.number, dueAt: period.dueAt,
            graceEndsAt: period.graceEndsAt, checklists: contract.specialProvisions.map(\.rawValue))
    }

    func attested(contractID: UUID, period: Int, on context: TransactionContext) throws -> Bool {
        try !context.connection.query("SELECT 1 FROM \(unescaped: table("attestations")) WHERE contract_id = \(contractID) AND period = \(period)").rows.isEmpty
    }

    func contractAndPeriod(_ payload: TimerPayload, on context: TransactionContext) throws -> (Contract, AttestationSchedule.Period)? {
        guard let id = payload.contractId, let number = payload.period.flatMap(Int.init),
              let contract = try contract(id: id, on: context.connection), let period = contract.schedule.period(number) else { return nil }
        return (contract, period)
    }

    /// Reminds the section that an attestation falls due, unless it arrived already.
    func fireAttestationDue(_ payload: TimerPayload, context: inout TransactionContext) throws {
        guard let (contract, period) = try contractAndPeriod(payload, on: context),
              try !attested(contractID: contract.id, period: period.number, on: context) else { return }
        try emit(ContractorAttestationDue(attestation: try reminder(contract: contract, period: period, on: context)), now: context.now, on: context.connection)
    }

    /// At the end of the grace period: a missing attestation is overdue and a violation (Art. 28).
    func fireAttestationOverdue(_ payload: TimerPayload, context: inout TransactionContext) throws {
        guard let (contract, period) = try contractAndPeriod(payload, on: context),
              try !attested(contractID: contract.id, period: period.number, on: context) else { return }
        try emit(ContractorAttestationOverdue(attestation: try reminder(contract: contract, period: period, on: context)), now: context.now, on: context.connection)
        let details = "The attestation for period \(period.number) of contract \(contract.reference) (due \(AttestationSchedule.day(of: period.dueAt.addingTimeInterval(-1)))) was not received by the end of its grace period (Art. 28)."
        _ = try recordViolation(
            contract: contract, contractorID: contract.contractorID, kind: .attestationMissing, details: details,
            dedupKey: "attestation-missing/\(contract.id.lowercasedString)/\(period.number)", now: context.now, on: context.connection)
        context.logger.info("attestation overdue", metadata: ["contract.id": "\(contract.id)", "attestation.period": "\(period.number)"])
    }

    /// After the end: no certificate of data return or deletion is a violation.
    func fireReturnCertificateDue(_ payload: TimerPayload, context: inout TransactionContext) throws {
        guard let id = payload.contractId, let contract = try contract(id: id, on: context.connection), contract.returnCertificateAt == nil else { return }
        let details = "No certificate of data return or deletion for contract \(contract.reference) was received within \(contract.returnCertificateDays) days of its end (\(AttestationSchedule.day(of: contract.endsAt.addingTimeInterval(-1))))."
        _ = try recordViolation(
            contract: contract, contractorID: contract.contractorID, kind: .returnCertificateOverdue, details: details,
            dedupKey: "return-certificate/\(contract.id.lowercasedString)", now: context.now, on: context.connection)
    }

    /// A certification expired: unless renewed, a violation on every contract the holder works
    /// on (as contractor or approved sub-contractor) that had not ended when it expired.
    func fireCertificationExpiry(_ payload: TimerPayload, context: inout TransactionContext) throws {
        guard let id = payload.certificationId else { return }
        let connection = context.connection
        guard let row = try connection.query("""
            SELECT contractor_id, name, valid_until FROM \(unescaped: table("certifications")) WHERE id = \(id)
            """).rows.first else { return }
        let holder: UUID = try row.decode("contractor_id")
        let name: String = try row.decode("name")
        let validUntil: Date = try row.decode("valid_until")
        let renewed = try !connection.query("""
            SELECT 1 FROM \(unescaped: table("certifications")) WHERE contractor_id = \(holder) AND name = \(name) AND valid_until > \(validUntil)
            """).rows.isEmpty
        guard !renewed else { return }
        let contractIDs: [UUID] = try connection.query("""
            SELECT id FROM \(unescaped: table("contracts")) WHERE contractor_id = \(holder) AND ends_at > \(validUntil)
            UNION
            SELECT l.contract_id FROM \(unescaped: table("subcontract_links")) l JOIN \(unescaped: table("contracts")) c ON c.id = l.contract_id
            WHERE l.subcontractor_id = \(holder) AND l.state = 'approved' AND c.ends_at > \(validUntil)
            """).rows.map { try $0.decode("id") }
        let holderName = try contractor(id: holder, on: connection)?.name ?? "(unknown)"
        for contractID in contractIDs {
            guard let contract = try contract(id: contractID, on: connection) else { continue }
            let details = "Certification \(name) of \(holderName) expired on \(AttestationSchedule.day(of: validUntil)) and was not renewed (Art. 6(1)); contract \(contract.reference)."
            _ = try recordViolation(
                contract: contract, contractorID: holder, kind: .certificateExpired, details: details,
                dedupKey: "certificate-expired/\(id.lowercasedString)/\(contractID.lowercasedString)", now: context.now, on: connection)
        }
    }
}

/// Decodes a timer's payload and hands it to the registry.
struct ContractorTimerHandler: TimerHandler {
    let kind: String
    let registry: ContractorRegistry
    let body: @Sendable (ContractorRegistry, ContractorRegistry.TimerPayload, inout TransactionContext) throws -> Void

    init(kind: String, registry: ContractorRegistry, _ body: @escaping @Sendable (ContractorRegistry, ContractorRegistry.TimerPayload, inout TransactionContext) throws -> Void) {
        self.kind = kind
        self.registry = registry
        self.body = body
    }

    func fire(_ timer: DurableTimer, context: inout TransactionContext) throws {
        let payload = try JSONDecoder().decode(ContractorRegistry.TimerPayload.self, from: Data(timer.payload.utf8))
        try body(registry, payload, &context)
    }
}
