// isms-bench: throughput and latency of the real services against this machine's ceilings.
//
//   eval "$(deploy/local/stack.sh --profile test env)"; swift run -c release isms-bench
//
// Environment: ISMS_BENCH_REPORTS (saturation run, default 20000), ISMS_BENCH_PIPELINE_REPORTS
// (default 3000), ISMS_BENCH_RATE (fixed load, default 200/s) for ISMS_BENCH_SECONDS (15),
// ISMS_BENCH_BROKER_MESSAGES (100000), ISMS_BENCH_DB_SECONDS (5), ISMS_BENCH_BIN (folder of
// the built service executables; default this executable's folder; none found: in-process),
// ISMS_BENCH_SKIP (comma list of: ceilings, intake, pipeline, correlated, storm, scaling, console),
// ISMS_BENCH_CORRELATED_REPORTS (default 5000), ISMS_BENCH_STORM_REPORTS (default 100000) in
// ISMS_BENCH_STORM_SECONDS (default 60), ISMS_BENCH_SCALING_REPORTS
// (backlog per triage replica run, default 3000), ISMS_BENCH_SCALING_REPLICAS (default "1,3"),
// ISMS_BENCH_CONSOLE_CASES (default 10000), ISMS_BENCH_CONSOLE_UNACKNOWLEDGED (default 300),
// ISMS_BENCH_CONSOLE_REQUESTS (timed GETs per page, default 200, after 20 untimed),
// ISMS_BENCH_HTTP_PORT_BASE (default 48180), ISMS_BENCH_OUT (default bench/results),
// ISMS_BENCH_KEEP=1 keeps the vhost and database afterwards.
import AMQP
import Contracts
import Directory
import Foundation
import IncidentIntake
import Logging
import Postgres
import ServiceRuntime

LoggingSystem.bootstrap { label in
    var handler = StreamLogHandler.standardError(label: label)
    handler.logLevel = .warning
    return handler
}
let logger = Logger(label: "isms-bench")
if CommandLine.arguments.count > 1, CommandLine.arguments[1] == "publish" {
    do {
        try await PublishCommand.run(Array(CommandLine.arguments.dropFirst(2)), logger: logger)
        exit(0)
    } catch {
        print("isms-bench publish: \(error)")
        exit(1)
    }
}
try await benchmark(logger: logger)

