public import AMQP
public import ClientSupport
public import Contracts
public import Logging
public import Postgres
public import ServiceLifecycle
public import Foundation
import Synchronization

/// Consumes one queue (brief §5): a batch of deliveries is handled in one database transaction
/// with a savepoint per message — inbox row, state change and outbox rows together — then
/// committed, then acknowledged.
///
/// - A duplicate (its inbox row already exists) is acknowledged and skipped.
/// - A ``PermanentFailure`` is copied to the dead-letter exchange with reason headers, then
///   acknowledged.
/// - Any other handler error rolls back that message only; after commit the message is
///   requeued, so the queue's delivery limit bounds a poison message.
/// - Losing the database pauses the batch and retries it with back-off while the broker
///   connection stays up (deliveries in hand are not returned, so innocent messages keep their
///   delivery count). Losing the broker reconnects with back-off; whatever was not acknowledged
///   is redelivered and de-duplicated by the inbox.
public struct MessageConsumer: Service {
    public struct Options: Sendable {
        public var queue: String
        public var consumerName: String
        public var schema: String
        /// The service the consumer belongs to: what its handlers emit is stamped with it.
        public var service: ServiceName
        public var prefetch: Int
        public var batchSize: Int
        public var receiveTimeout: Duration = .milliseconds(100)
        public var backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(5))

