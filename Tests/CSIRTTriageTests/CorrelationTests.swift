import Contracts
import CSIRTTriage
import Directory
import Foundation
import ISMSTesting
import Postgres
import PostgresMigrations
import ServiceRuntime
import Testing
import WardCalendar

/// The rules file and the arithmetic of related reports, without servers (issue #16).
@Suite struct CorrelationRulesTests {
    @Test func theShippedRulesLoadAndEachReportGivesItsKeys() throws {
        let rules = try TriageConfigFiles.correlation()
        #expect(rules.rules.map(\.id) == ["producer-key", "producer-asset"])
        #expect(rules.rules[0].attributes == [.producer, .correlationKey])
        #expect(rules.rules[1].window == .seconds(2 * 3600))

        let twoAssets = CorrelationAttributes(
            producer: "urn:isms:producer:edr", sectionCode: "koseki-jumin", departmentCode: "kumin", category: .malware,
            assets: ["id:KJ-1", "name:窓口PC", "id:KJ-1"], correlationKey: nil)
        let keys = rules.keys(for: twoAssets)
        // No correlationKey: the first rule gives nothing; one key per distinct asset for the second.
        #expect(keys.map(\.rule) == ["producer-asset", "producer-asset"])
        #expect(Set(keys.map(\.text)).count == 2)
        var keyed = twoAssets
        keyed.correlationKey = "campaign-7"
        #expect(rules.keys(for: keyed).map(\.rule) == ["producer-key", "producer-asset", "producer-asset"])
        var otherProducer = keyed
        otherProducer.producer = "urn:isms:producer:mail-gateway"
        #expect(Set(rules.keys(for: otherProducer).map(\.text)).isDisjoint(with: rules.keys(for: keyed).map(\.text)))
    }

    @Test func everyProblemOfTheFileNamesItsLine() {
        func problem(_ yaml: String) -> TriageConfigurationError? {
            do {
                _ = try CorrelationRules.parse(yaml: yaml, file: "rules.yaml")
                return nil
            } catch {
                return error
            }
        }
        let unknownAttribute = problem("version: x\nrules:\n  - id: a\n    window: 1h\n    sameAs: [producer, colour]\n")
        #expect(unknownAttribute?.line == 5)
        #expect(unknownAttribute?.detail.contains("colour") == true)
        let sectionOnly = problem("version: x\nrules:\n  - id: a\n    sameAs: [sectionCode, category]\n    window: 1h\n")
        #expect(sectionOnly?.line == 4)
        let noWindow = problem("version: x\nrules:\n  - id: a\n    sameAs: [producer]\n")
        #expect(noWindow?.code == .missingKey)
        #expect(noWindow?.line == 3)
        let badWindow = problem("version: x\nrules:\n  - id: a\n    sameAs: [producer]\n    window: 0m\n")
        #expect(badWindow?.line == 5)
        let twice = problem("version: x\nrules:\n  - id: a\n    sameAs: [producer]\n    window: 1h\n  - id: a\n    sameAs: [asset]\n    window: 1h\n")
        #expect(twice?.line == 6)
        let reserved = problem("version: x\nrules:\n  - id: merge\n    sameAs: [producer]\n    window: 1h\n")
        #expect(reserved?.line == 3)
        #expect(problem("version: x\nrules:\n  - id: a\n    sameAs: [asset]\n    window: 30d\n") == nil)
    }

    @Test func personsAddUpAndTheSumDecidesTheHundredPersonThreshold() {
        #expect(AffectedPersons.count(60).adding(.count(50)) == .count(110))
        #expect(AffectedPersons.count(150).adding(.unknown) == .count(150))
        #expect(AffectedPersons.count(50).adding(.unknown) == .unknown)
        #expect(AffectedPersons.count(2_147_483_000).adding(.count(2_147_483_000)) == .count(2_147_483_647))
        #expect(AffectedPersons.count(110).subtracting(.count(50)) == .count(60))

        let sixty = StatutoryVerdicts(personalData: .yes, moreThan100Persons: .no, strongEncryption: .no)
        let fifty = StatutoryVerdicts(personalData: .unknown, moreThan100Persons: .no, strongEncryption: .yes)
        let joined = sixty.joining(fifty, persons: .count(110))
        #expect(joined.moreThan100Persons == .yes)
        #expect(joined.personalData == .yes)
        // Encryption exempts a case only when it held for every report.
        #expect(joined.strongEncryption == .no)
        #expect(sixty.joining(fifty, persons: .count(100)).moreThan100Persons == .no)
        #expect(Verdict.no.joining(.unknown) == .no)
        #expect(Verdict.unknown.joining(.yes) == .yes)
    }
}

