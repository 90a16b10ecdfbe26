import Contracts
import Directory
public import Foundation
public import Postgres
import ServiceRuntime

/// Security certifications of contractors, each checked at its expiry.
extension ContractorRegistry {
    /// Records a security certification (ISMS, Privacy Mark, ...) and schedules the check at its
    /// expiry: an expired certificate that was not renewed is a violation.
    public func addCertification(
        contractorID: UUID, name: String, validUntil: Date, evidence: EvidenceFile?, recordedBy: String, now: Date, on connection: PostgresConnection
    ) throws -> ContractorCertification {
        guard try contractor(id: contractorID, on: connection) != nil else { throw ContractorMonitorError(.notFound, "no contractor \(contractorID)") }
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, trimmed.unicodeScalars.count <= 200 else { throw ContractorMonitorError(.invalidRequest, "name: 1 to 200 characters") }
        let evidenceID = try evidence.map { try addEvidence($0, kind: .certification, contractID: nil, contractorID: contractorID, recordedBy: recordedBy, now: now, on: connection).id }
        let certification = ContractorCertification(id: UUID(), contractorID: contractorID, name: trimmed, validUntil: validUntil, evidenceID: evidenceID, recordedAt: now)
        _ = try connection.query("""
            INSERT INTO \(unescaped: table("certifications")) (id, contractor_id, name, valid_until, evidence_id, recorded_at)
            VALUES (\(certification.id), \(contractorID), \(certification.name), \(validUntil), \(evidenceID), \(now))
            """)
        try DurableTimers.schedule(
            kind: ContractorTimerKind.certificationExpiry, key: certification.id.lowercasedString, at: validUntil,
            payloadJSON: Self.timerPayload(["certificationId": certification.id.lowercasedString]), on: connection, schema: schema)
        return certification
    }

    /// The certifications of a contractor, newest expiry first.
    public func certifications(contractorID: UUID, on connection: PostgresConnection) throws -> [ContractorCertification] {
        try connection.query("""
            SELECT id, contractor_id, name, valid_until, evidence_id, recorded_at FROM \(unescaped: table("certifications"))
            WHERE contractor_id = \(contractorID) ORDER BY valid_until DESC
            """).rows.map { row in
            ContractorCertification(
                id: try row.decode("id"), contractorID: try row.decode("contractor_id"), name: try row.decode("name"),
                validUntil: try row.decode("valid_until"), evidenceID: try row.decode("evidence_id"), recordedAt: try row.decode("recorded_at"))
        }
    }
}
