import ArgumentParser
import CSIRTTriage
import Contracts
import Foundation
import ServiceClient

/// `isms incidents`: CSIRT's view of the cases (issue #4 item 9), through csirt-triage's API
/// with the person's token (issue #14 item 7).
struct IncidentsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "incidents",
        abstract: "CSIRT cases: list, show, qualify, acknowledge, move, close with lessons, comment, assign, restrict use, merge, split, obligations, original, digest, verify, lessons.",
        discussion: """
            Calls csirt-triage's HTTP API (ISMS_CSIRT_TRIAGE_URL, default http://127.0.0.1:8082) \
            with your token (ISMS_TOKEN, or the one `isms login` saved): the service decides by \
            your role and unit what you see and may do, and records you as the actor. No \
            database URL is needed. \(ServiceExit.help)
            """,
        subcommands: [
            List.self, Show.self, Qualify.self, Ack.self, Transition.self, Comment.self, Assign.self, Restrict.self, Merge.self, Split.self,
            Obligations.self, Original.self, Digest.self, Verify.self, Close.self, Lessons.self,
        ]
    )

    static func client() throws -> ServiceClient { try ServiceAccess.client(.csirtTriage) }

    static func casePath(_ caseNumber: String, _ rest: String = "") -> String {
        "/v1/cases/\(ServiceAccess.segment(caseNumber))\(rest)"
    }

    /// `POST` (or another method) on a case, answering the service's JSON.
    static func change(_ caseNumber: String, _ rest: String, _ body: [String: Any?], method: String = "POST") async throws -> [String: Any] {
        let client = try client()
        let data = try ServiceAccess.body(body)
        return CLIOutput.object(try await ServiceAccess.call { try await client.send(method, casePath(caseNumber, rest), body: data) })
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The latest cases you may see, newest first.")
        @Option(help: "Only cases in this state (\(CaseState.allCases.map(\.rawValue).joined(separator: ", "))).")
        var state: String?
        @Option(help: "At most this many.") var limit = 50
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            if let state, CaseState(rawValue: state) == nil { throw ValidationError("unknown state '\(state)'") }
            let client = try IncidentsCommand.client()
            let data = try await ServiceAccess.call { try await client.get("/v1/cases", query: [("state", state), ("limit", String(limit))]) }
            if json { return try CLIOutput.json(answer: data, key: "cases") }
            CLIOutput.table(
                ["CASE", "SEV", "STATE", "REPORTS", "SECTION", "CATEGORY", "KNOWN", "ACKNOWLEDGED", "TITLE"],
                CLIOutput.objects(data, key: "cases").map { record in
                    ["caseNumber", "severity", "state", "reportCount", "sectionCode", "category", "knownAt", "acknowledgedAt", "title"].map { CLIOutput.text(record[$0]) }
                }
            )
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "One case with its severity decision, time stamps, reports, handlers, restrictions, obligations and history (JSON).",
            discussion: "With --reports N: the case's report count, first and last seen, and its first N reports (intake id, the rule that joined each) as a table."
        )
        @Argument(help: "The case number, e.g. INC-2026-000001.") var caseNumber: String
        @Option(help: "Print the report count and the first this many reports (at most 1000) instead of the JSON.") var reports: Int?

        func validate() throws {
            if let reports, !(0...1000).contains(reports) { throw ValidationError("--reports takes 0 to 1000") }
        }

        func run() async throws {
            let client = try IncidentsCommand.client()
            let data = try await ServiceAccess.call { try await client.get(IncidentsCommand.casePath(caseNumber)) }
            if let reports { return IncidentsCommand.printReports(CLIOutput.object(data), limit: reports) }
            try CLIOutput.json(answer: data)
        }
    }

    struct Qualify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Confirm a case as an incident or discard it as not an incident (Art. 3(13)); a discard needs --reason.")
        @Argument var caseNumber: String
        @Flag(help: "Confirm as a security incident.") var incident = false
        @Flag(help: "Discard as not an incident.") var notIncident = false
        @Option(help: "Why (required to discard).") var reason: String?

        func validate() throws {
            if incident == notIncident { throw ValidationError("give exactly one of --incident or --not-incident") }
        }

        func run() async throws {
            let record = try await IncidentsCommand.change(
                caseNumber, "/qualification", ["decision": incident ? CaseQualification.incident.rawValue : CaseQualification.notIncident.rawValue, "reason": reason])
            print("\(CLIOutput.text(record["caseNumber"])): \(CLIOutput.text(record["state"])) (\(CLIOutput.text(record["qualification"])))")
        }
    }

    struct Ack: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Acknowledge a case: take responsibility and stop its escalation.")
        @Argument var caseNumber: String

        func run() async throws {
            let record = try await IncidentsCommand.change(caseNumber, "/acknowledgement", [:])
            print("\(CLIOutput.text(record["caseNumber"])): acknowledged; escalation stopped")
        }
    }

    struct Transition: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move a case: \(CaseAction.allCases.map(\.rawValue).joined(separator: ", ")).",
            discussion: "reported → triaged → acknowledged → investigating → contained → recovered → closed, plus discarded and reopened; each step is guarded by role."
        )
        @Argument var caseNumber: String
        @Argument(help: "The action.") var action: String
        @Option(help: "Why (required for discard and reopen).") var reason: String?

        func run() async throws {
            guard CaseAction(rawValue: action) != nil else { throw ValidationError("unknown action '\(action)'") }
            // Issue #18: closing needs its lessons, which only `close` asks for.
            if action == CaseAction.close.rawValue { throw ValidationError("closing needs its lessons: use `isms incidents close \(caseNumber) --cause ... --measure ...`") }
            let record = try await IncidentsCommand.change(caseNumber, "/transitions", ["action": action, "reason": reason])
            print("\(CLIOutput.text(record["caseNumber"])): \(CLIOutput.text(record["state"]))")
        }
    }

    struct Comment: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a comment to a case's history.")
        @Argument var caseNumber: String
        @Argument var text: String

        func run() async throws {
            _ = try await IncidentsCommand.change(caseNumber, "/comments", ["text": text])
            print("\(caseNumber): comment recorded")
        }
    }

    struct Obligations: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A case's statutory obligations (APPI Art. 68, My Number Act Art. 29-4) with their due dates; --file records a filing."
        )
        @Argument var caseNumber: String
        @Option(help: "Record the filing of this obligation (its id).") var file: String?
        @Option(help: "The filing's reference, e.g. the PPC receipt number.") var reference: String?

        func run() async throws {
            if let file {
                guard let id = UUID(uuidString: file), let reference else { throw ValidationError("--file takes an obligation id and needs --reference") }
                let obligation = try await IncidentsCommand.change(caseNumber, "/obligations/\(id.lowercasedString)/filing", ["reference": reference])
                print("\(caseNumber): \(CLIOutput.text(obligation["rule"])) filed (\(reference))")
                return
            }
            let client = try IncidentsCommand.client()
            let data = try await ServiceAccess.call { try await client.get(IncidentsCommand.casePath(caseNumber, "/obligations")) }
            try CLIOutput.json(answer: data, key: "obligations")
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check the hash chain of every case's history; names the first broken link (exit 1).")

        func run() async throws {
            let client = try IncidentsCommand.client()
            let result = try await ServiceAccess.call { try await client.exchange("GET", "/v1/history/verification") }
            let answer = CLIOutput.object(result.body)
            switch result.status {
            case 200:
                print("intact: \(CLIOutput.text(answer["rowsChecked"])) history rows, head \(CLIOutput.text(answer["headHash"]))")
            case 409:
                let broken = answer["brokenLink"] as? [String: Any] ?? [:]
                print("BROKEN at history row \(CLIOutput.text(broken["seq"])) (case \(CLIOutput.text(broken["caseNumber"]))): \(CLIOutput.text(broken["problem"]))")
                throw ExitCode(ServiceExit.failure)
            default:
                try ServiceAccess.refuse(result)
            }
        }
    }
}