/// Related reports against the real PostgreSQL: by each rule, not outside the window or into a
/// closed case, the sum of persons creating obligations once, merge and split, and two
/// transactions that never open two cases for related reports.
@Suite(.serialized, .tags(.integration), .needsTestServers) struct CorrelationIntegrationTests {
    let now = ContractsJSON.parseTimestamp("2025-04-01T10:30:00+09:00")!
    let csirt = TriageActor(id: "person:p-csirt-1", role: .csirt)

    /// A report without personal data of the test section, `minutes` after the fixture's time.
    func report(
        minutes: Double = 0, producer: String = "urn:isms:producer:edr", key: String? = nil, asset: String = "KJ-1",
        category: IncidentCategory = .malware, persons: AffectedPersons = .count(0)
    ) -> NewCase {
        var event = reported(
            myNumber: .no, detected: false, persons: persons, category: category, knownAt: now.addingTimeInterval(minutes * 60 - 600),
            producer: producer, assets: [AffectedAsset(id: asset)], correlationKey: key)
        event.recordedAt = now.addingTimeInterval(minutes * 60)
        var new = NewCase(reported: event)
        new.verdicts.personalData = .no
        new.facts.personalData = .no
        new.verdicts.propertyDamage = .no
        return new
    }

    func receive(_ fixture: TriageFixture, _ new: NewCase) async throws -> CaseReception {
        try await fixture.transaction(now: now) { engine, context in try engine.receive(new, causedBy: nil, context: &context) }
    }

    @Test func relatedReportsJoinByEachRuleAndTheAttachIsInTheChainedHistory() async throws {
        try await TriageFixture.with(correlation: try TriageConfigFiles.correlation()) { fixture in
            let first = try await receive(fixture, report(key: "campaign-7", asset: "KJ-1"))
            guard case .opened(let opened) = first else { Issue.record("the first report opens a case"); return }

            // producer-key: same system and key, another asset.
            let byKey = try await receive(fixture, report(minutes: 5, key: "campaign-7", asset: "KJ-2"))
            #expect(byKey == .attached(byKey.record, rule: "producer-key"))
            #expect(byKey.record.caseNumber == opened.caseNumber)
            // producer-asset: same system, section, category and asset, no key.
            let byAsset = try await receive(fixture, report(minutes: 10, asset: "KJ-2"))
            #expect(byAsset == .attached(byAsset.record, rule: "producer-asset"))
            #expect(byAsset.record.reportCount == 3)
            // Another system with the same key, or the same asset in another category: a case of its own.
            let otherProducer = try await receive(fixture, report(minutes: 11, producer: "urn:isms:producer:mail", key: "campaign-7", asset: "X-9"))
            #expect(otherProducer.record.caseNumber != opened.caseNumber)
            let otherCategory = try await receive(fixture, report(minutes: 12, asset: "KJ-2", category: .dataLeak))
            #expect(otherCategory.record.caseNumber != opened.caseNumber)

            let reports = try await fixture.pool.withConnection { try fixture.engine.caseReports(caseID: opened.id, on: $0) }
            #expect(reports.map(\.rule) == ["opened", "producer-key", "producer-asset"])
            let history = try await fixture.pool.withConnection { try fixture.engine.store.history(caseID: opened.id, on: $0) }
            #expect(history.filter { $0.action == "attach" }.count == 2)
            #expect(try await fixture.pool.withConnection { try fixture.engine.store.verifyChain(on: $0) }.isIntact)
            let attached = try await fixture.outbox().filter { $0.routingKey == MessageTypes.incidentReportAttached.routingKey }
                .map { try $0.envelope.decode(as: IncidentReportAttached.self).data }
            #expect(attached.map(\.reportCount) == [2, 3])
            #expect(attached.map(\.rule) == ["producer-key", "producer-asset"])
            // Joining is not a new case: one case-opened per case, one initial escalation per case.
            let openedEvents = try await fixture.outbox().filter { $0.routingKey == MessageTypes.incidentCaseOpened.routingKey }
            #expect(openedEvents.count == 3)
        }
    }

    @Test func aReportOutsideTheWindowOrAfterTheCaseClosedOpensANewCase() async throws {
        try await TriageFixture.with(correlation: try TriageConfigFiles.correlation()) { fixture in
            let first = try await receive(fixture, report(asset: "KJ-1"))
            // producer-asset's window is 2 h from the case's last sighting of the key.
            let inWindow = try await receive(fixture, report(minutes: 110, asset: "KJ-1"))
            #expect(inWindow.record.caseNumber == first.record.caseNumber)
            let late = try await receive(fixture, report(minutes: 110 + 121, asset: "KJ-1"))
            #expect(late.record.caseNumber != first.record.caseNumber)

            // A case closed (discarded) takes nothing more: the next related report opens a case.
            try await fixture.transaction(now: now) { [csirt] engine, context in
                try engine.perform(.discard, caseNumber: late.record.caseNumber, actor: csirt, reason: "a test alert", context: &context)
            }
            let afterClose = try await receive(fixture, report(minutes: 110 + 125, asset: "KJ-1"))
            guard case .opened = afterClose else { Issue.record("a report after its case closed opens a new case"); return }
        }
    }

    @Test func theSumCrossingOneHundredPersonsCreatesTheObligationsOnceCountingFromThatReport() async throws {
        try await TriageFixture.with(correlation: try TriageConfigFiles.correlation()) { fixture in
            func withPersonalData(_ new: NewCase) -> NewCase {
                var new = new
                new.verdicts.personalData = .yes
                new.facts.personalData = .yes
                return new
            }
            let first = try await receive(fixture, withPersonalData(report(key: "leak-1", persons: .count(60))))
            let caseID = first.record.id
            let obligationsAfterFirst = try await fixture.pool.withConnection { try fixture.engine.obligations(caseID: caseID, on: $0) }
            #expect(obligationsAfterFirst.isEmpty, "60 persons, nothing sensitive: nothing to report yet")

            // Two days later another 50: 110 in all crosses APPI Art. 68 with PPC Rule Art. 43(4).
            let crossing = withPersonalData(report(minutes: 2 * 24 * 60, key: "leak-1", persons: .count(50)))
            let joined = try await receive(fixture, crossing)
            #expect(joined.record.facts.affectedPersons == .count(110))
            #expect(joined.record.verdicts.moreThan100Persons == .yes)
            var obligations = try await fixture.pool.withConnection { try fixture.engine.obligations(caseID: caseID, on: $0) }
            #expect(Set(obligations.map(\.rule)) == ["appi-68-preliminary", "appi-68-final", "appi-68-notice"])
            #expect(obligations.allSatisfy { $0.status == .required && $0.knownAt == crossing.knownAt })
            let final = try #require(obligations.first { $0.rule == "appi-68-final" })
            let expected = WardCalendar().statutoryDeadline(knownOn: CivilDate.inTokyo(crossing.knownAt), days: 30)
            #expect(final.dueDate == expected.iso)
            #expect(final.periodDays == 30)

            // A third report adds persons but creates nothing twice.
            _ = try await receive(fixture, withPersonalData(report(minutes: 3 * 24 * 60, key: "leak-1", persons: .count(10))))
            obligations = try await fixture.pool.withConnection { try fixture.engine.obligations(caseID: caseID, on: $0) }
            #expect(obligations.count == 3)
            let created = try await fixture.pool.withConnection { try fixture.engine.store.history(caseID: caseID, on: $0) }
                .filter { $0.action == "obligation" && ($0.reason ?? "").contains("created") }
            #expect(created.count == 3)
        }
    }

    /// Issue #16 item 2: a joined report never starts the escalation again; one that raises the
    /// case's severity tells only the levels the new severity tells at once and were not told.
    @Test func aReportThatRaisesTheSeverityTellsOnlyTheLevelsNotYetTold() async throws {
        try await TriageFixture.with(correlation: try TriageConfigFiles.correlation()) { fixture in
            let first = try await receive(fixture, report(key: "usb"))
            let initial = try await fixture.escalations()
            #expect(initial.allSatisfy { $0.reason == "initial" })
            let reachedBefore = first.record.escalationLevel
            #expect(first.record.severity.severity > 1)

            _ = try await receive(fixture, report(minutes: 1, key: "usb", asset: "KJ-2"))
            #expect(try await fixture.escalations().count == initial.count, "a plain join tells nobody again")

            var critical = report(minutes: 2, key: "usb", asset: "KJ-3", persons: .count(150))
            critical.myNumberDetected = true
            critical.facts.personalData = .yes
            critical.facts.myNumber = .yes
            critical.verdicts.personalData = .yes
            critical.verdicts.myNumber = .yes
            let raised = try await receive(fixture, critical)
            #expect(raised.record.severity.severity == 1)
            let added = try await fixture.escalations().dropFirst(initial.count)
            #expect(added.allSatisfy { $0.reason == "severity-raised" })
            #expect(added.map(\.level) == Array((reachedBefore + 1)...5))
            #expect(raised.record.escalationLevel == 5)
            let opened = try await fixture.outbox().filter { $0.routingKey == MessageTypes.incidentCaseOpened.routingKey }
            #expect(opened.count == 1)
            let attached = try await fixture.outbox().filter { $0.routingKey == MessageTypes.incidentReportAttached.routingKey }
                .map { try $0.envelope.decode(as: IncidentReportAttached.self).data }
            #expect(attached.map(\.severityRaised) == [false, true])
        }
    }

    @Test func mergeAndSplitKeepBothHistoriesVerifiableAndNumbersGapless() async throws {
        try await TriageFixture.with(correlation: try TriageConfigFiles.correlation()) { fixture in
            let a = try await receive(fixture, report(key: "a", asset: "A1", persons: .count(30))).record
            let b = try await receive(fixture, report(minutes: 1, key: "b", asset: "B1", persons: .count(20))).record
            let bReport = report(minutes: 2, key: "b", asset: "B2", persons: .count(5))
            _ = try await receive(fixture, bReport)
            #expect([a.caseNumber, b.caseNumber] == ["INC-2025-000001", "INC-2025-000002"])

            // Only an incident handler merges; a case into itself is refused.
            let officer = TriageActor(id: "person:p-chief", role: .sectionSecurityOfficer)
            await #expect(throws: TriageError.self) {
                try await fixture.transaction(now: now) { engine, context in
                    try engine.merge(caseNumber: b.caseNumber, into: a.caseNumber, actor: officer, reason: "same", context: &context)
                }
            }
            let survivor = try await fixture.transaction(now: now) { [csirt] engine, context in
                try engine.merge(caseNumber: b.caseNumber, into: a.caseNumber, actor: csirt, reason: "one campaign", context: &context)
            }
            #expect(survivor.reportCount == 3)
            #expect(survivor.facts.affectedPersons == .count(55))
            let moved = try await fixture.pool.withConnection { try fixture.engine.caseReports(caseID: a.id, on: $0) }
            #expect(moved.map(\.rule) == ["opened", "merge", "merge"], "the merged case's reports, its first included, joined by merge")
            let merged = try #require(try await fixture.pool.withConnection { try fixture.engine.store.find(caseNumber: b.caseNumber, on: $0) })
            #expect(merged.state == .merged)
            #expect(merged.mergedInto == a.caseNumber)
            await #expect(throws: TriageError.self) {
                try await fixture.transaction(now: now) { [csirt] engine, context in
                    try engine.merge(caseNumber: b.caseNumber, into: a.caseNumber, actor: csirt, reason: "again", context: &context)
                }
            }
            // A later report with b's key finds the survivor (the keys moved with the reports).
            let later = try await receive(fixture, report(minutes: 3, key: "b", asset: "B3"))
            #expect(later.record.caseNumber == a.caseNumber)

            // The report that opened a case stays in it; another one splits out into a new case.
            await #expect(throws: TriageError.self) {
                try await fixture.transaction(now: now) { [csirt] engine, context in
                    try engine.split(source: a.source, outOf: a.caseNumber, actor: csirt, reason: "no", context: &context)
                }
            }
            let split = try await fixture.transaction(now: now) { [csirt] engine, context in
                try engine.split(source: bReport.source, outOf: a.caseNumber, actor: csirt, reason: "a different host", context: &context)
            }
            #expect(split.caseNumber == "INC-2025-000003")
            #expect(split.facts.affectedPersons == .count(5))
            let after = try #require(try await fixture.pool.withConnection { try fixture.engine.store.find(caseNumber: a.caseNumber, on: $0) })
            #expect(after.reportCount == 3)
            #expect(after.facts.affectedPersons == .count(50))

            try await fixture.pool.withConnection { connection in
                let engine = fixture.engine
                for record in [after, merged, split] {
                    #expect(try engine.store.verifyHistory(caseID: record.id, on: connection), "history of \(record.caseNumber)")
                }
                #expect(try engine.store.verifyChain(on: connection).isIntact)
                let actions = try engine.store.history(caseID: merged.id, on: connection).map(\.action)
                #expect(actions.contains("merged"))
                #expect(try engine.store.history(caseID: after.id, on: connection).map(\.action).filter { ["merge", "split"].contains($0) } == ["merge", "split"])
                #expect(try engine.store.history(caseID: split.id, on: connection).map(\.action).contains("split"))
            }
            let events = try await fixture.outbox().filter { $0.routingKey == MessageTypes.incidentCaseMerged.routingKey }
            #expect(events.count == 1)
        }
    }

    @Test func aBatchOpensOnceJoinsTheRestAndSkipsWhatIsInACase() async throws {
        try await TriageFixture.with(correlation: try TriageConfigFiles.correlation()) { fixture in
            let a = report(key: "k1", asset: "A")
            let batch: [(new: NewCase, cause: Causation?)] = [
                (a, nil), (report(minutes: 1, key: "k1", asset: "B"), nil), (report(minutes: 1, key: "k2", asset: "C"), nil), (a, nil),
            ]
            let outcomes = try await fixture.transaction(now: now) { engine, context in try engine.receive(batch, context: &context) }
            #expect(outcomes.map(\.record.caseNumber) == ["INC-2025-000001", "INC-2025-000001", "INC-2025-000002", "INC-2025-000001"])
            #expect(outcomes[1] == .attached(outcomes[1].record, rule: "producer-key"))
            // The same batch again (a redelivery past the inbox): nothing joins twice.
            let again = try await fixture.transaction(now: now) { engine, context in try engine.receive(batch, context: &context) }
            #expect(again.allSatisfy { if case .duplicate = $0 { true } else { false } })
            // A later batch joins the stored case.
            let later = try await fixture.transaction(now: now) { engine, context in
                try engine.receive([(report(minutes: 5, key: "k1", asset: "D"), nil)], context: &context)
            }
            #expect(later.first?.record.caseNumber == "INC-2025-000001")
            let count = try await fixture.pool.withConnection { try fixture.engine.caseReports(caseID: outcomes[0].record.id, on: $0).count }
            #expect(count == 3)
            #expect(try await fixture.pool.withConnection { try fixture.engine.store.verifyChain(on: $0) }.isIntact)
        }
    }

    @Test func aBatchJoiningACaseIsOneEventWithAHistoryRowPerReport() async throws {
        try await TriageFixture.with(correlation: try TriageConfigFiles.correlation()) { fixture in
            // One opens the case and five follow it in the same batch; four more join it later.
            let first = (0..<6).map { (new: report(minutes: Double($0), key: "storm", asset: "A\($0)"), cause: Causation?.none) }
            let opened = try await fixture.transaction(now: now) { engine, context in try engine.receive(first, context: &context) }
            let later = (6..<10).map { (new: report(minutes: Double($0), key: "storm", asset: "A\($0)"), cause: Causation?.none) }
            _ = try await fixture.transaction(now: now) { engine, context in try engine.receive(later, context: &context) }

            let attached = try await fixture.outbox().filter { $0.routingKey == MessageTypes.incidentReportAttached.routingKey }
                .map { try $0.envelope.decode(as: IncidentReportAttached.self).data }
            #expect(attached.map(\.reportsJoined) == [5, 4])
            #expect(attached.map(\.reportCount) == [6, 10])
            #expect(attached.map(\.source.id) == [first[5].new.source.id, later[3].new.source.id])
            #expect(attached.last?.firstSeenAt == first[0].new.recordedAt && attached.last?.lastSeenAt == later[3].new.recordedAt)
            let history = try await fixture.pool.withConnection { try fixture.engine.store.history(caseID: opened[0].record.id, on: $0) }
            #expect(history.filter { $0.action == "attach" }.count == 9)
            #expect(try await fixture.pool.withConnection { try fixture.engine.store.verifyChain(on: $0) }.isIntact)
        }
    }

    @Test func twoTransactionsWithRelatedReportsNeverOpenTwoCases() async throws {
        try await TriageFixture.with(correlation: try TriageConfigFiles.correlation()) { fixture in
            // Two triage processes' batches at the same moment, on two connections: the
            // correlation lock makes one wait for the other, which then finds its case.
            let batches = (0..<2).map { side in
                (0..<20).map { index in (new: report(minutes: Double(index), key: index % 2 == 0 ? "even" : "odd", asset: "S\(side)-\(index)"), cause: Causation?.none) }
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for batch in batches {
                    group.addTask { _ = try await fixture.transaction(now: now) { engine, context in try engine.receive(batch, context: &context) } }
                }
                try await group.waitForAll()
            }
            let cases = try await fixture.pool.query(
                "SELECT case_number, report_count FROM \(unescaped: Migrator.quoted(fixture.schema)).cases ORDER BY case_number")
                .map { (try $0.decode("case_number", as: String.self), try $0.decode("report_count", as: Int.self)) }
            #expect(cases.map(\.0) == ["INC-2025-000001", "INC-2025-000002"])
            #expect(cases.map(\.1) == [20, 20])
        }
    }
}
