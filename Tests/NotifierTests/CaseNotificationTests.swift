import Acknowledgement
import Contracts
import Foundation
import ISMSTesting
import Postgres
import PostgresMigrations
@testable import Notifier
import ServiceRuntime
import Testing

/// Issue #16 with the shipped routing file: the chain is told per case, a storm of reports that
/// join one case is one update per person per group interval, and the consumer's batch path.
/// Against a real SMTP sink and webhook receiver on loopback and the real PostgreSQL.
@Suite("Notifications per case", .serialized, .tags(.integration), .needsTestServers)
struct CaseNotificationTests {
    static func mail(_ id: String) -> String { "\(id)@ward.test" }
    static let chain = ["staff-a", "chief-a", "dept-head-a", "gsm", "csirt-lead"]
    static let hookSecret = "whsec_aG9vaw=="

    /// The shipped routes, with CSIRT's hook pointed at the test receiver.
    static func shippedRoutes(hook: HelperProcess) throws -> String {
        let text = try String(contentsOf: NotifierFixture.repository.appendingPathComponent("deploy/config/notification-routes.yaml"), encoding: .utf8)
        #expect(text.contains("http://127.0.0.1:8090/hooks/csirt"))
        return text.replacingOccurrences(of: "http://127.0.0.1:8090/hooks/csirt", with: "http://127.0.0.1:\(hook.port)/hooks/csirt")
    }

    /// A mail sink, a webhook receiver and a fixture routed to them for `body`; stopped and
    /// torn down after it.
    static func withSinks(_ body: (NotifierFixture, HelperProcess, HelperProcess) async throws -> Void) async throws {
        let smtp = try HelperProcess(script: "smtp_sink.py", arguments: [])
        defer { smtp.stop() }
        let hook = try HelperProcess(script: "webhook_receiver.py", arguments: ["--secret", hookSecret])
        defer { hook.stop() }
        let fixture = try await fixture(smtp: smtp, hook: hook)
        defer { Task { await fixture.tearDown() } }
        try await body(fixture, smtp, hook)
    }

    static func fixture(smtp: HelperProcess, hook: HelperProcess) async throws -> NotifierFixture {
        try await NotifierFixture.make(
            routes: try shippedRoutes(hook: hook), organisation: NotifierFixture.organisation(mail: mail), smtpPort: smtp.port,
            environment: ["ISMS_NOTIFIER_CSIRT_WEBHOOK_SECRET": hookSecret])
    }

    func timers(_ kind: String, _ fixture: NotifierFixture) async throws -> Int {
        try await fixture.pool.query(
            "SELECT count(*) AS n FROM \(unescaped: Migrator.quoted(fixture.schema)).timers WHERE kind = \(kind)"
        ).rows.first?.decode("n", as: Int.self) ?? -1
    }

    @Test("a report is not notified; its case's opening reaches the chain with a link that names the case")
    func caseOpenedReachesTheChain() async throws {
        try await Self.withSinks { fixture, smtp, hook in
            let intakeID = UUID().uuidString.lowercased()
            try await fixture.receive(TestEvents.reported(extra: ["intakeId": .string(intakeID)]))
            fixture.clock.advance(by: 31)
            try await fixture.drain()
            #expect(try await fixture.records().isEmpty)
            #expect(smtp.files().isEmpty)

            try await fixture.receive(TestEvents.caseOpened(caseNumber: "INC-2026-000007", intakeID: intakeID))
            // The chain's route groups a section's burst of new cases for 30 s.
            fixture.clock.advance(by: 31)
            try await fixture.drain()
            let mails = try smtp.files().map(SunkMail.init(url:))
            #expect(Set(mails.map(\.recipients)) == Set(Self.chain.map(Self.mail)))
            #expect(mails.count == Self.chain.count)
            let staff = try #require(mails.first { $0.recipients == Self.mail("staff-a") })
            #expect(staff.subject.contains("INC-2026-000007") && staff.subject.contains("重大度2") && staff.body.contains("総務課"))
            let link = try #require(staff.body.split(separator: "\n").first { $0.contains("/v1/acknowledgements/") })
            let token = String(link.split(separator: "/").last!).trimmingCharacters(in: .whitespacesAndNewlines)
            let verified = try #require(AcknowledgementToken.verify(token, secret: "dev-ack-secret", now: Date()))
            #expect(verified.caseNumber == "INC-2026-000007" && verified.personID == "staff-a")
            let chief = try #require(mails.first { $0.recipients == Self.mail("chief-a") })
            #expect(chief.subject.contains("Security incident, severity 2"))
            #expect(hook.files().count == 1)
            let records = try await fixture.records()
            #expect(records.count == Self.chain.count + 1 && records.allSatisfy { $0.state == "sent" && $0.eventType == MessageTypes.incidentCaseOpened.wireName })
        }
    }

