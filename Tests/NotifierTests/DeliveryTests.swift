import Acknowledgement
import Contracts
import Directory
import Foundation
import ISMSTesting
import Postgres
@testable import Notifier
import Testing

/// Against a real SMTP sink and webhook receiver (Python, Support/) on loopback and the real
/// PostgreSQL; timers are fired by hand with a test clock.
@Suite("Delivery", .serialized, .tags(.integration), .needsTestServers)
struct DeliveryTests {
    /// The routing most tests need: every report goes to CSIRT.
    static let reportsToCSIRT = """
        receivers: [{ name: csirt, roles: [csirt] }]
        route:
          routes:
            - { matchers: ['type = incident.reported.v1'], receiver: csirt }
        """

    static func mail(_ id: String) -> String { "\(id)@ward.test" }

    static let chainRoutes = """
        receivers:
          - name: chain
            roles: [sectionSecurityStaff, sectionSecurityOfficer, departmentSecurityOfficer, generalSecurityManager, csirt]
          - name: hook
            endpoints:
              - { name: csirt-hook, kind: webhook, address: "WEBHOOK", format: generic, secretEnv: HOOK_SECRET }
          - name: escalation
            eventRecipients: recipients
        route:
          routes:
            - matchers: ['type = incident.reported.v1']
              receiver: chain
              acknowledge: true
              continue: true
            - matchers: ['type = incident.reported.v1']
              receiver: hook
            - matchers: ['type = incident.escalated.v1', 'severity = 1']
              receiver: escalation
        """

    @Test("a report reaches every person of the chain by mail and CSIRT's hook by a signed webhook, once each")
    func deliversToTheChain() async throws {
        let smtp = try HelperProcess(script: "smtp_sink.py", arguments: [])
        defer { smtp.stop() }
        let hook = try HelperProcess(script: "webhook_receiver.py", arguments: ["--secret", "whsec_aG9vaw=="])
        defer { hook.stop() }
        let fixture = try await NotifierFixture.make(
            routes: Self.chainRoutes.replacingOccurrences(of: "WEBHOOK", with: "http://127.0.0.1:\(hook.port)/hooks/csirt"),
            organisation: NotifierFixture.organisation(mail: Self.mail), smtpPort: smtp.port, environment: ["HOOK_SECRET": "whsec_aG9vaw=="])
        defer { Task { await fixture.tearDown() } }

        let event = TestEvents.reported()
        try await fixture.receive(event)
        try await fixture.drain()

        let mails = try smtp.files().map(SunkMail.init(url:))
        #expect(Set(mails.map(\.recipients)) == Set(["staff-a", "chief-a", "dept-head-a", "gsm", "csirt-lead"].map(Self.mail)))
        let chief = try #require(mails.first { $0.recipients == Self.mail("chief-a") })
        #expect(chief.subject.contains("Security incident reported"))  // chief-a reads English
        let staff = try #require(mails.first { $0.recipients == Self.mail("staff-a") })
        #expect(staff.subject.contains("情報セキュリティインシデント報告") && staff.body.contains("総務課"))
        // The acknowledgement link carries a token triage can verify.
        let link = try #require(staff.body.split(separator: "\n").first { $0.contains("/v1/acknowledgements/") })
        let token = String(link.split(separator: "/").last!).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(AcknowledgementToken.verify(token, secret: "dev-ack-secret", now: Date())?.personID == "staff-a")

        let hooks = hook.files()
        #expect(hooks.count == 1)
        let stored = try JSONSerialization.jsonObject(with: Data(contentsOf: hooks[0])) as! [String: Any]
        let headers = stored["headers"] as! [String: String]
        #expect(headers["webhook-id"]?.hasPrefix("ntf_") == true && headers["webhook-signature"]?.hasPrefix("v1,") == true)

        let records = try await fixture.records()
        #expect(records.count == 6 && records.allSatisfy { $0.state == "sent" })
        let check = try await fixture.pool.withConnection { connection in try NotifierOperations(schema: fixture.schema).verifyDeliveryLog(on: connection) }
        #expect(check.entries == 18 && check.firstBroken == nil)
    }

