import ArgumentParser
import AuditScheduler
import Foundation
import WardCalendar

extension DutiesCommand {
    /// `isms duties order`: an extra education, self-inspection or audit for a unit (Arts. 23-25
    /// "as needed", issue #18 item 3).
    struct Order: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Order an extra education, self-inspection or audit for a unit, with a reason (Arts. 23-25 \"as needed\").",
            discussion: """
                Education and self-inspection are ordered by the CISO, the general security officer, the information \
                policy chief or CSIRT; an audit by the CISO or the audit chief, and its auditor (--auditor) must not \
                belong to the audited section or its department (Art. 13(2)). The duty is chased like any other.
                """
        )
        @Option(help: "education, self-inspection or audit.") var kind: String
        @Option(help: "The section (or, except for an audit, department) code.") var unit: String
        @Option(help: "The due date, YYYY-MM-DD (a closing day rolls to the next opening day).") var due: String
        @Option(help: "Why the duty is needed (required; My Numbers are masked).") var reason: String
        @Option(help: "The case it comes from, e.g. INC-2026-000042.") var `case`: String?
        @Option(help: "An audit's auditor (a person id of the directory).") var auditor: String?
        @Flag(help: "Print JSON.") var json = false

        func validate() throws {
            guard ["education", "self-inspection", "audit"].contains(kind) else { throw ValidationError("--kind takes education, self-inspection or audit") }
            guard CivilDate(iso: due) != nil else { throw ValidationError("--due takes YYYY-MM-DD") }
            guard !reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw ValidationError("--reason must say why") }
        }

        func run() async throws {
            let request = DutyOrderRequest(
                kind: DutyKind(rawValue: kind)!, unitCode: unit, dueDate: due, reason: reason, caseNumber: `case`, auditorPersonID: auditor)
            let record = try await DutyCLI.post("/v1/duties/on-demand", request)
            if json {
                let data = try JSONSerialization.data(withJSONObject: record, options: [.prettyPrinted, .sortedKeys])
                return print(String(decoding: data, as: UTF8.self))
            }
            print("ordered \(CLIOutput.text(record["title"])) (\(CLIOutput.text(record["unitCode"]))): due \(CLIOutput.text(record["dueDate"])), id \(CLIOutput.text(record["id"]).lowercased())")
        }
    }
}
