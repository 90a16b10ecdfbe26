import ArgumentParser
import AuditScheduler
import Directory
import Contracts
import Foundation
import ServiceRuntime
import Postgres
import WardCalendar

/// The operator acting on duties and findings, and the store with the ward's calendar.
struct DutyActorOptions: ParsableArguments {
    @Option(help: "The role acted in (default generalSecurityManager).")
    var role = DirectoryRole.generalSecurityManager.rawValue
    @Option(help: "The unit the role is held at (section or department code), for unit roles.")
    var unit: String?

    func dutyActor() throws -> DutyActor {
        guard let role = DirectoryRole(rawValue: role) else { throw ValidationError("unknown role '\(role)'") }
        return DutyActor(role: role, unitCode: unit)
    }
}

enum DutyCLI {
    static func store() throws -> AuditSchedulerStore {
        AuditSchedulerStore(calendar: try DutyCalendarDocument.load(path: AuditSchedulerService.calendarPath))
    }

    static func uuid(_ text: String, _ what: String) throws -> UUID {
        guard let id = UUID(uuidString: text) else { throw ValidationError("\(what) must be a UUID: \(text)") }
        return id
    }
}

/// `isms duties`: the guideline's recurring duties (Art. 23-26, 29, 11(5)).
struct DutiesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "duties",
        abstract: "Recurring duties: list, show, complete with evidence, reschedule with a reason, and the management-review measures.",
        subcommands: [List.self, Show.self, Complete.self, Reschedule.self, Report.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Duties of a fiscal year (default: this one), by due date.")
        @Option(help: "Fiscal year (April to March), e.g. 2026.") var year: Int?
        @Option(help: "Only this unit (a department includes its sections).") var unit: String?
        @Flag(help: "Only overdue duties.") var overdue = false
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let store = try DutyCLI.store()
            let now = Date()
            let today = CivilDate.inTokyo(now)
            let filter = DutyFilter(fiscalYear: year ?? store.calendar.fiscalYear(of: today), overdueOnly: overdue, unitCode: unit)
            let duties = try await CLIEnvironment.withDatabase { pool in
                try await pool.withConnection { try store.duties(filter, visibleTo: nil, today: today, on: $0) }
            }
            if json { return try CLIOutput.json(duties) }
            CLIOutput.table(
                ["DUE", "STATUS", "UNIT", "OWED BY", "ARTICLE", "TITLE", "ID"],
                duties.map {
                    [$0.dueDate.iso, $0.overdue ? "OVERDUE" : $0.status.rawValue, $0.unitCode ?? "ward", $0.owningRole.rawValue, $0.article, $0.title, $0.id.uuidString.lowercased()]
                }
            )
            print("\(duties.count) duties in fiscal year \(filter.fiscalYear ?? 0)")
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One duty with its completion, reschedules and notice timeline (JSON).")
        @Argument var id: String

        func run() async throws {
            let (store, id, today) = (try DutyCLI.store(), try DutyCLI.uuid(id, "the duty id"), CivilDate.inTokyo(Date()))
            let detail = try await CLIEnvironment.withDatabase { pool in
                try await pool.withConnection { try store.duty(id: id, visibleTo: nil, today: today, on: $0) }
            }
            guard let detail else {
                CLIEnvironment.printError("no duty \(id)")
                throw ExitCode(1)
            }
            try CLIOutput.json(detail)
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
        @OptionGroup var actor: DutyActorOptions

        func run() async throws {
            let evidence = try evidence.map { item -> DutyEvidence in
                let parts = item.split(separator: ":", maxSplits: 1).map(String.init)
                guard parts.count == 2 else { throw ValidationError("--evidence takes FILE:SHA256") }
                return DutyEvidence(fileName: parts[0], sha256: parts[1].lowercased())
            }
            let request = DutyCompletionRequest(evidence: evidence, notes: notes, participants: participants, eligible: eligible, checklistScore: score, checklistMax: maxScore)
            let (store, id, actor) = (try DutyCLI.store(), try DutyCLI.uuid(id, "the duty id"), try actor.dutyActor())
            let record = try await CLIEnvironment.withDatabase { pool in
                try await pool.withTransaction(emittingAs: .auditScheduler, schema: store.schema, logger: CLIEnvironment.logger) { try store.complete(dutyID: id, with: request, by: actor, context: &$0) }
            }
            print("\(record.title) (\(record.unitCode ?? "ward")): \(record.status.rawValue)")
        }
    }

    struct Reschedule: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move a duty's due date; the reason is recorded. A date in the past sends the overdue notice and due escalations at once."
        )
        @Argument var id: String
        @Option(help: "The new due date, YYYY-MM-DD (a closing day rolls to the next opening day).") var to: String
        @Option(help: "Why (required).") var reason: String
        @OptionGroup var actor: DutyActorOptions

        func run() async throws {
            guard let date = CivilDate(iso: to) else { throw ValidationError("--to takes YYYY-MM-DD") }
            let (store, id, actor, reason) = (try DutyCLI.store(), try DutyCLI.uuid(id, "the duty id"), try actor.dutyActor(), reason)
            let record = try await CLIEnvironment.withDatabase { pool in
                try await pool.withTransaction { try store.reschedule(dutyID: id, to: date, reason: reason, by: actor, now: Date(), on: $0) }
            }
            print("\(record.title) (\(record.unitCode ?? "ward")): due \(record.dueDate.iso)\(record.overdue ? ", overdue" : "")")
        }
    }

    struct Report: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The effectiveness measures for the CISO's management review (Art. 11(5)(2)-(6)), as JSON.")
        @Option(help: "Fiscal year (default: this one).") var year: Int?

        func run() async throws {
            let store = try DutyCLI.store()
            let now = Date()
            let year = year ?? store.calendar.fiscalYear(of: CivilDate.inTokyo(now))
            let report = try await CLIEnvironment.withDatabase { pool in
                try await pool.withConnection { try store.effectivenessReport(fiscalYear: year, now: now, on: $0) }
            }
            try CLIOutput.json(report)
        }
    }
}

