public import Foundation

/// A value in an AMQP field table (message headers, queue and exchange arguments).
public enum AMQPFieldValue: Sendable, Hashable {
    case bool(Bool)
    case int8(Int8)
    case int16(Int16)
    case int32(Int32)
    case int64(Int64)
    case float(Float)
    case double(Double)
    case string(String)
    case bytes([UInt8])
    case timestamp(Date)
    case table(AMQPTable)
    case array([AMQPFieldValue])
    case void
}

/// An AMQP field table.
public typealias AMQPTable = [String: AMQPFieldValue]

extension AMQPFieldValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .int64(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }

    /// The value as a string, when it is one.
    public var stringValue: String? {
        switch self {
        case .string(let value): value
        case .bytes(let bytes): String(decoding: bytes, as: UTF8.self)
        default: nil
        }
    }

    /// The value as an integer, when it is one of the integer kinds.
    public var intValue: Int64? {
        switch self {
        case .int8(let v): Int64(v)
        case .int16(let v): Int64(v)
        case .int32(let v): Int64(v)
        case .int64(let v): v
        default: nil
        }
    }
}

/// Whether the broker writes a message to disk.
public enum AMQPDeliveryMode: UInt8, Sendable, Hashable {
    case transient = 1
    case persistent = 2
}

/// The basic-class properties of a message.
public struct AMQPProperties: Sendable, Hashable {
    public var contentType: String?
    public var contentEncoding: String?
    public var headers: AMQPTable
    public var deliveryMode: AMQPDeliveryMode?
    public var priority: UInt8?
    public var correlationID: String?
    public var replyTo: String?
    public var expiration: String?
    public var messageID: String?
    public var timestamp: Date?
    public var type: String?
    public var userID: String?
    public var appID: String?

    public init(
        contentType: String? = nil,
        contentEncoding: String? = nil,
        headers: AMQPTable = [:],
        deliveryMode: AMQPDeliveryMode? = .persistent,
        priority: UInt8? = nil,
        correlationID: String? = nil,
        replyTo: String? = nil,
        expiration: String? = nil,
        messageID: String? = nil,
        timestamp: Date? = nil,
        type: String? = nil,
        userID: String? = nil,
        appID: String? = nil
    ) {
        self.contentType = contentType
        self.contentEncoding = contentEncoding
        self.headers = headers
        self.deliveryMode = deliveryMode
        self.priority = priority
        self.correlationID = correlationID
        self.replyTo = replyTo
        self.expiration = expiration
        self.messageID = messageID
        self.timestamp = timestamp
        self.type = type
        self.userID = userID
        self.appID = appID
    }
}

/// A message to publish.
public struct AMQPOutgoingMessage: Sendable, Hashable {
    public var exchange: String
    public var routingKey: String
    public var body: [UInt8]
    public var properties: AMQPProperties
    /// When set, an unroutable message comes back as `basic.return` and the publish fails.
    public var mandatory: Bool

    public init(exchange: String, routingKey: String, body: [UInt8], properties: AMQPProperties = .init(), mandatory: Bool = true) {
        self.exchange = exchange
        self.routingKey = routingKey
        self.body = body
        self.properties = properties
        self.mandatory = mandatory
    }
}

/// A message received from a queue; settle it with its ``deliveryTag``.
public struct AMQPDelivery: Sendable, Hashable {
    public var deliveryTag: UInt64
    public var redelivered: Bool
    public var exchange: String
    public var routingKey: String
    public var consumerTag: String
    public var properties: AMQPProperties
    public var body: [UInt8]

    public init(deliveryTag: UInt64, redelivered: Bool, exchange: String, routingKey: String, consumerTag: String, properties: AMQPProperties, body: [UInt8]) {
        self.deliveryTag = deliveryTag
        self.redelivered = redelivered
        self.exchange = exchange
        self.routingKey = routingKey
        self.consumerTag = consumerTag
        self.properties = properties
        self.body = body
    }

    /// The broker's count of earlier deliveries of this message (quorum queues' `x-delivery-count`).
    public var deliveryCount: Int {
        Int(properties.headers["x-delivery-count"]?.intValue ?? 0)
    }
}

/// The kinds of exchange.
public enum AMQPExchangeKind: String, Sendable, Hashable, Codable {
    case direct, topic, fanout, headers
}

/// An exchange to declare.
public struct AMQPExchange: Sendable, Hashable {
    public var name: String
    public var kind: AMQPExchangeKind
    public var durable: Bool
    public var autoDelete: Bool
    public var `internal`: Bool
    public var arguments: AMQPTable

    public init(name: String, kind: AMQPExchangeKind, durable: Bool = true, autoDelete: Bool = false, internal: Bool = false, arguments: AMQPTable = [:]) {
        self.name = name
        self.kind = kind
        self.durable = durable
        self.autoDelete = autoDelete
        self.internal = `internal`
        self.arguments = arguments
    }
}

/// A queue to declare.
public struct AMQPQueue: Sendable, Hashable {
    public var name: String
    public var durable: Bool
    public var exclusive: Bool
    public var autoDelete: Bool
    public var arguments: AMQPTable

    public init(name: String, durable: Bool = true, exclusive: Bool = false, autoDelete: Bool = false, arguments: AMQPTable = [:]) {
        self.name = name
        self.durable = durable
        self.exclusive = exclusive
        self.autoDelete = autoDelete
        self.arguments = arguments
    }
}

/// A binding of a queue to an exchange.
public struct AMQPBinding: Sendable, Hashable {
    public var queue: String
    public var exchange: String
    public var routingKey: String
    public var arguments: AMQPTable

    public init(queue: String, exchange: String, routingKey: String, arguments: AMQPTable = [:]) {
        self.queue = queue
        self.exchange = exchange
        self.routingKey = routingKey
        self.arguments = arguments
    }
}

/// What a passive queue declaration tells about a queue.
public struct AMQPQueueState: Sendable, Hashable {
    public var name: String
    public var messageCount: UInt32
    public var consumerCount: UInt32

    public init(name: String, messageCount: UInt32, consumerCount: UInt32) {
        self.name = name
        self.messageCount = messageCount
        self.consumerCount = consumerCount
    }
}
