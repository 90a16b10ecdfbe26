import ArgumentParser
import Contracts
import Foundation
import ServiceClient

// `isms incidents assign | restrict | original | digest`: who handles a case, Art. 27(3) use
// restrictions, the restricted original of a report, and the sharing digest (issue #4 items 8-10).
extension IncidentsCommand {
    struct Assign: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Assign a person of the directory to a case (or --release them); they are told.")
        @Argument var caseNumber: String
        @Argument(help: "The person's directory id.") var person: String
        @Flag(help: "Release the person from the case instead.") var release = false
        @Option(help: "Why.") var reason: String?

        func run() async throws {
            let answer = release
                ? try await IncidentsCommand.change(caseNumber, "/assignees/\(ServiceAccess.segment(person))", [:], method: "DELETE")
                : try await IncidentsCommand.change(caseNumber, "/assignees", ["personId": person, "reason": reason])
            let assignees = (answer["assignees"] as? [[String: Any]] ?? []).map { CLIOutput.text($0["personID"] ?? $0["personId"]) }
            print("\(caseNumber): handled by \(assignees.isEmpty ? "nobody" : assignees.joined(separator: ", "))")
        }
    }

    struct Restrict: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Use restrictions of a case (Art. 27(3)): order one, approve, reject or lift it, or list them.",
            discussion: """
                Ordering names assets, systems or accounts and a reason; it takes effect only when \
                the CISO or the general security officer approves (--approve ID, with their token). \
                Without an action the case's restrictions are printed.
                """
        )
        @Argument var caseNumber: String
        @Option(help: "An information asset to restrict (repeatable).") var asset: [String] = []
        @Option(help: "A system to restrict (repeatable).") var system: [String] = []
        @Option(help: "An account to restrict (repeatable).") var account: [String] = []
        @Option(help: "Why: the order's reason, or the decision's.") var reason: String?
        @Option(help: "In force from (ISO 8601; default: when approved).") var from: String?
        @Option(help: "In force until (ISO 8601; default: until lifted).") var until: String?
        @Option(help: "Approve this restriction (its id).") var approve: String?
        @Option(help: "Reject this restriction (its id); needs --reason.") var reject: String?
        @Option(help: "Lift this restriction (its id); needs --reason.") var lift: String?

        func run() async throws {
            func id(_ text: String) throws -> String {
                guard let id = UUID(uuidString: text) else { throw ValidationError("not a restriction id: \(text)") }
                return id.lowercasedString
            }
            let restriction: [String: Any]
            if let approve {
                restriction = try await IncidentsCommand.change(caseNumber, "/restrictions/\(try id(approve))/decision", ["decision": "approve", "reason": reason])
            } else if let reject {
                restriction = try await IncidentsCommand.change(caseNumber, "/restrictions/\(try id(reject))/decision", ["decision": "reject", "reason": reason])
            } else if let lift {
                guard let reason else { throw ValidationError("lifting needs --reason") }
                restriction = try await IncidentsCommand.change(caseNumber, "/restrictions/\(try id(lift))/lifting", ["reason": reason])
            } else if !(asset.isEmpty && system.isEmpty && account.isEmpty) {
                guard let reason else { throw ValidationError("an order needs --reason") }
                for (text, name) in [(from, "from"), (until, "until")] {
                    if let text, ContractsJSON.parseTimestamp(text) == nil { throw ValidationError("--\(name) is not an ISO 8601 time: \(text)") }
                }
                let targets = asset.map { ["kind": "asset", "name": $0] } + system.map { ["kind": "system", "name": $0] } + account.map { ["kind": "account", "name": $0] }
                restriction = try await IncidentsCommand.change(caseNumber, "/restrictions", ["targets": targets, "reason": reason, "from": from, "until": until])
            } else {
                let client = try IncidentsCommand.client()
                let data = try await ServiceAccess.call { try await client.get(IncidentsCommand.casePath(caseNumber)) }
                return try CLIOutput.json(answer: data, key: "restrictions")
            }
            print("\(caseNumber): restriction \(CLIOutput.text(restriction["id"]).lowercased()) \(CLIOutput.text(restriction["status"]))")
        }
    }

    struct Original: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read the restricted original of a case's report through intake's API (designated handlers of the section only; logged).",
            discussion: """
                The token must be a designatedHandler token of the reporting section \
                (`isms token issue --role designatedHandler --unit SECTION`). Intake is reached at \
                ISMS_INCIDENT_INTAKE_URL (default http://127.0.0.1:8081).
                """
        )
        @Argument var caseNumber: String
        @Option(help: "A bearer token (default: ISMS_TOKEN or the saved one).") var token: String?

        func run() async throws {
            let triage = try token.map { ServiceClient(baseURL: ServiceAccess.baseURL(.csirtTriage), token: $0) } ?? IncidentsCommand.client()
            let detail = CLIOutput.object(try await ServiceAccess.call { try await triage.get(IncidentsCommand.casePath(caseNumber)) })
            let source = (detail["case"] as? [String: Any])?["source"] as? [String: Any] ?? [:]
            guard source["kind"] as? String == "incident-report", let intakeID = source["id"] as? String else {
                CLIEnvironment.printError("\(caseNumber) was not opened from an incident report")
                throw ExitCode(ServiceExit.refused)
            }
            let intake = ServiceClient(baseURL: ServiceAccess.baseURL(.incidentIntake), token: triage.token)
            let data = try await ServiceAccess.call { try await intake.get("/v1/incident-reports/\(ServiceAccess.segment(intakeID))/original") }
            try CLIOutput.json(answer: data)
        }
    }

    struct Digest: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send the masked incident digest to every section's security staff now (Art. 10, 16(7)); the periodic one runs on its own."
        )
        @Option(help: "Cover the cases opened in the last this many days.") var days = 7

        func run() async throws {
            let client = try IncidentsCommand.client()
            let body = try ServiceAccess.body(["days": days])
            let digest = CLIOutput.object(try await ServiceAccess.call { try await client.send("POST", "/v1/digests", body: body) })
            print("digest of \(CLIOutput.text(digest["total"])) cases sent to \((digest["recipients"] as? [Any])?.count ?? 0) section security staff")
        }
    }
}
