import Contracts
import Directory
public import Foundation
public import Postgres
import ServiceRuntime

/// Contractors (委託事業者等, Art. 3(8)) and their safeguard profiles (Art. 6(1)).
extension ContractorRegistry {
    /// What registering a contractor takes.
    public struct ContractorInput: Sendable, Hashable, Codable {
        public var name: String
        public var kind: ContractorKind
        public var corporateNumber: String?
        public var profile: SafeguardProfile?

        public init(name: String, kind: ContractorKind, corporateNumber: String? = nil, profile: SafeguardProfile? = nil) {
            self.name = name
            self.kind = kind
            self.corporateNumber = corporateNumber
            self.profile = profile
        }
    }

    /// Registers a contractor (委託事業者等, Art. 3(8)).
    public func registerContractor(_ input: ContractorInput, now: Date, on connection: PostgresConnection) throws -> Contractor {
        var problems: [String] = []
        let name = input.name.trimmingCharacters(in: .whitespacesAndNewlines)
        if name.isEmpty || name.count > 300 { problems.append("name: 1 to 300 characters") }
        if let number = input.corporateNumber, number.count != 13 || !number.allSatisfy(\.isASCIIDigit) {
            problems.append("corporateNumber: 13 digits (法人番号)")
        }
        if let profile = input.profile { problems += baseline.problems(in: profile).map { "profile: \($0)" } }
        guard problems.isEmpty else { throw ContractorMonitorError(.invalidRequest, "the contractor is invalid", problems: problems) }
        let contractor = Contractor(
            id: UUID(), name: name, kind: input.kind, corporateNumber: input.corporateNumber, profile: input.profile ?? SafeguardProfile(),
            profileAssessedAt: input.profile == nil ? nil : now, createdAt: now)
        do {
            _ = try connection.query("""
                INSERT INTO \(unescaped: table("contractors")) (id, name, kind, corporate_number, profile, profile_assessed_at, created_at, updated_at)
                VALUES (\(contractor.id), \(contractor.name), \(contractor.kind.rawValue), \(contractor.corporateNumber), \(PostgresJSON(contractor.profile)),
                        \(contractor.profileAssessedAt), \(now), \(now))
                """)
        } catch let error as PostgresError where error.isUniqueViolation {
            throw ContractorMonitorError(.conflict, "a contractor with corporate number \(input.corporateNumber ?? "") is registered already")
        }
        return contractor
    }

    /// Records a new assessment of a contractor's safeguard profile (Art. 6(1)), with its evidence.
    @discardableResult
    public func updateProfile(
        contractorID: UUID, profile: SafeguardProfile, evidence: EvidenceFile?, recordedBy: String, now: Date, on connection: PostgresConnection
    ) throws -> Contractor {
        let problems = baseline.problems(in: profile)
        guard problems.isEmpty else { throw ContractorMonitorError(.invalidRequest, "the profile is invalid", problems: problems) }
        guard try contractor(id: contractorID, on: connection) != nil else { throw ContractorMonitorError(.notFound, "no contractor \(contractorID)") }
        if let evidence {
            _ = try addEvidence(evidence, kind: .profileAssessment, contractID: nil, contractorID: contractorID, recordedBy: recordedBy, now: now, on: connection)
        }
        _ = try connection.query("""
            UPDATE \(unescaped: table("contractors")) SET profile = \(PostgresJSON(profile)), profile_assessed_at = \(now), updated_at = \(now)
            WHERE id = \(contractorID)
            """)
        return try contractor(id: contractorID, on: connection)!
    }

    /// The contractor with this id.
    public func contractor(id: UUID, on connection: PostgresConnection) throws -> Contractor? {
        try connection.query("""
            SELECT id, name, kind, corporate_number, profile::text AS profile, profile_assessed_at, created_at
            FROM \(unescaped: table("contractors")) WHERE id = \(id)
            """).rows.first.map(Self.contractor(from:))
    }

    /// The contractors by name; at most `limit`, after (name, id) `after`.
    public func contractors(limit: Int? = nil, after: (name: String, id: UUID)? = nil, on connection: PostgresConnection) throws -> [Contractor] {
        try connection.query("""
            SELECT id, name, kind, corporate_number, profile::text AS profile, profile_assessed_at, created_at
            FROM \(unescaped: table("contractors"))
            WHERE \(after?.name)::text IS NULL OR (name, id) > (\(after?.name)::text, \(after?.id)::uuid)
            ORDER BY name, id LIMIT \(limit)
            """).rows.map(Self.contractor(from:))
    }


    static func contractor(from row: PostgresRow) throws -> Contractor {
        guard let kind = ContractorKind(rawValue: try row.decode("kind")) else { throw ContractorMonitorError(.corruptData, "unknown contractor kind") }
        return Contractor(
            id: try row.decode("id"), name: try row.decode("name"), kind: kind, corporateNumber: try row.decode("corporate_number"),
            profile: try row.decode("profile", as: PostgresJSON<SafeguardProfile>.self).value, profileAssessedAt: try row.decode("profile_assessed_at"),
            createdAt: try row.decode("created_at"))
    }
}
