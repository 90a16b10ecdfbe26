public import AMQP
public import Contracts
public import Foundation

/// What a dead letter's headers say: why it was dead-lettered, when, and where it was first sent.
///
/// Two writers put messages into a `<queue>.dlq`. The consumer copies a message that can never
/// succeed with `x-isms-error-*` headers and the original exchange and routing key
/// (`MessageConsumer`); the broker dead-letters a message that reached the queue's delivery limit
/// and records it in `x-death` (a list of tables, newest first, each with `exchange`,
/// `routing-keys`, `queue`, `reason`, `count` and `time`). Pure functions of the headers, so the
/// choices are unit-tested without a broker.
public enum DeadLetterHeaders {
    /// The exchange the consumer's copy was first published to (`""`: the default exchange).
    public static let originalExchange = "x-isms-original-exchange"
    /// The routing key the consumer's copy was first published with.
    public static let originalRoutingKey = "x-isms-original-routing-key"
    /// On a replayed message: the dead-letter queue it came back from.
    public static let replayedFrom = "x-isms-replayed-from"
    /// On a replayed message: when it was replayed (RFC 3339).
    public static let replayedAt = "x-isms-replayed-at"

    /// Where to send a dead letter again.
    public struct Destination: Sendable, Hashable, Encodable {
        public var exchange: String
        public var routingKey: String

        public init(exchange: String, routingKey: String) {
            self.exchange = exchange
            self.routingKey = routingKey
        }
    }

    /// The original destination: the consumer's `x-isms-original-*` headers when present, else
    /// the oldest `x-death` entry's exchange and first routing key (the broker lists deaths newest
    /// first; the oldest names where the producer sent it). `nil` when neither is there — a
    /// message dead-lettered before the consumer recorded its origin: replaying it would be a
    /// guess.
    public static func origin(_ headers: AMQPTable) -> Destination? {
        if let exchange = headers[originalExchange]?.stringValue, let routingKey = headers[originalRoutingKey]?.stringValue {
            return Destination(exchange: exchange, routingKey: routingKey)
        }
        guard let death = deaths(headers).last, let exchange = death["exchange"]?.stringValue,
              case .array(let keys)? = death["routing-keys"], let routingKey = keys.first?.stringValue
        else { return nil }
        return Destination(exchange: exchange, routingKey: routingKey)
    }

    /// The `x-death` entries, newest first (as the broker writes them).
    public static func deaths(_ headers: AMQPTable) -> [AMQPTable] {
        guard case .array(let entries)? = headers["x-death"] else { return [] }
        return entries.compactMap { entry in
            if case .table(let table) = entry { return table }
            return nil
        }
    }

    /// The headers that say why: every `x-isms-error-*`, `x-isms-failed-*`, `x-isms-consumer`,
    /// `x-isms-original-*`, `x-death` and the broker's `x-first-death-*` / `x-last-death-*`.
    public static func isReasonHeader(_ name: String) -> Bool {
        name.hasPrefix("x-isms-error-") || name.hasPrefix("x-isms-failed-") || name == "x-isms-consumer"
            || name.hasPrefix("x-isms-original-") || name == "x-death" || name.hasPrefix("x-first-death-")
            || name.hasPrefix("x-last-death-")
    }

    /// The reason headers as JSON.
    public static func reasons(_ headers: AMQPTable) -> [String: JSONValue] {
        Dictionary(uniqueKeysWithValues: headers.filter { isReasonHeader($0.key) }.map { ($0.key, json($0.value)) })
    }

    /// The error code: the consumer's `x-isms-error-code`, else the broker's reason of the
    /// newest death (`delivery_limit`, `rejected`, `expired`, `maxlen`).
    public static func errorCode(_ headers: AMQPTable) -> String? {
        headers["x-isms-error-code"]?.stringValue ?? deaths(headers).first?["reason"]?.stringValue
    }

    /// When it was dead-lettered: the consumer's `x-isms-failed-at`, else the newest death's time.
    public static func deadLetteredAt(_ headers: AMQPTable) -> Date? {
        if let text = headers["x-isms-failed-at"]?.stringValue, let date = ContractsJSON.parseTimestamp(text) { return date }
        if case .timestamp(let date)? = deaths(headers).first?["time"] { return date }
        return nil
    }

    /// The properties to replay a dead letter with: the same message id, type, correlation and
    /// body headers, without the reason headers and the broker's delivery count (a replay is a
    /// fresh start), marked with where and when it came back from.
    public static func replayProperties(_ properties: AMQPProperties, from deadLetterQueue: String, at date: Date) -> AMQPProperties {
        var replayed = properties
        replayed.headers = properties.headers.filter { !isReasonHeader($0.key) && $0.key != "x-delivery-count" }
        replayed.headers[replayedFrom] = .string(deadLetterQueue)
        replayed.headers[replayedAt] = .string(ContractsJSON.formatTimestamp(date))
        replayed.deliveryMode = .persistent
        return replayed
    }

    /// A header value as JSON (binary as text, timestamps RFC 3339).
    public static func json(_ value: AMQPFieldValue) -> JSONValue {
        value.json { .string(ContractsJSON.formatTimestamp($0)) }
    }
}

extension AMQPFieldValue {
    /// The value as JSON, binary as UTF-8 text; `timestamp` writes a timestamp (RFC 3339 for
    /// people, epoch seconds in RabbitMQ's definitions file).
    func json(timestamp: (Date) -> JSONValue) -> JSONValue {
        switch self {
        case .bool(let flag): .bool(flag)
        case .int8(let number): .integer(Int64(number))
        case .int16(let number): .integer(Int64(number))
        case .int32(let number): .integer(Int64(number))
        case .int64(let number): .integer(number)
        case .float(let number): .number(Double(number))
        case .double(let number): .number(number)
        case .string(let text): .string(text)
        case .bytes(let bytes): .string(String(decoding: bytes, as: UTF8.self))
        case .timestamp(let date): timestamp(date)
        case .table(let table): .object(table.mapValues { $0.json(timestamp: timestamp) })
        case .array(let values): .array(values.map { $0.json(timestamp: timestamp) })
        case .void: .null
        }
    }
}
