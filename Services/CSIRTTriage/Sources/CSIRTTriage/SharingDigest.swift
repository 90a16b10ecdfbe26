public import Contracts
import Directory
import Logging
public import Foundation
public import Postgres
import PostgresMigrations
public import ServiceRuntime
import WardCalendar

/// The periodic sharing of recent incidents (Art. 10: information on incidents is shared to
/// prevent recurrence; Art. 16(7): the section's security staff are kept informed). One durable
/// timer, `digest`/`ward`, carries the start of the period; firing it emits the digest for
/// [start, now) and schedules the next period, so a restart neither skips nor repeats a period.
extension TriageEngine {
    public static let digestTimer = "digest"
    static let digestKey = "ward"

    struct DigestPayload: Codable {
        var periodStart: Date
    }

    /// Schedules the first digest unless one is scheduled already (called at every start).
    public func scheduleFirstDigest(every interval: Duration, now: Date, on connection: PostgresConnection) throws {
        let payload = try CaseHistory.canonicalJSON(DigestPayload(periodStart: now))
        _ = try connection.query(
            """
            INSERT INTO \(unescaped: Migrator.quoted(schema)).timers (kind, key, due_at, payload)
            VALUES (\(Self.digestTimer), \(Self.digestKey), \(now.addingTimeInterval(Double(interval.components.seconds))), \(payload)::jsonb)
            ON CONFLICT (kind, key) DO NOTHING
            """
        )
    }

    /// Emits the digest of the cases opened in [`periodStart`, now) — discarded ones left out —
    /// to every section's security staff, and schedules the next one `interval` later.
    @discardableResult
    public func sendDigest(periodStart: Date, every interval: Duration?, context: inout TransactionContext) throws -> IncidentDigest {
        let now = context.now
        let rows = try context.connection.query(
            """
            SELECT case_number, severity, category, state, department_code, opened_at FROM \(unescaped: store.cases)
            WHERE opened_at >= \(periodStart) AND opened_at < \(now) AND state <> \(CaseState.discarded.rawValue)
            ORDER BY severity, opened_at, case_number
            """
        ).map { row in
            IncidentDigest.Case(
                caseNumber: try row.decode("case_number"), severity: try row.decode("severity"), category: try TriageStore.decodeEnum(row, "category"),
                state: try row.decode("state"), departmentCode: try row.decode("department_code"),
                openedOn: CivilDate.inTokyo(try row.decode("opened_at", as: Date.self)).iso)
        }
        let recipients = try directory.people(role: .sectionSecurityStaff, on: context.connection).map(\.id)
        let digest = IncidentDigest(
            periodStart: periodStart, periodEnd: now, total: rows.count,
            bySeverity: Dictionary(grouping: rows, by: { String($0.severity) }).mapValues(\.count),
            byCategory: Dictionary(grouping: rows, by: { $0.category.rawValue }).mapValues(\.count),
            cases: Array(rows.prefix(200)), recipients: recipients, generatedAt: now)
        try context.emit(digest, time: now)
        if let interval {
            try DurableTimers.schedule(
                kind: Self.digestTimer, key: Self.digestKey, at: now.addingTimeInterval(Double(interval.components.seconds)),
                payloadJSON: try CaseHistory.canonicalJSON(DigestPayload(periodStart: now)), on: context.connection, schema: schema)
        }
        context.logger.info("incident digest sent", metadata: ["digest.cases": "\(rows.count)", "digest.recipients": "\(recipients.count)"])
        return digest
    }
}

/// Fires the digest timer.
struct DigestTimerHandler: TimerHandler {
    let engine: TriageEngine
    let interval: Duration
    var kind: String { TriageEngine.digestTimer }

    func fire(_ timer: DurableTimer, context: inout TransactionContext) throws {
        let payload = try ContractsJSON.decoder().decode(TriageEngine.DigestPayload.self, from: Data(timer.payload.utf8))
        try engine.sendDigest(periodStart: payload.periodStart, every: interval, context: &context)
    }
}
