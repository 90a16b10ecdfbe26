public import AMQP
import Postgres
import Foundation

/// A message waiting in a schema's outbox: written inside the transaction that made the
/// change it reports, published by the ``OutboxRelay`` after commit.
public struct OutboxMessage: Sendable, Hashable {
    public var message: AMQPOutgoingMessage

    public init(_ message: AMQPOutgoingMessage) {
        self.message = message
    }
}

/// Writes to a schema's outbox. Internal: services emit through ``TransactionContext``, the one
/// way a message leaves, which stamps it with the service and the conversation.
public enum Outbox {
    /// The NOTIFY channel that wakes the relays of `schema`.
    public static func channel(schema: String) -> String { "isms_outbox_\(schema)" }

    /// Appends messages to the outbox of `schema` and wakes the relays at commit: one round trip
    /// however many messages a transaction emits (a triage case emits eight, an intake batch
    /// hundreds), in the order they were emitted.
    static func enqueue(_ messages: [OutboxMessage], schema: String, on connection: PostgresConnection) throws {
        guard !messages.isEmpty else { return }
        let table = "\(quoted(schema)).outbox"
        let outgoing = messages.map(\.message)
        _ = try connection.query(
            """
            WITH inserted AS (
                INSERT INTO \(unescaped: table) (message_id, exchange, routing_key, mandatory, properties, body)
                SELECT message_id, exchange, routing_key, mandatory, properties::jsonb, body
                FROM unnest(\(outgoing.map { $0.properties.messageID ?? UUID().uuidString })::text[], \(outgoing.map(\.exchange))::text[],
                            \(outgoing.map(\.routingKey))::text[], \(outgoing.map(\.mandatory))::boolean[],
                            \(outgoing.map { PostgresJSON(StoredProperties($0.properties)) })::text[],
                            \(outgoing.map(\.body))::bytea[])
                     WITH ORDINALITY AS m (message_id, exchange, routing_key, mandatory, properties, body, position)
                ORDER BY position
                RETURNING 1
            )
            -- Delivered only if the transaction commits; several NOTIFYs in one transaction fold into one.
            SELECT pg_notify(\(channel(schema: schema)), '')
            """
        )
    }
}

/// The AMQP properties as the outbox stores them (JSON). Header values are kept as strings,
/// integers or booleans: what our envelopes carry.
struct StoredProperties: Codable, Sendable, Hashable {
    var contentType: String?
    var contentEncoding: String?
    var headers: [String: StoredHeader]
    var persistent: Bool
    var priority: UInt8?
    var correlationID: String?
    var replyTo: String?
    var expiration: String?
    var messageID: String?
    var timestamp: Date?
    var type: String?
    var userID: String?
    var appID: String?

    enum StoredHeader: Codable, Sendable, Hashable {
        case string(String)
        case int(Int64)
        case bool(Bool)

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let bool = try? container.decode(Bool.self) {
                self = .bool(bool)
            } else if let int = try? container.decode(Int64.self) {
                self = .int(int)
            } else {
                self = .string(try container.decode(String.self))
            }
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .string(let value): try container.encode(value)
            case .int(let value): try container.encode(value)
            case .bool(let value): try container.encode(value)
            }
        }
    }

    init(_ properties: AMQPProperties) {
        contentType = properties.contentType
        contentEncoding = properties.contentEncoding
        headers = properties.headers.compactMapValues { value in
            switch value {
            case .bool(let bool): .bool(bool)
            case .string(let string): .string(string)
            default: value.intValue.map(StoredHeader.int) ?? value.stringValue.map(StoredHeader.string)
            }
        }
        persistent = properties.deliveryMode != .transient
        priority = properties.priority
        correlationID = properties.correlationID
        replyTo = properties.replyTo
        expiration = properties.expiration
        messageID = properties.messageID
        timestamp = properties.timestamp
        type = properties.type
        userID = properties.userID
        appID = properties.appID
    }

    var amqpProperties: AMQPProperties {
        AMQPProperties(
            contentType: contentType,
            contentEncoding: contentEncoding,
            headers: headers.mapValues { header in
                switch header {
                case .string(let value): .string(value)
                case .int(let value): .int64(value)
                case .bool(let value): .bool(value)
                }
            },
            deliveryMode: persistent ? .persistent : .transient,
            priority: priority,
            correlationID: correlationID,
            replyTo: replyTo,
            expiration: expiration,
            messageID: messageID,
            timestamp: timestamp,
            type: type,
            userID: userID,
            appID: appID
        )
    }
}

/// A schema or table name as a quoted SQL identifier.
func quoted(_ identifier: String) -> String {
    "\"" + identifier.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"") + "\""
}
