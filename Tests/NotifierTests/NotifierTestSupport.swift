import AMQP
import Contracts
import Directory
import Foundation
import ISMSTesting
import Logging
@testable import Notifier
import Postgres
import PostgresMigrations
import ServiceRuntime
import Synchronization

/// A clock tests move by hand, so timers fire without sleeping.
final class TestClock: Sendable {
    private let value: Mutex<Date>

    init(_ start: Date = Date()) {
        value = Mutex(start)
    }

    var now: Date { value.withLock { $0 } }

    func advance(by seconds: TimeInterval) {
        value.withLock { $0 = $0.addingTimeInterval(seconds) }
    }

    var function: @Sendable () -> Date { { self.now } }
}

/// A Python helper from Support/ running on a random loopback port, stopped when released.
final class HelperProcess: @unchecked Sendable {
    let process = Process()
    let input = Pipe()
    let port: Int
    let directory: URL

    static var supportFolder: URL {
        URL(fileURLWithPath: #filePath).resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("Support")
    }

    init(script: String, arguments: [String]) throws {
        directory = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("notifier-tests-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Self.supportFolder.appendingPathComponent(script).path, "--dir", directory.path] + arguments
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = ""
        while !line.contains("\n") {
            let data = output.fileHandleForReading.availableData
            guard !data.isEmpty else { break }
            line += String(decoding: data, as: UTF8.self)
        }
        guard let port = line.split(separator: " ").last.flatMap({ Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }) else {
            process.terminate()
            throw NotifierError(.invalidSettings, detail: "\(script) did not start: \(line)")
        }
        self.port = port
    }

    /// The files the helper wrote, sorted (messages, or `rejected-*` for bad signatures).
    func files(prefix: String = "0") -> [URL] {
        ((try? FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)) ?? [])
            .filter { $0.lastPathComponent.hasPrefix(prefix) && !$0.lastPathComponent.hasSuffix(".tmp") }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    func stop() {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: directory)
    }

    deinit {
        if process.isRunning { process.terminate() }
    }
}

/// A message the SMTP sink stored, decoded.
struct SunkMail {
    var recipients: String
    var subject: String
    var body: String
    var raw: String

    init(url: URL) throws {
        raw = try String(contentsOf: url, encoding: .utf8)
        let parts = raw.components(separatedBy: "\r\n\r\n")
        let headers = parts[0]
        recipients = headers.components(separatedBy: "\r\n").first { $0.hasPrefix("X-Sink-Rcpt:") }?.dropFirst(13).trimmingCharacters(in: .whitespaces) ?? ""
        // Unfold and decode the RFC 2047 subject.
        let unfolded = headers.replacingOccurrences(of: "\r\n ", with: " ")
        let line = unfolded.components(separatedBy: "\r\n").first { $0.hasPrefix("Subject: ") }.map { String($0.dropFirst(9)) } ?? ""
        subject = line.split(separator: " ").map { word -> String in
            if word.hasPrefix("=?UTF-8?B?"), word.hasSuffix("?="), let data = Data(base64Encoded: String(word.dropFirst(10).dropLast(2))) {
                return String(decoding: data, as: UTF8.self)
            }
            return String(word)
        }.joined()
        let encoded = parts.dropFirst().joined(separator: "\r\n\r\n").replacingOccurrences(of: "\r\n", with: "")
        body = (Data(base64Encoded: encoded).map { String(decoding: $0, as: UTF8.self) } ?? encoded).replacingOccurrences(of: "\r\n", with: "\n")
    }
}

/// A notifier on its own schemas in the test database: the directory, the engine, a timer
/// runner and a send worker driven by hand with a test clock.
struct NotifierFixture: Sendable {
    let pool: PostgresPool
    let schema: String
    let directorySchema: String
    let engine: NotifierEngine
    let timers: TimerRunner
    let worker: DeliveryWorker
    let clock: TestClock
    let logger: Logger

    /// The repository, found from this file (symlinks resolved, for scratch packages).
    static let repository = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let templates = repository.appendingPathComponent("deploy/config/templates").path