    @Test("a burst of new cases from one section: one message per person listing them, a row per case and person; a case alone keeps its own message")
    func burstOfNewCasesIsOneSummary() async throws {
        try await Self.withSinks { fixture, smtp, hook in
            let numbers = (1...25).map { String(format: "INC-2026-%06d", 100 + $0) }
            #expect(try await fixture.receiveBatch(numbers.map { TestEvents.caseOpened(caseNumber: $0) }).allSatisfy { $0 == nil })
            // Rows that wait for the summary are written without a message of their own.
            #expect(try await fixture.records().filter { $0.channelKind == "email" }.count == 25 * Self.chain.count)
            fixture.clock.advance(by: 31)
            try await fixture.drain()
            let mails = try smtp.files().map(SunkMail.init(url:))
            #expect(mails.count == Self.chain.count && Set(mails.map(\.recipients)) == Set(Self.chain.map(Self.mail)))
            let staff = try #require(mails.first { $0.recipients == Self.mail("staff-a") })
            #expect(staff.subject.contains("新規ケース 25 件") && staff.subject.contains("INC-2026-000125"))
            // The latest 20 are listed, the other 5 counted.
            #expect(numbers.suffix(20).allSatisfy { staff.body.contains($0) } && !staff.body.contains("INC-2026-000105"))
            #expect(staff.body.contains("ほか 5 件"))
            let chief = try #require(mails.first { $0.recipients == Self.mail("chief-a") })
            #expect(chief.subject.contains("25 new cases"))
            // CSIRT's hook is not grouped: one delivery per case.
            #expect(hook.files().count == 25)
            #expect(try await fixture.records().allSatisfy { $0.state == "sent" })

            // A case alone in its group interval keeps its own message with its link.
            try await fixture.receive(TestEvents.caseOpened(caseNumber: "INC-2026-000200"))
            fixture.clock.advance(by: 301)
            try await fixture.drain()
            let alone = try smtp.files().map(SunkMail.init(url:)).filter { $0.subject.contains("INC-2026-000200") }
            #expect(alone.count == Self.chain.count)
            #expect(alone.allSatisfy { !$0.subject.contains("新規ケース") && !$0.subject.contains("new cases") && $0.body.contains("/v1/acknowledgements/") })
        }
    }

    @Test("a group flushing while a consumer joins rows to it sends those rows too: none is left queued in a group that no longer waits")
    func flushWaitsForAJoiningConsumer() async throws {
        try await Self.withSinks { fixture, smtp, hook in
            try await fixture.receive(TestEvents.caseOpened(caseNumber: "INC-2026-000301"))
            fixture.clock.advance(by: 31)
            // A consumer joins a second case's rows to the same groups and holds its transaction
            // open while the groups' timers fire.
            let joined = DispatchSemaphore(value: 0)
            let commit = DispatchSemaphore(value: 0)
            let engine = fixture.engine
            let (schema, logger, now) = (fixture.schema, fixture.logger, fixture.clock.now)
            let consumer = Task {
                try await fixture.pool.withTransaction { connection in
                    var context = TransactionContext(connection: connection, schema: schema, service: .notifier, logger: logger, now: now)
                    try engine.handle(TestEvents.caseOpened(caseNumber: "INC-2026-000302"), context: &context)
                    joined.signal()
                    commit.wait()
                }
            }
            await Task.detached { joined.wait() }.value
            let flush = Task { try await fixture.timers.fireDue() }
            try await Task.sleep(for: .milliseconds(500))  // the flush now waits for the consumer's group rows
            commit.signal()
            try await consumer.value
            _ = try await flush.value
            try await fixture.drain()
            let records = try await fixture.records()
            #expect(records.count == 2 * (Self.chain.count + 1))
            #expect(records.filter { $0.state == "queued" }.isEmpty)
            let mails = try smtp.files().map(SunkMail.init(url:))
            #expect(mails.count == Self.chain.count)
            #expect(mails.allSatisfy { $0.subject.contains("新規ケース 2 件") || $0.subject.contains("2 new cases") })
        }
    }