        public init(queue: String, consumerName: String, schema: String, service: ServiceName, prefetch: Int, batchSize: Int) {
            self.queue = queue
            self.consumerName = consumerName
            self.schema = schema
            self.service = service
            self.prefetch = prefetch
            self.batchSize = batchSize
        }
    }

    private let options: Options
    private let amqp: AMQPConfiguration
    private let database: PostgresPool
    private let handler: any MessageHandler
    private let readiness: Readiness
    private let metrics = ServiceMetrics()
    private let logger: Logger
    private let clock: @Sendable () -> Date
    private let link: String

    public init(
        options: Options,
        amqp: AMQPConfiguration,
        database: PostgresPool,
        handler: any MessageHandler,
        readiness: Readiness,
        logger: Logger,
        clock: @escaping @Sendable () -> Date = Date.init
    ) {
        self.options = options
        self.amqp = amqp
        self.database = database
        self.handler = handler
        self.readiness = readiness
        self.logger = logger
        self.clock = clock
        self.link = "consumer:\(options.queue):\(UUID().uuidString.prefix(8))"
        readiness.setBroker(link, connected: false)
    }

    public func run() async throws {
        let stopping = StopFlag()
        await withGracefulShutdownHandler {
            var attempt = 0
            while !stopping.isSet && !Task.isCancelled {
                do {
                    // A SIGTERM while the broker is unreachable must not wait for it to come back.
                    let (amqp, logger, backoff) = (amqp, logger, options.backoff)
                    let connection = try await cancelWhenGracefulShutdown {
                        try await AMQPConnection.connect(amqp, logger: logger, backoff: backoff)
                    }
                    attempt = 0
                    defer { readiness.setBroker(link, connected: false) }
                    try await consume(on: connection, stopping: stopping)
                    await connection.close()
                } catch is CancellationError {
                    break
                } catch {
                    readiness.setBroker(link, connected: false)
                    metrics.connectionLost(peer: "broker")
                    logger.warning("consumer lost the broker; reconnecting", metadata: ["amqp.queue": "\(options.queue)", "error": "\(error)"])
                    try? await Task.sleep(for: options.backoff.delay(attempt: attempt))
                    attempt += 1
                }
            }
        } onGracefulShutdown: {
            readiness.set(.shuttingDown, true)
            stopping.set()
        }
    }

    private func consume(on connection: AMQPConnection, stopping: StopFlag) async throws {
        try await connection.enableConfirms()
        let tag = try await connection.consume(queue: options.queue, prefetch: UInt16(options.prefetch))
        readiness.setBroker(link, connected: true)
        logger.info("consuming", metadata: ["amqp.queue": "\(options.queue)", "amqp.prefetch": "\(options.prefetch)"])
        while !stopping.isSet && !Task.isCancelled {
            let deliveries = try await connection.nextDeliveries(max: options.batchSize, timeout: options.receiveTimeout)
            guard !deliveries.isEmpty else { continue }
            try await process(deliveries, on: connection)
        }
        // Graceful stop: the batch in hand has been committed and acknowledged. Cancelling and
        // closing returns the deliveries that were prefetched but not started.
        try? await connection.cancel(consumerTag: tag)
    }

    /// Handles one batch to the end: commit, dead-letter copies, acknowledgements.
    func process(_ deliveries: [AMQPDelivery], on connection: AMQPConnection) async throws {
        let started = ContinuousClock.now
        let outcomes = try await commitWithPatience(deliveries, on: connection)
        FaultHook.reached(.afterCommit, ids: deliveries.map { $0.properties.messageID ?? "-" })  // test-only; see FaultHook
        for (delivery, outcome) in zip(deliveries, outcomes) {
            if case .deadLetter(let code, let reason) = outcome {
                try await connection.publish(deadLetterCopy(of: delivery, code: code, reason: reason))
                metrics.deadLettered(queue: options.queue)
                logger.warning(
                    "dead-lettered a message",
                    metadata: ["amqp.queue": "\(options.queue)", "message.id": "\(delivery.properties.messageID ?? "")", "error.code": "\(code)", "error.reason": "\(reason)"]
                )
            }
        }
        let retries = zip(deliveries, outcomes).filter { $0.1.isRetry }.map(\.0)
        if let mostTried = retries.map(\.deliveryCount).max() {
            // Back off before handing them back: a transient cause gets time to pass, and a poison
            // message does not spin; the delivery limit still ends it in the dead-letter queue.
            try await wait(options.backoff.delay(attempt: mostTried), servicing: connection)
            for delivery in retries {
                try await connection.nack(delivery.deliveryTag, requeue: true)
            }
        }
        let retried = retries.count
        if retried == 0, let last = deliveries.last {
            try await connection.ack(last.deliveryTag, multiple: true)
        } else {
            for (delivery, outcome) in zip(deliveries, outcomes) where !outcome.isRetry {
                try await connection.ack(delivery.deliveryTag)
            }
        }
        metrics.handlerDuration(queue: options.queue, ContinuousClock.now - started)
        for outcome in Outcome.Label.allCases {
            let count = outcomes.count { $0.label == outcome }
            if count > 0 { metrics.consumed(queue: options.queue, outcome: outcome.rawValue, count: count) }
        }
    }

    /// Commits the batch, waiting out a lost database without giving the deliveries back.
    private func commitWithPatience(_ deliveries: [AMQPDelivery], on connection: AMQPConnection) async throws -> [Outcome] {
        var attempt = 0
        while true {
            do {
                let outcomes = try await commit(deliveries)
                if attempt > 0 {
                    logger.info("database is back; batch committed", metadata: ["amqp.queue": "\(options.queue)"])
                }
                readiness.set(.database, true)
                return outcomes
            } catch let error as PostgresError where error.isConnectionProblem || error.isRetriable {
                readiness.set(.database, false)
                if attempt == 0 {
                    metrics.connectionLost(peer: "database")
                    logger.warning("database unavailable; holding the batch", metadata: ["amqp.queue": "\(options.queue)", "error": "\(error)"])
                }
                try await wait(options.backoff.delay(attempt: attempt), servicing: connection)
                attempt += 1
            }
        }
    }

    /// Sleeps for `duration` while keeping the broker connection alive: librabbitmq answers
    /// heartbeats only inside library calls.
    private func wait(_ duration: Duration, servicing connection: AMQPConnection) async throws {
        let until = ContinuousClock.now + duration
        while ContinuousClock.now < until {
            try await connection.serviceHeartbeats()
            try await Task.sleep(for: min(.milliseconds(200), until - ContinuousClock.now))
        }
    }

    private func commit(_ deliveries: [AMQPDelivery]) async throws -> [Outcome] {
        let options = options
        let handler = handler
        let logger = logger
        let now = clock()
        return try await database.withTransaction { connection in
            var outcomes: [Outcome]
            if let batchHandler = handler as? any BatchMessageHandler, deliveries.count > 1,
               let batched = try Self.handleBatch(deliveries, options: options, handler: batchHandler, connection: connection, logger: logger, now: now)
            {
                outcomes = batched
            } else {
                outcomes = []
                outcomes.reserveCapacity(deliveries.count)
                for delivery in deliveries {
                    outcomes.append(try Self.handle(delivery, options: options, handler: handler, connection: connection, logger: logger, now: now))
                }
            }
            FaultHook.reached(.beforeCommit, ids: deliveries.map { $0.properties.messageID ?? "-" })  // test-only; see FaultHook
            return outcomes
        }
    }

    /// The whole batch in one savepoint: one inbox statement, one call of the handler. Returns
    /// nil after rolling the savepoint back when the handler failed, for the message-by-message
    /// path to take over.
    private static func handleBatch(
        _ deliveries: [AMQPDelivery],
        options: Options,
        handler: any BatchMessageHandler,
        connection: PostgresConnection,
        logger: Logger,
        now: Date
    ) throws -> [Outcome]? {
        var outcomes = [Outcome](repeating: .duplicate, count: deliveries.count)
        var candidates: [(index: Int, message: IncomingMessage)] = []
        for (index, delivery) in deliveries.enumerated() {
            do {
                candidates.append((index, IncomingMessage(delivery: delivery, envelope: try RawEnvelope(delivery: delivery))))
            } catch {
                outcomes[index] = .deadLetter(code: "malformed-envelope", reason: "\(error)")
            }
        }
        guard !candidates.isEmpty else { return outcomes }
        let inbox = "\(quoted(options.schema)).inbox"
        do {
            return try connection.withSavepoint {
                let keys = candidates.map(\.message.envelope.deduplicationKey)
                let inserted = Set(try connection.query(
                    """
                    INSERT INTO \(unescaped: inbox) (consumer, message_key)
                    SELECT \(options.consumerName), key FROM unnest(\(keys)::text[]) AS key
                    ON CONFLICT DO NOTHING
                    RETURNING message_key
                    """
                ).map { try $0.decode("message_key", as: String.self) })
                // A message seen before, or twice in this batch, is a duplicate: only the first copy runs.
                var fresh: [(index: Int, message: IncomingMessage)] = []
                var taken = Set<String>()
                for candidate in candidates {
                    let key = candidate.message.envelope.deduplicationKey
                    if inserted.contains(key), taken.insert(key).inserted { fresh.append(candidate) }
                }
                guard !fresh.isEmpty else { return outcomes }
                var context = TransactionContext(connection: connection, schema: options.schema, service: options.service, logger: logger, now: now)
                let failures = try handler.handleBatch(fresh.map(\.message), context: &context)
                guard failures.count == fresh.count else {
                    throw PostgresError(code: .server, message: "handleBatch returned \(failures.count) results for \(fresh.count) messages")
                }
                try context.flushOutbox()
                var failedKeys: [String] = []
                for ((index, message), failure) in zip(fresh, failures) {
                    if let failure {
                        outcomes[index] = .deadLetter(code: failure.code, reason: failure.reason)
                        failedKeys.append(message.envelope.deduplicationKey)
                    } else {
                        outcomes[index] = .handled
                    }
                }
                // As on the single path, a dead-lettered message leaves no inbox row: replayed
                // from the dead-letter queue after a fix, it is handled, not skipped.
                if !failedKeys.isEmpty {
                    _ = try connection.query(
                        "DELETE FROM \(unescaped: inbox) WHERE consumer = \(options.consumerName) AND message_key = ANY(\(failedKeys))")
                }
                return outcomes
            }
        } catch let error as PostgresError where error.isConnectionProblem || error.isRetriable {
            throw error
        } catch {
            logger.notice(
                "batch failed; handling its messages one by one",
                metadata: ["amqp.queue": "\(options.queue)", "batch.size": "\(deliveries.count)", "error": "\(error)"])
            return nil
        }
    }

    private static func handle(
        _ delivery: AMQPDelivery,
        options: Options,
        handler: any MessageHandler,
        connection: PostgresConnection,
        logger: Logger,
        now: Date
    ) throws -> Outcome {
        let envelope: RawEnvelope
        do {
            envelope = try RawEnvelope(delivery: delivery)
        } catch {
            return .deadLetter(code: "malformed-envelope", reason: "\(error)")
        }
        var logger = logger
        logger[metadataKey: "correlation.id"] = "\(envelope.correlationID ?? envelope.id)"
        logger[metadataKey: "message.type"] = "\(envelope.type)"
        do {
            return try connection.withSavepoint {
                let inserted = try connection.query(
                    """
                    INSERT INTO \(unescaped: quoted(options.schema)).inbox (consumer, message_key)
                    VALUES (\(options.consumerName), \(envelope.deduplicationKey))
                    ON CONFLICT DO NOTHING
                    """
                )
                guard inserted.affectedRows == 1 else { return .duplicate }
                var context = TransactionContext(
                    connection: connection, schema: options.schema, service: options.service, logger: logger, now: now, cause: envelope.causation)
                try handler.handle(IncomingMessage(delivery: delivery, envelope: envelope), context: &context)
                try context.flushOutbox()
                return .handled
            }
        } catch let failure as PermanentFailure {
            return .deadLetter(code: failure.code, reason: failure.reason)
        } catch let error as PostgresError where error.isConnectionProblem || error.isRetriable {
            // The whole transaction is lost or must be re-run: let the batch go round again.
            throw error
        } catch {
            logger.warning("handler failed; the message will be redelivered", metadata: ["error": "\(error)", "amqp.delivery_count": "\(delivery.deliveryCount)"])
            return .retry
        }
    }

    /// A copy of a rejected delivery for the queue's dead-letter queue, with the reason.
    private func deadLetterCopy(of delivery: AMQPDelivery, code: String, reason: String) -> AMQPOutgoingMessage {
        var properties = delivery.properties
        properties.headers["x-isms-error-code"] = .string(code)
        properties.headers["x-isms-error-reason"] = .string(String(reason.prefix(1000)))
        properties.headers["x-isms-failed-queue"] = .string(options.queue)
        properties.headers["x-isms-consumer"] = .string(options.consumerName)
        properties.headers["x-isms-failed-at"] = .string(Date().formatted(.iso8601))
        // Where the message was first sent, so `isms dlq replay` can send it there again; the
        // broker's own dead-lettering records the same in `x-death` (``DeadLetterHeaders``).
        properties.headers[DeadLetterHeaders.originalExchange] = .string(delivery.exchange)
        properties.headers[DeadLetterHeaders.originalRoutingKey] = .string(delivery.routingKey)
        properties.deliveryMode = .persistent
        return AMQPOutgoingMessage(
            exchange: BusLayout.deadLetterExchange,
            routingKey: options.queue,
            body: delivery.body,
            properties: properties,
            mandatory: true
        )
    }

    enum Outcome: Sendable {
        case handled
        case duplicate
        case deadLetter(code: String, reason: String)
        case retry

        enum Label: String, CaseIterable {
            case handled, duplicate, deadLettered = "dead_lettered", retried
        }

        var label: Label {
            switch self {
            case .handled: .handled
            case .duplicate: .duplicate
            case .deadLetter: .deadLettered
            case .retry: .retried
            }
        }

        var isRetry: Bool {
            if case .retry = self { return true }
            return false
        }
    }
}