    /// The test organisation: one section `sec-a` in `dept-a`, the ward-wide chain, CSIRT.
    static func organisation(mail: (String) -> String, extra: [Organisation.Person] = [], csirtChannels: [Organisation.Channel]? = nil) -> Organisation {
        func person(_ id: String, _ language: Organisation.Language = .ja, deputy: String? = nil) -> Organisation.Person {
            Organisation.Person(id: id, name: "\(id) (test)", email: mail(id), language: language, deputyID: deputy)
        }
        var people = [
            person("staff-a"), person("chief-a", .en), person("dept-head-a"), person("gsm"), person("gso"), person("ciso"),
            person("csirt-deputy"),
        ]
        var csirt = person("csirt-lead", deputy: "csirt-deputy")
        if let csirtChannels { csirt.channels = csirtChannels }
        people.append(csirt)
        people += extra
        return Organisation(
            departments: [.init(code: "dept-a", name: "総務部", nameEn: "General Affairs")],
            sections: [.init(code: "sec-a", name: "総務課", nameEn: "General Affairs Section", departmentCode: "dept-a")],
            people: people,
            assignments: [
                .init(personID: "staff-a", role: .sectionSecurityStaff, unitCode: "sec-a"),
                .init(personID: "chief-a", role: .sectionSecurityOfficer, unitCode: "sec-a"),
                .init(personID: "dept-head-a", role: .departmentSecurityOfficer, unitCode: "dept-a"),
                .init(personID: "gsm", role: .generalSecurityManager),
                .init(personID: "gso", role: .generalSecurityOfficer),
                .init(personID: "ciso", role: .ciso),
                .init(personID: "csirt-lead", role: .csirt),
            ] + extra.map { .init(personID: $0.id, role: .designatedHandler, unitCode: "sec-a") }
        )
    }

    static func make(
        routes: String, organisation: Organisation, smtpPort: Int? = nil, fileDirectory: String = NSTemporaryDirectory(),
        environment: [String: String] = [:], maxAttempts: Int = 3
    ) async throws -> NotifierFixture {
        let logger = TestServers.logger("notifier")
        let schema = TestServers.uniqueName("ntf")
        let directorySchema = TestServers.uniqueName("dir")
        let pool = TestServers.pool()
        let store = DirectoryStore(schema: directorySchema)
        _ = try await pool.query("CREATE SCHEMA \(unescaped: Migrator.quoted(directorySchema))")
        try await Migrator.apply(store.migrations, on: pool, logger: logger)
        _ = try await pool.query("CREATE SCHEMA \(unescaped: Migrator.quoted(schema))")
        try await Migrator.apply(
            MigrationSet(schema: schema, migrations: MessagingSchema.migrations(schema: schema) + NotifierMigrations.all(schema: schema)),
            on: pool, logger: logger)
        _ = try await pool.withTransaction { connection in try store.replace(with: organisation, on: connection) }
        let settings = NotifierSettings(
            templatesPath: templates,
            smtp: smtpPort.map { SMTPConfiguration(host: "127.0.0.1", port: $0, tls: .never) },
            fileDirectory: fileDirectory, defaultWebhookSecret: "whsec_c2VjcmV0", maxAttempts: maxAttempts,
            retryInitial: .seconds(10), retryMaximum: .seconds(60), sendTimeout: .seconds(5), directorySchema: directorySchema,
            environment: environment)
        let engine = try NotifierEngine(
            schema: schema, routing: try NotificationRouting.parse(yaml: routes, file: "test-routes.yaml"),
            templates: try NotifierTemplates(directory: templates), settings: settings)
        let clock = TestClock()
        return NotifierFixture(
            pool: pool, schema: schema, directorySchema: directorySchema, engine: engine,
            timers: TimerRunner(
                schema: schema, service: .notifier, handlers: NotifierTimerHandler.all(engine: engine), database: pool, pollInterval: .seconds(1), logger: logger,
                clock: clock.function),
            worker: DeliveryWorker(engine: engine, channels: NotificationChannels(settings: settings), database: pool, logger: logger, clock: clock.function),
            clock: clock, logger: logger)
    }

