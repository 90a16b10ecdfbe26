public import AMQP
public import Contracts
public import Logging
public import Postgres
public import Foundation

/// What a handler may touch while it runs: the open transaction and the outbox of its schema.
///
/// Handlers run synchronously on the database connection's own thread, inside the consumer's
/// transaction: the inbox row, the state change and the outbox rows commit together or not at all.
/// Consumers, timers, HTTP handlers and the CLI all emit through ``emit(_:subject:time:causedBy:id:route:)``:
/// there is no other way to put a message on the bus.
public struct TransactionContext {
    /// The connection of the open transaction.
    public let connection: PostgresConnection
    /// The service's schema (its outbox).
    public let schema: String
    /// Whose messages these are: every envelope's `source` and every message's AMQP `app_id`.
    public let service: ServiceName
    /// Carries the message's correlation id.
    public let logger: Logger
    /// The database-independent "now" of this transaction, for tests that inject a clock.
    public let now: Date
    /// The message being handled, if any: what the transaction emits joins its conversation
    /// (`correlationid`) and names it as `causationid`, unless a message says otherwise.
    public var cause: Causation?
    /// What the transaction emits; written to the outbox before commit.
    public private(set) var outgoing: [OutboxMessage] = []

    public init(connection: PostgresConnection, schema: String, service: ServiceName, logger: Logger, now: Date, cause: Causation? = nil) {
        self.connection = connection
        self.schema = schema
        self.service = service
        self.logger = logger
        self.now = now
        self.cause = cause
    }

    /// Emits `payload` when the transaction commits, in an envelope stamped with this service as
    /// `source`, the transaction's time (or `time`), and the conversation of `cause` (or of the
    /// message being handled; a new one when there is none).
    public mutating func emit<Payload: MessagePayload>(
        _ payload: Payload,
        subject: String? = nil,
        time: Date? = nil,
        causedBy cause: Causation? = nil,
        id: String = EnvelopeFormat.newID(),
        route: MessageRoute? = nil
    ) throws {
        let envelope = Envelope(id: id, source: service.source, time: time ?? now, subject: subject, causedBy: cause ?? self.cause, data: payload)
        try emit(envelope, route: route)
    }

    /// Emits an envelope that was built elsewhere (intake fixes a report's event id when it stores
    /// the report), with this service as the AMQP `app_id`.
    public mutating func emit<Payload>(_ envelope: Envelope<Payload>, route: MessageRoute? = nil) throws {
        outgoing.append(OutboxMessage(try envelope.amqpMessage(appID: service.rawValue, route: route)))
    }

    /// Writes what was emitted to the outbox; the consumer, the timer runner and
    /// ``PostgresPool/withTransaction(emittingAs:schema:logger:now:cause:_:)`` call this before commit.
    mutating func flushOutbox() throws {
        try Outbox.enqueue(outgoing, schema: schema, on: connection)
        outgoing.removeAll()
    }
}

extension PostgresConnection {
    /// Runs `body` inside this connection's open transaction with a context whose emitted
    /// messages are written to `schema`'s outbox when it returns: for store code that holds a
    /// connection rather than a context.
    public func emitting<T>(
        as service: ServiceName, schema: String, logger: Logger, now: Date = Date(), cause: Causation? = nil,
        _ body: (inout TransactionContext) throws -> T
    ) throws -> T {
        var context = TransactionContext(connection: self, schema: schema, service: service, logger: logger, now: now, cause: cause)
        let result = try body(&context)
        try context.flushOutbox()
        return result
    }
}

extension PostgresPool {
    /// Runs `body` in a transaction whose emitted messages go to `schema`'s outbox at commit:
    /// how HTTP handlers and the CLI change state and tell the others in one step.
    public func withTransaction<T: Sendable>(
        emittingAs service: ServiceName,
        schema: String,
        logger: Logger,
        now: Date = Date(),
        cause: Causation? = nil,
        _ body: @Sendable (inout TransactionContext) throws -> T
    ) async throws -> T {
        try await withTransaction { connection in
            try connection.emitting(as: service, schema: schema, logger: logger, now: now, cause: cause, body)
        }
    }
}

/// A message taken from a queue, with its decoded envelope.
public struct IncomingMessage: Sendable {
    public var delivery: AMQPDelivery
    public var envelope: RawEnvelope

    public init(delivery: AMQPDelivery, envelope: RawEnvelope) {
        self.delivery = delivery
        self.envelope = envelope
    }
}

/// Handles the messages of one queue.
public protocol MessageHandler: Sendable {
    /// Applies one message inside `context`'s transaction.
    ///
    /// Throw ``PermanentFailure`` for a message that can never succeed (it is dead-lettered at
    /// once with the reason); any other error rolls back this message's work and the message is
    /// redelivered later, until the queue's delivery limit dead-letters it.
    func handle(_ message: IncomingMessage, context: inout TransactionContext) throws
}

/// A handler that can also apply a whole batch at once, with multi-row statements instead of a
/// savepoint and a round trip per message (intake at an alert storm).
///
/// The consumer inserts the batch's inbox rows in one statement and hands over only the messages
/// not seen before, inside one savepoint. If `handleBatch` throws anything but a lost database,
/// that savepoint is rolled back and every message is handled alone through ``handle(_:context:)``,
/// so one bad message still never costs its neighbours.
public protocol BatchMessageHandler: MessageHandler {
    /// Applies `messages` inside `context`'s transaction; returns, in the same order, nil for a
    /// message that was applied, or the ``PermanentFailure`` to dead-letter it with (its effects
    /// must not have been written).
    func handleBatch(_ messages: [IncomingMessage], context: inout TransactionContext) throws -> [PermanentFailure?]
}

/// A message that can never be handled: wrong schema, unknown reference, forbidden.
public struct PermanentFailure: Error, CustomStringConvertible {
    /// A short machine-readable code, carried in the `x-isms-error-code` header.
    public var code: String
    /// Why, for the `x-isms-error-reason` header and the operator.
    public var reason: String

    public init(code: String, reason: String) {
        self.code = code
        self.reason = reason
    }

    public var description: String { "\(code): \(reason)" }
}
