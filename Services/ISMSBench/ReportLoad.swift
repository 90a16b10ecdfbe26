import AMQP
import Contracts
import Foundation
import ServiceRuntime
import Logging
import Postgres
import Synchronization

/// Valid `incident-report.submit.v1` commands, published with confirms as the broker user.
struct ReportLoad: Sendable {
    var setup: BenchSetup
    var logger: Logger
    /// Nil: each report names an asset of its own, so none is related to another (issue #16's
    /// uncorrelated pipeline). A number: the reports name that many assets in turn, one system
    /// reporting about a few hosts, so the shipped `producer-asset` rule joins them into that many cases.
    var correlatedAssets: Int?

    init(setup: BenchSetup, logger: Logger, correlatedAssets: Int? = nil) {
        self.setup = setup
        self.logger = logger
        self.correlatedAssets = correlatedAssets
    }

    private static let counter = Atomic<Int>(0)

    /// One command without `reply_to` (nobody waits for intake's answer), `user_id` set.
    func message(reportID: UUID, now: Date) throws -> AMQPOutgoingMessage {
        let id = reportID.lowercasedString
        let asset = correlatedAssets.map { "BENCH-PC-\(Self.counter.wrappingAdd(1, ordering: .relaxed).oldValue % max(1, $0))" } ?? "PC-\(id.prefix(13))"
        let occurred = ContractsJSON.formatTimestamp(now.addingTimeInterval(-3600))
        let detected = ContractsJSON.formatTimestamp(now.addingTimeInterval(-1800))
        let known = ContractsJSON.formatTimestamp(now.addingTimeInterval(-600))
        let data = """
            {"reportId":"\(id)","reporter":{"sectionCode":"family-registry","name":"山田 太郎","contact":"内線 1234"},\
            "occurredAt":"\(occurred)","detectedAt":"\(detected)","knownAt":"\(known)","category":"loss-or-theft",\
            "affectedAssets":[{"id":"\(asset)","name":"窓口用ノートPC","classification":{"confidentiality":"2","integrity":"2","availability":"2"}}],\
            "answers":{"personalData":"yes","myNumber":"no","sensitivePersonalData":"no","wrongfulIntent":"no","unspecifiedViewers":"no","dataEncrypted":"yes"},\
            "affectedPersons":1,"title":"ノートPCの置き忘れ","description":"窓口用ノートPC (暗号化済み) を会議室に置き忘れ、翌朝回収した。","attachments":[]}
            """
        let envelope = RawEnvelope(
            source: "urn:isms:producer:\(setup.amqpUser)",
            type: MessageTypes.submitIncidentReport.wireName,
            time: now,
            subject: id,
            dataClassification: .confidential,
            data: Array(data.utf8)
        )
        var message = try envelope.amqpMessage(appID: "isms-bench")
        message.properties.userID = setup.amqpUser
        return message
    }

    /// Publishes `count` reports as fast as confirms in windows of `window` allow. Returns each
    /// report's publish time (the producer's wall clock when its window was handed to the broker).
    func saturate(count: Int, window: Int = 100, on connection: AMQPConnection) async throws -> (sent: [UUID: Date], seconds: Double) {
        var sent: [UUID: Date] = [:]
        sent.reserveCapacity(count)
        // Built ahead so the publisher measures the broker, not JSON formatting.
        let now = Date()
        var prepared: [(UUID, AMQPOutgoingMessage)] = []
        prepared.reserveCapacity(count)
        for _ in 0..<count {
            let id = UUID()
            prepared.append((id, try message(reportID: id, now: now)))
        }
        let start = ContinuousClock.now
        for chunk in stride(from: 0, to: count, by: window) {
            let batch = prepared[chunk..<min(chunk + window, count)]
            let at = Date()
            let outcomes = try await connection.publish(batch.map(\.1))
            for (index, (id, _)) in batch.enumerated() where outcomes[index] == nil { sent[id] = at }
            if let failure = outcomes.compactMap({ $0 }).first { logger.warning("a report was refused by the broker", metadata: ["error": "\(failure)"]) }
        }
        return (sent, Clock.elapsed(since: start))
    }