    /// Hands an event to the consumer's handler in a transaction of its own; returns what it emitted.
    @discardableResult
    func receive(_ envelope: RawEnvelope) async throws -> Int {
        let engine = engine
        let schema = schema
        let logger = logger
        let now = clock.now
        return try await pool.withTransaction { connection in
            var context = TransactionContext(connection: connection, schema: schema, service: .notifier, logger: logger, now: now)
            try engine.handle(envelope, context: &context)
            return context.outgoing.count
        }
    }

    /// Hands a batch to the consumer's batch handler in one transaction, as the consumer does;
    /// returns its verdict per message.
    func receiveBatch(_ envelopes: [RawEnvelope]) async throws -> [PermanentFailure?] {
        let handler = NotifierEventHandler(engine: engine)
        let schema = schema
        let logger = logger
        let now = clock.now
        let messages = envelopes.map { envelope in
            IncomingMessage(
                delivery: AMQPDelivery(
                    deliveryTag: 0, redelivered: false, exchange: "isms.events", routingKey: "", consumerTag: "notifier-tests", properties: AMQPProperties(),
                    body: envelope.data ?? []),
                envelope: envelope)
        }
        return try await pool.withTransaction { connection in
            var context = TransactionContext(connection: connection, schema: schema, service: .notifier, logger: logger, now: now)
            return try handler.handleBatch(messages, context: &context)
        }
    }

    /// How many entries the hash-chained delivery log holds.
    func logEntries(containing text: String = "") async throws -> Int {
        try await pool.query(
            "SELECT count(*) AS n FROM \(unescaped: Migrator.quoted(schema)).delivery_log WHERE strpos(detail, \(text)) > 0"
        ).rows.first?.decode("n", as: Int.self) ?? 0
    }

    /// Fires due timers and sends until nothing is left to do now.
    func drain() async throws {
        for _ in 0..<10 {
            let fired = try await timers.fireDue()
            let sent = try await worker.deliverPending()
            if fired == 0 && sent == 0 { return }
        }
    }

    func records() async throws -> [NotificationRecord] {
        let operations = NotifierOperations(schema: schema)
        return try await pool.withConnection { connection in try operations.notifications(limit: 1000, on: connection) }.sorted { $0.id < $1.id }
    }

    /// Messages the notifier wrote to its outbox (`notification.failed.v1`).
    func outboxTypes() async throws -> [String] {
        try await pool.query("SELECT routing_key FROM \(unescaped: Migrator.quoted(schema)).outbox ORDER BY id").rows.map { try $0.decode("routing_key") }
    }

    func tearDown() async {
        _ = try? await pool.query("DROP SCHEMA \(unescaped: Migrator.quoted(schema)) CASCADE")
        _ = try? await pool.query("DROP SCHEMA \(unescaped: Migrator.quoted(directorySchema)) CASCADE")
        await pool.close()
    }
}

/// Events for tests.
enum TestEvents {
    static func reported(
        id: String = EnvelopeFormat.newID(), section: String = "sec-a", title: String = "USBメモリの紛失",
        description: String = "窓口用のUSBメモリが見当たらない。", myNumberDetected: Bool = false, extra: [String: JSONValue] = [:]
    ) -> RawEnvelope {
        var data: [String: JSONValue] = [
            "intakeId": .string(UUID().uuidString.lowercased()), "sectionCode": .string(section), "departmentCode": "dept-a",
            "category": "loss-or-theft", "title": .string(title), "description": .string(description),
            "myNumberDetected": .bool(myNumberDetected), "reporter": ["name": "山田 花子", "contact": "内線 2345"],
            "occurredAt": "2025-04-01T09:10:00.000+09:00", "knownAt": "2025-04-01T10:20:00.000+09:00",
        ]
        for (key, value) in extra { data[key] = value }
        return RawEnvelope(
            id: id, source: ServiceName.incidentIntake.source, type: MessageTypes.incidentReported.wireName,
            dataClassification: myNumberDetected ? .restricted : .confidential, data: JSONValue.object(data).jsonBytes())
    }