    @Test("a group flushing between a consumer's insert and its lock on the group: the consumer starts the group again and nothing is left queued")
    func aFlushBeforeAJoiningConsumersLockLeavesNothingQueued() async throws {
        try await Self.withSinks { fixture, smtp, hook in
            try await fixture.receive(TestEvents.caseOpened(caseNumber: "INC-2026-000401"))
            fixture.clock.advance(by: 31)
            // Something holds the groups, so the due flush queues on them first and a consumer with
            // a second case second: the consumer inserts its rows (a foreign-key check does not wait
            // for the lock), then waits; the flush runs first and cannot see those rows.
            let holding = DispatchSemaphore(value: 0)
            let release = DispatchSemaphore(value: 0)
            let groups = "\(Migrator.quoted(fixture.schema)).groups"
            let holder = Task {
                try await fixture.pool.withTransaction { connection in
                    _ = try connection.query("SELECT id FROM \(unescaped: groups) ORDER BY id FOR NO KEY UPDATE")
                    holding.signal()
                    release.wait()
                }
            }
            await Task.detached { holding.wait() }.value
            let flush = Task { try await fixture.timers.fireDue() }
            try await Task.sleep(for: .milliseconds(300))
            let consumer = Task { try await fixture.receive(TestEvents.caseOpened(caseNumber: "INC-2026-000402")) }
            try await Task.sleep(for: .milliseconds(300))
            // The consumer's rows are in; it waits at the group lock, after its insert.
            let atTheLock = try await fixture.pool.query(
                """
                SELECT count(*) AS n FROM pg_stat_activity
                WHERE wait_event_type = 'Lock' AND query LIKE '%FOR NO KEY UPDATE%' AND query LIKE '%id = ANY%'
                """
            ).rows.first?.decode("n", as: Int.self)
            #expect(atTheLock == 1)
            release.signal()
            try await holder.value
            _ = try await flush.value
            _ = try await consumer.value
            try await fixture.drain()
            // Each person's group is flushed in a transaction of its own. The one queued first went
            // before the consumer: the first case alone. The consumer then found that group no
            // longer waiting and started it again; the others it joined, and their flushes carried
            // both cases.
            var mails = try smtp.files().map(SunkMail.init(url:))
            #expect(mails.count == Self.chain.count)
            #expect(mails.filter { $0.subject.contains("INC-2026-000401") && !$0.subject.contains("INC-2026-000402") }.count == 1)
            #expect(mails.filter { $0.subject.contains("新規ケース 2 件") || $0.subject.contains("2 new cases") }.count == Self.chain.count - 1)
            // The restarted group goes out one group interval after its flush: everyone has been told
            // of both cases, once.
            fixture.clock.advance(by: 301)
            try await fixture.drain()
            mails = try smtp.files().map(SunkMail.init(url:))
            #expect(mails.count == Self.chain.count + 1)
            #expect(mails.filter { $0.subject.contains("INC-2026-000402") }.count == Self.chain.count)
            let records = try await fixture.records()
            #expect(records.count == 2 * (Self.chain.count + 1))
            #expect(records.filter { $0.state == "queued" }.isEmpty)
        }
    }

