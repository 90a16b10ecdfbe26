import Contracts
import CSIRTTriage
import Directory
import Foundation
import ISMSTesting
import Postgres
import PostgresMigrations
import ServiceRuntime
import Testing

/// Against the real PostgreSQL: use restrictions (Art. 27(3)), assignments, the record of a
/// restricted original being read, and the sharing digest (Art. 10, 16(7)) — issue #4 items 8-10.
@Suite(.serialized, .tags(.integration), .needsTestServers) struct CaseHandlingTests {
    let opened = ContractsJSON.parseTimestamp("2025-04-01T10:30:00+09:00")!
    let csirt = TriageActor(id: "person:p-csirt-1", role: .csirt)
    let ciso = TriageActor(id: "person:p-ciso", role: .ciso)
    let gso = TriageActor(id: "person:p-gso", role: .generalSecurityOfficer)

    func restrictionEvents(_ fixture: TriageFixture) async throws -> [IncidentRestrictionChanged] {
        try await fixture.outbox().filter { $0.routingKey == MessageTypes.incidentRestrictionChanged.routingKey }
            .map { try $0.envelope.decode(as: IncidentRestrictionChanged.self).data }
    }

    @Test func aRestrictionTakesEffectOnlyWhenTheCISOApprovesAndLiftingIsARecordedDecision() async throws {
        try await TriageFixture.with { fixture in
            let (record, _) = try await fixture.transaction(now: opened) { engine, context in try engine.open(NewCase(reported: reported()), causedBy: nil, context: &context) }
            let order = UseRestrictionOrder(
                targets: [.init(kind: .system, name: "住民記録システム 外部媒体書込み"), .init(kind: .account, name: "koseki-temp-07")],
                reason: "同型媒体への書込みを調査完了まで停止する（個人番号 123456789018 の流出の疑い）")
            let csirt = csirt
            let ordered = try await fixture.transaction(now: opened.addingTimeInterval(60)) { engine, context in
                try engine.orderRestriction(order, caseNumber: record.caseNumber, actor: csirt, context: &context)
            }
            #expect(ordered.status == .awaitingApproval)
            #expect(!ordered.reason.contains("123456789018"))

            // Neither CSIRT nor the section's officer can put it in force.
            for actor in [csirt, TriageActor(id: "person:p-chief", role: .sectionSecurityOfficer)] {
                let refused = await #expect(throws: TriageError.self) {
                    try await fixture.transaction(now: opened.addingTimeInterval(90)) { engine, context in
                        try engine.decideRestriction(id: ordered.id, caseNumber: record.caseNumber, approve: true, reason: nil, actor: actor, context: &context)
                    }
                }
                #expect(refused?.code == .forbidden)
            }
            #expect(try await restrictionEvents(fixture).map(\.status) == ["awaiting-approval"])

            let ciso = ciso
            let approvedAt = opened.addingTimeInterval(120)
            let approved = try await fixture.transaction(now: approvedAt) { engine, context in
                try engine.decideRestriction(id: ordered.id, caseNumber: record.caseNumber, approve: true, reason: "承認", actor: ciso, context: &context)
            }
            #expect(approved.status == .inForce)
            #expect(approved.decidedBy == "person:p-ciso")
            #expect(approved.effectiveFrom == approvedAt)

            // Approving twice is a conflict; lifting needs a reason and an approver's role.
            let twice = await #expect(throws: TriageError.self) {
                try await fixture.transaction(now: approvedAt) { engine, context in
                    try engine.decideRestriction(id: ordered.id, caseNumber: record.caseNumber, approve: true, reason: nil, actor: ciso, context: &context)
                }
            }
            #expect(twice?.code == .conflict)
            let byCSIRT = await #expect(throws: TriageError.self) {
                try await fixture.transaction(now: approvedAt) { engine, context in
                    try engine.liftRestriction(id: ordered.id, caseNumber: record.caseNumber, reason: "done", actor: csirt, context: &context)
                }
            }
            #expect(byCSIRT?.code == .forbidden)

            let gso = gso
            let lifted = try await fixture.transaction(now: opened.addingTimeInterval(3600)) { engine, context in
                try engine.liftRestriction(id: ordered.id, caseNumber: record.caseNumber, reason: "媒体の回収を確認", actor: gso, context: &context)
            }
            #expect(lifted.status == .lifted)
            #expect(lifted.liftedBy == "person:p-gso")
            #expect(lifted.liftReason == "媒体の回収を確認")

            let events = try await restrictionEvents(fixture)
            #expect(events.map(\.status) == ["awaiting-approval", "in-force", "lifted"])
            #expect(events.allSatisfy { $0.targets.count == 2 && !$0.reason.contains("123456789018") })
            let history = try await fixture.pool.withConnection { try fixture.engine.store.history(caseID: record.id, on: $0) }
            #expect(history.map(\.action).filter { $0.hasPrefix("restriction") } == ["restriction-ordered", "restriction-approved", "restriction-lifted"])
            #expect(try await fixture.pool.withConnection { try fixture.engine.store.verifyChain(on: $0) }.isIntact)
        }
    }

    @Test func aRestrictionEndsWithItsPeriodAndARejectionNeedsAReason() async throws {
        try await TriageFixture.with { fixture in
            let clock = TestClock(opened)
            let runner = fixture.timerRunner(clock: { clock.now })
            let (record, _) = try await fixture.transaction(now: opened) { engine, context in try engine.open(NewCase(reported: reported()), causedBy: nil, context: &context) }
            let (csirt, ciso) = (csirt, ciso)
            let invalid = await #expect(throws: TriageError.self) {
                try await fixture.transaction(now: clock.now) { engine, context in
                    try engine.orderRestriction(
                        UseRestrictionOrder(targets: [], reason: " ", until: clock.now.addingTimeInterval(-1)), caseNumber: record.caseNumber, actor: csirt,
                        context: &context)
                }
            }
            #expect(invalid?.code == .invalidRequest)
            #expect(invalid?.detail.contains("1 to 50") == true && invalid?.detail.contains("reason") == true && invalid?.detail.contains("until") == true)

            let order = UseRestrictionOrder(targets: [.init(kind: .account, name: "koseki-temp-07")], reason: "調査中", until: clock.now.addingTimeInterval(7200))
            let first = try await fixture.transaction(now: clock.now) { engine, context in
                try engine.orderRestriction(order, caseNumber: record.caseNumber, actor: csirt, context: &context)
            }
            let second = try await fixture.transaction(now: clock.now) { engine, context in
                try engine.orderRestriction(order, caseNumber: record.caseNumber, actor: csirt, context: &context)
            }
            let unexplained = await #expect(throws: TriageError.self) {
                try await fixture.transaction(now: clock.now) { engine, context in
                    try engine.decideRestriction(id: second.id, caseNumber: record.caseNumber, approve: false, reason: nil, actor: ciso, context: &context)
                }
            }
            #expect(unexplained?.code == .invalidRequest)
            try await fixture.transaction(now: clock.now) { engine, context in
                try engine.decideRestriction(id: second.id, caseNumber: record.caseNumber, approve: false, reason: "アカウント停止で足りる", actor: ciso, context: &context)
                try engine.decideRestriction(id: first.id, caseNumber: record.caseNumber, approve: true, reason: nil, actor: ciso, context: &context)
            }
            clock.advance(by: 7199)
            try await runner.fireDue()
            #expect(try await restrictionEvents(fixture).map(\.status) == ["awaiting-approval", "awaiting-approval", "rejected", "in-force"])
            clock.advance(by: 1)
            try await runner.fireDue()
            let last = try #require(try await restrictionEvents(fixture).last)
            #expect(last.status == "lifted")
            #expect(last.restrictionId == first.id)
            #expect(last.actor == TriageActor.system.id)
            let stored = try await fixture.pool.withConnection { try fixture.engine.restrictions(caseID: record.id, on: $0) }
            #expect(Dictionary(uniqueKeysWithValues: stored.map { ($0.id, $0.status) }) == [first.id: .lifted, second.id: .rejected])
        }
    }

    @Test func assigningTellsThePersonAndIsRecorded() async throws {
        try await TriageFixture.with { fixture in
            let (record, _) = try await fixture.transaction(now: opened) { engine, context in try engine.open(NewCase(reported: reported()), causedBy: nil, context: &context) }
            let csirt = csirt
            let assignees = try await fixture.transaction(now: opened) { engine, context in
                try engine.assign(personID: "p-csirt-2", caseNumber: record.caseNumber, actor: csirt, reason: "on duty", context: &context)
            }
            #expect(assignees.map(\.personID) == ["p-csirt-2"])
            for (person, code) in [("p-csirt-2", TriageError.Code.conflict), ("nobody", .invalidRequest)] {
                let refused = await #expect(throws: TriageError.self) {
                    try await fixture.transaction(now: opened) { engine, context in
                        try engine.assign(personID: person, caseNumber: record.caseNumber, actor: csirt, reason: nil, context: &context)
                    }
                }
                #expect(refused?.code == code)
            }
            let bySection = await #expect(throws: TriageError.self) {
                try await fixture.transaction(now: opened) { engine, context in
                    try engine.assign(personID: "p-staff", caseNumber: record.caseNumber, actor: TriageActor(id: "person:p-chief", role: .sectionSecurityOfficer), reason: nil, context: &context)
                }
            }
            #expect(bySection?.code == .forbidden)
            let released = try await fixture.transaction(now: opened) { engine, context in
                try engine.assign(personID: "p-csirt-2", assign: false, caseNumber: record.caseNumber, actor: csirt, reason: nil, context: &context)
            }
            #expect(released.isEmpty)
            let events = try await fixture.outbox().filter { $0.routingKey == MessageTypes.incidentAssigned.routingKey }
                .map { try $0.envelope.decode(as: IncidentAssigned.self).data }
            #expect(events.map(\.change) == ["assigned", "unassigned"])
            #expect(events.map(\.assignees) == [["p-csirt-2"], []])
            let history = try await fixture.pool.withConnection { try fixture.engine.store.history(caseID: record.id, on: $0) }
            #expect(history.map(\.action).suffix(2) == ["assigned", "unassigned"])
        }
    }

    @Test func readingARestrictedOriginalIsChainedIntoTheCaseHistory() async throws {
        try await TriageFixture.with { fixture in
            let event = reported()
            let (record, _) = try await fixture.transaction(now: opened) { engine, context in try engine.open(NewCase(reported: event), causedBy: nil, context: &context) }
            let viewed = IncidentReportOriginalViewed(
                intakeId: event.intakeID, tokenId: UUID(), tokenLabel: "事務取扱担当者 戸籍", role: "designatedHandler", unitCode: "koseki-jumin",
                viewedAt: opened.addingTimeInterval(600))
            try await fixture.transaction(now: Date()) { engine, context in try engine.recordOriginalViewed(viewed, context: &context) }
            // A viewing of a report whose case is not open yet is retried later (the error requeues it).
            let early = IncidentReportOriginalViewed(intakeId: UUID(), tokenId: UUID(), tokenLabel: "x", role: "designatedHandler", unitCode: nil, viewedAt: Date())
            await #expect(throws: TriageError.self) {
                try await fixture.transaction(now: Date()) { engine, context in try engine.recordOriginalViewed(early, context: &context) }
            }
            let history = try await fixture.pool.withConnection { try fixture.engine.store.history(caseID: record.id, on: $0) }
            let entry = try #require(history.last)
            #expect(entry.action == "original-viewed")
            #expect(entry.actor == "token:\(viewed.tokenId.uuidString.lowercased())")
            #expect(entry.at == viewed.viewedAt)
            #expect(try await fixture.pool.withConnection { try fixture.engine.store.verifyChain(on: $0) }.isIntact)
        }
    }

    @Test func theDigestIsMaskedGoesToEverySectionsStaffAndRecursByDurableTimer() async throws {
        try await TriageFixture.with { fixture in
            let clock = TestClock(opened)
            let week = Duration.seconds(7 * 86_400)
            let runner = TimerRunner(
                schema: fixture.schema, service: .csirtTriage, handlers: CSIRTTriageService.timerHandlers(engine: fixture.engine, digestInterval: week), database: fixture.pool,
                pollInterval: .seconds(1), logger: TestServers.logger("timers"), clock: { clock.now })
            try await fixture.pool.withConnection { try fixture.engine.scheduleFirstDigest(every: week, now: clock.now, on: $0) }
            // A second start does not move the first digest.
            try await fixture.pool.withConnection { try fixture.engine.scheduleFirstDigest(every: week, now: clock.now.addingTimeInterval(3600), on: $0) }

            clock.advance(by: 86_400)
            let (severe, _) = try await fixture.transaction(now: clock.now) { engine, context in try engine.open(NewCase(reported: reported()), causedBy: nil, context: &context) }
            let (minor, _) = try await fixture.transaction(now: clock.now) { engine, context in
                try engine.open(NewCase(reported: reported(myNumber: .no, detected: false, persons: .count(1), category: .misdelivery)), causedBy: nil, context: &context)
            }
            let (noise, _) = try await fixture.transaction(now: clock.now) { engine, context in
                try engine.open(NewCase(reported: reported(category: .other)), causedBy: nil, context: &context)
            }
            let csirt = csirt
            try await fixture.transaction(now: clock.now) { engine, context in
                try engine.perform(.discard, caseNumber: noise.caseNumber, actor: csirt, reason: "a test message", context: &context)
            }

            clock.advance(by: 6 * 86_400 - 1)
            try await runner.fireDue()
            #expect(try await fixture.outbox().filter { $0.routingKey == MessageTypes.incidentDigest.routingKey }.isEmpty)
            clock.advance(by: 1)
            try await runner.fireDue()
            let digests = try await fixture.outbox().filter { $0.routingKey == MessageTypes.incidentDigest.routingKey }
            let raw = try #require(digests.first)
            let digest = try raw.envelope.decode(as: IncidentDigest.self).data
            #expect(digests.count == 1)
            #expect(digest.total == 2)
            #expect(digest.cases.map(\.caseNumber) == [severe.caseNumber, minor.caseNumber])
            #expect(digest.bySeverity[String(severe.severity.severity)] == 1)
            #expect(digest.recipients == ["p-staff"])
            #expect(digest.periodStart == opened)
            #expect(try Schemas.violations(in: raw.envelope).data.isEmpty)
            // Masked: no title, description or reporter reaches the digest.
            let text = String(decoding: raw.envelope.data ?? [], as: UTF8.self)
            #expect(!text.contains("USBメモリ") && !text.contains("山田"))

            // The next period starts where this one ended.
            let next = try await fixture.pool.query("SELECT due_at, payload::text AS payload FROM \(unescaped: Migrator.quoted(fixture.schema)).timers WHERE kind = 'digest'")
            #expect(try next.rows.first?.decode("due_at", as: Date.self) == clock.now.addingTimeInterval(7 * 86_400))
        }
    }
}