    /// Triage opened a case from a report (issue #16: what the chain is told).
    static func caseOpened(caseNumber: String = "INC-2026-000001", severity: Int = 2, intakeID: String = UUID().uuidString.lowercased()) -> RawEnvelope {
        let data: JSONValue = [
            "caseNumber": .string(caseNumber), "caseId": .string(UUID().uuidString.lowercased()),
            "source": ["kind": "incident-report", "id": .string(intakeID)], "severity": .integer(Int64(severity)), "severityRule": "default",
            "sectionCode": "sec-a", "departmentCode": "dept-a", "category": "malware", "title": "不審なプログラムの検知", "myNumberDetected": false,
            "knownAt": "2026-12-01T09:00:00.000+09:00", "openedAt": "2026-12-01T09:00:05.000+09:00",
        ]
        return RawEnvelope(
            source: ServiceName.csirtTriage.source, type: MessageTypes.incidentCaseOpened.wireName, subject: caseNumber, dataClassification: .confidential,
            data: data.jsonBytes())
    }

    /// A report joined an open case (issue #16).
    static func reportAttached(
        caseNumber: String = "INC-2026-000001", reportCount: Int, reportsJoined: Int = 1, severity: Int = 2, previousSeverity: Int = 2,
        myNumberDetected: Bool = false
    ) -> RawEnvelope {
        let data: JSONValue = [
            "caseNumber": .string(caseNumber), "caseId": .string(UUID().uuidString.lowercased()),
            "source": ["kind": "incident-report", "id": .string(UUID().uuidString.lowercased())], "rule": "same-host-same-category",
            "reportsJoined": .integer(Int64(reportsJoined)), "reportCount": .integer(Int64(reportCount)), "firstSeenAt": "2026-12-01T09:00:00.000+09:00",
            "lastSeenAt": .string("2026-12-01T09:\(String(format: "%02d", reportCount % 60)):00.000+09:00"),
            "severity": .integer(Int64(severity)), "previousSeverity": .integer(Int64(previousSeverity)), "severityRaised": .bool(severity < previousSeverity),
            "severityRule": "default", "sectionCode": "sec-a", "departmentCode": "dept-a", "category": "malware", "title": "不審なプログラムの検知",
            "myNumberDetected": .bool(myNumberDetected), "attachedAt": "2026-12-01T09:30:00.000+09:00",
        ]
        return RawEnvelope(
            source: ServiceName.csirtTriage.source, type: MessageTypes.incidentReportAttached.wireName, subject: caseNumber,
            dataClassification: myNumberDetected ? .restricted : .confidential, data: data.jsonBytes())
    }

    /// CSIRT merged a case into another (issue #16).
    static func caseMerged(_ caseNumber: String, into survivor: String) -> RawEnvelope {
        let data: JSONValue = [
            "caseNumber": .string(caseNumber), "caseId": .string(UUID().uuidString.lowercased()), "survivorCaseNumber": .string(survivor),
            "survivorCaseId": .string(UUID().uuidString.lowercased()), "reportsMoved": 1, "severity": 2, "actor": "person:csirt-lead",
            "mergedAt": "2026-12-01T10:00:00.000+09:00",
        ]
        return RawEnvelope(
            source: ServiceName.csirtTriage.source, type: MessageTypes.incidentCaseMerged.wireName, subject: caseNumber, dataClassification: .internal,
            data: data.jsonBytes())
    }

    static func escalated(severity: Int, recipients: [String], caseNumber: String = "INC-2025-0001") -> RawEnvelope {
        let data: JSONValue = [
            "caseNumber": .string(caseNumber), "severity": .integer(Int64(severity)), "sectionCode": "sec-a", "title": "ランサムウェア感染の疑い",
            "recipients": .array(recipients.map { .string($0) }),
        ]
        return RawEnvelope(
            source: ServiceName.csirtTriage.source, type: "jp.ward.isms.incident.escalated.v1", dataClassification: .confidential,
            data: data.jsonBytes())
    }
}
