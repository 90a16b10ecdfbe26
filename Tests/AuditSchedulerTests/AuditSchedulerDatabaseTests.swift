import AuditScheduler
import Contracts
import Directory
import Foundation
import ISMSTesting
import Postgres
import PostgresMigrations
import ServiceRuntime
import Synchronization
import Testing
import WardCalendar

private func d(_ text: String) -> CivilDate { CivilDate(iso: text)! }

/// 10:00 JST on `day`.
private func morning(_ day: String) -> Date { d(day).startInTokyo().addingTimeInterval(10 * 3600) }

/// A clock tests move by hand.
final class TestClock: Sendable {
    private let current: Mutex<Date>

    init(_ start: Date) {
        current = Mutex(start)
    }

    var now: Date { current.withLock { $0 } }

    func set(_ date: Date) {
        current.withLock { $0 = date }
    }
}

/// Two departments, three sections, and the chain of roles the directory requires.
func testOrganisation() -> Organisation {
    var people: [Organisation.Person] = []
    var assignments: [Organisation.Assignment] = []
    func person(_ id: String, _ role: DirectoryRole, _ unit: String?) {
        if !people.contains(where: { $0.id == id }) { people.append(.init(id: id, name: id, email: "\(id)@ward.example")) }
        assignments.append(.init(personID: id, role: role, unitCode: unit))
    }
    let sections: [Organisation.Section] = [
        .init(code: "general-affairs", name: "総務課", departmentCode: "general-affairs-dept"),
        .init(code: "personnel", name: "職員課", departmentCode: "general-affairs-dept"),
        .init(code: "info-policy", name: "情報政策課", departmentCode: "planning-dept"),
    ]
    for section in sections {
        person("chief-\(section.code)", .sectionSecurityOfficer, section.code)
        person("staff-\(section.code)", .sectionSecurityStaff, section.code)
    }
    person("head-general-affairs-dept", .departmentSecurityOfficer, "general-affairs-dept")
    person("head-planning-dept", .departmentSecurityOfficer, "planning-dept")
    person("deputy-mayor", .ciso, nil)
    person("head-planning-dept", .generalSecurityOfficer, nil)
    person("chief-info-policy", .generalSecurityManager, nil)
    person("chief-personnel", .auditChief, nil)
    return Organisation(
        departments: [.init(code: "general-affairs-dept", name: "総務部"), .init(code: "planning-dept", name: "企画部")],
        sections: sections, people: people, assignments: assignments)
}

/// A fresh audit schema and directory schema, migrated, with the test organisation imported.
func withAuditSchema<T: Sendable>(calendar: DutyCalendar, _ body: (AuditSchedulerStore, PostgresPool) async throws -> T) async throws -> T {
    let directory = DirectoryStore(schema: TestServers.uniqueName("dir"))
    return try await TestServers.withSchema(prefix: "audit", migrations: { schema in
        MessagingSchema.migrations(schema: schema) + AuditSchedulerMigrations.all(schema: schema)
    }) { schema, pool in
        let drop: PostgresQuery = "DROP SCHEMA IF EXISTS \(unescaped: "\"\(directory.schema)\"") CASCADE"
        do {
            _ = try await pool.query("CREATE SCHEMA \(unescaped: "\"\(directory.schema)\"")")
            try await Migrator.apply(directory.migrations, on: pool, logger: TestServers.logger("migrations"))
            let organisation = testOrganisation()
            _ = try await pool.withTransaction { connection in try directory.replace(with: organisation, on: connection) }
            let store = AuditSchedulerStore(schema: schema, directory: directory, calendar: calendar)
            let result = try await body(store, pool)
            _ = try await pool.query(drop)
            return result
        } catch {
            _ = try? await pool.query(drop)
            throw error
        }
    }
}

struct OutboxEntry {
    var routingKey: String
    var envelope: RawEnvelope
}