    @Test("a storm of reports joining one case: a ledger row per event and recipient, one message per person per group interval")
    func stormIsOneUpdatePerInterval() async throws {
        try await Self.withSinks { fixture, smtp, hook in
            let recipients = Self.chain.count + 1

            // 30 reports joining in three consumer batches, within the 1 minute group wait: two of ten
            // events of one report each, then one event for ten reports (triage's batch path).
            for batch in 0..<3 {
                let events =
                    batch < 2
                    ? (1...10).map { TestEvents.reportAttached(reportCount: 1 + batch * 10 + $0) } : [TestEvents.reportAttached(reportCount: 31, reportsJoined: 10)]
                #expect(try await fixture.receiveBatch(events).allSatisfy { $0 == nil })
                fixture.clock.advance(by: 10)
                try await fixture.drain()
            }
            #expect(smtp.files().isEmpty && hook.files().isEmpty)
            var records = try await fixture.records()
            #expect(records.count == 21 * recipients)
            #expect(Set(records.map { "\($0.eventKey)|\($0.recipient)|\($0.channelKind)" }).count == 21 * recipients)

            fixture.clock.advance(by: 31)  // 61 s after the first
            try await fixture.drain()
            var mails = try smtp.files().map(SunkMail.init(url:))
            #expect(mails.count == Self.chain.count && Set(mails.map(\.recipients)).count == Self.chain.count)
            #expect(hook.files().count == 1)
            let staff = try #require(mails.first { $0.recipients == Self.mail("staff-a") })
            #expect(staff.subject.contains("INC-2026-000001") && staff.subject.contains("報告 30 件追加") && staff.subject.contains("計31件"))
            #expect(staff.body.contains("最初の報告: 2026-12-01T09:00:00.000+09:00") && staff.body.contains("最新の報告: 2026-12-01T09:31:00.000+09:00"))
            let chief = try #require(mails.first { $0.recipients == Self.mail("chief-a") })
            #expect(chief.subject.contains("30 reports added to INC-2026-000001"))
            records = try await fixture.records()
            #expect(records.allSatisfy { $0.state == "sent" })
            #expect(records.filter { $0.leaderID == nil }.count == recipients)

            // More attaches within the group interval wait for it: nothing at the group wait.
            #expect(try await fixture.receiveBatch([TestEvents.reportAttached(reportCount: 36, reportsJoined: 5)]).allSatisfy { $0 == nil })
            fixture.clock.advance(by: 61)
            try await fixture.drain()
            #expect(smtp.files().count == Self.chain.count)
            fixture.clock.advance(by: 240)  // 5 min after the first message
            try await fixture.drain()
            mails = try smtp.files().map(SunkMail.init(url:))
            #expect(mails.count == 2 * Self.chain.count && hook.files().count == 2)
            // One event for five reports, alone in its group: the update's own message, counting them.
            let update = try #require(mails.filter { $0.recipients == Self.mail("staff-a") }.last)
            #expect(update.subject.contains("計36件") && update.body.contains("関連する報告が 5 件追加されました"))
            #expect(try await fixture.records().count == 22 * recipients)
        }
    }

    @Test("a report that raises the case to severity 1 goes out at once; other attaches to it stay grouped")
    func severityRaisedToOneGoesAtOnce() async throws {
        try await Self.withSinks { fixture, smtp, hook in
            let failures = try await fixture.receiveBatch([
                TestEvents.reportAttached(reportCount: 2, severity: 2, previousSeverity: 2),
                TestEvents.reportAttached(reportCount: 3, severity: 1, previousSeverity: 2),
                TestEvents.reportAttached(reportCount: 4, severity: 1, previousSeverity: 1),
            ])
            #expect(failures.allSatisfy { $0 == nil })
            try await fixture.drain()
            let mails = try smtp.files().map(SunkMail.init(url:))
            #expect(mails.count == Self.chain.count && hook.files().count == 1)
            #expect(mails.allSatisfy { $0.subject.contains("INC-2026-000001") })
            let staff = try #require(mails.first { $0.recipients == Self.mail("staff-a") })
            #expect(staff.subject.hasPrefix("【重大度引き上げ】") && staff.subject.contains("計3件") && staff.body.contains("2 から引き上げ"))
            #expect(staff.body.contains("関連する報告が 1 件追加されました"))
            // The two others (one of them on a case already at severity 1) wait for the group.
            fixture.clock.advance(by: 61)
            try await fixture.drain()
            let later = try smtp.files().map(SunkMail.init(url:))
            #expect(later.count == 2 * Self.chain.count)
            #expect(later.filter { $0.recipients == Self.mail("staff-a") }.last?.subject.contains("報告 2 件追加") == true)
        }
    }