/// `isms findings`: audit findings and their risk treatment (Art. 25-26).
struct FindingsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "findings",
        abstract: "Audit findings: list, record, report a treatment result, approve or return it (Art. 17(6)(6)).",
        subcommands: [List.self, Add.self, Result.self, Review.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Findings (JSON).")
        @Option(help: "open, treated or closed.") var status: String?
        @Option(help: "Only this unit.") var unit: String?

        func run() async throws {
            let status = try status.map { guard let status = FindingStatus(rawValue: $0) else { throw ValidationError("unknown status '\($0)'") }; return status }
            let (store, unit, today) = (try DutyCLI.store(), unit, CivilDate.inTokyo(Date()))
            let findings = try await CLIEnvironment.withDatabase { pool in
                try await pool.withConnection { try store.findings(status: status, unitCode: unit, visibleTo: nil, today: today, on: $0) }
            }
            try CLIOutput.json(findings)
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Record a finding against an audit duty; its treatment becomes a duty with reminders.")
        @Option(help: "The audit duty's id.") var audit: String
        @Option(help: "critical, high, medium or low (sets the treatment due date).") var severity: String
        @Option(help: "What was found.") var title: String
        @Option(help: "The treatment plan.") var plan = ""
        @OptionGroup var actor: DutyActorOptions

        func run() async throws {
            guard let severity = FindingSeverity(rawValue: severity) else { throw ValidationError("unknown severity '\(self.severity)'") }
            let request = FindingRequest(auditDutyID: try DutyCLI.uuid(audit, "--audit"), severity: severity, title: title, treatmentPlan: plan)
            let (store, actor) = (try DutyCLI.store(), try actor.dutyActor())
            let finding = try await CLIEnvironment.withDatabase { pool in
                try await pool.withTransaction { try store.recordFinding(request, by: actor, now: Date(), on: $0) }
            }
            print("finding \(finding.id.uuidString.lowercased()) for \(finding.sectionCode): treatment due \(finding.dueDate.iso)")
        }
    }

    struct Result: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The section reports its treatment result.")
        @Argument var id: String
        @Option(help: "What was done.") var notes: String
        @OptionGroup var actor: DutyActorOptions

        func run() async throws {
            let (store, id, actor, notes) = (try DutyCLI.store(), try DutyCLI.uuid(id, "the finding id"), try actor.dutyActor(), notes)
            let finding = try await CLIEnvironment.withDatabase { pool in
                try await pool.withTransaction { try store.submitTreatmentResult(findingID: id, notes: notes, by: actor, now: Date(), on: $0) }
            }
            print("finding \(finding.id.uuidString.lowercased()): \(finding.status.rawValue)")
        }
    }

    struct Review: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The department security officer approves (--approve) or returns a treatment result.")
        @Argument var id: String
        @Flag(help: "Approve the result; without it the result is returned.") var approve = false
        @Option(help: "Why.") var comment: String
        @OptionGroup var actor: DutyActorOptions

        func run() async throws {
            let (store, id, actor, approve, comment) = (try DutyCLI.store(), try DutyCLI.uuid(id, "the finding id"), try actor.dutyActor(), approve, comment)
            let finding = try await CLIEnvironment.withDatabase { pool in
                try await pool.withTransaction { try store.reviewTreatment(findingID: id, approve: approve, comment: comment, by: actor, now: Date(), on: $0) }
            }
            print("finding \(finding.id.uuidString.lowercased()): \(finding.status.rawValue)")
        }
    }
}
