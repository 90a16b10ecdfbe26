import ArgumentParser
import AuditScheduler
import Contracts
import Foundation
import ServiceClient
import WardCalendar

/// Calls to audit-scheduler's API with the person's token (issue #14 item 7).
enum DutyCLI {
    static func client() throws -> ServiceClient { try ServiceAccess.client(.auditScheduler) }

    static func uuid(_ text: String, _ what: String) throws -> String {
        guard let id = UUID(uuidString: text) else { throw ValidationError("\(what) must be a UUID: \(text)") }
        return id.lowercasedString
    }

    /// `POST path` with `body` encoded as the service decodes it; answers the JSON object.
    static func post(_ path: String, _ body: some Encodable) async throws -> [String: Any] {
        let (client, data) = (try client(), try ContractsJSON.encoder().encode(body))
        return CLIOutput.object(try await ServiceAccess.call { try await client.send("POST", path, body: data) })
    }

    static func get(_ path: String, query: [(String, String?)] = []) async throws -> Data {
        let client = try client()
        return try await ServiceAccess.call { try await client.get(path, query: query) }
    }

    static let discussion = """
        Calls audit-scheduler's HTTP API (ISMS_AUDIT_SCHEDULER_URL, default http://127.0.0.1:8083) \
        with your token (ISMS_TOKEN, or the one `isms login` saved); a unit's token sees and acts \
        on its own duties and findings only. \(ServiceExit.help)
        """
}

/// `isms duties`: the guideline's recurring duties (Art. 23-26, 29, 11(5)).
struct DutiesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "duties",
        abstract: "Duties: list, show, complete with evidence, reschedule with a reason, order one on demand, and the management-review measures.",
        discussion: DutyCLI.discussion,
        subcommands: [List.self, Show.self, Complete.self, Reschedule.self, Order.self, Report.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Duties of a fiscal year (default: this one), by due date.")
        @Option(help: "Fiscal year (April to March), e.g. 2026.") var year: Int?
        @Option(help: "Only this unit (a department includes its sections).") var unit: String?
        @Flag(help: "Only overdue duties.") var overdue = false
        @Option(help: "Only duties of this origin: calendar, finding, on-demand, contract or improvement.") var origin: String?
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let data = try await ServiceAccess.allPages(
                try DutyCLI.client(), "/v1/duties",
                query: [("fiscalYear", year.map(String.init)), ("unit", unit), ("overdue", overdue ? "true" : nil), ("origin", origin)],
                key: "duties")
            if json { return try CLIOutput.json(answer: data, key: "duties") }
            let duties = CLIOutput.objects(data, key: "duties")
            CLIOutput.table(
                ["DUE", "STATUS", "UNIT", "OWED BY", "ARTICLE", "ORIGIN", "TITLE", "ID"],
                duties.map { duty in
                    [
                        CLIOutput.text(duty["dueDate"]), duty["overdue"] as? Bool == true ? "OVERDUE" : CLIOutput.text(duty["status"]),
                        duty["unitCode"] as? String ?? "ward", CLIOutput.text(duty["owningRole"]), CLIOutput.text(duty["article"]),
                        Self.origin(duty), CLIOutput.text(duty["title"]), CLIOutput.text(duty["id"]).lowercased(),
                    ]
                }
            )
            let fiscalYear = year.map(String.init) ?? duties.first.map { CLIOutput.text($0["fiscalYear"]) } ?? "this fiscal year"
            print("\(duties.count) duties in fiscal year \(fiscalYear)")
        }

        /// Where a duty comes from; an on-demand duty shows its case, or its reason (issue #18).
        static func origin(_ duty: [String: Any]) -> String {
            let origin = duty["origin"] as? String ?? "calendar"
            guard origin == "on-demand" else { return origin }
            if let number = duty["caseNumber"] as? String { return "on-demand \(number)" }
            let reason = duty["reason"] as? String ?? ""
            return "on-demand: " + (reason.count > 30 ? String(reason.prefix(29)) + "…" : reason)
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One duty with its completion, reschedules and notice timeline (JSON).")
        @Argument var id: String

        func run() async throws {
            try CLIOutput.json(answer: try await DutyCLI.get("/v1/duties/\(try DutyCLI.uuid(id, "the duty id"))"))
        }
    }

    struct Complete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Record a duty as done, with evidence; append-only.")
        @Argument var id: String
        @Option(help: "Evidence as FILE:SHA256 (the file stays in the ward's document store); repeatable.") var evidence: [String] = []
        @Option(help: "Notes.") var notes = ""
        @Option(help: "Education: how many took part.") var participants: Int?
        @Option(help: "Education: how many should have.") var eligible: Int?
        @Option(help: "Self-inspection: the checklist score.") var score: Double?
        @Option(help: "Self-inspection: the checklist's maximum.") var maxScore: Double?

        func run() async throws {
            let evidence = try evidence.map { item -> DutyEvidence in
                let parts = item.split(separator: ":", maxSplits: 1).map(String.init)
                guard parts.count == 2 else { throw ValidationError("--evidence takes FILE:SHA256") }
                return DutyEvidence(fileName: parts[0], sha256: parts[1].lowercased())
            }
            let request = DutyCompletionRequest(evidence: evidence, notes: notes, participants: participants, eligible: eligible, checklistScore: score, checklistMax: maxScore)
            let record = try await DutyCLI.post("/v1/duties/\(try DutyCLI.uuid(id, "the duty id"))/complete", request)
            print("\(CLIOutput.text(record["title"])) (\(record["unitCode"] as? String ?? "ward")): \(CLIOutput.text(record["status"]))")
        }
    }

    struct Reschedule: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move a duty's due date; the reason is recorded. A date in the past sends the overdue notice and due escalations at once."
        )
        @Argument var id: String
        @Option(help: "The new due date, YYYY-MM-DD (a closing day rolls to the next opening day).") var to: String
        @Option(help: "Why (required).") var reason: String

        func run() async throws {
            guard let date = CivilDate(iso: to) else { throw ValidationError("--to takes YYYY-MM-DD") }
            let record = try await DutyCLI.post("/v1/duties/\(try DutyCLI.uuid(id, "the duty id"))/reschedule", ["dueDate": date.iso, "reason": reason])
            print("\(CLIOutput.text(record["title"])) (\(record["unitCode"] as? String ?? "ward")): due \(CLIOutput.text(record["dueDate"]))\(record["overdue"] as? Bool == true ? ", overdue" : "")")
        }
    }

    struct Report: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The effectiveness measures for the CISO's management review (Art. 11(5)(2)-(6)), as JSON; ward-wide roles only.")
        @Option(help: "Fiscal year (default: this one).") var year: Int?

        func run() async throws {
            try CLIOutput.json(answer: try await DutyCLI.get("/v1/reports/effectiveness", query: [("fiscalYear", year.map(String.init))]))
        }
    }
}