    /// Publishes at `rate` reports per second for `seconds`: every 5 ms the reports that are due
    /// go out as one window; each is stamped with the wall clock just before its publish.
    func paced(rate: Double, seconds: Double, on connection: AMQPConnection) async throws -> [UUID: Date] {
        var sent: [UUID: Date] = [:]
        let total = Int(rate * seconds)
        let start = ContinuousClock.now
        var published = 0
        while published < total {
            let due = min(total, Int(Clock.elapsed(since: start) * rate) + 1)
            if due > published {
                let at = Date()
                var batch: [(UUID, AMQPOutgoingMessage)] = []
                for _ in published..<due {
                    let id = UUID()
                    batch.append((id, try message(reportID: id, now: at)))
                }
                let outcomes = try await connection.publish(batch.map(\.1))
                for (index, (id, _)) in batch.enumerated() where outcomes[index] == nil { sent[id] = at }
                published = due
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        return sent
    }
}

/// Consumes `incident.reported` from the bench's own queue and notes when each report's event
/// arrived (wall clock), i.e. publish → stored → outbox → relay → broker → here.
final class EventRecorder: Sendable {
    let arrivals = Mutex<[UUID: Date]>([:])
    private let task = Mutex<Task<Void, Never>?>(nil)

    func start(setup: BenchSetup, queue: String, logger: Logger) async throws {
        let connection = try await AMQPConnection.connect(AMQPConfiguration(url: setup.amqpURL, connectionName: "isms-bench/events"), logger: logger)
        _ = try await connection.declare(AMQPQueue(name: queue, durable: false, exclusive: true, autoDelete: true))
        try await connection.bind(AMQPBinding(queue: queue, exchange: BusLayout.eventsExchange, routingKey: MessageTypes.incidentReported.routingKey))
        _ = try await connection.consume(queue: queue, prefetch: 1000)
        let started = Task { [self] in
            while !Task.isCancelled {
                guard let deliveries = try? await connection.nextDeliveries(max: 500, timeout: .milliseconds(200)) else { break }
                guard let last = deliveries.last else { continue }
                let now = Date()
                var ids: [UUID] = []
                for delivery in deliveries {
                    if let raw = try? RawEnvelope(delivery: delivery), let event = try? raw.decode(as: IncidentReported.self) { ids.append(event.data.reportID) }
                }
                self.arrivals.withLock { arrivals in for id in ids where arrivals[id] == nil { arrivals[id] = now } }
                try? await connection.ack(last.deliveryTag, multiple: true)
            }
            await connection.close()
        }
        task.withLock { $0 = started }
    }

    func stop() async {
        let running = task.withLock { $0 }
        running?.cancel()
        await running?.value
    }

    func times() -> [UUID: Date] { arrivals.withLock { $0 } }
}

/// Polls counters in the database until they reach their targets; records when each crossed
/// 10 %, 90 % and 100 % of the way.
struct Progress: Sendable {
    struct Sample: Sendable { var seconds: Double; var values: [Int] }

    /// How often the pipeline's parts count rows. The counts are the bench's own load on the
    /// database it measures: at every 50-100 ms they took a tenth of a core, and the storm's
    /// (84 ms each over 100,000+ rows, every 200 ms) a third of one (`pg_stat_statements`).
    static let pipelineInterval: Duration = .milliseconds(250)
    static let stormInterval: Duration = .seconds(1)

    static func wait(
        pool: PostgresPool,
        sql: String,
        targets: [Int],
        from start: ContinuousClock.Instant,
        timeout: Duration,
        interval: Duration = .milliseconds(50)
    ) async throws -> [Sample] {
        var samples: [Sample] = []
        let deadline = ContinuousClock.now + timeout
        while true {
            let row = try await pool.query(PostgresQuery(unsafeSQL: sql)).rows.first
            let values = try (0..<targets.count).map { try row?.decode($0, as: Int.self) ?? 0 }
            samples.append(Sample(seconds: Clock.elapsed(since: start), values: values))
            if zip(values, targets).allSatisfy({ $0 >= $1 }) || ContinuousClock.now > deadline { return samples }
            try await Task.sleep(for: interval)
        }
    }

    /// Seconds (from the start) when counter `index` first reached `value` (linear between samples).
    static func time(_ samples: [Sample], index: Int, reaching value: Int) -> Double? {
        var previous: Sample?
        for sample in samples {
            if sample.values[index] >= value {
                guard let previous, sample.values[index] > previous.values[index] else { return sample.seconds }
                let fraction = Double(value - previous.values[index]) / Double(sample.values[index] - previous.values[index])
                return previous.seconds + fraction * (sample.seconds - previous.seconds)
            }
            previous = sample
        }
        return nil
    }
}