func outbox(_ store: AuditSchedulerStore, _ pool: PostgresPool, after id: Int64 = 0) async throws -> [OutboxEntry] {
    let schema = store.schema
    return try await pool.withConnection { connection in
        try connection.query("SELECT routing_key, body FROM \(unescaped: "\"\(schema)\"").outbox WHERE id > \(id) ORDER BY id").rows.map { row in
            OutboxEntry(routingKey: try row.decode("routing_key"), envelope: try RawEnvelope(jsonBytes: try row.decode("body", as: [UInt8].self)))
        }
    }
}

@Suite("Audit scheduler against PostgreSQL", .serialized, .tags(.integration), .needsTestServers)
struct AuditSchedulerDatabaseTests {
    @Test("two materialisers running at once create every occurrence exactly once")
    func concurrentMaterialisation() async throws {
        let calendar = try defaultCalendar()
        try await withAuditSchema(calendar: calendar) { store, pool in
            let today = d("2026-11-26")
            let now = morning("2026-11-26")
            // Several rounds of two concurrent runs, to give the race a real chance.
            var created = 0
            var planned = 0
            for _ in 0..<3 {
                async let first = pool.withTransaction { connection in try store.materialise(today: today, now: now, on: connection) }
                async let second = pool.withTransaction { connection in try store.materialise(today: today, now: now, on: connection) }
                let (a, b) = try await (first, second)
                #expect(a.planned == b.planned)
                planned = a.planned
                created += a.created + b.created
            }
            #expect(planned > 0)
            #expect(created == planned)
            let schema = store.schema
            let counts = try await pool.withConnection { connection in
                let duties: Int = try connection.query("SELECT count(*) AS n FROM \(unescaped: "\"\(schema)\"").duties").rows[0].decode("n")
                let distinct: Int = try connection.query(
                    "SELECT count(DISTINCT (template_id, unit_code, occurrence_date)) AS n FROM \(unescaped: "\"\(schema)\"").duties").rows[0].decode("n")
                let timers: Int = try connection.query(
                    "SELECT count(*) AS n FROM \(unescaped: "\"\(schema)\"").timers WHERE kind = \(AuditSchedulerStore.noticeTimerKind)").rows[0].decode("n")
                let plans: Int = try connection.query("SELECT count(*) AS n FROM \(unescaped: "\"\(schema)\"").audit_plan WHERE fiscal_year = 2026").rows[0].decode("n")
                return (duties, distinct, timers, plans)
            }
            #expect(counts.0 == planned)
            #expect(counts.1 == planned)
            #expect(counts.2 <= planned && counts.2 > 0)
            // Three sections over a three-year cycle: one audit a year (Art. 25).
            #expect(counts.3 == 1)
            // This fiscal year's calendar: every section's self-inspections and the ward's reviews.
            let listed = try await pool.withConnection { connection in
                try store.duties(DutyFilter(fiscalYear: 2026), visibleTo: nil, today: today, on: connection)
            }
            #expect(listed.filter { $0.kind == .selfInspection }.count == 6)
            #expect(listed.contains { $0.kind == .managementReview })
        }
    }