/// `isms findings`: audit findings and their risk treatment (Art. 25-26).
struct FindingsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "findings",
        abstract: "Audit findings: list, record, report a treatment result, approve or return it (Art. 17(6)(6)).",
        discussion: DutyCLI.discussion,
        subcommands: [List.self, Add.self, Result.self, Review.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Findings (JSON).")
        @Option(help: "open, treated or closed.") var status: String?
        @Option(help: "Only this unit.") var unit: String?

        func run() async throws {
            if let status, FindingStatus(rawValue: status) == nil { throw ValidationError("unknown status '\(status)'") }
            let client = try DutyCLI.client()
            try CLIOutput.json(answer: try await ServiceAccess.allPages(client, "/v1/findings", query: [("status", status), ("unit", unit)], key: "findings"), key: "findings")
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Record a finding against an audit duty; its treatment becomes a duty with reminders.")
        @Option(help: "The audit duty's id.") var audit: String
        @Option(help: "critical, high, medium or low (sets the treatment due date).") var severity: String
        @Option(help: "What was found.") var title: String
        @Option(help: "The treatment plan.") var plan = ""

        func run() async throws {
            guard let severity = FindingSeverity(rawValue: severity) else { throw ValidationError("unknown severity '\(self.severity)'") }
            guard let auditID = UUID(uuidString: audit) else { throw ValidationError("--audit must be a UUID: \(audit)") }
            let finding = try await DutyCLI.post("/v1/findings", FindingRequest(auditDutyID: auditID, severity: severity, title: title, treatmentPlan: plan))
            print("finding \(CLIOutput.text(finding["id"]).lowercased()) for \(CLIOutput.text(finding["sectionCode"])): treatment due \(CLIOutput.text(finding["dueDate"]))")
        }
    }

    struct Result: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The section reports its treatment result.")
        @Argument var id: String
        @Option(help: "What was done.") var notes: String

        func run() async throws {
            let finding = try await DutyCLI.post("/v1/findings/\(try DutyCLI.uuid(id, "the finding id"))/result", ["notes": notes])
            print("finding \(CLIOutput.text(finding["id"]).lowercased()): \(CLIOutput.text(finding["status"]))")
        }
    }

    struct Review: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The department security officer approves (--approve) or returns a treatment result.")
        @Argument var id: String
        @Flag(help: "Approve the result; without it the result is returned.") var approve = false
        @Option(help: "Why.") var comment: String

        func run() async throws {
            struct Body: Encodable { var approve: Bool; var comment: String }
            let finding = try await DutyCLI.post("/v1/findings/\(try DutyCLI.uuid(id, "the finding id"))/review", Body(approve: approve, comment: comment))
            print("finding \(CLIOutput.text(finding["id"]).lowercased()): \(CLIOutput.text(finding["status"]))")
        }
    }
}
