import AMQP
import Contracts
import Foundation
import Logging
import Postgres

/// Related reports through the whole pipeline (issue #16): one system reporting about a few
/// assets, at saturation and as a storm at a fixed rate. Intake, triage and the notifier run.
struct StormBench: Sendable {
    var setup: BenchSetup
    var pool: PostgresPool
    var logger: Logger

    /// The storm's figures, and the targets they are held to.
    struct Result: Codable, Sendable {
        var name: String
        var reports: Int
        var assets: Int
        var offeredPerSecond: Double?
        var publishSeconds: Double
        /// Reports / seconds from the first publish until each counter reached them.
        var storedPerSecond: Double?
        var joinedPerSecond: Double?
        var notifiedPerSecond: Double?
        /// From the last publish until everything was stored, in cases, told to the notifier, and
        /// every queue and outbox was empty; nil when that did not happen within the bound.
        var drainedAfterLastPublish: Double?
        var drainBound: Double
        var stored: Int
        var inCases: Int
        var cases: Int
        /// The `incident.case-opened` and `incident.report-attached` events that told the notifier.
        var notifierEvents: Int
        /// Ledger rows of the storm's cases, and messages (rows not folded into another's group message).
        var ledgerRows: Int
        var messages: Int
        /// Rows queued in a group, to go out as one message per group at its next flush.
        var waitingInGroups: Int
        /// The most messages one recipient (on one channel) got about the storm's cases.
        var mostMessagesPerRecipient: Int
        var recipients: Int
        var cpuCores: [String: Double]
        /// CPU milliseconds per report, per process kind.
        var cpuMillisecondsPerReport: [String: Double]
        var leftInQueues: [String: Int]
        var leftInOutboxes: Int

        var summary: String {
            func rate(_ value: Double?) -> String { value.map { String(format: "%.0f", $0) } ?? "–" }
            return "  \(name): \(reports) reports over \(assets) assets; stored \(rate(storedPerSecond))/s, in cases \(rate(joinedPerSecond))/s, "
                + "notifier \(rate(notifiedPerSecond))/s; \(cases) cases; drained \(drainedAfterLastPublish.map { String(format: "%.1f s", $0) } ?? "NOT within \(Int(drainBound)) s") after the last publish; "
                + "\(notifierEvents) case events, \(ledgerRows) ledger rows, \(messages) messages out, \(waitingInGroups) rows waiting in groups, at most \(mostMessagesPerRecipient) messages per recipient"
        }
    }

