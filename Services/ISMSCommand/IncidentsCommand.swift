import ArgumentParser
import CSIRTTriage
import Contracts
import Directory
import Foundation
import Postgres
import ServiceRuntime

/// `isms incidents`: CSIRT's view of the cases (issue #4 item 9), straight on the database.
struct IncidentsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "incidents",
        abstract: "CSIRT cases: list, show, qualify, acknowledge, move, comment, assign, restrict use, obligations, original, digest, verify.",
        discussion: """
            Runs against ISMS_DATABASE_URL with the triage rules of deploy/config (or \
            ISMS_TRIAGE_* files). Changes go through the same engine as the HTTP API: guarded by \
            role, written to the hash-chained history, announced through the triage outbox.
            """,
        subcommands: [
            List.self, Show.self, Qualify.self, Ack.self, Transition.self, Comment.self, Assign.self, Restrict.self, Obligations.self, Original.self,
            Digest.self, Verify.self,
        ]
    )

    struct Actor: ParsableArguments {
        @Option(help: "Who acts (a person id of the directory, or a name for the record).")
        var actor = "cli:\(ProcessInfo.processInfo.environment["USER"] ?? "operator")"
        @Option(help: "The role acted in (default csirt).")
        var role = DirectoryRole.csirt.rawValue

        func triageActor() throws -> TriageActor {
            guard let role = DirectoryRole(rawValue: role) else { throw ValidationError("unknown role '\(role)'") }
            return TriageActor(id: actor, role: role)
        }
    }

    /// Runs `body` in a transaction with a context whose emitted messages go to the triage outbox.
    static func change<T: Sendable>(_ body: @escaping @Sendable (TriageEngine, inout TransactionContext) throws -> T) async throws -> T {
        let engine = try CSIRTTriageService.loadEngine()
        return try await CLIEnvironment.withDatabase { pool in
            try await pool.withTransaction { connection in
                var context = TransactionContext(connection: connection, schema: CSIRTTriageService.schema, service: .isms, logger: CLIEnvironment.logger, now: Date())
                let result = try body(engine, &context)
                try Outbox.enqueue(context.outgoing, schema: CSIRTTriageService.schema, on: connection)
                return result
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The latest cases, newest first.")
        @Option(help: "Only cases in this state (\(CaseState.allCases.map(\.rawValue).joined(separator: ", "))).")
        var state: String?
        @Option(help: "At most this many.") var limit = 50
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let state = try state.map { guard let state = CaseState(rawValue: $0) else { throw ValidationError("unknown state '\($0)'") }; return state }
            let limit = limit
            let cases = try await CLIEnvironment.withDatabase { pool in
                try await pool.withConnection { try TriageStore().list(visibility: .all, state: state, limit: limit, on: $0) }
            }
            if json { return try CLIOutput.json(cases) }
            CLIOutput.table(
                ["CASE", "SEV", "STATE", "SECTION", "CATEGORY", "KNOWN", "ACKNOWLEDGED", "TITLE"],
                cases.map { [$0.caseNumber, String($0.severity), $0.state.rawValue, $0.sectionCode, $0.category.rawValue, CLIOutput.date($0.knownAt), CLIOutput.date($0.acknowledgedAt), $0.title] }
            )
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One case with its severity decision, time stamps, handlers, restrictions, obligations and history (JSON).")
        @Argument(help: "The case number, e.g. INC-2026-000001.") var caseNumber: String

        struct Detail: Encodable {
            var `case`: CaseRecord
            var assignees: [CaseAssignee]
            var restrictions: [UseRestriction]
            var obligations: [CaseObligation]
            var history: [CaseHistoryEntry]
        }

        func run() async throws {
            let caseNumber = caseNumber
            let engine = try CSIRTTriageService.loadEngine()
            let detail = try await CLIEnvironment.withDatabase { pool in
                try await pool.withConnection { connection -> Detail? in
                    let store = TriageStore()
                    guard let record = try store.find(caseNumber: caseNumber, on: connection) else { return nil }
                    return Detail(
                        case: record, assignees: try engine.assignees(caseID: record.id, on: connection),
                        restrictions: try engine.restrictions(caseID: record.id, on: connection),
                        obligations: try engine.obligations(caseID: record.id, on: connection), history: try store.history(caseID: record.id, on: connection))
                }
            }
            guard let detail else {
                CLIEnvironment.printError("no case \(caseNumber)")
                throw ExitCode(1)
            }
            try CLIOutput.json(detail)
        }
    }

    struct Qualify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Confirm a case as an incident or discard it as not an incident (Art. 3(13)); a discard needs --reason.")
        @Argument var caseNumber: String
        @Flag(help: "Confirm as a security incident.") var incident = false
        @Flag(help: "Discard as not an incident.") var notIncident = false
        @Option(help: "Why (required to discard).") var reason: String?
        @OptionGroup var actor: Actor

        func validate() throws {
            if incident == notIncident { throw ValidationError("give exactly one of --incident or --not-incident") }
        }

        func run() async throws {
            let (caseNumber, reason, actor, action) = (caseNumber, reason, try actor.triageActor(), incident ? CaseAction.confirm : .discard)
            let record = try await IncidentsCommand.change { engine, context in
                try engine.perform(action, caseNumber: caseNumber, actor: actor, reason: reason, context: &context)
            }
            print("\(record.caseNumber): \(record.state.rawValue) (\(record.qualification?.rawValue ?? "-"))")
        }
    }

    struct Ack: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Acknowledge a case: take responsibility and stop its escalation.")
        @Argument var caseNumber: String
        @OptionGroup var actor: Actor

        func run() async throws {
            let (caseNumber, actor) = (caseNumber, try actor.triageActor())
            let record = try await IncidentsCommand.change { engine, context in
                try engine.perform(.acknowledge, caseNumber: caseNumber, actor: actor, reason: nil, context: &context)
            }
            print("\(record.caseNumber): acknowledged by \(actor.id); escalation stopped")
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
        @OptionGroup var actor: Actor

        func run() async throws {
            guard let action = CaseAction(rawValue: action) else { throw ValidationError("unknown action '\(self.action)'") }
            let (caseNumber, reason, actor) = (caseNumber, reason, try actor.triageActor())
            let record = try await IncidentsCommand.change { engine, context in
                try engine.perform(action, caseNumber: caseNumber, actor: actor, reason: reason, context: &context)
            }
            print("\(record.caseNumber): \(record.state.rawValue)")
        }
    }

    struct Comment: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a comment to a case's history.")
        @Argument var caseNumber: String
        @Argument var text: String
        @OptionGroup var actor: Actor

        func run() async throws {
            let (caseNumber, text, actor) = (caseNumber, text, try actor.triageActor())
            try await IncidentsCommand.change { engine, context in
                try engine.comment(text, caseNumber: caseNumber, actor: actor, context: &context)
            }
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
        @OptionGroup var actor: Actor

        func run() async throws {
            let caseNumber = caseNumber
            if let file {
                guard let id = UUID(uuidString: file), let reference else { throw ValidationError("--file takes an obligation id and needs --reference") }
                let actor = try actor.triageActor()
                let obligation = try await IncidentsCommand.change { engine, context in
                    try engine.fileObligation(caseNumber: caseNumber, obligationID: id, reference: reference, actor: actor, context: &context)
                }
                print("\(caseNumber): \(obligation.rule) filed (\(reference))")
                return
            }
            let engine = try CSIRTTriageService.loadEngine()
            let obligations = try await CLIEnvironment.withDatabase { pool in
                try await pool.withConnection { connection -> [CaseObligation]? in
                    guard let record = try TriageStore().find(caseNumber: caseNumber, on: connection) else { return nil }
                    return try engine.obligations(caseID: record.id, on: connection)
                }
            }
            guard let obligations else {
                CLIEnvironment.printError("no case \(caseNumber)")
                throw ExitCode(1)
            }
            try CLIOutput.json(obligations)
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check the hash chain of every case's history; names the first broken link (exit 1).")

        func run() async throws {
            let result = try await CLIEnvironment.withDatabase { pool in
                try await pool.withConnection { try TriageStore().verifyChain(on: $0) }
            }
            if let broken = result.brokenLink {
                print("BROKEN at history row \(broken.seq) (case \(broken.caseNumber)): \(broken.problem)")
                throw ExitCode(1)
            }
            print("intact: \(result.rowsChecked) history rows, head \(result.headHash)")
        }
    }
}
