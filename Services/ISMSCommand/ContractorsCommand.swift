import ArgumentParser
import ContractorMonitor
import Foundation
import Postgres

/// `isms contractors`: contractors, contracts, the sub-contract chain gate and compliance
/// (Art. 6, 18(8), 28), straight on the database with the ward's baseline.
struct ContractorsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "contractors",
        abstract: "Contractors and contracts: register, the sub-contract gate, attestations, violations, measures.",
        discussion: "Inputs are JSON files shaped like the HTTP API's request bodies (docs/openapi.yaml).",
        subcommands: [
            List.self, Add.self, Contracts.self, AddContract.self, Subcontract.self, Attest.self, Violations.self, Measures.self, Verify.self,
        ]
    )

    static var who: String { "cli:\(ProcessInfo.processInfo.environment["USER"] ?? "operator")" }

    static func read<T: Decodable>(_ type: T.Type, from path: String) throws -> T {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        do {
            return try decoder.decode(type, from: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw ValidationError("\(path): \(error)")
        }
    }

    static func uuid(_ text: String, _ what: String) throws -> UUID {
        guard let id = UUID(uuidString: text) else { throw ValidationError("\(what) must be a UUID: \(text)") }
        return id
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Registered contractors with their safeguard profiles (JSON).")
        func run() async throws {
            let registry = try ContractorMonitorService.defaultRegistry()
            try CLIOutput.json(try await CLIEnvironment.withDatabase { pool in try await pool.withConnection { try registry.contractors(on: $0) } })
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Register a contractor from a JSON file (name, kind, profile, ...).")
        @Option(help: "The contractor as JSON.") var file: String
        func run() async throws {
            let (registry, input) = (try ContractorMonitorService.defaultRegistry(), try ContractorsCommand.read(ContractorRegistry.ContractorInput.self, from: file))
            let contractor = try await CLIEnvironment.withDatabase { pool in
                try await pool.withTransaction { try registry.registerContractor(input, now: Date(), on: $0) }
            }
            print("contractor \(contractor.id.uuidString.lowercased()): \(contractor.name)")
        }
    }

    struct Contracts: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Contracts (JSON).")
        func run() async throws {
            let registry = try ContractorMonitorService.defaultRegistry()
            try CLIOutput.json(try await CLIEnvironment.withDatabase { pool in try await pool.withConnection { try registry.contracts(on: $0) } })
        }
    }

    struct AddContract: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add-contract",
            abstract: "Register a contract from a JSON file; schedules its attestations (Art. 28) and the return certificate."
        )
        @Option(help: "The contract as JSON.") var file: String
        func run() async throws {
            let (registry, input) = (try ContractorMonitorService.defaultRegistry(), try ContractorsCommand.read(ContractorRegistry.ContractInput.self, from: file))
            let contract = try await CLIEnvironment.withDatabase { pool in
                try await pool.withTransaction { try registry.registerContract(input, createdBy: ContractorsCommand.who, now: Date(), on: $0) }
            }
            print("contract \(contract.id.uuidString.lowercased()): \(contract.reference) (\(contract.sectionCode))")
        }
    }

    struct Subcontract: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Ask to approve a sub-contractor under a contract or a link (Art. 6(3)): refused with every shortfall unless its safeguards meet the baseline and its parent's, control by control."
        )
        @Option(help: "The contract's id.") var contract: String
        @Option(help: "The registered sub-contractor's id.") var subcontractor: String
        @Option(help: "The parent link's id (omit for a direct sub-contractor of the prime).") var parent: String?
        func run() async throws {
            let registry = try ContractorMonitorService.defaultRegistry()
            let (contractID, subID, parentID) = (
                try ContractorsCommand.uuid(contract, "--contract"), try ContractorsCommand.uuid(subcontractor, "--subcontractor"),
                try parent.map { try ContractorsCommand.uuid($0, "--parent") }
            )
            let decision = try await CLIEnvironment.withDatabase { pool in
                try await pool.withTransaction {
                    try registry.requestSubcontract(contractID: contractID, parentLinkID: parentID, subcontractorID: subID, approver: ContractorsCommand.who, now: Date(), on: $0)
                }
            }
            print("link \(decision.linkID.uuidString.lowercased()): \(decision.decision)")
            for shortfall in decision.shortfalls { print("  \(shortfall)") }
            if !decision.shortfalls.isEmpty { throw ExitCode(2) }
        }
    }

    struct Attest: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Record a contract's attestation for a period from a JSON file (answers per checklist item).")
        @Option(help: "The contract's id.") var contract: String
        @Option(help: "The attestation as JSON.") var file: String
        func run() async throws {
            let (registry, id, input) = (
                try ContractorMonitorService.defaultRegistry(), try ContractorsCommand.uuid(contract, "--contract"),
                try ContractorsCommand.read(ContractorRegistry.AttestationInput.self, from: file)
            )
            let outcome = try await CLIEnvironment.withDatabase { pool in
                try await pool.withTransaction { try registry.submitAttestation(input, contractID: id, recordedBy: ContractorsCommand.who, now: Date(), on: $0) }
            }
            print("attestation recorded; \(outcome.violations.count) violation(s)")
        }
    }

    struct Violations: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Open violations (JSON); each one became a CSIRT case (Art. 3(13)(イ)).")
        func run() async throws {
            let registry = try ContractorMonitorService.defaultRegistry()
            try CLIOutput.json(try await CLIEnvironment.withDatabase { pool in try await pool.withConnection { try registry.violations(on: $0) } })
        }
    }

    struct Measures: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Per department: contracts by state, attestation compliance, open violations (Art. 11(5)(8)).")
        func run() async throws {
            let registry = try ContractorMonitorService.defaultRegistry()
            try CLIOutput.json(try await CLIEnvironment.withDatabase { pool in try await pool.withConnection { try registry.measures(asOf: Date(), on: $0) } })
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check the hash chain of sub-contract approvals and refusals.")
        func run() async throws {
            let registry = try ContractorMonitorService.defaultRegistry()
            let result = try await CLIEnvironment.withDatabase { pool in try await pool.withConnection { try registry.verifyDecisionChain(on: $0) } }
            try CLIOutput.json(result)
        }
    }
}