/// Runs every measurement once and writes the results.
func benchmark(logger: Logger) async throws {
    let environment = ProcessInfo.processInfo.environment
    func setting(_ key: String, _ fallback: Int) -> Int { environment[key].flatMap(Int.init) ?? fallback }
    let skip = Set((environment["ISMS_BENCH_SKIP"] ?? "").split(separator: ",").map(String.init))
    func say(_ text: String) {
        // Unbuffered, so progress shows when the output is a pipe (make, tee).
        FileHandle.standardOutput.write(Data("isms-bench: \(text)\n".utf8))
    }

    let setup = try BenchSetup.fromEnvironment()
    // The services' HTTP ports: intake +1, triage +2, notifier +5, triage replicas +10...
    let portBase = setting("ISMS_BENCH_HTTP_PORT_BASE", 48_180)
    /// `ISMS_BENCH_<SERVICE>_WORKERS` and `..._DB_POOL_SIZE` set one service's consumers and
    /// connections in the pipeline parts (to measure other settings than the defaults).
    func overrides(_ service: String) -> [String: String] {
        Dictionary(uniqueKeysWithValues: ["WORKERS", "DB_POOL_SIZE"].compactMap { key in
            environment["ISMS_BENCH_\(service)_\(key)"].map { ("ISMS_\(key)", $0) }
        })
    }
    let binDirectory = environment["ISMS_BENCH_BIN"] ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
    var results = BenchResults(machine: MachineDescription.current(), startedAt: Date())

    say("preparing vhost '\(setup.vhost)' and database '\(setup.database)' on the test stack")
    try await setup.prepare(logger: logger)

    // MARK: Ceilings

    if !skip.contains("ceilings") {
        let ceilings = Ceilings(setup: setup, logger: logger)
        say("broker ceiling: \(setting("ISMS_BENCH_BROKER_MESSAGES", 100_000)) persistent 1 KB messages, quorum queue, confirms per 100, prefetch 100")
        results.broker = try await ceilings.broker(count: setting("ISMS_BENCH_BROKER_MESSAGES", 100_000))
        say(String(format: "  publish %.0f msg/s, consume %.0f msg/s", results.broker!.publishPerSecond, results.broker!.consumePerSecond))
        say("database ceiling: INSERT transactions, \(setting("ISMS_BENCH_DB_SECONDS", 5)) s each")
        results.database = try await ceilings.database(seconds: Double(setting("ISMS_BENCH_DB_SECONDS", 5)))
        say(String(format: "  single-row 1 client %.0f tx/s, 2 clients %.0f tx/s, 100 rows/tx %.0f rows/s",
                   results.database!.singleRowOneClient, results.database!.singleRowTwoClients, results.database!.hundredRowsPerTransaction))
    }

    // MARK: Services

    let pool = PostgresPool(configuration: PostgresConfiguration(url: setup.databaseURL, applicationName: "isms-bench"), size: 2, logger: logger)
    let load = ReportLoad(setup: setup, logger: logger)
    var services: [ServiceHandle] = []

    func stopAll() async {
        for service in services.reversed() { await service.stop() }
    }

    do {
        // The whole topology, so every event has the queues it has in production.
        var publisher = try await AMQPConnection.connect(AMQPConfiguration(url: setup.amqpURL, connectionName: "isms-bench/reports"), logger: logger)
        try await publisher.declare(Topology.forService(.isms))
        try await publisher.enableConfirms()
        /// A new publishing connection before each part: librabbitmq answers the broker's
        /// heartbeats only inside library calls, so a connection left idle while a part waits for
        /// the pipeline (minutes, at saturation) is closed by the broker ("socket error", status -9).
        func renewed(_ old: AMQPConnection) async throws -> AMQPConnection {
            await old.close()
            let fresh = try await AMQPConnection.connect(AMQPConfiguration(url: setup.amqpURL, connectionName: "isms-bench/reports"), logger: logger)
            try await fresh.enableConfirms()
            return fresh
        }

        let intake = try await ServiceHandle.start("incident-intake", setup: setup, port: portBase + 1, binDirectory: binDirectory, logger: logger)
        services.append(intake)
        results.mode = intake.isSeparateProcess ? "separate processes (release executables from \(binDirectory))" : "in-process (ServiceRunner.run in the bench process)"
        say("incident-intake ready (\(results.mode))")

        let ward = try DirectoryDocument.load(path: setup.root + "/deploy/config/ward.yaml")
        let user = setup.amqpUser
        try await pool.withTransaction { connection in
            _ = try DirectoryStore().replace(with: ward, on: connection)
            try ProducerGrants.grant(amqpUser: user, unitCode: nil, note: "isms-bench", on: connection)
        }

        let recorder = EventRecorder()
        try await recorder.start(setup: setup, queue: "bench.reported", logger: logger)

        func counts() async throws -> (reports: Int, published: Int) {
            let row = try await pool.query("SELECT (SELECT count(*) FROM intake.reports) AS r, (SELECT count(*) FROM intake.outbox WHERE published_at IS NOT NULL) AS p").rows.first!
            return (try row.decode("r"), try row.decode("p"))
        }

        /// Publish → stored latencies (ms) for `sent`, from the rows' recorded_at.
        func storedLatencies(_ sent: [UUID: Date]) async throws -> [Double] {
            let rows = try await pool.query("SELECT report_id, recorded_at FROM intake.reports WHERE recorded_at > now() - interval '10 minutes'").rows
            var values: [Double] = []
            for row in rows {
                let id: UUID = try row.decode("report_id")
                if let at = sent[id] { values.append((try row.decode("recorded_at", as: Date.self).timeIntervalSince(at)) * 1000) }
            }
            return values
        }
        func eventLatencies(_ sent: [UUID: Date]) -> [Double] {
            let arrivals = recorder.times()
            return sent.compactMap { id, at in arrivals[id].map { $0.timeIntervalSince(at) * 1000 } }
        }

        // Warm-up: connections, caches, JIT-free but page cache and plans.
        say("warm-up: 2000 reports")
        var base = try await counts()
        _ = try await load.saturate(count: 2000, on: publisher)
        _ = try await Progress.wait(pool: pool, sql: "SELECT count(*) FROM intake.reports", targets: [base.reports + 2000], from: .now, timeout: .seconds(120))

        let rate = Double(setting("ISMS_BENCH_RATE", 200))
        let seconds = Double(setting("ISMS_BENCH_SECONDS", 15))
        var saturationHWM: Int?
        if !skip.contains("intake") {
            // MARK: Intake at saturation
            let reports = setting("ISMS_BENCH_REPORTS", 20_000)
            say("intake hop at saturation: \(reports) reports, confirms per 100")
            base = try await counts()
            let start = ContinuousClock.now
            let cpuStart = CPUAccount.now()
            let intakePublisher = publisher
            async let publishing = load.saturate(count: reports, on: intakePublisher)
            let samples = try await Progress.wait(
                pool: pool,
                sql: "SELECT (SELECT count(*) FROM intake.reports), (SELECT count(*) FROM intake.outbox WHERE published_at IS NOT NULL)",
                targets: [base.reports + reports, base.published + reports],
                from: start,
                timeout: .seconds(Int64(60 + reports / 200))
            )
            let (sent, publishSeconds) = try await publishing
            let final = samples.last!.values
            var hop = HopResult(name: "intake (saturation)", reports: sent.count)
            hop.cpuCores = CPUAccount.now().cores(since: cpuStart)
            hop.cpuMillisecondsPerReport = CPUAccount.now().millisecondsPerReport(since: cpuStart, reports: reports)
            hop.publishPerSecond = Double(sent.count) / publishSeconds
            if let stored = Progress.time(samples, index: 0, reaching: base.reports + sent.count) { hop.storedPerSecond = Double(sent.count) / stored; hop.storedSeconds = stored }
            if let published = Progress.time(samples, index: 1, reaching: base.published + sent.count) { hop.eventPerSecond = Double(sent.count) / published }
            if let t10 = Progress.time(samples, index: 0, reaching: base.reports + sent.count / 10),
               let t90 = Progress.time(samples, index: 0, reaching: base.reports + sent.count * 9 / 10), t90 > t10 {
                hop.storedSustainedPerSecond = Double(sent.count * 8 / 10) / (t90 - t10)
            }
            if let t10 = Progress.time(samples, index: 1, reaching: base.published + sent.count / 10),
               let t90 = Progress.time(samples, index: 1, reaching: base.published + sent.count * 9 / 10), t90 > t10 {
                hop.eventSustainedPerSecond = Double(sent.count * 8 / 10) / (t90 - t10)
            }
            hop.storedCount = final[0] - base.reports
            hop.publishedCount = final[1] - base.published
            try await Task.sleep(for: .seconds(2))
            hop.latencyStored = LatencySummary(milliseconds: try await storedLatencies(sent))
            hop.latencyEvent = LatencySummary(milliseconds: eventLatencies(sent))
            results.hops.append(hop)
            say(hop.summary)
            saturationHWM = intake.memory()?.hwm

            // MARK: Intake at a fixed offered load
            say("intake hop at \(Int(rate)) reports/s for \(Int(seconds)) s")
            let fixedCPU = CPUAccount.now()
            let fixed = try await load.paced(rate: rate, seconds: seconds, on: publisher)
            let fixedCores = CPUAccount.now().cores(since: fixedCPU)
            try await Task.sleep(for: .seconds(3))
            var fixedHop = HopResult(name: "intake (\(Int(rate))/s)", reports: fixed.count)
            fixedHop.cpuCores = fixedCores
            fixedHop.offeredPerSecond = rate
            fixedHop.latencyStored = LatencySummary(milliseconds: try await storedLatencies(fixed))
            fixedHop.latencyEvent = LatencySummary(milliseconds: eventLatencies(fixed))
            results.hops.append(fixedHop)
            say(fixedHop.summary)
        }
        await recorder.stop()

        // MARK: Full pipeline
        if !skip.contains("pipeline") {
            // The events so far waited in triage's and the notifier's queues: start them empty.
            for queue in ["csirt-triage.events", "notifier.events"] { try await publisher.purgeQueue(queue) }
            let triage = try await ServiceHandle.start(
                "csirt-triage", setup: setup, port: portBase + 2, binDirectory: binDirectory, extra: overrides("TRIAGE"), logger: logger)
            services.append(triage)
            let hook = try await WebhookSink.start(port: ConsoleBench.freePort(from: portBase + 7), logger: logger)
            defer { hook.stop() }
            let notifier = try await ServiceHandle.start(
                "notifier", setup: setup, port: portBase + 5, binDirectory: binDirectory,
                extra: overrides("NOTIFIER").merging(["ISMS_NOTIFIER_ROUTES": try hook.routesFile(root: setup.root)], uniquingKeysWith: { $1 }),
                logger: logger)
            services.append(notifier)
            say("csirt-triage and notifier ready (CSIRT's webhook answered on port \(hook.port))")
            // Each report's case reaches the notifier as its `incident.case-opened` (issue #16: the
            // chain is told per case; `incident.reported` alone is not notified).
            let pipelineSQL = "SELECT (SELECT count(*) FROM triage.cases), (SELECT count(*) FROM notifier.events WHERE event_type = '\(MessageTypes.incidentCaseOpened.wireName)')"
            func pipelineCounts() async throws -> [Int] {
                let row = try await pool.query(PostgresQuery(unsafeSQL: pipelineSQL)).rows.first!
                return [try row.decode(0), try row.decode(1)]
            }

            publisher = try await renewed(publisher)
            say("pipeline at \(Int(rate)) reports/s for \(Int(seconds)) s")
            var pipelineBase = try await pipelineCounts()
            let pacedCPU = CPUAccount.now()
            let paced = try await load.paced(rate: rate, seconds: seconds, on: publisher)
            let pacedCores = CPUAccount.now().cores(since: pacedCPU)
            _ = try await Progress.wait(
                pool: pool, sql: pipelineSQL, targets: [pipelineBase[0] + paced.count, pipelineBase[1] + paced.count], from: .now, timeout: .seconds(120),
                interval: Progress.pipelineInterval)
            var fixedPipeline = HopResult(name: "pipeline (\(Int(rate))/s)", reports: paced.count)
            fixedPipeline.offeredPerSecond = rate
            fixedPipeline.cpuCores = pacedCores
            fixedPipeline.latencyStored = LatencySummary(milliseconds: try await storedLatencies(paced))
            fixedPipeline.latencyCase = LatencySummary(milliseconds: try await pipelineLatencies(paced, pool: pool).cases)
            fixedPipeline.latencyLedger = LatencySummary(milliseconds: try await pipelineLatencies(paced, pool: pool).ledger)
            fixedPipeline.latencyCaseAtNotifier = LatencySummary(milliseconds: try await pipelineLatencies(paced, pool: pool).caseAtNotifier)
            results.hops.append(fixedPipeline)
            say(fixedPipeline.summary)

            let pipelineReports = setting("ISMS_BENCH_PIPELINE_REPORTS", 3_000)
            publisher = try await renewed(publisher)
            say("pipeline at saturation: \(pipelineReports) reports")
            pipelineBase = try await pipelineCounts()
            let intakeBase = try await counts()
            let pipelineStart = ContinuousClock.now
            let pipelineCPU = CPUAccount.now()
            let pipelinePublisher = publisher
            async let pipelinePublishing = load.saturate(count: pipelineReports, on: pipelinePublisher)
            let pipelineSamples = try await Progress.wait(
                pool: pool,
                sql: "SELECT (SELECT count(*) FROM intake.reports), \(pipelineSQL.dropFirst(7))",
                targets: [intakeBase.reports + pipelineReports, pipelineBase[0] + pipelineReports, pipelineBase[1] + pipelineReports],
                from: pipelineStart,
                timeout: .seconds(Int64(120 + pipelineReports / 50)),
                interval: Progress.pipelineInterval
            )
            let (pipelineSent, pipelinePublishSeconds) = try await pipelinePublishing
            var pipeline = HopResult(name: "pipeline (saturation)", reports: pipelineSent.count)
            pipeline.cpuCores = CPUAccount.now().cores(since: pipelineCPU)
            pipeline.cpuMillisecondsPerReport = CPUAccount.now().millisecondsPerReport(since: pipelineCPU, reports: pipelineSent.count)
            pipeline.publishPerSecond = Double(pipelineSent.count) / pipelinePublishSeconds
            if let t = Progress.time(pipelineSamples, index: 0, reaching: intakeBase.reports + pipelineSent.count) { pipeline.storedPerSecond = Double(pipelineSent.count) / t; pipeline.storedSeconds = t }
            if let t = Progress.time(pipelineSamples, index: 1, reaching: pipelineBase[0] + pipelineSent.count) { pipeline.casePerSecond = Double(pipelineSent.count) / t }
            if let t = Progress.time(pipelineSamples, index: 2, reaching: pipelineBase[1] + pipelineSent.count) { pipeline.ledgerPerSecond = Double(pipelineSent.count) / t }
            let last = pipelineSamples.last!.values
            pipeline.storedCount = last[0] - intakeBase.reports
            pipeline.caseCount = last[1] - pipelineBase[0]
            pipeline.notifierEventCount = last[2] - pipelineBase[1]
            let latencies = try await pipelineLatencies(pipelineSent, pool: pool)
            pipeline.latencyStored = LatencySummary(milliseconds: try await storedLatencies(pipelineSent))
            pipeline.latencyCase = LatencySummary(milliseconds: latencies.cases)
            pipeline.latencyLedger = LatencySummary(milliseconds: latencies.ledger)
            pipeline.latencyCaseAtNotifier = LatencySummary(milliseconds: latencies.caseAtNotifier)
            results.hops.append(pipeline)
            say(pipeline.summary)

            // MARK: Related reports (issue #16)
            let storms = StormBench(setup: setup, pool: pool, logger: logger)
            if !skip.contains("correlated") {
                publisher = try await renewed(publisher)
                let entry = try await storms.run(
                    name: "pipeline, correlated (one system, 10 assets)", reports: setting("ISMS_BENCH_CORRELATED_REPORTS", 5_000), assets: 10, rate: nil,
                    drainBound: 120, on: publisher, say: say)
                say(entry.summary)
                results.storms.append(entry)
            }
            if !skip.contains("storm") {
                let reports = setting("ISMS_BENCH_STORM_REPORTS", 100_000)
                let stormSeconds = Double(setting("ISMS_BENCH_STORM_SECONDS", 60))
                publisher = try await renewed(publisher)
                let entry = try await storms.run(
                    name: "storm (\(reports) related reports in \(Int(stormSeconds)) s)", reports: reports, assets: 10, rate: Double(reports) / stormSeconds,
                    // Followed for up to 8 min after the last publish, so a miss of the 120 s target says by how much.
                    drainBound: 480, on: publisher, say: say)
                say(entry.summary)
                results.storms.append(entry)
            }
        }

        // MARK: Memory
        for service in services {
            guard let memory = service.memory() else { continue }
            var entry = MemoryResult(service: service.name, idleKiB: service.idleRSSKiB, peakKiB: memory.hwm, endKiB: memory.rss)
            if service.name == "incident-intake" { entry.peakAfterIntakeSaturationKiB = saturationHWM }
            results.memory.append(entry)
        }
        if services.first?.isSeparateProcess == false { results.notes.append("Services ran in-process: no per-service memory figures.") }

        // MARK: Triage replicas
        if !skip.contains("scaling") {
            // Only triage works in this part: the pipeline's triage and notifier stop, their queues start empty.
            for service in services where service.name != "incident-intake" { await service.stop() }
            services.removeAll { $0.name != "incident-intake" }
            publisher = try await renewed(publisher)
            for queue in ["csirt-triage.events", "notifier.events"] { try await publisher.purgeQueue(queue) }
            let scaling = TriageScaling(setup: setup, load: load, pool: pool, binDirectory: binDirectory, portBase: portBase + 10, logger: logger)
            let replicaCounts = (environment["ISMS_BENCH_SCALING_REPLICAS"] ?? "1,3").split(separator: ",").compactMap { Int($0) }
            var entries: [ScalingResult] = []
            for replicas in replicaCounts {
                publisher = try await renewed(publisher)
                let entry = try await scaling.run(replicas: replicas, reports: setting("ISMS_BENCH_SCALING_REPORTS", 3_000), on: publisher, say: say)
                say(entry.summary)
                entries.append(entry)
                results.triageScaling = entries
            }
        }

        // MARK: Web console pages
        if !skip.contains("console") {
            // The console part starts its own triage and notifier on a quiet machine: those of
            // earlier parts stop, and the warm-up's events wait in no queue.
            for service in services where service.name != "incident-intake" { await service.stop() }
            services.removeAll { $0.name != "incident-intake" }
            _ = try await Progress.wait(
                pool: pool, sql: "SELECT (SELECT count(*) FROM intake.outbox WHERE published_at IS NOT NULL) - (SELECT count(*) FROM intake.outbox)",
                targets: [0], from: .now, timeout: .seconds(120), interval: .milliseconds(200))
            publisher = try await renewed(publisher)
            for queue in ["csirt-triage.events", "notifier.events"] { try await publisher.purgeQueue(queue) }
            let console = ConsoleBench(setup: setup, pool: pool, binDirectory: binDirectory, portBase: portBase, logger: logger)
            let (entry, memory) = await console.run(
                cases: setting("ISMS_BENCH_CONSOLE_CASES", 10_000), unacknowledged: setting("ISMS_BENCH_CONSOLE_UNACKNOWLEDGED", 300),
                requests: setting("ISMS_BENCH_CONSOLE_REQUESTS", 200), warmUp: 20, say: say)
            results.console = entry
            results.memory += memory
        }
        await stopAll()
        await publisher.close()
    } catch {
        await stopAll()
        say("failed: \(error)")
        results.notes.append("run failed: \(error)")
    }
    await pool.close()
    if environment["ISMS_BENCH_KEEP"] != "1" { await setup.cleanUp(logger: logger) }

    results.finishedAt = Date()
    let out = environment["ISMS_BENCH_OUT"] ?? setup.root + "/bench/results"
    let paths = try results.write(to: out)
    FileHandle.standardOutput.write(Data((results.markdown() + "\n").utf8))
    say("wrote \(paths.json) and \(paths.markdown)")

}

