import ArgumentParser
import CSIRTTriage
import Contracts
import Foundation
import Postgres
import ServiceRuntime
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

// `isms incidents assign | restrict | original | digest`: who handles a case, Art. 27(3) use
// restrictions, the restricted original of a report, and the sharing digest (issue #4 items 8-10).
extension IncidentsCommand {
    struct Assign: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Assign a person of the directory to a case (or --release them); they are told.")
        @Argument var caseNumber: String
        @Argument(help: "The person's directory id.") var person: String
        @Flag(help: "Release the person from the case instead.") var release = false
        @Option(help: "Why.") var reason: String?
        @OptionGroup var actor: Actor

        func run() async throws {
            let (caseNumber, person, release, reason, actor) = (caseNumber, person, release, reason, try actor.triageActor())
            let assignees = try await IncidentsCommand.change { engine, context in
                try engine.assign(personID: person, assign: !release, caseNumber: caseNumber, actor: actor, reason: reason, context: &context)
            }
            print("\(caseNumber): handled by \(assignees.isEmpty ? "nobody" : assignees.map(\.personID).joined(separator: ", "))")
        }
    }

    struct Restrict: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Use restrictions of a case (Art. 27(3)): order one, approve, reject or lift it, or list them.",
            discussion: """
                Ordering names assets, systems or accounts and a reason; it takes effect only when \
                the CISO or the general security officer approves (--approve ID --role ciso). \
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
        @OptionGroup var actor: Actor

        func run() async throws {
            let caseNumber = caseNumber
            let actor = try actor.triageActor()
            let reason = reason
            func id(_ text: String) throws -> UUID {
                guard let id = UUID(uuidString: text) else { throw ValidationError("not a restriction id: \(text)") }
                return id
            }
            let restriction: UseRestriction
            if let approve {
                let id = try id(approve)
                restriction = try await IncidentsCommand.change { engine, context in
                    try engine.decideRestriction(id: id, caseNumber: caseNumber, approve: true, reason: reason, actor: actor, context: &context)
                }
            } else if let reject {
                let id = try id(reject)
                restriction = try await IncidentsCommand.change { engine, context in
                    try engine.decideRestriction(id: id, caseNumber: caseNumber, approve: false, reason: reason, actor: actor, context: &context)
                }
            } else if let lift {
                let id = try id(lift)
                guard let reason else { throw ValidationError("lifting needs --reason") }
                restriction = try await IncidentsCommand.change { engine, context in
                    try engine.liftRestriction(id: id, caseNumber: caseNumber, reason: reason, actor: actor, context: &context)
                }
            } else if !(asset.isEmpty && system.isEmpty && account.isEmpty) {
                guard let reason else { throw ValidationError("an order needs --reason") }
                func date(_ text: String?, _ name: String) throws -> Date? {
                    guard let text else { return nil }
                    guard let date = ContractsJSON.parseTimestamp(text) else { throw ValidationError("--\(name) is not an ISO 8601 time: \(text)") }
                    return date
                }
                let targets = asset.map { UseRestriction.Target(kind: .asset, name: $0) } + system.map { .init(kind: .system, name: $0) }
                    + account.map { .init(kind: .account, name: $0) }
                let order = UseRestrictionOrder(targets: targets, reason: reason, from: try date(from, "from"), until: try date(until, "until"))
                restriction = try await IncidentsCommand.change { engine, context in
                    try engine.orderRestriction(order, caseNumber: caseNumber, actor: actor, context: &context)
                }
            } else {
                let engine = try CSIRTTriageService.loadEngine()
                let list = try await CLIEnvironment.withDatabase { pool in
                    try await pool.withConnection { connection -> [UseRestriction]? in
                        guard let record = try engine.store.find(caseNumber: caseNumber, on: connection) else { return nil }
                        return try engine.restrictions(caseID: record.id, on: connection)
                    }
                }
                guard let list else {
                    CLIEnvironment.printError("no case \(caseNumber)")
                    throw ExitCode(1)
                }
                return try CLIOutput.json(list)
            }
            print("\(caseNumber): restriction \(restriction.id.uuidString.lowercased()) \(restriction.status.rawValue)")
        }
    }

    struct Original: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read the restricted original of a case's report through intake's API (designated handlers of the section only; logged).",
            discussion: "The token must be a designatedHandler token of the reporting section (`isms token issue --role designatedHandler --unit SECTION`)."
        )
        @Argument var caseNumber: String
        @Option(help: "A bearer token (default: ISMS_TOKEN).") var token: String?
        @Option(help: "Intake's base URL.") var intakeURL = CLIEnvironment.environment["ISMS_INTAKE_URL"] ?? "http://127.0.0.1:8081"

        func run() async throws {
            guard let token = token ?? CLIEnvironment.environment["ISMS_TOKEN"] else { throw ValidationError("give --token or set ISMS_TOKEN") }
            let caseNumber = caseNumber
            let source = try await CLIEnvironment.withDatabase { pool in
                try await pool.withConnection { try TriageStore().find(caseNumber: caseNumber, on: $0)?.source }
            }
            guard let source else {
                CLIEnvironment.printError("no case \(caseNumber)")
                throw ExitCode(1)
            }
            guard source.kind == CaseSource.incidentReport(UUID()).kind, let url = URL(string: "\(intakeURL)/v1/incident-reports/\(source.id)/original") else {
                CLIEnvironment.printError("\(caseNumber) was not opened from an incident report")
                throw ExitCode(1)
            }
            var request = URLRequest(url: url, timeoutInterval: 10)
            request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
            let (data, response) = try await URLSession.shared.data(for: request)
            print(String(decoding: data, as: UTF8.self))
            if (response as? HTTPURLResponse)?.statusCode != 200 { throw ExitCode(1) }
        }
    }

    struct Digest: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send the masked incident digest to every section's security staff now (Art. 10, 16(7)); the periodic one runs on its own."
        )
        @Option(help: "Cover the cases opened in the last this many days.") var days = 7

        func run() async throws {
            let start = Date().addingTimeInterval(-Double(days) * 86_400)
            let digest = try await IncidentsCommand.change { engine, context in
                try engine.sendDigest(periodStart: start, every: nil, context: &context)
            }
            print("digest of \(digest.total) cases sent to \(digest.recipients.count) section security staff")
        }
    }
}
