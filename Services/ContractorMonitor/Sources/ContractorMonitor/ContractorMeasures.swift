public import Foundation
public import Postgres

/// The contractor-management measures for the management review (Art. 11(5)(8)), per
/// department: contracts by state, attestation compliance, open violations.
public struct ContractorMeasuresReport: Sendable, Hashable, Codable {
    /// One department's figures.
    public struct Department: Sendable, Hashable, Codable {
        public var departmentCode: String
        /// Contracts by ``ContractState`` raw value; every state is present.
        public var contractsByState: [String: Int]
        /// Contracts handling My Number data (Art. 18(8)).
        public var myNumberContracts: Int
        /// Attestation periods whose grace period ended by `asOf`.
        public var attestationsDue: Int
        /// Of those, attested by the end of the grace period.
        public var attestedOnTime: Int
        /// Of those, attested after the grace period.
        public var attestedLate: Int
        /// Of those, not attested at all.
        public var attestationsMissing: Int
        /// `attestedOnTime / attestationsDue`; nil when nothing was due.
        public var complianceRate: Double?
        /// Open violations by kind.
        public var openViolationsByKind: [String: Int]
        public var openViolations: Int
        /// Sub-contract links approved and refused (Art. 6(3)).
        public var subcontractsApproved: Int
        public var subcontractsRefused: Int
    }

    public var asOf: Date
    public var departments: [Department]
    /// The same figures for the whole ward (departmentCode `*`).
    public var total: Department
}

/// The raw facts the measures are computed from; built from the database or by tests.
public struct ContractorMeasuresInput: Sendable {
    public var contracts: [Contract]
    /// Submission time by contract and period.
    public var attestations: [UUID: [Int: Date]]
    public var violations: [ContractorViolation]
    /// Approved and refused links by contract.
    public var links: [UUID: (approved: Int, refused: Int)]

    public init(contracts: [Contract], attestations: [UUID: [Int: Date]], violations: [ContractorViolation], links: [UUID: (approved: Int, refused: Int)]) {
        self.contracts = contracts
        self.attestations = attestations
        self.violations = violations
        self.links = links
    }
}

public enum ContractorMeasures {
    /// Computes the report at `asOf` (a pure function).
    public static func compute(_ input: ContractorMeasuresInput, asOf: Date) -> ContractorMeasuresReport {
        var byDepartment: [String: ContractorMeasuresReport.Department] = [:]
        func empty(_ code: String) -> ContractorMeasuresReport.Department {
            ContractorMeasuresReport.Department(
                departmentCode: code, contractsByState: Dictionary(uniqueKeysWithValues: ContractState.allCases.map { ($0.rawValue, 0) }),
                myNumberContracts: 0, attestationsDue: 0, attestedOnTime: 0, attestedLate: 0, attestationsMissing: 0, complianceRate: nil,
                openViolationsByKind: [:], openViolations: 0, subcontractsApproved: 0, subcontractsRefused: 0)
        }
        for contract in input.contracts {
            var entry = byDepartment[contract.departmentCode] ?? empty(contract.departmentCode)
            entry.contractsByState[contract.state(at: asOf).rawValue, default: 0] += 1
            if contract.handlesMyNumber { entry.myNumberContracts += 1 }
            let submitted = input.attestations[contract.id] ?? [:]
            for period in contract.schedule.periods where period.graceEndsAt <= asOf {
                entry.attestationsDue += 1
                switch submitted[period.number] {
                case .some(let at) where at <= period.graceEndsAt: entry.attestedOnTime += 1
                case .some: entry.attestedLate += 1
                case .none: entry.attestationsMissing += 1
                }
            }
            let links = input.links[contract.id] ?? (0, 0)
            entry.subcontractsApproved += links.approved
            entry.subcontractsRefused += links.refused
            byDepartment[contract.departmentCode] = entry
        }
        for violation in input.violations where violation.state == .open && violation.detectedAt <= asOf {
            var entry = byDepartment[violation.departmentCode] ?? empty(violation.departmentCode)
            entry.openViolations += 1
            entry.openViolationsByKind[violation.kind, default: 0] += 1
            byDepartment[violation.departmentCode] = entry
        }
        var total = empty("*")
        var departments: [ContractorMeasuresReport.Department] = []
        for code in byDepartment.keys.sorted() {
            var entry = byDepartment[code]!
            entry.complianceRate = entry.attestationsDue == 0 ? nil : Double(entry.attestedOnTime) / Double(entry.attestationsDue)
            departments.append(entry)
            for (state, count) in entry.contractsByState { total.contractsByState[state, default: 0] += count }
            total.myNumberContracts += entry.myNumberContracts
            total.attestationsDue += entry.attestationsDue
            total.attestedOnTime += entry.attestedOnTime
            total.attestedLate += entry.attestedLate
            total.attestationsMissing += entry.attestationsMissing
            for (kind, count) in entry.openViolationsByKind { total.openViolationsByKind[kind, default: 0] += count }
            total.openViolations += entry.openViolations
            total.subcontractsApproved += entry.subcontractsApproved
            total.subcontractsRefused += entry.subcontractsRefused
        }
        total.complianceRate = total.attestationsDue == 0 ? nil : Double(total.attestedOnTime) / Double(total.attestationsDue)
        return ContractorMeasuresReport(asOf: asOf, departments: departments, total: total)
    }
}

extension ContractorRegistry {
    /// The management-review measures (Art. 11(5)(8)) at `asOf`, for the contracts in `scope`.
    public func measures(asOf: Date, in scope: ContractorScope = .all, on connection: PostgresConnection) throws -> ContractorMeasuresReport {
        let contracts = try contracts(in: scope, on: connection)
        let ids = contracts.map(\.id)
        var attestations: [UUID: [Int: Date]] = [:]
        for row in try connection.query("""
            SELECT contract_id, period, submitted_at FROM \(unescaped: table("attestations")) WHERE contract_id = ANY(\(ids)::uuid[])
            """) {
            attestations[try row.decode("contract_id"), default: [:]][try row.decode("period")] = try row.decode("submitted_at")
        }
        var links: [UUID: (approved: Int, refused: Int)] = [:]
        for row in try connection.query("""
            SELECT contract_id, count(*) FILTER (WHERE state = 'approved') AS approved, count(*) FILTER (WHERE state = 'refused') AS refused
            FROM \(unescaped: table("subcontract_links")) WHERE contract_id = ANY(\(ids)::uuid[]) GROUP BY contract_id
            """) {
            links[try row.decode("contract_id")] = (try row.decode("approved"), try row.decode("refused"))
        }
        let violations = try self.violations(in: scope, state: .open, on: connection)
        return ContractorMeasures.compute(ContractorMeasuresInput(contracts: contracts, attestations: attestations, violations: violations, links: links), asOf: asOf)
    }
}
