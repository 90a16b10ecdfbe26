import ArgumentParser
import Foundation
import ServiceClient

// `isms incidents close | lessons`: closing a case with its lessons (Art. 27(1), 27(2); issue
// #18 item 2) and the report of the lessons of the cases closed in a period.
extension IncidentsCommand {
    struct Close: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Close a recovered case with its lessons: cause, recurrence-prevention measures, emergency response plan change (Art. 27(1), 27(2)).",
            discussion: """
                Each --measure is "description|ownerRole|ownerUnit|YYYY-MM-DD": what is done, the \
                directory role that owes it (e.g. sectionSecurityOfficer), the section or \
                department code it is owed by, and the due date (not before today, Japan time). \
                The audit scheduler chases each measure as a duty. Say whether the emergency \
                response plan needs a change: --erp-change-needed with --erp-note, or --no-erp-change. \
                "Not an incident" is `isms incidents qualify N --not-incident` and needs no lessons.
                """
        )
        @Argument(help: "The case number, e.g. INC-2026-000001.") var caseNumber: String
        @Option(help: "Why it happened.") var cause: String
        @Option(help: "A recurrence-prevention measure, \"description|ownerRole|ownerUnit|YYYY-MM-DD\" (repeatable; at least one).")
        var measure: [String] = []
        @Flag(help: "The emergency response plan needs a change (Art. 27(2)); say what with --erp-note.") var erpChangeNeeded = false
        @Flag(help: "The emergency response plan needs no change.") var noErpChange = false
        @Option(help: "What to change in the emergency response plan.") var erpNote: String?
        @Option(help: "Why (kept in the history with the close).") var reason: String?

        func validate() throws {
            if erpChangeNeeded == noErpChange { throw ValidationError("give exactly one of --erp-change-needed or --no-erp-change") }
            if measure.isEmpty { throw ValidationError("give at least one --measure \"description|ownerRole|ownerUnit|YYYY-MM-DD\"") }
            for text in measure where Self.parts(text) == nil {
                throw ValidationError("--measure \"\(text)\" is not \"description|ownerRole|ownerUnit|YYYY-MM-DD\"")
            }
        }

        /// The four parts of a `--measure`; the description may itself hold no `|`.
        static func parts(_ text: String) -> [String]? {
            let parts = text.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            return parts.count == 4 && !parts.contains(where: \.isEmpty) ? parts : nil
        }

        func run() async throws {
            let measures: [[String: Any]] = measure.compactMap(Self.parts).map {
                ["description": $0[0], "ownerRole": $0[1], "ownerUnit": $0[2], "dueDate": $0[3]]
            }
            var erp: [String: Any] = ["needed": erpChangeNeeded]
            if let erpNote { erp["note"] = erpNote }
            let record = try await IncidentsCommand.change(
                caseNumber, "/transitions",
                ["action": "close", "reason": reason, "lessons": ["cause": cause, "measures": measures, "erpChange": erp] as [String: Any]])
            print("\(CLIOutput.text(record["caseNumber"])): \(CLIOutput.text(record["state"])) with \(measures.count) recurrence-prevention measure(s)")
        }
    }

    struct Lessons: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The cases closed in a period with their lessons (JSON; ward-wide roles), as the management review reads them."
        )
        @Option(help: "First day, YYYY-MM-DD (default: the start of the fiscal year).") var from: String?
        @Option(help: "Last day, YYYY-MM-DD (default: today).") var to: String?

        func run() async throws {
            let client = try IncidentsCommand.client()
            let data = try await ServiceAccess.call { try await client.get("/v1/reports/lessons", query: [("from", from), ("to", to)]) }
            try CLIOutput.json(answer: data)
        }
    }
}
