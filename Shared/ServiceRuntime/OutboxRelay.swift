public import AMQP
public import ClientSupport
public import Logging
public import Postgres
public import ServiceLifecycle
import Foundation
import Synchronization

/// Publishes what committed transactions wrote to the outbox (brief §5).
///
/// A batch is claimed with `FOR UPDATE SKIP LOCKED` by pushing its `available_at` forward (a
/// lease), published with confirms, and marked published. Several replicas never claim the same
/// row; a replica that dies mid-batch leaves rows that another picks up when the lease expires,
/// so a message can be published twice but never lost (consumers de-duplicate by their inbox).
/// The relay is woken by LISTEN/NOTIFY and sweeps at a poll interval as a fall-back.
public struct OutboxRelay: Service {
    public struct Options: Sendable {
        public var schemas: [String]
        public var batchSize: Int
        public var pollInterval: Duration
        public var lease: Duration = .seconds(30)
        /// How long published rows are kept for inspection before they are purged.
        public var retention: Duration = .seconds(24 * 3600)
        public var backoff = Backoff(initial: .milliseconds(200), maximum: .seconds(10))

        public init(schemas: [String], batchSize: Int, pollInterval: Duration) {
            self.schemas = schemas
            self.batchSize = batchSize
            self.pollInterval = pollInterval
        }
    }

    private let options: Options
    private let amqp: AMQPConfiguration
    private let database: PostgresPool
    private let listenerConfiguration: PostgresConfiguration
    private let readiness: Readiness
    private let metrics = ServiceMetrics()
    private let logger: Logger
    private let link = "relay:\(UUID().uuidString.prefix(8))"

    public init(
        options: Options,
        amqp: AMQPConfiguration,
        database: PostgresPool,
        listenerConfiguration: PostgresConfiguration,
        readiness: Readiness,
        logger: Logger
    ) {
        self.options = options
        self.amqp = amqp
        self.database = database
        self.listenerConfiguration = listenerConfiguration
        self.readiness = readiness
        self.logger = logger
        readiness.setBroker(link, connected: false)
    }

