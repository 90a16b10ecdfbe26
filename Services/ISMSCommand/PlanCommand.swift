import ArgumentParser
import AuditScheduler
import Contracts
import Foundation
import ServiceClient
import WardCalendar

/// `isms plan`: the annual operation plan (Art. 11(5)(1)) through audit-scheduler's API, with
/// the person's token: the general security officer drafts it from a JSON file, the CISO
/// approves it, anyone ward-wide reads its versions and plan against result.
struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "The annual operation plan: draft, approve, show, versions, plan against result.",
        discussion: DutyCLI.discussion,
        subcommands: [Show.self, Draft.self, Approve.self, Versions.self, Compare.self]
    )

    /// The fiscal year asked for, or the current one (April–March, Japan time).
    static func year(_ year: Int?) -> Int {
        if let year { return year }
        let today = CivilDate.inTokyo(Date())
        return today.month >= 4 ? today.year : today.year - 1
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The latest version of the year's plan (JSON).")
        @Option(help: "Fiscal year (April to March), e.g. 2026.") var year: Int?

        func run() async throws {
            try CLIOutput.json(answer: try await DutyCLI.get("/v1/operation-plans/\(PlanCommand.year(year))"))
        }
    }

    struct Draft: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Save the year's draft from a JSON file {objectives:[{text, ownerRole, ownerUnit?}], lines:[{kind, unitCode?, plannedCount, ownerRole, ownerUnit?, note?}]}.",
            discussion: "Replaces the draft; after an approved version it starts the next one. The general security officer only.")
        @Argument(help: "The plan as JSON.") var file: String
        @Option(help: "Fiscal year (April to March), e.g. 2026.") var year: Int?

        func run() async throws {
            guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read \(file)") }
            let plan: OperationPlanDocument
            do {
                plan = try ContractsJSON.decoder().decode(OperationPlanDocument.self, from: data)
            } catch {
                throw ValidationError("\(file) is not a plan: \(error)")
            }
            let client = try DutyCLI.client()
            let body = try ContractsJSON.encoder().encode(plan)
            let path = "/v1/operation-plans/\(PlanCommand.year(year))"
            let saved = CLIOutput.object(try await ServiceAccess.call { try await client.send("PUT", path, body: body) })
            print("plan FY\(CLIOutput.text(saved["fiscalYear"])) version \(CLIOutput.text(saved["version"])): \(CLIOutput.text(saved["status"]))")
        }
    }

    struct Approve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Approve the year's draft (the CISO only); the approved version never changes.")
        @Option(help: "Fiscal year (April to March), e.g. 2026.") var year: Int?

        func run() async throws {
            let client = try DutyCLI.client()
            let path = "/v1/operation-plans/\(PlanCommand.year(year))/approval"
            let saved = CLIOutput.object(try await ServiceAccess.call { try await client.send("POST", path, body: Data("{}".utf8)) })
            print("plan FY\(CLIOutput.text(saved["fiscalYear"])) version \(CLIOutput.text(saved["version"])): \(CLIOutput.text(saved["status"])) (ledger entry \(CLIOutput.text(saved["approvalLedgerSeq"])))")
        }
    }

    struct Versions: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every version of the year's plan.")
        @Option(help: "Fiscal year (April to March), e.g. 2026.") var year: Int?
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let data = try await DutyCLI.get("/v1/operation-plans/\(PlanCommand.year(year))/versions")
            if json { return try CLIOutput.json(answer: data) }
            CLIOutput.table(
                ["VERSION", "STATUS", "DRAFTED", "APPROVED", "HASH"],
                CLIOutput.objects(data, key: "versions").map { version in
                    [
                        CLIOutput.text(version["version"]), CLIOutput.text(version["status"]), CLIOutput.text(version["draftedAt"]),
                        version["approvedAt"] == nil ? "-" : CLIOutput.text(version["approvedAt"]), String(CLIOutput.text(version["documentHash"]).prefix(16)),
                    ]
                })
        }
    }

    struct Compare: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Plan against result: each planned line beside the duties done in the year.")
        @Option(help: "Fiscal year (April to March), e.g. 2026.") var year: Int?
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let data = try await DutyCLI.get("/v1/operation-plans/\(PlanCommand.year(year))/comparison")
            if json { return try CLIOutput.json(answer: data) }
            let comparison = CLIOutput.object(data)
            CLIOutput.table(
                ["KIND", "UNIT", "OWNER", "PLANNED", "SCHEDULED", "DONE", "ON TIME", "OVERDUE"],
                CLIOutput.objects(data, key: "lines").map { line in
                    [
                        CLIOutput.text(line["kind"]), line["unitCode"] as? String ?? "ward", CLIOutput.text(line["ownerRole"]), CLIOutput.text(line["plannedCount"]),
                        CLIOutput.text(line["scheduled"]), CLIOutput.text(line["done"]), CLIOutput.text(line["doneOnTime"]), CLIOutput.text(line["overdue"]),
                    ]
                })
            print("done \(CLIOutput.text(comparison["doneTotal"])) of \(CLIOutput.text(comparison["plannedTotal"])) planned (version \(CLIOutput.text(comparison["version"])), \(CLIOutput.text(comparison["status"])))")
        }
    }
}