    @Test("a duplicated event gives one message")
    func duplicateGivesOneMessage() async throws {
        let smtp = try HelperProcess(script: "smtp_sink.py", arguments: [])
        defer { smtp.stop() }
        let fixture = try await NotifierFixture.make(
            routes: Self.reportsToCSIRT,
            organisation: NotifierFixture.organisation(mail: Self.mail), smtpPort: smtp.port)
        defer { Task { await fixture.tearDown() } }
        let event = TestEvents.reported()
        try await fixture.receive(event)
        try await fixture.receive(event)
        try await fixture.drain()
        try await fixture.receive(event)
        try await fixture.drain()
        #expect(smtp.files().count == 1)
        #expect(try await fixture.records().count == 1)
    }

    @Test("an SMTP 4xx is retried with back-off and then delivered")
    func transientThenSuccess() async throws {
        let smtp = try HelperProcess(script: "smtp_sink.py", arguments: ["--tempfail", "1"])
        defer { smtp.stop() }
        let fixture = try await NotifierFixture.make(
            routes: Self.reportsToCSIRT,
            organisation: NotifierFixture.organisation(mail: Self.mail), smtpPort: smtp.port)
        defer { Task { await fixture.tearDown() } }
        try await fixture.receive(TestEvents.reported())
        try await fixture.drain()
        var record = try #require(try await fixture.records().first)
        #expect(record.state == "queued" && record.attempts == 1 && record.lastErrorCode == "smtp-451")
        #expect(smtp.files().isEmpty)
        fixture.clock.advance(by: 61)  // past the largest back-off (retryMaximum 60 s)
        try await fixture.drain()
        record = try #require(try await fixture.records().first)
        #expect(record.state == "sent" && record.attempts == 2)
        #expect(smtp.files().count == 1)
    }

    @Test("a permanent failure falls back to the next channel and is announced")
    func permanentFailureFallsBack() async throws {
        let smtp = try HelperProcess(script: "smtp_sink.py", arguments: ["--reject", Self.mail("csirt-lead")])
        defer { smtp.stop() }
        let files = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("ntf-files-\(UUID().uuidString.prefix(6))")
        defer { try? FileManager.default.removeItem(at: files) }
        let fixture = try await NotifierFixture.make(
            routes: Self.reportsToCSIRT,
            organisation: NotifierFixture.organisation(
                mail: Self.mail, csirtChannels: [.init(kind: .email, address: Self.mail("csirt-lead")), .init(kind: .file, address: "csirt.jsonl")]),
            smtpPort: smtp.port, fileDirectory: files.path)
        defer { Task { await fixture.tearDown() } }
        try await fixture.receive(TestEvents.reported())
        try await fixture.drain()
        let records = try await fixture.records()
        #expect(records.map(\.state) == ["failed", "sent"])
        #expect(records[0].lastErrorCode == "smtp-550" && records[0].attempts == 1)
        #expect(records[1].channelKind == "file" && records[1].reason == "next-channel")
        let lines = try String(contentsOf: files.appendingPathComponent("csirt.jsonl"), encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 1)
        #expect(try await fixture.outboxTypes() == ["notification.failed.v1"])
        #expect(smtp.files().isEmpty)
    }

    @Test("the last retry failing goes to the deputy")
    func exhaustedRetriesGoToTheDeputy() async throws {
        let smtp = try HelperProcess(script: "smtp_sink.py", arguments: ["--tempfail", "2"])
        defer { smtp.stop() }
        let fixture = try await NotifierFixture.make(
            routes: Self.reportsToCSIRT,
            organisation: NotifierFixture.organisation(mail: Self.mail), smtpPort: smtp.port, maxAttempts: 2)
        defer { Task { await fixture.tearDown() } }
        try await fixture.receive(TestEvents.reported())
        try await fixture.drain()
        fixture.clock.advance(by: 61)
        try await fixture.drain()
        let records = try await fixture.records()
        #expect(records.map(\.state) == ["failed", "sent"])
        #expect(records[1].recipient == "person:csirt-deputy" && records[1].reason == "deputy" && records[1].onBehalfOf == "csirt-lead")
        let mails = try smtp.files().map(SunkMail.init(url:))
        #expect(mails.map(\.recipients) == [Self.mail("csirt-deputy")])
        #expect(mails[0].body.contains("csirt-lead (test) 様に連絡が取れないため"))
        #expect(try await fixture.outboxTypes() == ["notification.failed.v1"])
    }