    /// Publishes `reports` (at `rate`/s, or as fast as confirms allow when nil) naming `assets`
    /// assets in turn, and follows them to the end.
    func run(name: String, reports: Int, assets: Int, rate: Double?, drainBound: Double, on publisher: AMQPConnection, say: (String) -> Void) async throws -> Result {
        let load = ReportLoad(setup: setup, logger: logger, correlatedAssets: assets)
        // The notifier's count is of reports: a case-opened stands for one, a report-attached for
        // as many as joined with it (one event per case per triage batch).
        let caseEvents = "event_type IN ('\(MessageTypes.incidentReportAttached.wireName)', '\(MessageTypes.incidentCaseOpened.wireName)')"
        let counterSQL = """
            SELECT (SELECT count(*) FROM intake.reports), (SELECT count(*) FROM triage.case_reports),
                   (SELECT coalesce(sum(coalesce((attributes->>'reportsJoined')::integer, 1)), 0)::bigint FROM notifier.events WHERE \(caseEvents))
            """
        let eventsBefore = try await scalar("SELECT count(*) FROM notifier.events WHERE \(caseEvents)")
        let before = try await counts(counterSQL)
        let casesBefore = try await scalar("SELECT coalesce(max(number), 0) FROM triage.cases WHERE year = extract(year FROM now() AT TIME ZONE 'Asia/Tokyo')")
        let since = try await scalar("SELECT (extract(epoch FROM now()) * 1000)::bigint")
        let cpuStart = CPUAccount.now()
        let start = ContinuousClock.now
        say("\(name): \(reports) reports naming \(assets) assets" + (rate.map { " at \(Int($0))/s" } ?? " as fast as confirms allow"))
        async let publishing: (sent: [UUID: Date], seconds: Double) = {
            if let rate {
                let begun = ContinuousClock.now
                let sent = try await load.paced(rate: rate, seconds: Double(reports) / rate, on: publisher)
                return (sent, Clock.elapsed(since: begun))
            }
            return try await load.saturate(count: reports, on: publisher)
        }()
        // Every report joins the pipeline's counters once: stored, in a case, and its case's
        // event (opened or attached) held by the notifier.
        let samples = try await Progress.wait(
            pool: pool, sql: counterSQL, targets: before.map { $0 + reports }, from: start,
            timeout: .seconds(Int64(Double(reports) / (rate ?? 500) + drainBound + 60)),
            interval: reports >= 50_000 ? Progress.stormInterval : Progress.pipelineInterval)
        let (sent, publishSeconds) = try await publishing
        let lastPublish = publishSeconds
        // Then every queue and outbox empty.
        var drained: Double?
        let queues = ["incident-intake.commands", "csirt-triage.events", "notifier.events"]
        // Its own connection: the publisher's sat idle while the counters were polled.
        let watcher = try await AMQPConnection.connect(AMQPConfiguration(url: setup.amqpURL, connectionName: "isms-bench/queues"), logger: logger)
        defer { Task { await watcher.close() } }
        var left: [String: Int] = [:]
        var outboxes = 0
        // At least one look, so what is left is measured even when the counters took the whole bound.
        var looked = false
        while !looked || Clock.elapsed(since: start) - lastPublish <= drainBound {
            looked = true
            left = [:]
            for queue in queues { left[queue] = Int(try await watcher.queueState(queue)?.messageCount ?? 0) }
            outboxes = try await scalar(
                """
                SELECT (SELECT count(*) FROM intake.outbox WHERE published_at IS NULL) + (SELECT count(*) FROM triage.outbox WHERE published_at IS NULL)
                     + (SELECT count(*) FROM notifier.outbox WHERE published_at IS NULL)
                """)
            let now = try await counts(counterSQL)
            if left.values.allSatisfy({ $0 == 0 }), outboxes == 0, zip(now, before).allSatisfy({ $0 - $1 >= sent.count }) {
                drained = max(0, Clock.elapsed(since: start) - lastPublish)
                break
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        let cpu = CPUAccount.now()
        let cores = cpu.cores(since: cpuStart)
        let wall = cpu.taken.timeIntervalSince(cpuStart.taken)
        let final = try await counts(counterSQL)
        let cases = try await scalar("SELECT coalesce(max(number), 0) FROM triage.cases WHERE year = extract(year FROM now() AT TIME ZONE 'Asia/Tokyo')") - casesBefore
        // The notifications about the storm's cases: rows, and rows that went out as a message of
        // their own (a group's followers ride inside their leader's message).
        let storm = """
            FROM notifier.notifications n JOIN notifier.events e ON e.event_key = n.event_key
            WHERE e.received_at >= to_timestamp(\(since) / 1000.0) AND e.event_type IN
                  ('\(MessageTypes.incidentReportAttached.wireName)', '\(MessageTypes.incidentCaseOpened.wireName)')
            """
        let ledgerRows = try await scalar("SELECT count(*) \(storm)")
        // A message went out (or is going) for a row that is sent, being sent or failed and not
        // folded into a leader's; rows still queued in a group wait for its next flush, which
        // makes one message of them all.
        let out = "\(storm) AND n.leader_id IS NULL AND n.state IN ('sending', 'sent', 'failed', 'acknowledged')"
        let messages = try await scalar("SELECT count(*) \(out)")
        let waiting = try await scalar("SELECT count(*) \(storm) AND n.state = 'queued' AND n.group_id IS NOT NULL")
        let events = try await scalar("SELECT count(*) FROM notifier.events WHERE \(caseEvents)") - eventsBefore
        let perRecipient = try await pool.query(PostgresQuery(unsafeSQL: "SELECT count(*) FROM (SELECT n.recipient, n.channel_kind, count(*) AS c \(out) GROUP BY 1, 2) x"))
        let most = try await scalar("SELECT coalesce(max(c), 0) FROM (SELECT n.recipient, n.channel_kind, count(*) AS c \(out) GROUP BY 1, 2) x")
        func perSecond(_ index: Int) -> Double? {
            Progress.time(samples, index: index, reaching: before[index] + sent.count).map { Double(sent.count) / $0 }
        }
        return Result(
            name: name, reports: sent.count, assets: assets, offeredPerSecond: rate, publishSeconds: publishSeconds,
            storedPerSecond: perSecond(0), joinedPerSecond: perSecond(1), notifiedPerSecond: perSecond(2),
            drainedAfterLastPublish: drained, drainBound: drainBound, stored: final[0] - before[0], inCases: final[1] - before[1], cases: cases,
            notifierEvents: events, ledgerRows: ledgerRows, messages: messages, waitingInGroups: waiting,
            mostMessagesPerRecipient: most, recipients: try perRecipient.rows.first?.decode(0, as: Int.self) ?? 0, cpuCores: cores,
            cpuMillisecondsPerReport: cores.mapValues { ($0 * wall * 1000 / Double(max(1, sent.count)) * 100).rounded() / 100 },
            leftInQueues: left, leftInOutboxes: outboxes)
    }

    private func counts(_ sql: String) async throws -> [Int] {
        let row = try await pool.query(PostgresQuery(unsafeSQL: sql)).rows.first
        return try (0..<3).map { try row?.decode($0, as: Int.self) ?? 0 }
    }

    private func scalar(_ sql: String) async throws -> Int {
        try await pool.query(PostgresQuery(unsafeSQL: sql)).rows.first?.decode(0, as: Int.self) ?? 0
    }
}
