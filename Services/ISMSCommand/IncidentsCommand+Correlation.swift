import ArgumentParser
import Foundation
import ServiceClient

// `isms incidents merge | split`: CSIRT's hands on correlation (issue #16). Related reports join
// one case by the rules of deploy/config/correlation-rules.yaml; when two cases are one
// incident CSIRT merges them, and when a rule joined what is not one incident it splits the
// report out. triage decides who may (incident handlers) and records both cases' histories.
extension IncidentsCommand {
    struct Merge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Merge a case into another open case: the survivor takes its reports and obligations; it becomes merged and names the survivor.",
            discussion: "Example: isms incidents merge INC-2026-000043 --into INC-2026-000042 --reason \"same phishing campaign\""
        )
        @Argument(help: "The case that is merged (it keeps its number, state merged).") var caseNumber: String
        @Option(help: "The case that takes it (an open case).") var into: String
        @Option(help: "Why the two are one incident (recorded in both histories).") var reason: String

        func run() async throws {
            let survivor = try await IncidentsCommand.change(caseNumber, "/merge", ["into": into, "reason": reason])
            print(
                "\(caseNumber): merged into \(CLIOutput.text(survivor["caseNumber"])), which holds \(CLIOutput.text(survivor["reportCount"])) reports "
                    + "(severity \(CLIOutput.text((survivor["severity"] as? [String: Any])?["severity"])), \(CLIOutput.text(survivor["state"])))")
        }
    }

    struct Split: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Split a report out of a case into a new case of its own (not the report that opened the case).",
            discussion: """
                The report is named by its intake id, as `isms incidents show CASE --reports N` lists \
                it. Example: isms incidents split INC-2026-000042 --report 5f0c…-… --reason "another system"
                """
        )
        @Argument(help: "The case that holds the report.") var caseNumber: String
        @Option(help: "The report's intake id.") var report: String
        @Option(help: "Why it is another incident (recorded in both histories).") var reason: String

        func run() async throws {
            let opened = try await IncidentsCommand.change(
                caseNumber, "/split", ["sourceKind": "incident-report", "sourceId": report, "reason": reason])
            print(
                "\(report): split out of \(caseNumber) into \(CLIOutput.text(opened["caseNumber"])) "
                    + "(severity \(CLIOutput.text((opened["severity"] as? [String: Any])?["severity"])), \(CLIOutput.text(opened["state"])))")
        }
    }

    /// `show --reports N`: the case's report count, first and last seen, and its first `limit`
    /// reports as a table (the API lists at most the first 1000).
    static func printReports(_ detail: [String: Any], limit: Int) {
        let record = detail["case"] as? [String: Any] ?? [:]
        let reports = detail["reports"] as? [[String: Any]] ?? []
        let count = (record["reportCount"] as? NSNumber)?.intValue ?? reports.count
        var heading = "\(CLIOutput.text(record["caseNumber"])): \(count) report\(count == 1 ? "" : "s"), first seen \(CLIOutput.text(record["firstSeenAt"])), "
            + "last seen \(CLIOutput.text(record["lastSeenAt"]))"
        if let survivor = record["mergedInto"] as? String { heading += "; merged into \(survivor), which holds its reports" }
        print(heading)
        let shown = reports.prefix(max(0, limit))
        guard !shown.isEmpty else { return }
        CLIOutput.table(
            ["REPORT", "RULE", "JOINED", "RECORDED", "TITLE"],
            shown.map { report in
                [CLIOutput.text((report["source"] as? [String: Any])?["id"])] + ["rule", "joinedAt", "recordedAt", "title"].map { CLIOutput.text(report[$0]) }
            })
        if count > shown.count { print("(the first \(shown.count) of \(count))") }
    }
}