    @Test("a burst within the group window goes out as one message; severity-1 is never grouped")
    func burstIsGrouped() async throws {
        let smtp = try HelperProcess(script: "smtp_sink.py", arguments: [])
        defer { smtp.stop() }
        let fixture = try await NotifierFixture.make(
            routes: """
                receivers: [{ name: csirt, roles: [csirt] }]
                route:
                  routes:
                    - matchers: ['type = incident.reported.v1']
                      receiver: csirt
                      groupBy: [sectionCode]
                      groupWait: 30s
                      groupInterval: 5m
                    - matchers: ['type = incident.escalated.v1']
                      receiver: csirt
                      groupBy: [sectionCode]
                """,
            organisation: NotifierFixture.organisation(mail: Self.mail), smtpPort: smtp.port)
        defer { Task { await fixture.tearDown() } }
        for index in 1...3 {
            try await fixture.receive(TestEvents.reported(title: "不審メール \(index)"))
            fixture.clock.advance(by: 5)
        }
        try await fixture.receive(TestEvents.escalated(severity: 1, recipients: []))
        try await fixture.drain()
        // Severity-1 went out at once; the three reports wait for the group.
        #expect(smtp.files().count == 1)
        fixture.clock.advance(by: 30)
        try await fixture.drain()
        let mails = try smtp.files().map(SunkMail.init(url:))
        #expect(mails.count == 2)
        let grouped = try #require(mails.last)
        #expect(grouped.subject.contains("3 件"))
        #expect((1...3).allSatisfy { grouped.body.contains("不審メール \($0)") })
        let states = try await fixture.records().map(\.state)
        #expect(states.filter { $0 == "sent" }.count == 4)
        // A later report within the group interval waits for the interval, not the group wait.
        try await fixture.receive(TestEvents.reported(title: "不審メール 4"))
        fixture.clock.advance(by: 31)
        try await fixture.drain()
        #expect(smtp.files().count == 2)
        fixture.clock.advance(by: 300)
        try await fixture.drain()
        #expect(smtp.files().count == 3)
    }

    @Test("a silence mutes matching notifications and is recorded; severity-1 needs the explicit flag")
    func silenceMutes() async throws {
        let smtp = try HelperProcess(script: "smtp_sink.py", arguments: [])
        defer { smtp.stop() }
        let fixture = try await NotifierFixture.make(
            routes: Self.chainRoutes.replacingOccurrences(of: "WEBHOOK", with: "http://127.0.0.1:9/none"),
            organisation: NotifierFixture.organisation(mail: Self.mail), smtpPort: smtp.port)
        defer { Task { await fixture.tearDown() } }
        let operations = NotifierOperations(schema: fixture.schema)
        let now = fixture.clock.now
        let silence = try await fixture.pool.withTransaction { connection in
            try operations.addSilence(
                matchers: [try NotificationRouting.Matcher(parsing: "sectionCode = sec-a")], endsAt: now.addingTimeInterval(3600),
                reason: "maintenance of the section's mail server", createdBy: "test", now: now, on: connection)
        }
        try await fixture.receive(TestEvents.reported())
        try await fixture.receive(TestEvents.escalated(severity: 1, recipients: ["gsm"]))
        try await fixture.drain()
        let records = try await fixture.records()
        #expect(records.filter { $0.state == "silenced" }.count == 6)
        #expect(records.filter { $0.state == "silenced" }.allSatisfy { $0.silenceID == silence.id })
        // Severity 1 is not muted by a silence without includeSeverity1.
        #expect(try smtp.files().map(SunkMail.init(url:)).map(\.recipients) == [Self.mail("gsm")])
        let listed = try await fixture.pool.withConnection { connection in try operations.silences(now: now, on: connection) }
        #expect(listed.map(\.id) == [silence.id])
        _ = try await fixture.pool.withTransaction { connection in try operations.expireSilence(id: silence.id, by: "test", now: now, on: connection) }
        // An operator can send a silenced notification after all.
        let silenced = try #require(records.first { $0.state == "silenced" && $0.channelKind == "email" })
        _ = try await fixture.pool.withTransaction { connection in try operations.retry(id: silenced.id, by: "test", now: now, on: connection) }
        try await fixture.drain()
        #expect(smtp.files().count == 2)
    }

