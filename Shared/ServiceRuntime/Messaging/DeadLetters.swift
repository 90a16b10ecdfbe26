public import AMQP
public import Contracts
public import Foundation
public import Logging
public import Postgres
import MyNumber
import PostgresMigrations

/// One dead letter as an operator sees it in a list.
public struct DeadLetterSummary: Sendable, Hashable, Encodable {
    /// 1 for the message at the head of the dead-letter queue.
    public var position: Int
    /// The work queue whose dead letter it is.
    public var queue: String
    public var messageId: String?
    public var type: String?
    public var deadLetteredAt: Date?
    /// `x-isms-error-code`, or the broker's reason (`delivery_limit`, ...).
    public var errorCode: String?
    /// `x-isms-error-*`, `x-death` and the other headers that say why.
    public var reasons: [String: JSONValue]
    /// Where a replay sends it; `nil` when that cannot be told.
    public var origin: DeadLetterHeaders.Destination?
    /// The body's size in bytes.
    public var size: Int
}

/// The head of one dead-letter queue.
public struct DeadLetterList: Sendable, Hashable, Encodable {
    public var queue: String
    public var deadLetterQueue: String
    /// Messages in the dead-letter queue when it was read (more than listed when above `limit`).
    public var depth: Int
    public var deadLetters: [DeadLetterSummary]
}

/// One dead letter in full: every header and the body, My Numbers masked.
public struct DeadLetterDetail: Sendable, Hashable, Encodable {
    public var summary: DeadLetterSummary
    public var headers: [String: JSONValue]
    public var properties: [String: JSONValue]
    /// The body as text, screened for My Numbers.
    public var body: String

    enum CodingKeys: String, CodingKey {
        case position, queue, messageId, type, deadLetteredAt, errorCode, reasons, origin, size, headers, properties, body
    }

    /// The summary's members and the detail's, in one object.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(summary.position, forKey: .position)
        try container.encode(summary.queue, forKey: .queue)
        try container.encodeIfPresent(summary.messageId, forKey: .messageId)
        try container.encodeIfPresent(summary.type, forKey: .type)
        try container.encodeIfPresent(summary.deadLetteredAt, forKey: .deadLetteredAt)
        try container.encodeIfPresent(summary.errorCode, forKey: .errorCode)
        try container.encode(summary.reasons, forKey: .reasons)
        try container.encodeIfPresent(summary.origin, forKey: .origin)
        try container.encode(summary.size, forKey: .size)
        try container.encode(headers, forKey: .headers)
        try container.encode(properties, forKey: .properties)
        try container.encode(body, forKey: .body)
    }
}

/// What a replay or a discard did.
public struct DeadLetterOutcome: Sendable, Hashable, Encodable {
    public var queue: String
    public var messageId: String
    public var type: String?
    /// `replayed` or `discarded`.
    public var action: String
    /// Where a replay sent it.
    public var destination: DeadLetterHeaders.Destination?
    /// Why it was discarded.
    public var reason: String?
    public var by: String
    public var at: Date
}

/// Why a dead-letter operation was refused.
public struct DeadLetterError: Error, Sendable, Hashable, APIProblemConvertible {
    public enum Code: Sendable, Hashable { case unknownQueue, notFound, noDestination, reasonRequired }
    public var code: Code
    public var detail: String

    public var problem: APIProblem {
        switch code {
        case .unknownQueue, .notFound: .notFound(detail)
        case .noDestination: .conflict(detail)
        case .reasonRequired: .unprocessable(detail)
        }
    }
}

/// The dead letters of one service's work queues, for operators (issue #17 item 5): list, show,
/// replay to where the message was first sent, discard with a recorded reason.
///
/// Each call opens its own broker connection and reads the `<queue>.dlq` with `basic.get`,
/// holding what it got unacknowledged until it is done, then returning it with a requeue (a
/// message returned at once would come straight back to the next `basic.get`, and a list would
/// never end). Listing therefore removes nothing, but RabbitMQ marks every message it touched as
/// redelivered and counts the return, and a quorum queue puts returned messages at its end: a
/// read of part of the queue rotates what it read to the back (positions are those of the
/// read). A message only leaves its dead-letter queue after a replay the broker confirmed, or
/// after its discard was committed to the database; if anything fails first, closing the
/// connection returns it. (A replay confirmed but not acknowledged, the connection lost in
/// between, stays too; replayed again, the consumers' inboxes absorb the second copy.)
public struct DeadLetters: Sendable {
    /// The most messages one search reads before giving up.
    public static let searchLimit = 10_000

    private let amqp: AMQPConfiguration
    private let database: PostgresPool
    private let schema: String
    /// The work queues of the service, whose dead-letter queues it serves.
    public let queues: [String]
    private let logger: Logger
    private let clock: @Sendable () -> Date

    public init(
        amqp: AMQPConfiguration,
        database: PostgresPool,
        schema: String,
        queues: [String],
        logger: Logger,
        clock: @escaping @Sendable () -> Date = Date.init
    ) {
        var amqp = amqp
        amqp.connectionName = "\(amqp.connectionName ?? "isms")/dead-letters"
        self.amqp = amqp
        self.database = database
        self.schema = schema
        self.queues = queues
        self.logger = logger
        self.clock = clock
    }

