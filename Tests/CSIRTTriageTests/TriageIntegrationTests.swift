import Contracts
import CSIRTTriage
import Directory
import Foundation
import ISMSTesting
import Postgres
import PostgresMigrations
import ServiceRuntime
import Testing

/// Against the real PostgreSQL (`ISMS_TEST_DATABASE_URL`): cases, escalation through durable
/// timers with an injected clock, statutory obligations, and the hash chain.
@Suite(.serialized, .tags(.integration), .needsTestServers) struct TriageIntegrationTests {
    let opened = ContractsJSON.parseTimestamp("2025-04-01T10:30:00+09:00")!

    @Test func oneCasePerReportNumberedWithoutGaps() async throws {
        try await TriageFixture.with { fixture in
            let first = reported()
            let a = try await fixture.transaction(now: opened) { engine, context in try engine.open(NewCase(reported: first), causedBy: nil, context: &context) }
            let again = try await fixture.transaction(now: opened) { engine, context in try engine.open(NewCase(reported: first), causedBy: nil, context: &context) }
            let b = try await fixture.transaction(now: opened) { engine, context in try engine.open(NewCase(reported: reported()), causedBy: nil, context: &context) }
            #expect(a.created)
            #expect(!again.created)
            #expect(again.record.caseNumber == a.record.caseNumber)
            #expect(a.record.caseNumber == "INC-2025-000001")
            #expect(b.record.caseNumber == "INC-2025-000002")
            // A case rolled back gives its number back: no gap.
            await #expect(throws: (any Error).self) {
                try await fixture.transaction(now: opened) { engine, context in
                    try engine.open(NewCase(reported: reported()), causedBy: nil, context: &context)
                    throw TriageError(code: .conflict, detail: "roll back")
                }
            }
            let c = try await fixture.transaction(now: opened) { engine, context in try engine.open(NewCase(reported: reported()), causedBy: nil, context: &context) }
            #expect(c.record.caseNumber == "INC-2025-000003")
            // A new year starts again at 1.
            let nextYear = ContractsJSON.parseTimestamp("2026-01-05T09:00:00+09:00")!
            let d = try await fixture.transaction(now: nextYear) { engine, context in try engine.open(NewCase(reported: reported()), causedBy: nil, context: &context) }
            #expect(d.record.caseNumber == "INC-2026-000001")
            let openedEvents = try await fixture.outbox().filter { $0.routingKey == MessageTypes.incidentCaseOpened.routingKey }
            #expect(openedEvents.count == 4)
        }
    }

    @Test func lostUSBStickWithMyNumbersOf150ResidentsTellsTheWholeChainAtOnce() async throws {
        try await TriageFixture.with { fixture in
            let event = reported()
            let (record, _) = try await fixture.transaction(now: opened) { engine, context in try engine.open(NewCase(reported: event), causedBy: nil, context: &context) }
            #expect(record.severity.severity == 1)
            #expect(record.severity.rule == "my-number-over-100")
            #expect(record.timestamps.knownAt == event.knownAt)
            #expect(record.timestamps.occurredAt == event.occurredAt)
            #expect(record.timestamps.openedAt == opened)

            let escalations = try await fixture.escalations()
            #expect(escalations.map(\.role) == ["csirt"] + DirectoryRole.escalationChain.map(\.rawValue))
            #expect(escalations.first?.recipients == ["p-csirt-1", "p-csirt-2"])
            #expect(escalations.last?.recipients == ["p-ciso"])
            #expect(escalations.allSatisfy { $0.nextEscalationAt == nil && $0.reason == "initial" })
            let pending = try await fixture.pool.query("SELECT count(*) AS n FROM \(unescaped: Migrator.quoted(fixture.schema)).timers WHERE kind = 'escalation'")
            #expect(try pending.rows.first?.decode("n", as: Int.self) == 0)

            // Preliminary (5 days) and final (30 days) reports to the PPC under both acts.
            let obligations = try await fixture.pool.withConnection { try fixture.engine.obligations(caseID: record.id, on: $0) }
            let byRule = Dictionary(uniqueKeysWithValues: obligations.map { ($0.rule, $0) })
            #expect(byRule["my-number-29-4-preliminary"]?.status == .required)
            #expect(byRule["my-number-29-4-preliminary"]?.dueDate == "2025-04-07")  // 1 Apr + 5 = Sun 6 Apr → Mon 7 Apr
            #expect(byRule["my-number-29-4-final"]?.dueDate == "2025-05-01")
            #expect(byRule["appi-68-preliminary"]?.status == .required)
            #expect(byRule["appi-68-notice"]?.dueDate == nil)
            #expect(byRule["my-number-29-4-final"]?.law.contains("第29条の4") == true)
            #expect(byRule["my-number-29-4-final"]?.rulesVersion == "2025.1")
        }
    }

    @Test func escalationStepsWhileNobodyAcknowledgesAndStopsWhenSomebodyDoes() async throws {
        // Test-shortened delays: 5 minutes per level.
        let policy = EscalationPolicy(version: "test", steps: [
            1: .init(immediateThrough: 5, delay: .zero, stopAt: 5),
            2: .init(immediateThrough: 1, delay: .seconds(300), stopAt: 5),
            3: .init(immediateThrough: 1, delay: .seconds(300), stopAt: 5),
            4: .init(immediateThrough: 1, delay: .seconds(300), stopAt: 5),
        ])
        try await TriageFixture.with(policy: policy) { fixture in
            let clock = TestClock(opened)
            let runner = fixture.timerRunner(clock: { clock.now })
            let event = reported(persons: .count(3))
            let (record, _) = try await fixture.transaction(now: clock.now) { engine, context in
                try engine.open(NewCase(reported: event), causedBy: nil, context: &context)
            }
            #expect(record.severity.severity == 2)
            #expect(try await fixture.escalations().map(\.level) == [0, 0, 1])
            #expect(try await fixture.escalations().last?.nextEscalationAt == clock.now.addingTimeInterval(300))

            clock.advance(by: 299)
            try await runner.fireDue()
            #expect(try await fixture.escalations().count == 3)

            clock.advance(by: 1)
            try await runner.fireDue()
            let afterFirst = try await fixture.escalations()
            #expect(afterFirst.count == 4)
            #expect(afterFirst.last?.role == "departmentSecurityOfficer")
            #expect(afterFirst.last?.reason == "timeout")
            #expect(afterFirst.last?.recipients == ["p-head"])

            clock.advance(by: 300)
            try await runner.fireDue()
            #expect(try await fixture.escalations().last?.role == "generalSecurityManager")

            // The department head acknowledges: nothing more is escalated.
            let ackAt = clock.now
            try await fixture.transaction(now: ackAt) { engine, context in
                try engine.perform(.acknowledge, caseNumber: record.caseNumber, actor: TriageActor(id: "person:p-head", role: .departmentSecurityOfficer), reason: nil, context: &context)
            }
            clock.advance(by: 3600)
            try await runner.fireDue()
            #expect(try await fixture.escalations().count == 5)
            let acknowledged = try await fixture.outbox().filter { $0.routingKey == MessageTypes.incidentAcknowledged.routingKey }
            #expect(acknowledged.count == 1)
            let stored = try await fixture.pool.withConnection { try fixture.engine.store.find(caseNumber: record.caseNumber, on: $0) }
            #expect(stored?.state == .acknowledged)
            #expect(stored?.timestamps.acknowledgedAt == ackAt)
            #expect(stored?.escalationLevel == 3)
        }
    }

    @Test func remindersGoOutBeforeOnAndAfterTheDueDayUntilFiled() async throws {
        try await TriageFixture.with { fixture in
            let clock = TestClock(opened)
            let runner = fixture.timerRunner(clock: { clock.now })
            let (record, _) = try await fixture.transaction(now: clock.now) { engine, context in
                try engine.open(NewCase(reported: reported()), causedBy: nil, context: &context)
            }
            func reminders() async throws -> [IncidentObligationReminder] {
                try await fixture.outbox().filter { $0.routingKey == MessageTypes.incidentObligationReminder.routingKey }
                    .map { try $0.envelope.decode(as: IncidentObligationReminder.self).data }
            }
            // Preliminary reports due Mon 7 Apr 2025: reminders on 4 Apr (3 days before) and 6 Apr.
            clock.advance(by: ContractsJSON.parseTimestamp("2025-04-04T00:00:01+09:00")!.timeIntervalSince(clock.now))
            try await runner.fireDue()
            let early = try await reminders()
            #expect(Set(early.map(\.rule)) == ["appi-68-preliminary", "my-number-29-4-preliminary"])
            #expect(early.allSatisfy { $0.stage == "reminder" && $0.status == "required" && $0.dueDate == "2025-04-07" })

            // The My Number preliminary report is filed; the APPI one is not.
            let obligations = try await fixture.pool.withConnection { try fixture.engine.obligations(caseID: record.id, on: $0) }
            let myNumber = try #require(obligations.first { $0.rule == "my-number-29-4-preliminary" })
            try await fixture.transaction(now: clock.now) { engine, context in
                try engine.fileObligation(caseNumber: record.caseNumber, obligationID: myNumber.id, reference: "PPC-2025-0042", actor: TriageActor(id: "token:t", role: .csirt), context: &context)
            }
            clock.advance(by: ContractsJSON.parseTimestamp("2025-04-08T00:00:01+09:00")!.timeIntervalSince(clock.now))
            try await runner.fireDue()
            let late = try await reminders().dropFirst(early.count)
            #expect(late.map(\.rule) == ["appi-68-preliminary"])
            #expect(late.first?.stage == "overdue")
        }
    }

    @Test func unknownVerdictsCreateToDecideObligationsThatSettleLater() async throws {
        try await TriageFixture.with { fixture in
            let event = reported(myNumber: .unknown, detected: false, persons: .unknown, category: .misdelivery)
            let (record, _) = try await fixture.transaction(now: opened) { engine, context in try engine.open(NewCase(reported: event), causedBy: nil, context: &context) }
            var obligations = try await fixture.pool.withConnection { try fixture.engine.obligations(caseID: record.id, on: $0) }
            #expect(obligations.count == 6)
            #expect(obligations.allSatisfy { $0.status == .toDecide })

            // CSIRT learns: no My Number, more than 100 persons, wrongful intent.
            var verdicts = record.verdicts
            verdicts.myNumber = .no
            verdicts.moreThan100Persons = .yes
            verdicts.wrongfulIntent = .yes
            let settled = verdicts
            let updated = try await fixture.transaction(now: opened.addingTimeInterval(3600)) { engine, context in
                try engine.updateVerdicts(settled, affectedPersons: .count(240), caseNumber: record.caseNumber, actor: TriageActor(id: "token:t", role: .csirt), reason: "interview with the section", context: &context)
            }
            #expect(updated.severity.severity == 1)
            obligations = try await fixture.pool.withConnection { try fixture.engine.obligations(caseID: record.id, on: $0) }
            let byRule = Dictionary(uniqueKeysWithValues: obligations.map { ($0.rule, $0) })
            #expect(byRule["my-number-29-4-final"]?.status == .notRequired)
            #expect(byRule["appi-68-final"]?.status == .required)
            #expect(byRule["appi-68-final"]?.periodDays == 60)
            #expect(byRule["appi-68-final"]?.dueDate == "2025-06-02")
            let history = try await fixture.pool.withConnection { try fixture.engine.store.history(caseID: record.id, on: $0) }
            #expect(history.contains { $0.action == "severity" && $0.reason?.contains("interview") == true })
        }
    }

    @Test func theHashChainNamesTheFirstEditedRow() async throws {
        try await TriageFixture.with { fixture in
            let (record, _) = try await fixture.transaction(now: opened) { engine, context in try engine.open(NewCase(reported: reported()), causedBy: nil, context: &context) }
            let csirt = TriageActor(id: "token:t", role: .csirt)
            for action in [CaseAction.confirm, .acknowledge, .investigate] {
                try await fixture.transaction(now: opened.addingTimeInterval(60)) { engine, context in
                    try engine.perform(action, caseNumber: record.caseNumber, actor: csirt, reason: "step", context: &context)
                }
            }
            try await fixture.transaction(now: opened.addingTimeInterval(120)) { engine, context in
                try engine.comment("called the section chief", caseNumber: record.caseNumber, actor: csirt, context: &context)
            }
            let store = fixture.engine.store
            let intact = try await fixture.pool.withConnection { try store.verifyChain(on: $0) }
            #expect(intact.isIntact)
            #expect(intact.rowsChecked > 5)

            let table = "\(Migrator.quoted(fixture.schema)).case_history"
            // The trigger refuses edits, even by the owner.
            await #expect(throws: PostgresError.self) {
                try await fixture.pool.query("UPDATE \(unescaped: table) SET reason = 'edited' WHERE seq = 3")
            }
            await #expect(throws: PostgresError.self) {
                try await fixture.pool.query("DELETE FROM \(unescaped: table) WHERE seq = 3")
            }
            // A superuser disables the trigger and edits a row: verification names it.
            try await fixture.pool.withTransaction { connection in
                try connection.execute("ALTER TABLE \(table) DISABLE TRIGGER ALL")
                _ = try connection.query("UPDATE \(unescaped: table) SET reason = 'nothing happened' WHERE seq = 3")
                try connection.execute("ALTER TABLE \(table) ENABLE TRIGGER ALL")
            }
            let edited = try await fixture.pool.withConnection { try store.verifyChain(on: $0) }
            #expect(edited.brokenLink?.seq == 3)
            #expect(edited.brokenLink?.caseNumber == record.caseNumber)
            #expect(edited.brokenLink?.problem.contains("edited") == true)
            #expect(edited.rowsChecked == 2)

            // Deleting a row instead is named as a missing row.
            try await fixture.pool.withTransaction { connection in
                try connection.execute("ALTER TABLE \(table) DISABLE TRIGGER ALL")
                _ = try connection.query("UPDATE \(unescaped: table) SET reason = 'step' WHERE seq = 3")
                _ = try connection.query("DELETE FROM \(unescaped: table) WHERE seq = 2")
                try connection.execute("ALTER TABLE \(table) ENABLE TRIGGER ALL")
            }
            let deleted = try await fixture.pool.withConnection { try store.verifyChain(on: $0) }
            #expect(deleted.brokenLink?.seq == 3)
            #expect(deleted.brokenLink?.problem.contains("missing") == true)
        }
    }

    @Test func rolesAndVisibilityAreEnforced() async throws {
        try await TriageFixture.with { fixture in
            let (record, _) = try await fixture.transaction(now: opened) { engine, context in try engine.open(NewCase(reported: reported()), causedBy: nil, context: &context) }
            let error = await #expect(throws: TriageError.self) {
                try await fixture.transaction(now: opened) { engine, context in
                    try engine.perform(.confirm, caseNumber: record.caseNumber, actor: TriageActor(id: "token:x", role: .sectionSecurityOfficer), reason: nil, context: &context)
                }
            }
            #expect(error?.code == .forbidden)
            let hidden = await #expect(throws: TriageError.self) {
                try await fixture.transaction(now: opened) { engine, context in
                    try engine.perform(.acknowledge, caseNumber: record.caseNumber, actor: TriageActor(id: "token:x", role: .departmentSecurityOfficer), reason: nil, visibility: .unit("somebody-else"), context: &context)
                }
            }
            #expect(hidden?.code == .notFound)
            let mine = try await fixture.pool.withConnection { try fixture.engine.store.list(visibility: .unit("kumin"), on: $0) }
            let theirs = try await fixture.pool.withConnection { try fixture.engine.store.list(visibility: .unit("other"), on: $0) }
            #expect(mine.map(\.caseNumber) == [record.caseNumber])
            #expect(theirs.isEmpty)
        }
    }
}