    @Test("a My Number is masked in the mail that leaves")
    func myNumberMaskedInMail() async throws {
        let smtp = try HelperProcess(script: "smtp_sink.py", arguments: [])
        defer { smtp.stop() }
        let fixture = try await NotifierFixture.make(
            routes: Self.reportsToCSIRT,
            organisation: NotifierFixture.organisation(mail: Self.mail), smtpPort: smtp.port)
        defer { Task { await fixture.tearDown() } }
        // A producer that failed to mask: the notifier still never sends the number.
        try await fixture.receive(TestEvents.reported(title: "番号 123456789018 の漏えい", description: "個人番号 1234-5678-9018 を含む帳票"))
        try await fixture.drain()
        let mail = try #require(try smtp.files().map(SunkMail.init(url:)).first)
        #expect(!mail.raw.contains("123456789018"))
        #expect(!mail.subject.contains("123456789018") && !mail.body.contains("123456789018") && !mail.body.contains("1234-5678-9018"))
        #expect(mail.body.contains("****-****-****"))
    }

    @Test("a webhook signed with the wrong secret is rejected by the receiver's check and fails for good")
    func badSignatureRejected() async throws {
        let hook = try HelperProcess(script: "webhook_receiver.py", arguments: ["--secret", "whsec_cmlnaHQ="])
        defer { hook.stop() }
        let fixture = try await NotifierFixture.make(
            routes: """
                receivers:
                  - name: hook
                    endpoints: [{ name: csirt-hook, kind: webhook, address: "http://127.0.0.1:\(hook.port)/h", secretEnv: HOOK_SECRET }]
                route:
                  routes:
                    - { matchers: ['type = incident.reported.v1'], receiver: hook }
                """,
            organisation: NotifierFixture.organisation(mail: Self.mail), environment: ["HOOK_SECRET": "whsec_d3Jvbmc="])
        defer { Task { await fixture.tearDown() } }
        try await fixture.receive(TestEvents.reported())
        try await fixture.drain()
        #expect(hook.files().isEmpty)
        #expect(hook.files(prefix: "rejected-").count == 1)
        let record = try #require(try await fixture.records().first)
        #expect(record.state == "failed" && record.lastErrorCode == "http-401" && record.attempts == 1)
        #expect(try await fixture.outboxTypes() == ["notification.failed.v1"])
    }

    @Test("an acknowledgement stops the reminders")
    func acknowledgementStopsReminders() async throws {
        let smtp = try HelperProcess(script: "smtp_sink.py", arguments: [])
        defer { smtp.stop() }
        let fixture = try await NotifierFixture.make(
            routes: """
                receivers: [{ name: esc, eventRecipients: recipients }]
                route:
                  routes:
                    - { matchers: ['type = incident.escalated.v1'], receiver: esc, repeatInterval: 30m, maxRepeats: 3, acknowledge: true }
                """,
            organisation: NotifierFixture.organisation(mail: Self.mail), smtpPort: smtp.port)
        defer { Task { await fixture.tearDown() } }
        try await fixture.receive(TestEvents.escalated(severity: 1, recipients: ["gsm"], caseNumber: "INC-2025-0042"))
        try await fixture.drain()
        fixture.clock.advance(by: 1801)
        try await fixture.drain()
        let mails = try smtp.files().map(SunkMail.init(url:))
        #expect(mails.count == 2 && mails[1].subject.contains("再通知 1"))
        let acknowledged = RawEnvelope(
            source: ServiceName.csirtTriage.source, type: "jp.ward.isms.incident.acknowledged.v1", dataClassification: .internal,
            data: JSONValue.object(["caseNumber": "INC-2025-0042", "personId": "gsm"]).jsonBytes())
        try await fixture.receive(acknowledged)
        fixture.clock.advance(by: 7200)
        try await fixture.drain()
        #expect(smtp.files().count == 2)
        #expect(try await fixture.records().map(\.state) == ["acknowledged", "acknowledged"])
    }
}