    /// Up to `limit` dead letters of `queue`, head first, and how many the queue holds.
    public func list(queue: String, limit: Int) async throws -> DeadLetterList {
        let deadLetterQueue = try self.deadLetterQueue(queue)
        return try await reading(deadLetterQueue) { connection, got in
            while got.count < limit, let delivery = try await connection.get(queue: deadLetterQueue) {
                got.append(delivery)
            }
            // What was got is unacknowledged, so no longer counted as ready; short of the limit, the
            // queue ran empty and what was got is all there is.
            let depth = got.count < limit ? got.count : got.count + Int(try await connection.queueState(deadLetterQueue)?.messageCount ?? 0)
            let letters = got.enumerated().map { Self.summary(of: $1, position: $0 + 1, queue: queue) }
            return DeadLetterList(queue: queue, deadLetterQueue: deadLetterQueue, depth: depth, deadLetters: letters)
        }
    }

    /// The dead letter with this message id, headers and body.
    public func show(queue: String, messageID: String) async throws -> DeadLetterDetail {
        // Not settled: it goes back with the others.
        try await find(queue: queue, messageID: messageID, settles: false) { delivery, position, _ in
            Self.detail(of: delivery, position: position, queue: queue)
        }
    }

    /// Publishes the dead letter again, with publisher confirms, to the exchange and routing key
    /// it was first sent to, with the same message id, properties and body (the consumers'
    /// inboxes de-duplicate by the envelope's source and id, so a message that was handled
    /// somewhere is not handled there twice), then acknowledges it in the dead-letter queue.
    public func replay(queue: String, messageID: String, by actor: String) async throws -> DeadLetterOutcome {
        let deadLetterQueue = try self.deadLetterQueue(queue)
        let now = clock()
        let outcome = try await find(queue: queue, messageID: messageID) { delivery, _, connection in
            guard let origin = DeadLetterHeaders.origin(delivery.properties.headers) else {
                throw DeadLetterError(
                    code: .noDestination,
                    detail: "Dead letter \(messageID) names neither x-isms-original-exchange nor an x-death entry: where it was first sent is unknown. Discard it, or publish it again by hand.")
            }
            try await connection.enableConfirms()
            try await connection.publish(
                AMQPOutgoingMessage(
                    exchange: origin.exchange, routingKey: origin.routingKey, body: delivery.body,
                    properties: DeadLetterHeaders.replayProperties(delivery.properties, from: deadLetterQueue, at: now), mandatory: true))
            // Only after the broker confirmed the copy: a failure before leaves the dead letter where it was.
            try await connection.ack(delivery.deliveryTag)
            return DeadLetterOutcome(
                queue: queue, messageId: messageID, type: delivery.properties.type, action: "replayed", destination: origin, reason: nil, by: actor, at: now)
        }
        logger.notice(
            "dead letter replayed",
            metadata: [
                "amqp.queue": "\(queue)", "message.id": "\(messageID)", "amqp.exchange": "\(outcome.destination?.exchange ?? "")",
                "amqp.routing_key": "\(outcome.destination?.routingKey ?? "")", "actor": "\(actor)",
            ])
        return outcome
    }

    /// Removes the dead letter for good, after recording who, when and why in
    /// `<schema>.dead_letter_discards` (committed before the acknowledgement, so no message
    /// vanishes unrecorded; a crash in between leaves it in the queue with its record, and a
    /// second discard records it again).
    public func discard(queue: String, messageID: String, reason: String, by actor: String) async throws -> DeadLetterOutcome {
        let reason = FreeText.screened(reason.trimmingCharacters(in: .whitespacesAndNewlines))
        guard !reason.isEmpty else { throw DeadLetterError(code: .reasonRequired, detail: "Give the reason for discarding dead letter \(messageID); it is recorded.") }
        let (database, table, now) = (database, "\(Migrator.quoted(schema)).dead_letter_discards", clock())
        let outcome = try await find(queue: queue, messageID: messageID) { delivery, _, connection in
            let (type, code) = (delivery.properties.type, DeadLetterHeaders.errorCode(delivery.properties.headers))
            try await database.withTransaction { db in
                _ = try db.query(
                    """
                    INSERT INTO \(unescaped: table) (queue, message_id, message_type, error_code, reason, discarded_by, discarded_at)
                    VALUES (\(queue), \(messageID), \(type), \(code), \(reason), \(actor), \(now))
                    """)
            }
            try await connection.ack(delivery.deliveryTag)
            return DeadLetterOutcome(queue: queue, messageId: messageID, type: type, action: "discarded", destination: nil, reason: reason, by: actor, at: now)
        }
        logger.notice(
            "dead letter discarded",
            metadata: ["amqp.queue": "\(queue)", "message.id": "\(messageID)", "message.type": "\(outcome.type ?? "-")", "reason": "\(reason)", "actor": "\(actor)"])
        return outcome
    }