    @Test("a batch with a poison event dead-letters only that one; the batch again writes nothing twice")
    func poisonInABatch() async throws {
        try await Self.withSinks { fixture, smtp, hook in
            let poison = RawEnvelope(
                source: ServiceName.csirtTriage.source, type: MessageTypes.incidentCaseOpened.wireName, dataClassification: .confidential,
                data: Array("{not json".utf8))
            let batch = [
                TestEvents.caseOpened(caseNumber: "INC-2026-000011", severity: 1), poison, TestEvents.reportAttached(reportCount: 2),
                TestEvents.caseOpened(caseNumber: "INC-2026-000012", severity: 3),
            ]
            let failures = try await fixture.receiveBatch(batch)
            #expect(failures.map { $0?.code } == [nil, "invalid-data", nil, nil])
            let records = try await fixture.records()
            #expect(records.count == 3 * (Self.chain.count + 1))
            #expect(Set(records.map(\.eventKey)) == Set([batch[0], batch[2], batch[3]].map(\.deduplicationKey)))
            let entries = try await fixture.logEntries()
            // Severity 1 went to the send worker at once: written as sending, logged queued then sending.
            #expect(records.filter { $0.eventKey == batch[0].deduplicationKey }.allSatisfy { $0.state == "sending" })
            #expect(entries == records.count + records.filter { $0.state == "sending" }.count)

            // Redelivered past the inbox (a replay): nothing is written again, nothing fails.
            #expect(try await fixture.receiveBatch(batch.filter { $0.id != poison.id }).allSatisfy { $0 == nil })
            #expect(try await fixture.records().count == records.count)
            #expect(try await fixture.logEntries() == entries)
            try await fixture.drain()
            #expect(smtp.files().count == Self.chain.count)  // only the severity-1 case so far
            let check = try await fixture.pool.withConnection { connection in try NotifierOperations(schema: fixture.schema).verifyDeliveryLog(on: connection) }
            #expect(check.firstBroken == nil)
        }
    }

    @Test("merging a case stops its reminders, with a log line naming the survivor")
    func caseMergedStopsReminders() async throws {
        try await Self.withSinks { fixture, smtp, hook in
            try await fixture.receive(TestEvents.caseOpened(caseNumber: "INC-2026-000021", severity: 1))
            try await fixture.receive(TestEvents.caseOpened(caseNumber: "INC-2026-000022", severity: 1))
            try await fixture.drain()
            #expect(smtp.files().count == 2 * Self.chain.count)
            // The chain's route reminds every 4 h until the case is acknowledged.
            #expect(try await timers(NotifierEngine.repeatTimer, fixture) == 2 * Self.chain.count)
            fixture.clock.advance(by: 4 * 3600 + 1)
            try await fixture.drain()
            #expect(smtp.files().count == 4 * Self.chain.count)

            try await fixture.receive(TestEvents.caseMerged("INC-2026-000021", into: "INC-2026-000022"))
            #expect(try await timers(NotifierEngine.repeatTimer, fixture) == Self.chain.count)
            #expect(try await fixture.logEntries(containing: "case INC-2026-000021 merged into INC-2026-000022") == 2 * Self.chain.count)
            fixture.clock.advance(by: 4 * 3600 + 1)
            try await fixture.drain()
            // Only the survivor reminded again.
            let mails = try smtp.files().map(SunkMail.init(url:))
            #expect(mails.count == 5 * Self.chain.count)
            #expect(mails.suffix(Self.chain.count).allSatisfy { $0.subject.contains("INC-2026-000022") && ($0.subject.contains("再通知 2") || $0.subject.contains("Reminder 2")) })
            let merged = try await fixture.records().filter { $0.subject.contains("INC-2026-000021") }
            #expect(merged.count == 2 * Self.chain.count + 1 && merged.allSatisfy { $0.state == "sent" })
        }
    }
}