    @Test("reminder ladder, due, overdue and escalation to the department security officer, by an injected clock")
    func reminderLadderAndEscalation() async throws {
        let template = DutyTemplate(
            id: "self-inspection", title: "自己点検", kind: .selfInspection, article: "Art. 24",
            recurrence: try RecurrenceRule(parsing: "FREQ=YEARLY;BYMONTH=9;BYMONTHDAY=1"), scope: .section("general-affairs"),
            owner: .sectionSecurityOfficer, dueOffsetDays: 30)
        let calendar = DutyCalendar(start: d("2026-04-01"), templates: [template])
        try await withAuditSchema(calendar: calendar) { store, pool in
            let clock = TestClock(morning("2026-08-20"))
            _ = try await pool.withTransaction { connection in try store.materialise(today: d("2026-08-20"), now: clock.now, on: connection) }
            let runner = TimerRunner(
                schema: store.schema, service: .auditScheduler, handlers: [DutyNoticeTimer(store: store)], database: pool, pollInterval: .seconds(1),
                logger: TestServers.logger("timers"), clock: { clock.now })
            #expect(try await runner.fireDue() == 0)

            var seen: [String] = []
            func step(_ day: String) async throws -> [OutboxEntry] {
                clock.set(morning(day))
                try await runner.fireDue()
                let all = try await outbox(store, pool)
                let new = Array(all.dropFirst(seen.count))
                seen += new.map(\.routingKey)
                return new
            }
            // Due 2026-10-01 (Thu): reminders 30, 7 and 1 days before (Art. 24 duty, default ladder).
            let first = try await step("2026-09-01")
            #expect(first.map(\.routingKey) == ["duty.due-soon.v1"])
            let soon = try first[0].envelope.decode(as: DutyDueSoon.self).data
            #expect(soon.daysBefore == 30)
            #expect(soon.recipient == DutyNoticeRecipient(role: "sectionSecurityOfficer", unitCode: "general-affairs"))
            #expect(soon.duty.dueDate == "2026-10-01")
            #expect(try await step("2026-09-23").isEmpty)
            #expect(try await step("2026-09-24").map(\.routingKey) == ["duty.due-soon.v1"])
            #expect(try await step("2026-09-30").map(\.routingKey) == ["duty.due-soon.v1"])
            #expect(try await step("2026-10-01").map(\.routingKey) == ["duty.due.v1"])
            let overdue = try await step("2026-10-02")
            #expect(overdue.map(\.routingKey) == ["duty.overdue.v1"])
            #expect(try await step("2026-10-08").isEmpty)
            // Seven days later it goes one level up: the department head (Art. 17).
            let escalated = try await step("2026-10-09")
            #expect(escalated.map(\.routingKey) == ["duty.escalated.v1"])
            let event = try escalated[0].envelope.decode(as: DutyEscalated.self).data
            #expect(event.level == 1)
            #expect(event.recipient == DutyNoticeRecipient(role: "departmentSecurityOfficer", unitCode: "general-affairs-dept"))
            #expect(event.daysOverdue == 8)
            #expect(escalated[0].envelope.subject == event.duty.dutyID.uuidString.lowercased())

            // Completion with evidence stops the chase and is announced.
            let dutyID = event.duty.dutyID
            let actor = DutyActor(role: .sectionSecurityOfficer, unitCode: "general-affairs")
            await #expect(throws: AuditSchedulerError.self) {
                try await pool.withTransaction(emittingAs: .auditScheduler, schema: store.schema, logger: TestServers.logger("duties"), now: clock.now) { context in
                    try store.complete(dutyID: dutyID, with: DutyCompletionRequest(evidence: [DutyEvidence(fileName: "a.pdf", sha256: String(repeating: "a", count: 64))]), by: actor, context: &context)
                }
            }
            let completed = try await pool.withTransaction(emittingAs: .auditScheduler, schema: store.schema, logger: TestServers.logger("duties"), now: clock.now) { context in
                try store.complete(
                    dutyID: dutyID,
                    with: DutyCompletionRequest(
                        evidence: [DutyEvidence(fileName: "checklist.xlsx", sha256: String(repeating: "b", count: 64))], notes: "all items checked",
                        checklistScore: 42, checklistMax: 50),
                    by: actor, context: &context)
            }
            #expect(completed.status == .completed)
            let after = try await step("2026-10-16")
            #expect(after.map(\.routingKey) == ["duty.completed.v1"])
            #expect(try after[0].envelope.decode(as: DutyCompleted.self).data.onTime == false)
            #expect(try await step("2026-10-23").isEmpty)

            // Append-only: the completion can be neither changed nor repeated, and the chain verifies.
            await #expect(throws: AuditSchedulerError.self) {
                try await pool.withTransaction(emittingAs: .auditScheduler, schema: store.schema, logger: TestServers.logger("duties"), now: clock.now) { context in
                    try store.complete(dutyID: dutyID, with: DutyCompletionRequest(evidence: [], notes: "again", checklistScore: 1, checklistMax: 1), by: actor, context: &context)
                }
            }
            let schema = store.schema
            await #expect(throws: PostgresError.self) {
                try await pool.query("UPDATE \(unescaped: "\"\(schema)\"").duty_completions SET notes = 'edited'")
            }
            #expect(try await pool.withConnection { try store.verifyLedger(on: $0) }.valid)
        }
    }

    @Test("rescheduling needs a reason, is recorded, and a past date escalates at once")
    func reschedule() async throws {
        let template = DutyTemplate(
            id: "emergency-plan-review", title: "緊急時対応計画の見直し", kind: .emergencyPlanReview, article: "Art. 11(6)",
            recurrence: try RecurrenceRule(parsing: "FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=1"), scope: .everySection, owner: .sectionSecurityOfficer,
            dueOffsetDays: 30)
        let calendar = DutyCalendar(start: d("2026-04-01"), templates: [template])
        try await withAuditSchema(calendar: calendar) { store, pool in
            let clock = TestClock(morning("2026-11-26"))
            _ = try await pool.withTransaction { connection in try store.materialise(today: d("2026-11-26"), now: clock.now, on: connection) }
            let duty = try await pool.withConnection { connection in
                try store.duties(DutyFilter(unitCode: "personnel"), visibleTo: nil, today: d("2026-11-26"), on: connection)
            }[0]
            // 1 Dec + 30 = 31 Dec, in the year-end closure → 4 Jan 2027.
            #expect(duty.dueDate == d("2027-01-04"))
            let manager = DutyActor(role: .generalSecurityManager, unitCode: nil)
            await #expect(throws: AuditSchedulerError.self) {
                try await pool.withTransaction { connection in
                    try store.reschedule(dutyID: duty.id, to: d("2027-02-01"), reason: "  ", by: manager, now: clock.now, on: connection)
                }
            }
            let other = DutyActor(role: .sectionSecurityOfficer, unitCode: "general-affairs")
            await #expect(throws: AuditSchedulerError.self) {
                try await pool.withTransaction { connection in
                    try store.reschedule(dutyID: duty.id, to: d("2027-02-01"), reason: "why not", by: other, now: clock.now, on: connection)
                }
            }
            // Forced overdue: a due date 10 days back sends overdue and escalates at the next sweep.
            let moved = try await pool.withTransaction { connection in
                try store.reschedule(dutyID: duty.id, to: d("2026-11-13"), reason: "drill: force overdue", by: manager, now: clock.now, on: connection)
            }
            #expect(moved.dueDate == d("2026-11-13"))
            let runner = TimerRunner(
                schema: store.schema, service: .auditScheduler, handlers: [DutyNoticeTimer(store: store)], database: pool, pollInterval: .seconds(1),
                logger: TestServers.logger("timers"), clock: { clock.now })
            try await runner.fireDue()
            let keys = try await outbox(store, pool).map(\.routingKey)
            #expect(keys == ["duty.overdue.v1", "duty.escalated.v1"])
            let detail = try await pool.withConnection { connection in
                try store.duty(id: duty.id, visibleTo: DutyActor(role: .departmentSecurityOfficer, unitCode: "general-affairs-dept"), today: d("2026-11-26"), on: connection)
            }
            #expect(detail?.reschedules.map(\.reason) == ["drill: force overdue"])
            #expect(detail?.duty.escalationLevel == 1)
            // Another department cannot see it.
            let hidden = try await pool.withConnection { connection in
                try store.duty(id: duty.id, visibleTo: DutyActor(role: .departmentSecurityOfficer, unitCode: "planning-dept"), today: d("2026-11-26"), on: connection)
            }
            #expect(hidden == nil)
        }
    }

    @Test("an auditor assigned to their own section is refused; findings are treated and approved by the department head")
    func auditAndFindings() async throws {
        let calendar = try defaultCalendar()
        try await withAuditSchema(calendar: calendar) { store, pool in
            let now = morning("2026-11-26")
            let today = d("2026-11-26")
            _ = try await pool.withTransaction { connection in try store.materialise(today: today, now: now, on: connection) }
            let audit = try await pool.withConnection { connection in
                try store.duties(DutyFilter(fiscalYear: 2026, kind: .audit), visibleTo: nil, today: today, on: connection)
            }[0]
            let section = try #require(audit.unitCode)
            let chief = DutyActor(role: .auditChief, unitCode: nil)
            // The section's own chief, and anybody of its department, may not audit it (Art. 13(2)).
            do {
                _ = try await pool.withTransaction { connection in
                    try store.assignAuditor(dutyID: audit.id, personID: "chief-\(section)", by: chief, now: now, on: connection)
                }
                Issue.record("an auditor of the audited section was accepted")
            } catch let error as AuditSchedulerError {
                #expect(error.code == .auditorNotIndependent)
            }
            let outsider = section == "info-policy" ? "chief-general-affairs" : "chief-info-policy"
            let assigned = try await pool.withTransaction { connection in
                try store.assignAuditor(dutyID: audit.id, personID: outsider, by: chief, now: now, on: connection)
            }
            #expect(assigned.auditorPersonID == outsider)

            // A finding names a registered asset of the audited section, or none (issue #18 item 0).
            let register = AssetRegister(directory: store.directory)
            let classification = AssetClassification(confidentiality: .level2, integrity: .level1, availability: .level1)
            _ = try await pool.withTransaction {
                try register.save(
                    [
                        RegisteredAsset(id: "usb-media-\(section)", name: "USB媒体", sectionCode: section, classification: classification),
                        RegisteredAsset(id: "elsewhere-\(section)", name: "他課の台帳", sectionCode: "x-\(section)", classification: classification),
                    ], by: "test", on: $0)
            }
            await #expect(throws: AuditSchedulerError.self) {
                try await pool.withTransaction { connection in
                    try store.recordFinding(
                        FindingRequest(auditDutyID: audit.id, severity: .high, title: "other", assetID: "elsewhere-\(section)"), by: chief, now: now, on: connection)
                }
            }
            let finding = try await pool.withTransaction { connection in
                try store.recordFinding(
                    FindingRequest(auditDutyID: audit.id, severity: .high, title: "USB media not inventoried", assetID: "usb-media-\(section)"), by: chief,
                    now: now, on: connection)
            }
            #expect(finding.assetID == "usb-media-\(section)")
            // High: 30 days from 26 Nov 2026 = 26 Dec (Sat) → Monday 28 Dec, the last opening day before the year-end closure.
            #expect(finding.dueDate == d("2026-12-28"))
            #expect(finding.treatmentDutyID != nil)
            let sectionActor = DutyActor(role: .sectionSecurityOfficer, unitCode: section)
            _ = try await pool.withTransaction { connection in
                try store.submitTreatmentResult(findingID: finding.id, notes: "inventory taken", by: sectionActor, now: now, on: connection)
            }
            let department = try #require(audit.departmentCode)
            let wrongHead = DutyActor(role: .departmentSecurityOfficer, unitCode: department == "planning-dept" ? "general-affairs-dept" : "planning-dept")
            await #expect(throws: AuditSchedulerError.self) {
                try await pool.withTransaction { connection in
                    try store.reviewTreatment(findingID: finding.id, approve: true, comment: "", by: wrongHead, now: now, on: connection)
                }
            }
            let head = DutyActor(role: .departmentSecurityOfficer, unitCode: department)
            let closed = try await pool.withTransaction { connection in
                try store.reviewTreatment(findingID: finding.id, approve: true, comment: "confirmed", by: head, now: now, on: connection)
            }
            #expect(closed.status == .closed)
            let treatment = try await pool.withConnection { connection in
                try store.duty(id: closed.treatmentDutyID!, visibleTo: nil, today: today, on: connection)
            }
            #expect(treatment?.duty.status == .completed)

            let report = try await pool.withConnection { connection in try store.effectivenessReport(fiscalYear: 2026, now: now, on: connection) }
            #expect(report.findings.recorded == 1)
            #expect(report.findings.closed == 1)
            #expect(report.audit.sections == 3)
            #expect(report.audit.plannedThisYear == 1)
            let ledger = try await pool.withConnection { try store.verifyLedger(on: $0) }
            #expect(ledger.valid)
            #expect(ledger.entries == 5)
        }
    }
}