/// Publish → case opened, → the first ledger row about the report or its case (issue #16: the
/// chain is told when the case opens), and → the notifier holding the case's
/// `incident.case-opened` (the report → case → notifier chain), in ms.
func pipelineLatencies(_ sent: [UUID: Date], pool: PostgresPool) async throws -> (cases: [Double], ledger: [Double], caseAtNotifier: [Double]) {
    func collect(_ sql: String) async throws -> [Double] {
        try await pool.query(PostgresQuery(unsafeSQL: sql)).rows.compactMap { row in
            let id: UUID = try row.decode(0)
            guard let at = sent[id] else { return nil }
            return try row.decode(1, as: Date.self).timeIntervalSince(at) * 1000
        }
    }
    let recent = "r.recorded_at > now() - interval '10 minutes'"
    let cases = try await collect(
        "SELECT r.report_id, c.opened_at FROM intake.reports r JOIN triage.cases c ON c.source_kind = 'incident-report' AND c.source_id = r.intake_id::text WHERE \(recent)")
    let ledger = try await collect(
        """
        SELECT r.report_id, min(n.created_at) FROM intake.reports r
        JOIN triage.case_reports cr ON cr.source_kind = 'incident-report' AND cr.source_id = r.intake_id::text
        JOIN triage.cases c ON c.id = cr.case_id
        JOIN notifier.events e ON e.case_number = c.case_number
        JOIN notifier.notifications n ON n.event_key = e.event_key
        WHERE \(recent) AND e.event_type = '\(MessageTypes.incidentCaseOpened.wireName)' GROUP BY r.report_id
        """)
    let caseAtNotifier = try await collect(
        """
        SELECT r.report_id, e.received_at FROM intake.reports r JOIN notifier.events e ON e.intake_id = r.intake_id::text
        WHERE \(recent) AND e.event_type = '\(MessageTypes.incidentCaseOpened.wireName)'
        """)
    return (cases, ledger, caseAtNotifier)
}
