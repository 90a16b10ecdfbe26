import ArgumentParser
import AuditScheduler
import Directory
import Foundation
import ServiceClient
import WardCalendar

/// `isms risks`: the risk register (Art. 26, issue #18 item 1), through audit-scheduler's API
/// with your token: a section's officer registers and treats the section's risks, the ward's
/// officers all of them, and only the CISO accepts a residual risk above the ward's appetite.
struct RisksCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "risks",
        abstract: "The risk register: list, show, add, treat, accept (the CISO above the appetite) and review risks (Art. 26).",
        discussion: DutyCLI.discussion,
        subcommands: [List.self, Show.self, Add.self, Treat.self, Accept.self, Review.self, Summary.self]
    )

    static func id(_ text: String) throws -> String { try DutyCLI.uuid(text, "the risk id") }

    static func line(_ detail: [String: Any]) -> String {
        let risk = detail["risk"] as? [String: Any] ?? [:]
        let treatment = risk["treatment"] as? String ?? "untreated"
        let above = risk["aboveAppetite"] as? Bool == true ? ", above the appetite" : ""
        return "risk \(CLIOutput.text(risk["id"]).lowercased()) (\(CLIOutput.text(risk["sectionCode"]))): \(CLIOutput.text(risk["inherentLevel"])) → "
            + "\(CLIOutput.text(risk["currentLevel"]))\(above), \(treatment), review \(CLIOutput.text(risk["reviewDate"]))"
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Risks you may see, newest first.")
        @Option(help: "Only this unit (a department includes its sections).") var unit: String?
        @Option(help: "Only this asset id.") var asset: String?
        @Option(help: "reduce, accept, transfer, avoid or untreated.") var treatment: String?
        @Option(help: "Only risks whose current level is this one (e.g. high).") var level: String?
        @Flag(help: "Only risks above the ward's appetite.") var aboveAppetite = false
        @Flag(help: "Only risks whose review date has passed.") var reviewOverdue = false
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            if let treatment, RiskTreatment(rawValue: treatment) == nil, treatment != "untreated" { throw ValidationError("unknown treatment '\(treatment)'") }
            let data = try await ServiceAccess.allPages(
                try DutyCLI.client(), "/v1/risks",
                query: [
                    ("unit", unit), ("asset", asset), ("treatment", treatment), ("level", level), ("aboveAppetite", aboveAppetite ? "true" : nil),
                    ("reviewOverdue", reviewOverdue ? "true" : nil),
                ], key: "risks")
            if json { return try CLIOutput.json(answer: data, key: "risks") }
            let risks = CLIOutput.objects(data, key: "risks")
            CLIOutput.table(
                ["SECTION", "ASSET", "INHERENT", "RESIDUAL", "TREATMENT", "REVIEW", "TITLE", "ID"],
                risks.map { risk in
                    [
                        CLIOutput.text(risk["sectionCode"]), CLIOutput.text(risk["assetId"]), CLIOutput.text(risk["inherentLevel"]),
                        CLIOutput.text(risk["currentLevel"]) + (risk["aboveAppetite"] as? Bool == true ? " !" : ""), risk["treatment"] as? String ?? "-",
                        CLIOutput.text(risk["reviewDate"]) + (risk["reviewOverdue"] as? Bool == true ? " OVERDUE" : ""), CLIOutput.text(risk["title"]),
                        CLIOutput.text(risk["id"]).lowercased(),
                    ]
                })
            print("\(risks.count) risks (! = above the ward's appetite)")
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One risk with its hash-chained history and whether it verifies (JSON).")
        @Argument var id: String

        func run() async throws {
            try CLIOutput.json(answer: try await DutyCLI.get("/v1/risks/\(try RisksCommand.id(id))"))
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Register a risk of an asset; its inherent level comes from the ward's matrix.")
        @Option(help: "The registered asset's id.") var asset: String
        @Option(help: "The owning section (taken from the asset register when the asset is there).") var section: String?
        @Option(help: "A short title.") var title: String
        @Option(help: "The threat.") var threat: String
        @Option(help: "The vulnerability it exploits.") var vulnerability: String
        @Option(help: "Likelihood on the ward's scale (1 = lowest).") var likelihood: Int
        @Option(help: "Impact on the ward's scale (default: what the asset's classification suggests).") var impact: Int?
        @Option(help: "The first review date, YYYY-MM-DD (default by the level's interval).") var review: String?
        @Option(help: "What raised it: finding:ID, incident:CASE-NUMBER or self-inspection:DUTY-ID; repeatable.") var source: [String] = []

        func run() async throws {
            let sources = try source.map(RisksCommand.source)
            let request = RiskRequest(
                assetID: asset, sectionCode: section, title: title, threat: threat, vulnerability: vulnerability, likelihood: likelihood, impact: impact,
                reviewDate: review, sources: sources.isEmpty ? nil : sources)
            print(RisksCommand.line(try await DutyCLI.post("/v1/risks", request)))
        }
    }

    static func source(_ text: String) throws -> RiskSource {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2, let kind = RiskSource.Kind(rawValue: parts[0]) else {
            throw ValidationError("--source takes finding:ID, incident:CASE-NUMBER or self-inspection:DUTY-ID")
        }
        return RiskSource(kind: kind, reference: parts[1])
    }

    struct Treat: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Decide a risk's treatment: reduce (measures, owner, due date: chased as a duty), transfer (to whom), avoid; accept has its own command.")
        @Argument var id: String
        @Option(help: "reduce, transfer or avoid.") var treatment: String
        @Option(help: "Reduce: the measures (avoid: how the activity stops).") var measures: String?
        @Option(help: "Reduce: the owner's role (default sectionSecurityOfficer).") var ownerRole: String?
        @Option(help: "Reduce: the owner's unit (default the risk's section or department).") var ownerUnit: String?
        @Option(help: "Reduce: the measures' due date, YYYY-MM-DD.") var due: String?
        @Option(help: "Transfer: to whom.") var to: String?
        @Option(help: "Residual likelihood after the treatment.") var likelihood: Int?
        @Option(help: "Residual impact after the treatment.") var impact: Int?
        @Option(help: "Why.") var reason: String?

        func run() async throws {
            guard let kind = RiskTreatment(rawValue: treatment), kind != .accept else {
                throw ValidationError("--treatment takes reduce, transfer or avoid (accept: isms risks accept)")
            }
            let role = try ownerRole.map { text -> DirectoryRole in
                guard let role = DirectoryRole(rawValue: text) else { throw ValidationError("unknown role '\(text)'") }
                return role
            }
            let request = RiskTreatmentRequest(
                treatment: kind, measures: measures, ownerRole: role, ownerUnit: ownerUnit, dueDate: due, transferTo: to, residualLikelihood: likelihood,
                residualImpact: impact, reason: reason)
            print(RisksCommand.line(try await DutyCLI.post("/v1/risks/\(try RisksCommand.id(id))/treat", request)))
        }
    }

    struct Accept: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Accept a risk's residual level with a reason; above the ward's appetite only the CISO may (exit 3 for anyone else).")
        @Argument var id: String
        @Option(help: "Why (required).") var reason: String
        @Option(help: "Residual likelihood (default the current one).") var likelihood: Int?
        @Option(help: "Residual impact (default the current one).") var impact: Int?

        func run() async throws {
            struct Body: Encodable { var reason: String; var residualLikelihood: Int?; var residualImpact: Int? }
            print(RisksCommand.line(try await DutyCLI.post("/v1/risks/\(try RisksCommand.id(id))/accept", Body(reason: reason, residualLikelihood: likelihood, residualImpact: impact))))
        }
    }

    struct Review: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Review a risk: notes, the reassessed residual, the next review date; completes the review duty.")
        @Argument var id: String
        @Option(help: "What was checked (required).") var notes: String
        @Option(help: "Reassessed residual likelihood.") var likelihood: Int?
        @Option(help: "Reassessed residual impact.") var impact: Int?
        @Option(help: "The next review date, YYYY-MM-DD (default by the level's interval).") var next: String?

        func run() async throws {
            let request = RiskReviewRequest(notes: notes, residualLikelihood: likelihood, residualImpact: impact, nextReviewDate: next)
            print(RisksCommand.line(try await DutyCLI.post("/v1/risks/\(try RisksCommand.id(id))/review", request)))
        }
    }

    struct Summary: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The register's state and heat map, as the management review reads it (JSON).")

        func run() async throws {
            try CLIOutput.json(answer: try await DutyCLI.get("/v1/risks/summary"))
        }
    }
}
