import AMQP
import Foundation
import Logging
import Postgres

/// csirt-triage with 1 and with N replicas (competing consumers on `csirt-triage.events`).
///
/// For each replica count: with no triage running, `reports` reports go through intake, whose
/// relay puts their `incident.reported` into triage's queue (a backlog); then the replicas are
/// started together and the bench times the cases until the backlog is done. Only triage
/// works during the timed part (intake is idle, the notifier is stopped). Afterwards it checks
/// that competing consumers never opened a case twice: cases = distinct sources, and the case
/// numbers of each year are gapless and unique.
struct ScalingResult: Codable, Sendable {
    var replicas: Int
    var events: Int
    /// Backlog / seconds from starting the replicas to the last case (includes their start-up).
    var casesPerSecond: Double?
    /// 10 % → 90 % of the backlog.
    var sustainedPerSecond: Double?
    var cases: Int
    var cpuCores: [String: Double]?
    /// Over the whole table after the run: cases, distinct (source_kind, source_id).
    var totalCases: Int
    var distinctSources: Int
    var numbersGapless: Bool
    var numbersUnique: Bool

    var summary: String {
        func rate(_ value: Double?) -> String { value.map { String(format: "%.0f", $0) } ?? "–" }
        return "  triage × \(replicas): \(cases) of \(events) cases, \(rate(casesPerSecond)) cases/s (10–90 %: \(rate(sustainedPerSecond))); "
            + "table: \(totalCases) cases, \(distinctSources) distinct sources, numbers gapless \(numbersGapless), unique \(numbersUnique)"
    }
}

struct TriageScaling: Sendable {
    var setup: BenchSetup
    var load: ReportLoad
    var pool: PostgresPool
    var binDirectory: String
    var portBase: Int
    var logger: Logger

    func run(replicas: Int, reports: Int, on publisher: AMQPConnection, say: (String) -> Void) async throws -> ScalingResult {
        func count(_ sql: String) async throws -> Int {
            try await pool.query(PostgresQuery(unsafeSQL: sql)).rows.first!.decode(0, as: Int.self)
        }
        if try await count("SELECT (to_regclass('triage.cases') IS NULL)::int") == 1 {
            // The pipeline part was skipped: one start applies triage's migrations.
            try await ServiceHandle.start("csirt-triage", setup: setup, port: portBase, binDirectory: binDirectory, logger: logger).stop()
        }
        let casesBase = try await count("SELECT count(*) FROM triage.cases")
        let publishedBase = try await count("SELECT count(*) FROM intake.outbox WHERE published_at IS NOT NULL")
        say("triage × \(replicas): \(reports) reports through intake into triage's queue (no triage running)")
        let (sent, _) = try await load.saturate(count: reports, on: publisher)
        _ = try await Progress.wait(
            pool: pool, sql: "SELECT count(*) FROM intake.outbox WHERE published_at IS NOT NULL",
            targets: [publishedBase + sent.count], from: .now, timeout: .seconds(Int64(120 + reports / 100)), interval: .milliseconds(200)
        )
        try await Task.sleep(for: .seconds(1))

        let start = ContinuousClock.now
        let cpu = CPUAccount.now()
        let handles = try await withThrowingTaskGroup(of: ServiceHandle.self) { group in
            for index in 0..<replicas {
                group.addTask {
                    try await ServiceHandle.start(
                        "csirt-triage", setup: setup, port: portBase + index, binDirectory: binDirectory,
                        extra: ["ISMS_INSTANCE_ID": "bench-triage-\(index)"], logger: logger
                    )
                }
            }
            var started: [ServiceHandle] = []
            for try await handle in group { started.append(handle) }
            return started
        }
        let samples: [Progress.Sample]
        do {
            samples = try await Progress.wait(
                pool: pool, sql: "SELECT count(*) FROM triage.cases", targets: [casesBase + sent.count],
                from: start, timeout: .seconds(Int64(120 + reports / 20)), interval: .milliseconds(100)
            )
        } catch {
            for handle in handles { await handle.stop() }
            throw error
        }
        let cores = CPUAccount.now().cores(since: cpu)
        for handle in handles { await handle.stop() }

        var result = ScalingResult(
            replicas: replicas, events: sent.count, cases: (samples.last?.values[0] ?? casesBase) - casesBase, cpuCores: cores,
            totalCases: 0, distinctSources: 0, numbersGapless: false, numbersUnique: false
        )
        if let done = Progress.time(samples, index: 0, reaching: casesBase + sent.count) { result.casesPerSecond = Double(sent.count) / done }
        if let t10 = Progress.time(samples, index: 0, reaching: casesBase + sent.count / 10),
           let t90 = Progress.time(samples, index: 0, reaching: casesBase + sent.count * 9 / 10), t90 > t10 {
            result.sustainedPerSecond = Double(sent.count * 8 / 10) / (t90 - t10)
        }
        let check = try await pool.query(
            """
            SELECT (SELECT count(*) FROM triage.cases),
                   (SELECT count(*) FROM (SELECT DISTINCT source_kind, source_id FROM triage.cases) s),
                   (SELECT count(*) FROM (SELECT year FROM triage.cases GROUP BY year
                                          HAVING max(number) - min(number) + 1 <> count(*) OR min(number) <> 1) g),
                   (SELECT count(*) FROM (SELECT year, number FROM triage.cases GROUP BY year, number HAVING count(*) > 1) d)
            """
        ).rows.first!
        result.totalCases = try check.decode(0, as: Int.self)
        result.distinctSources = try check.decode(1, as: Int.self)
        result.numbersGapless = try check.decode(2, as: Int.self) == 0
        result.numbersUnique = try check.decode(3, as: Int.self) == 0
        return result
    }
}
