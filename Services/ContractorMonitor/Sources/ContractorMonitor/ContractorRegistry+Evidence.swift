import Contracts
import Directory
public import Foundation
public import Postgres
import ServiceRuntime

/// Evidence files (name and SHA-256; the file stays in the ward's document store).
extension ContractorRegistry {
    /// A file offered as evidence: its name and SHA-256 (the file stays in the ward's document store).
    public struct EvidenceFile: Sendable, Hashable, Codable {
        public var fileName: String
        public var sha256: String

        public init(fileName: String, sha256: String) {
            self.fileName = fileName
            self.sha256 = sha256
        }
    }

    /// Records evidence for a contract or a contractor.
    public func addEvidence(
        _ file: EvidenceFile, kind: ContractorEvidence.Kind, contractID: UUID?, contractorID: UUID?, recordedBy: String, now: Date,
        on connection: PostgresConnection
    ) throws -> ContractorEvidence {
        var problems: [String] = []
        let name = file.fileName.trimmingCharacters(in: .whitespacesAndNewlines)
        if name.isEmpty || name.unicodeScalars.count > 255 || name.contains("/") { problems.append("fileName: 1 to 255 characters, no '/'") }
        let hash = file.sha256.lowercased()
        if hash.count != 64 || !hash.allSatisfy(\.isHexDigit) { problems.append("sha256: 64 hex digits") }
        guard problems.isEmpty else { throw ContractorMonitorError(.invalidRequest, "the evidence is invalid", problems: problems) }
        let evidence = ContractorEvidence(id: UUID(), contractID: contractID, contractorID: contractorID, kind: kind, fileName: name, sha256: hash, recordedBy: recordedBy, recordedAt: now)
        _ = try connection.query("""
            INSERT INTO \(unescaped: table("evidence")) (id, contract_id, contractor_id, kind, file_name, sha256, recorded_by, recorded_at)
            VALUES (\(evidence.id), \(contractID), \(contractorID), \(kind.rawValue), \(name), \(hash), \(recordedBy), \(now))
            """)
        return evidence
    }

    /// The evidence recorded for a contract, oldest first.
    public func evidence(contractID: UUID, on connection: PostgresConnection) throws -> [ContractorEvidence] {
        try connection.query("""
            SELECT id, contract_id, contractor_id, kind, file_name, sha256, recorded_by, recorded_at FROM \(unescaped: table("evidence"))
            WHERE contract_id = \(contractID) ORDER BY recorded_at, id
            """).rows.map { row in
            ContractorEvidence(
                id: try row.decode("id"), contractID: try row.decode("contract_id"), contractorID: try row.decode("contractor_id"),
                kind: ContractorEvidence.Kind(rawValue: try row.decode("kind")) ?? .other, fileName: try row.decode("file_name"),
                sha256: try row.decode("sha256"), recordedBy: try row.decode("recorded_by"), recordedAt: try row.decode("recorded_at"))
        }
    }
}
