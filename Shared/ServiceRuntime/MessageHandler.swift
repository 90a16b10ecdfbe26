public import AMQP
public import Contracts
public import Logging
public import Postgres
public import Foundation

/// What a handler may touch while it runs: the open transaction and the outbox of its schema.
///
/// Handlers run synchronously on the database connection's own thread, inside the consumer's
/// transaction: the inbox row, the state change and the outbox rows commit together or not at all.
public struct TransactionContext {
    /// The connection of the open transaction.
    public let connection: PostgresConnection
    /// The service's schema.
    public let schema: String
    /// Carries the message's correlation id.
    public let logger: Logger
    /// The database-independent "now" of this transaction, for tests that inject a clock.
    public let now: Date
    /// What the transaction emits; written to the outbox before commit.
    public private(set) var outgoing: [OutboxMessage] = []

    public init(connection: PostgresConnection, schema: String, logger: Logger, now: Date) {
        self.connection = connection
        self.schema = schema
        self.logger = logger
        self.now = now
    }

    /// Emits a message when the transaction commits.
    public mutating func emit(_ message: AMQPOutgoingMessage) {
        outgoing.append(OutboxMessage(message))
    }

    /// Writes what was emitted to the outbox; the consumer and the timer runner call this.
    mutating func flushOutbox() throws {
        try Outbox.enqueue(outgoing, schema: schema, on: connection)
        outgoing.removeAll()
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