    public func run() async throws {
        let wake = WakeSignal()
        let listener = PostgresListener(
            configuration: listenerConfiguration,
            channels: options.schemas.map(Outbox.channel(schema:)),
            logger: logger
        )
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await listener.run() }
            group.addTask {
                for await _ in listener.notifications { wake.signal() }
            }
            group.addTask {
                await self.relayLoop(wake: wake)
            }
            await group.next()
            group.cancelAll()
        }
    }

    /// Runs until cancelled, or until a graceful shutdown has been asked for and the outbox is
    /// empty: `main` lists the relay before the consumers, so it stops after them and publishes
    /// what their last transactions wrote.
    private func relayLoop(wake: WakeSignal) async {
        let stopping = StopFlag()
        await withGracefulShutdownHandler {
            await relayUntilStopped(wake: wake, stopping: stopping)
        } onGracefulShutdown: {
            stopping.set()
            wake.signal()
        }
    }

    private func relayUntilStopped(wake: WakeSignal, stopping: StopFlag) async {
        var attempt = 0
        while !Task.isCancelled {
            do {
                // Stopping while the broker is unreachable: what is left stays in the outbox for the
                // next start instead of holding up the shutdown until the broker is back.
                let (amqp, logger, backoff) = (amqp, logger, options.backoff)
                let connection = try await cancelWhenGracefulShutdown {
                    try await AMQPConnection.connect(amqp, logger: logger, backoff: backoff)
                }
                try await connection.enableConfirms()
                readiness.setBroker(link, connected: true)
                attempt = 0
                var lastPurge = ContinuousClock.now
                while !Task.isCancelled {
                    var published = 0
                    for schema in options.schemas {
                        published += try await relayBatch(schema: schema, on: connection)
                    }
                    if ContinuousClock.now - lastPurge > .seconds(300) {
                        try await purge()
                        lastPurge = ContinuousClock.now
                    }
                    if published == 0 {
                        if stopping.isSet { break }
                        await wake.wait(timeout: options.pollInterval)
                        try await connection.serviceHeartbeats()
                    }
                }
                await connection.close()
                if stopping.isSet { break }
            } catch is CancellationError {
                break
            } catch {
                readiness.setBroker(link, connected: false)
                logger.warning("outbox relay interrupted; retrying", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: options.backoff.delay(attempt: attempt))
                attempt += 1
            }
        }
        readiness.setBroker(link, connected: false)
    }

    /// Claims, publishes and marks one batch of `schema`'s outbox; returns how many were published.
    func relayBatch(schema: String, on connection: AMQPConnection) async throws -> Int {
        let table = "\(quoted(schema)).outbox"
        let batchSize = options.batchSize
        let leaseSeconds = Int(options.lease.seconds)
        let claimed: [ClaimedRow] = try await database.withConnection { db in
            let rows = try db.query(
                """
                WITH claimable AS (
                    SELECT id FROM \(unescaped: table)
                    WHERE published_at IS NULL AND available_at <= now()
                    ORDER BY id
                    LIMIT \(batchSize)
                    FOR UPDATE SKIP LOCKED
                )
                UPDATE \(unescaped: table) AS o
                SET available_at = now() + make_interval(secs => \(leaseSeconds)), attempts = o.attempts + 1
                FROM claimable WHERE o.id = claimable.id
                RETURNING o.id, o.exchange, o.routing_key, o.mandatory, o.properties, o.body, o.attempts
                """
            )
            return try rows.map { row in
                ClaimedRow(
                    id: try row.decode("id", as: Int64.self),
                    attempts: try row.decode("attempts", as: Int.self),
                    message: AMQPOutgoingMessage(
                        exchange: try row.decode("exchange", as: String.self),
                        routingKey: try row.decode("routing_key", as: String.self),
                        body: try row.decode("body", as: [UInt8].self),
                        properties: try row.decode("properties", as: PostgresJSON<StoredProperties>.self).value.amqpProperties,
                        mandatory: try row.decode("mandatory", as: Bool.self)
                    )
                )
            }.sorted { $0.id < $1.id }
        }
        guard !claimed.isEmpty else { return 0 }

        let results = try await connection.publish(claimed.map(\.message))
        FaultHook.reached(.afterPublish, ids: claimed.map { String($0.id) })  // test-only; see FaultHook
        var publishedIDs: [Int64] = []
        var failures: [(id: Int64, error: String, retryIn: Int)] = []
        for (row, error) in zip(claimed, results) {
            if let error {
                let retry = options.backoff.cap(attempt: row.attempts).seconds
                failures.append((row.id, "\(error)", max(1, Int(retry))))
                metrics.failed(stage: "publish")
                logger.error(
                    "outbox message refused by the broker; will retry",
                    metadata: ["outbox.id": "\(row.id)", "amqp.exchange": "\(row.message.exchange)", "amqp.routing_key": "\(row.message.routingKey)", "error": "\(error)"]
                )
            } else {
                publishedIDs.append(row.id)
                metrics.published(exchange: row.message.exchange)
            }
        }
        let published = publishedIDs
        let failed = failures
        try await database.withTransaction { db in
            if !published.isEmpty {
                _ = try db.query("UPDATE \(unescaped: table) SET published_at = now() WHERE id = ANY(\(published))")
            }
            for failure in failed {
                _ = try db.query(
                    """
                    UPDATE \(unescaped: table)
                    SET last_error = \(failure.error), available_at = now() + make_interval(secs => \(failure.retryIn))
                    WHERE id = \(failure.id)
                    """
                )
            }
        }
        return publishedIDs.count
    }

    private func purge() async throws {
        let retentionSeconds = Int(options.retention.seconds)
        for schema in options.schemas {
            let table = "\(quoted(schema)).outbox"
            let backlog = try await database.withConnection { db in
                _ = try db.query("DELETE FROM \(unescaped: table) WHERE published_at < now() - make_interval(secs => \(retentionSeconds))")
                return try db.query("SELECT count(*) AS n FROM \(unescaped: table) WHERE published_at IS NULL").rows.first?.decode("n", as: Int.self) ?? 0
            }
            metrics.outboxBacklog(schema: schema, backlog)
        }
    }

    struct ClaimedRow: Sendable {
        var id: Int64
        var attempts: Int
        var message: AMQPOutgoingMessage
    }
}
