import ArgumentParser
import Contracts
import Foundation
import ServiceClient

/// `isms contractors`: contractors, contracts, the sub-contract chain gate and compliance
/// (Art. 6, 18(8), 28), through contractor-monitor's API with the person's token.
struct ContractorsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "contractors",
        abstract: "Contractors and contracts: register, the sub-contract gate, attestations, violations, measures.",
        discussion: """
            Inputs are JSON files shaped like the HTTP API's request bodies (docs/openapi.yaml), \
            sent as they are to contractor-monitor (ISMS_CONTRACTOR_MONITOR_URL, default \
            http://127.0.0.1:8084) with your token (ISMS_TOKEN, or the one `isms login` saved). \
            \(ServiceExit.help)
            """,
        subcommands: [
            List.self, Add.self, Contracts.self, AddContract.self, Subcontract.self, Attest.self, Violations.self, Measures.self, Verify.self,
        ]
    )

    static func client() throws -> ServiceClient { try ServiceAccess.client(.contractorMonitor) }

    /// A request body from a file, checked to be JSON before it is sent.
    static func read(from path: String) throws -> Data {
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            _ = try JSONSerialization.jsonObject(with: data)
            return data
        } catch {
            throw ValidationError("\(path): \(error)")
        }
    }

    static func uuid(_ text: String, _ what: String) throws -> String {
        guard let id = UUID(uuidString: text) else { throw ValidationError("\(what) must be a UUID: \(text)") }
        return id.lowercasedString
    }

    static func get(_ path: String, key: String? = nil) async throws {
        let client = try client()
        if let key {
            try CLIOutput.json(answer: try await ServiceAccess.allPages(client, path, key: key), key: key)
        } else {
            try CLIOutput.json(answer: try await ServiceAccess.call { try await client.get(path) }, key: key)
        }
    }

    static func post(_ path: String, _ body: Data) async throws -> [String: Any] {
        let client = try client()
        return CLIOutput.object(try await ServiceAccess.call { try await client.send("POST", path, body: body) })
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Registered contractors with their safeguard profiles (JSON).")
        func run() async throws { try await ContractorsCommand.get("/v1/contractors", key: "contractors") }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Register a contractor from a JSON file (name, kind, profile, ...).")
        @Option(help: "The contractor as JSON.") var file: String
        func run() async throws {
            let contractor = try await ContractorsCommand.post("/v1/contractors", try ContractorsCommand.read(from: file))
            print("contractor \(CLIOutput.text(contractor["id"]).lowercased()): \(CLIOutput.text(contractor["name"]))")
        }
    }

    struct Contracts: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Contracts you may see, each with its state (JSON).")
        func run() async throws { try await ContractorsCommand.get("/v1/contracts", key: "contracts") }
    }

    struct AddContract: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add-contract",
            abstract: "Register a contract from a JSON file; schedules its attestations (Art. 28) and the return certificate."
        )
        @Option(help: "The contract as JSON.") var file: String
        func run() async throws {
            let contract = try await ContractorsCommand.post("/v1/contracts", try ContractorsCommand.read(from: file))
            print("contract \(CLIOutput.text(contract["id"]).lowercased()): \(CLIOutput.text(contract["reference"])) (\(CLIOutput.text(contract["sectionCode"])))")
        }
    }

    struct Subcontract: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Ask to approve a sub-contractor under a contract or a link (Art. 6(3)): refused with every shortfall unless its safeguards meet the baseline and its parent's, control by control.",
            discussion: "A refusal prints every shortfall and exits 2."
        )
        @Option(help: "The contract's id.") var contract: String
        @Option(help: "The registered sub-contractor's id.") var subcontractor: String
        @Option(help: "The parent link's id (omit for a direct sub-contractor of the prime).") var parent: String?
        func run() async throws {
            let contractID = try ContractorsCommand.uuid(contract, "--contract")
            let body = try ServiceAccess.body([
                "subcontractorId": try ContractorsCommand.uuid(subcontractor, "--subcontractor"), "parentLinkId": try parent.map { try ContractorsCommand.uuid($0, "--parent") },
            ])
            let client = try ContractorsCommand.client()
            // A refusal is answered 422 with the recorded decision, not a problem document.
            let result = try await ServiceAccess.call { try await client.exchange("POST", "/v1/contracts/\(contractID)/subcontracts", body: body) }
            let decision = CLIOutput.object(result.body)
            guard result.status == 201 || (result.status == 422 && decision["decision"] != nil) else { try ServiceAccess.refuse(result) }
            print("link \(CLIOutput.text(decision["linkID"] ?? decision["linkId"]).lowercased()): \(CLIOutput.text(decision["decision"]))")
            let shortfalls = decision["shortfalls"] as? [Any] ?? []
            for shortfall in shortfalls {
                let data = try JSONSerialization.data(withJSONObject: shortfall, options: [.sortedKeys, .withoutEscapingSlashes, .fragmentsAllowed])
                print("  \(String(decoding: data, as: UTF8.self))")
            }
            if !shortfalls.isEmpty { throw ExitCode(ServiceExit.refused) }
        }
    }

    struct Attest: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Record a contract's attestation for a period from a JSON file (answers per checklist item).")
        @Option(help: "The contract's id.") var contract: String
        @Option(help: "The attestation as JSON.") var file: String
        func run() async throws {
            let id = try ContractorsCommand.uuid(contract, "--contract")
            let outcome = try await ContractorsCommand.post("/v1/contracts/\(id)/attestations", try ContractorsCommand.read(from: file))
            print("attestation recorded; \((outcome["violations"] as? [Any])?.count ?? 0) violation(s)")
        }
    }

    struct Violations: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Open violations (JSON); each one became a CSIRT case (Art. 3(13)(イ)).")
        func run() async throws { try await ContractorsCommand.get("/v1/contractor-violations", key: "violations") }
    }

    struct Measures: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Per department: contracts by state, attestation compliance, open violations (Art. 11(5)(8)).")
        func run() async throws { try await ContractorsCommand.get("/v1/contractor-measures") }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check the hash chain of sub-contract approvals and refusals.")
        func run() async throws { try await ContractorsCommand.get("/v1/subcontract-decisions/verify") }
    }
}