    // MARK: Internals

    /// `<queue>.dlq`, if `queue` is one of this service's work queues.
    public func deadLetterQueue(_ queue: String) throws(DeadLetterError) -> String {
        guard queues.contains(queue) else {
            throw DeadLetterError(code: .unknownQueue, detail: "\(queue) is not a work queue of this service; its dead letters are served by the service that consumes it.")
        }
        return BusLayout.deadLetterQueueName(for: queue)
    }

    /// Reads the dead-letter queue until the message with `messageID` comes; `act` settles it
    /// (unless `settles` is false). Every other message got on the way is requeued, and so is the
    /// message itself when `act` throws or does not settle it.
    private func find<T: Sendable>(
        queue: String,
        messageID: String,
        settles: Bool = true,
        _ act: @Sendable (AMQPDelivery, Int, AMQPConnection) async throws -> T
    ) async throws -> T {
        let deadLetterQueue = try self.deadLetterQueue(queue)
        return try await reading(deadLetterQueue) { connection, got in
            while got.count < Self.searchLimit, let delivery = try await connection.get(queue: deadLetterQueue) {
                guard delivery.properties.messageID == messageID else {
                    got.append(delivery)
                    continue
                }
                do {
                    let result = try await act(delivery, got.count + 1, connection)
                    if !settles { got.append(delivery) }
                    return result
                } catch {
                    got.append(delivery)
                    throw error
                }
            }
            throw DeadLetterError(code: .notFound, detail: "No dead letter \(messageID) in \(deadLetterQueue).")
        }
    }

    /// Runs `body` on a connection of its own; whatever `body` put in `got` is requeued at the
    /// end, on every path, and the connection closed.
    private func reading<T: Sendable>(
        _ deadLetterQueue: String,
        _ body: (AMQPConnection, inout [AMQPDelivery]) async throws -> T
    ) async throws -> T {
        let connection = try await AMQPConnection.connect(amqp, logger: logger)
        var got: [AMQPDelivery] = []
        let result: Result<T, any Error>
        do {
            result = .success(try await body(connection, &got))
        } catch {
            result = .failure(error)
        }
        // Returned only now, after the whole read: a message returned at once would come straight
        // back to the next basic.get. A failure here means the connection is gone, and closing
        // it returns the messages anyway.
        for delivery in got {
            do { try await connection.nack(delivery.deliveryTag, requeue: true) } catch { break }
        }
        await connection.close()
        return try result.get()
    }

    static func summary(of delivery: AMQPDelivery, position: Int, queue: String) -> DeadLetterSummary {
        let headers = delivery.properties.headers
        return DeadLetterSummary(
            position: position, queue: queue, messageId: delivery.properties.messageID,
            type: delivery.properties.type ?? headers[EnvelopeHeader.type]?.stringValue,
            deadLetteredAt: DeadLetterHeaders.deadLetteredAt(headers), errorCode: DeadLetterHeaders.errorCode(headers),
            reasons: maskedJSON(DeadLetterHeaders.reasons(headers)), origin: DeadLetterHeaders.origin(headers), size: delivery.body.count)
    }

    static func detail(of delivery: AMQPDelivery, position: Int, queue: String) -> DeadLetterDetail {
        let properties = delivery.properties
        var fields: [String: JSONValue] = [:]
        fields["contentType"] = properties.contentType.map(JSONValue.string)
        fields["correlationId"] = properties.correlationID.map(JSONValue.string)
        fields["replyTo"] = properties.replyTo.map(JSONValue.string)
        fields["appId"] = properties.appID.map(JSONValue.string)
        fields["timestamp"] = properties.timestamp.map { .string(ContractsJSON.formatTimestamp($0)) }
        fields["redelivered"] = .bool(delivery.redelivered)
        return DeadLetterDetail(
            summary: summary(of: delivery, position: position, queue: queue),
            headers: maskedJSON(properties.headers.mapValues(DeadLetterHeaders.json)),
            properties: fields,
            body: maskedBody(delivery.body))
    }

    /// The body as operators may see it. Intake masks what it emits, but an operator's screen
    /// must never show a My Number in clear whatever reached a queue (My Number Act Art. 20):
    /// screened with context, then masked without.
    static func maskedBody(_ body: [UInt8]) -> String {
        let text = String(decoding: body, as: UTF8.self)
        if let document = try? JSONValue(parsing: body) {
            return MyNumberMasking.mask(FreeText.screened(document).jsonString(pretty: false))
        }
        return MyNumberMasking.mask(FreeText.screened(text))
    }

    /// Reason headers may quote a message (an error's text): masked like the body.
    static func maskedJSON(_ members: [String: JSONValue]) -> [String: JSONValue] {
        members.mapValues(masked)
    }

    private static func masked(_ value: JSONValue) -> JSONValue {
        switch value {
        case .string(let text): .string(MyNumberMasking.mask(text))
        case .array(let values): .array(values.map(masked))
        case .object(let members): .object(members.mapValues(masked))
        case .null, .bool, .integer, .number: value
        }
    }
}
