import Contracts
import Directory
import Logging
public import Foundation
public import Postgres
import ServiceRuntime

/// Violations: recorded once per key and announced through the outbox.
extension ContractorRegistry {
    /// Records a violation once per `dedupKey` and emits `contractor.violation.detected`;
    /// returns nil when it was recorded before.
    func recordViolation(
        contract: Contract, contractorID: UUID, kind: ContractorViolationKind, details: String, dedupKey: String, now: Date, on connection: PostgresConnection
    ) throws -> ContractorViolation? {
        let violation = ContractorViolation(
            id: UUID(), contractID: contract.id, contractorID: contractorID, sectionCode: contract.sectionCode, departmentCode: contract.departmentCode,
            kind: kind.rawValue, details: String(details.prefix(4000)), detectedAt: ContractsJSON.wirePrecision(now), state: .open,
            resolvedAt: nil, resolvedBy: nil, resolution: nil)
        let inserted = try connection.query("""
            INSERT INTO \(unescaped: table("violations")) (id, contract_id, contractor_id, section_code, department_code, kind, details, dedup_key, detected_at)
            VALUES (\(violation.id), \(contract.id), \(contractorID), \(contract.sectionCode), \(contract.departmentCode), \(kind.rawValue),
                \(violation.details), \(dedupKey), \(violation.detectedAt))
            ON CONFLICT (dedup_key) DO NOTHING
            """).affectedRows
        guard inserted > 0 else { return nil }
        let contractorName = try contractor(id: contractorID, on: connection)?.name ?? "(unknown)"
        let payload = ContractorViolationDetected(
            violationID: violation.id, contractID: contract.id, contractReference: contract.reference, contractorID: contractorID,
            contractorName: contractorName, sectionCode: contract.sectionCode, departmentCode: contract.departmentCode, kind: kind,
            handlesMyNumber: contract.handlesMyNumber, details: violation.details, detectedAt: violation.detectedAt)
        try emit(payload, now: now, on: connection)
        return violation
    }

    /// Emits an event of the contractor monitor in the open transaction; it is published when it commits.
    func emit<Payload: MessagePayload>(_ payload: Payload, now: Date, on connection: PostgresConnection) throws {
        try connection.emitting(as: .contractorMonitor, schema: schema, logger: Logger(label: "contractor-monitor"), now: now) { context in
            try context.emit(payload)
        }
    }

    /// The violations in `scope`, newest first; `state` nil for all; at most `limit`, after
    /// (detected, id) `after`.
    public func violations(
        in scope: ContractorScope = .all, state: ContractorViolation.State? = .open, limit: Int? = nil, after: (detectedAt: Date, id: UUID)? = nil,
        on connection: PostgresConnection
    ) throws -> [ContractorViolation] {
        let unit: String?
        let column: String
        switch scope {
        case .all: unit = nil; column = "section_code"
        case .department(let code): unit = code; column = "department_code"
        case .section(let code): unit = code; column = "section_code"
        }
        return try connection.query("""
            SELECT id, contract_id, contractor_id, section_code, department_code, kind, details, detected_at, state, resolved_at, resolved_by, resolution
            FROM \(unescaped: table("violations"))
            WHERE (\(unit)::text IS NULL OR \(unescaped: column) = \(unit)) AND (\(state?.rawValue)::text IS NULL OR state = \(state?.rawValue))
              AND (\(after?.detectedAt)::timestamptz IS NULL OR (detected_at, id) < (\(after?.detectedAt)::timestamptz, \(after?.id)::uuid))
            ORDER BY detected_at DESC, id DESC LIMIT \(limit)
            """).rows.map(Self.violation(from:))
    }

    /// Marks a violation resolved (the CSIRT case closed, the contractor corrected it).
    public func resolveViolation(id: UUID, resolution: String, resolvedBy: String, now: Date, on connection: PostgresConnection) throws -> ContractorViolation {
        let updated = try connection.query("""
            UPDATE \(unescaped: table("violations")) SET state = 'resolved', resolved_at = \(now), resolved_by = \(resolvedBy), resolution = \(resolution)
            WHERE id = \(id) AND state = 'open'
            RETURNING id, contract_id, contractor_id, section_code, department_code, kind, details, detected_at, state, resolved_at, resolved_by, resolution
            """)
        guard let row = updated.rows.first else { throw ContractorMonitorError(.notFound, "no open violation \(id)") }
        return try Self.violation(from: row)
    }

    /// The violation with this id.
    public func violation(id: UUID, on connection: PostgresConnection) throws -> ContractorViolation? {
        try connection.query("""
            SELECT id, contract_id, contractor_id, section_code, department_code, kind, details, detected_at, state, resolved_at, resolved_by, resolution
            FROM \(unescaped: table("violations")) WHERE id = \(id)
            """).rows.first.map(Self.violation(from:))
    }


    static func violation(from row: PostgresRow) throws -> ContractorViolation {
        ContractorViolation(
            id: try row.decode("id"), contractID: try row.decode("contract_id"), contractorID: try row.decode("contractor_id"),
            sectionCode: try row.decode("section_code"), departmentCode: try row.decode("department_code"), kind: try row.decode("kind"),
            details: try row.decode("details"), detectedAt: try row.decode("detected_at"),
            state: ContractorViolation.State(rawValue: try row.decode("state")) ?? .open, resolvedAt: try row.decode("resolved_at"),
            resolvedBy: try row.decode("resolved_by"), resolution: try row.decode("resolution"))
    }
}
