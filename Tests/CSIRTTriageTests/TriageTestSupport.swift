import Contracts
import CSIRTTriage
import Directory
import Foundation
import Logging
import Postgres
import PostgresMigrations
import ServiceRuntime

/// A migrated triage schema and a directory schema with a small organisation, dropped afterwards.
struct TriageFixture {
    let pool: PostgresPool
    let engine: TriageEngine
    var schema: String { engine.store.schema }
    var directory: DirectoryStore { engine.directory }

    /// One department, one section, one person per role of the chain, and two CSIRT members.
    static let organisation = Organisation(
        departments: [.init(code: "kumin", name: "区民部")],
        sections: [.init(code: "koseki-jumin", name: "戸籍住民課", departmentCode: "kumin")],
        people: ["p-staff", "p-chief", "p-head", "p-gsm", "p-gso", "p-ciso", "p-csirt-1", "p-csirt-2"].map { .init(id: $0, name: $0) },
        assignments: [
            .init(personID: "p-staff", role: .sectionSecurityStaff, unitCode: "koseki-jumin"),
            .init(personID: "p-chief", role: .sectionSecurityOfficer, unitCode: "koseki-jumin"),
            .init(personID: "p-head", role: .departmentSecurityOfficer, unitCode: "kumin"),
            .init(personID: "p-gsm", role: .generalSecurityManager),
            .init(personID: "p-gso", role: .generalSecurityOfficer),
            .init(personID: "p-ciso", role: .ciso),
            .init(personID: "p-csirt-1", role: .csirt),
            .init(personID: "p-csirt-2", role: .csirt),
        ]
    )

    static func with<T>(
        policy: EscalationPolicy? = nil, correlation: CorrelationRules = .none, _ body: (TriageFixture) async throws -> T
    ) async throws -> T {
        let suffix = UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(10).lowercased()
        let schema = "triage_t_\(suffix)"
        let directorySchema = "directory_t_\(suffix)"
        let pool = TestServers.pool()
        let engine = TriageEngine(
            store: TriageStore(schema: schema), directory: DirectoryStore(schema: directorySchema),
            severityRules: try TriageConfigFiles.severity(), escalationPolicy: try policy ?? TriageConfigFiles.escalation(),
            statutoryRules: try TriageConfigFiles.statutory(), correlationRules: correlation)
        let logger = TestServers.logger("triage-tests")
        func drop() async {
            _ = try? await pool.query("DROP SCHEMA IF EXISTS \(unescaped: Migrator.quoted(schema)) CASCADE")
            _ = try? await pool.query("DROP SCHEMA IF EXISTS \(unescaped: Migrator.quoted(directorySchema)) CASCADE")
        }
        do {
            _ = try await pool.query("CREATE SCHEMA \(unescaped: Migrator.quoted(schema))")
            _ = try await pool.query("CREATE SCHEMA \(unescaped: Migrator.quoted(directorySchema))")
            try await Migrator.apply(CSIRTTriageService.definition(engine: engine).migrationSet, on: pool, logger: logger)
            try await Migrator.apply(engine.directory.migrations, on: pool, logger: logger)
            let directory = engine.directory
            _ = try await pool.withTransaction { try directory.replace(with: organisation, on: $0) }
            let result = try await body(TriageFixture(pool: pool, engine: engine))
            await drop()
            await pool.close()
            return result
        } catch {
            await drop()
            await pool.close()
            throw error
        }
    }

    /// Runs `body` in a transaction with a context at `now`, then writes what it emitted to the outbox.
    @discardableResult
    func transaction<T: Sendable>(now: Date, _ body: @escaping @Sendable (TriageEngine, inout TransactionContext) throws -> T) async throws -> T {
        let engine = engine
        return try await pool.withTransaction(emittingAs: .csirtTriage, schema: engine.store.schema, logger: TestServers.logger("triage"), now: now) { context in
            try body(engine, &context)
        }
    }

    /// Every message in the outbox: routing key and decoded envelope, oldest first.
    func outbox() async throws -> [(routingKey: String, envelope: RawEnvelope)] {
        try await pool.query("SELECT routing_key, body FROM \(unescaped: Migrator.quoted(schema)).outbox ORDER BY id").map { row in
            (try row.decode("routing_key"), try RawEnvelope(jsonBytes: try row.decode("body", as: [UInt8].self)))
        }
    }

    func escalations() async throws -> [IncidentEscalated] {
        try await outbox().filter { $0.routingKey == MessageTypes.incidentEscalated.routingKey }.map { try $0.envelope.decode(as: IncidentEscalated.self).data }
    }

    func timerRunner(clock: @escaping @Sendable () -> Date) -> TimerRunner {
        TimerRunner(
            schema: schema, service: .csirtTriage, handlers: CSIRTTriageService.timerHandlers(engine: engine), database: pool, pollInterval: .seconds(1),
            logger: TestServers.logger("timers"), clock: clock)
    }
}

/// An intake event as the integration tests send it.
func reported(
    intakeID: UUID = UUID(), myNumber: Verdict = .yes, detected: Bool = true, persons: AffectedPersons = .count(150),
    category: IncidentCategory = .lossOrTheft, knownAt: Date = ContractsJSON.parseTimestamp("2025-04-01T10:20:00+09:00")!,
    producer: String = "urn:isms:producer:test", assets: [AffectedAsset] = [AffectedAsset(name: "USBメモリ")], correlationKey: String? = nil
) -> IncidentReported {
    IncidentReported(
        intakeID: intakeID, reportID: UUID(), producer: producer, reporter: .init(name: "山田 花子", contact: "内線 2345"),
        sectionCode: "koseki-jumin", departmentCode: "kumin", occurredAt: knownAt.addingTimeInterval(-7200), detectedAt: knownAt.addingTimeInterval(-600),
        knownAt: knownAt, reportedAt: knownAt.addingTimeInterval(60), recordedAt: knownAt.addingTimeInterval(61), category: category,
        affectedAssets: assets,
        answers: IncidentAnswers(personalData: .yes, myNumber: myNumber, sensitivePersonalData: .no, wrongfulIntent: .no, unspecifiedViewers: .no, dataEncrypted: .no),
        affectedPersons: persons, title: "個人番号を含むUSBメモリの紛失", description: "150人分の個人番号 ************ を含むUSBメモリを紛失した。",
        myNumberDetected: detected, attachments: [], correlationKey: correlationKey)
}

/// A clock tests move by hand.
final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Date

    init(_ start: Date) { value = start }

    var now: Date { lock.withLock { value } }

    func advance(by seconds: TimeInterval) { lock.withLock { value = value.addingTimeInterval(seconds) } }
}
