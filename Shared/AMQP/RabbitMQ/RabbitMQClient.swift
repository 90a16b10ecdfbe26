import CRabbitMQ
import Foundation

/// How a librabbitmq call failed, before ``AMQPConnection`` turns it into an ``AMQPError``.
enum RabbitMQFailure: Error {
    /// librabbitmq reported a status (socket error, timeout, heartbeat timeout, bad data, ...).
    /// The connection is unusable afterwards.
    case library(status: Int32, context: String)
    /// The broker closed the channel; close-ok has been sent.
    case channelClosed(replyCode: UInt16, replyText: String, classID: UInt16, methodID: UInt16)
    /// The broker closed the connection; close-ok has been sent.
    case connectionClosed(replyCode: UInt16, replyText: String)
}

/// A frame the client read from the broker, decoded into Swift values.
enum RabbitMQFrame {
    case deliver(AMQPDelivery)
    case getOK(AMQPDelivery)
    case getEmpty
    case ack(deliveryTag: UInt64, multiple: Bool)
    case nack(deliveryTag: UInt64, multiple: Bool)
    case returned(RabbitMQReturn)
    case cancel(consumerTag: String)
    case blocked(reason: String)
    case unblocked
    case other(channel: UInt16, methodID: UInt32)
}

/// A message the broker sent back with `basic.return`.
struct RabbitMQReturn {
    var replyCode: UInt16
    var replyText: String
    var exchange: String
    var routingKey: String
    var properties: AMQPProperties
    var body: [UInt8]
}

/// The thin layer over one `amqp_connection_state_t`: owns the handle, frees it in `deinit`,
/// and turns C results into Swift values. It works on one channel and is not thread-safe;
/// ``AMQPConnection`` keeps it on one thread.
final class RabbitMQClient {
    static let channel: amqp_channel_t = 1

    private let state: amqp_connection_state_t
    private var destroyed = false

    private init(state: amqp_connection_state_t) {
        self.state = state
    }

    deinit {
        destroy()
    }

    /// Releases the socket and the handle without a protocol close.
    func destroy() {
        guard !destroyed else { return }
        destroyed = true
        amqp_destroy_connection(state)
    }

    // MARK: Connecting

    /// What `connect` needs, in C-friendly form.
    struct ConnectOptions {
        var host: String
        var port: Int
        var vhost: String
        var user: String
        var password: String
        var tls: AMQPConfiguration.TLS?
        var heartbeatSeconds: Int32
        var connectionName: String?
        var connectTimeout: Duration
        var rpcTimeout: Duration
    }

    /// Which step of connecting failed.
    enum ConnectFailure: Error {
        case socket(status: Int32)
        case tlsSetup(status: Int32, what: String)
        case login(RabbitMQFailure)
        case channel(RabbitMQFailure)
    }

    /// Opens the socket (TCP or TLS), logs in and opens channel 1.
    static func connect(_ options: ConnectOptions) throws(ConnectFailure) -> RabbitMQClient {
        guard let state = amqp_new_connection() else { throw .socket(status: Int32(AMQP_STATUS_NO_MEMORY.rawValue)) }
        let client = RabbitMQClient(state: state)
        try RabbitMQArena.with { (arena) throws(ConnectFailure) -> Void in
            let socket: OpaquePointer?
            if let tls = options.tls {
                socket = amqp_ssl_socket_new(state)
                guard let socket else { throw .tlsSetup(status: Int32(AMQP_STATUS_SSL_ERROR.rawValue), what: "creating the TLS socket") }
                // Without a CA file OpenSSL trusts nothing; fall back to the system bundle.
                let caFile = tls.caFile ?? ["/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem"]
                    .first { FileManager.default.fileExists(atPath: $0) }
                if let caFile {
                    let status = amqp_ssl_socket_set_cacert(socket, arena.cString(caFile))
                    guard status == AMQP_STATUS_OK.rawValue else { throw .tlsSetup(status: status, what: "loading CA file \(caFile)") }
                }
                if let certFile = tls.certFile {
                    let status = amqp_ssl_socket_set_key(socket, arena.cString(certFile), arena.cString(tls.keyFile ?? certFile))
                    guard status == AMQP_STATUS_OK.rawValue else { throw .tlsSetup(status: status, what: "loading client certificate \(certFile)") }
                }
                amqp_ssl_socket_set_verify_peer(socket, tls.verifyPeer ? 1 : 0)
                amqp_ssl_socket_set_verify_hostname(socket, tls.verifyHostname ? 1 : 0)
            } else {
                socket = amqp_tcp_socket_new(state)
                guard socket != nil else { throw .socket(status: Int32(AMQP_STATUS_NO_MEMORY.rawValue)) }
            }

            var connectTimeout = timeval(options.connectTimeout)
            let openStatus = amqp_socket_open_noblock(socket, arena.cString(options.host), Int32(options.port), &connectTimeout)
            guard openStatus == AMQP_STATUS_OK.rawValue else { throw .socket(status: openStatus) }
            _ = amqp_set_handshake_timeout(state, &connectTimeout)
            var rpcTimeout = timeval(options.rpcTimeout)
            _ = amqp_set_rpc_timeout(state, &rpcTimeout)

            var properties: AMQPTable = [
                "capabilities": .table([
                    "authentication_failure_close": true,
                    "consumer_cancel_notify": true,
                    "connection.blocked": true,
                    "basic.nack": true,
                    "publisher_confirms": true,
                ])
            ]
            if let name = options.connectionName { properties["connection_name"] = .string(name) }
            var clientProperties = arena.table(properties)
            let reply = crabbitmq_login_plain(
                state, arena.cString(options.vhost), 0, 131_072, options.heartbeatSeconds, &clientProperties,
                arena.cString(options.user), arena.cString(options.password)
            )
            do throws(RabbitMQFailure) {
                try client.check(reply, context: "login")
            } catch {
                throw .login(error)
            }
        }
        do {
            try client.openChannel()
        } catch {
            throw .channel(error)
        }
        return client
    }

    // MARK: Replies

    /// Throws for anything but a normal reply; answers a broker close with close-ok first.
    private func check(_ reply: amqp_rpc_reply_t, context: String) throws(RabbitMQFailure) {
        switch reply.reply_type {
        case AMQP_RESPONSE_NORMAL:
            return
        case AMQP_RESPONSE_LIBRARY_EXCEPTION:
            throw .library(status: reply.library_error, context: context)
        case AMQP_RESPONSE_SERVER_EXCEPTION:
            throw closeFailure(methodID: reply.reply.id, decoded: reply.reply.decoded, context: context)
        default:
            throw .library(status: Int32(AMQP_STATUS_UNEXPECTED_STATE.rawValue), context: "\(context): no reply")
        }
    }

    private func checkLastReply(_ context: String) throws(RabbitMQFailure) {
        try check(amqp_get_rpc_reply(state), context: context)
    }

    /// Decodes a channel.close or connection.close and sends its close-ok.
    private func closeFailure(methodID: UInt32, decoded: UnsafeMutableRawPointer?, context: String) -> RabbitMQFailure {
        switch methodID {
        case AMQP_CHANNEL_CLOSE_METHOD:
            guard let close = decoded?.assumingMemoryBound(to: amqp_channel_close_t.self).pointee else {
                return .library(status: Int32(AMQP_STATUS_BAD_AMQP_DATA.rawValue), context: context)
            }
            var ok = amqp_channel_close_ok_t()
            let status = amqp_send_method(state, Self.channel, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok)
            guard status == AMQP_STATUS_OK.rawValue else { return .library(status: status, context: "\(context): channel.close-ok") }
            return .channelClosed(
                replyCode: close.reply_code, replyText: RabbitMQDecoding.string(close.reply_text),
                classID: close.class_id, methodID: close.method_id
            )
        case AMQP_CONNECTION_CLOSE_METHOD:
            guard let close = decoded?.assumingMemoryBound(to: amqp_connection_close_t.self).pointee else {
                return .library(status: Int32(AMQP_STATUS_BAD_AMQP_DATA.rawValue), context: context)
            }
            var ok = amqp_connection_close_ok_t()
            _ = amqp_send_method(state, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok)
            return .connectionClosed(replyCode: close.reply_code, replyText: RabbitMQDecoding.string(close.reply_text))
        default:
            return .library(status: Int32(AMQP_STATUS_WRONG_METHOD.rawValue), context: "\(context): unexpected method \(methodID)")
        }
    }

    private func checkStatus(_ status: Int32, _ context: String) throws(RabbitMQFailure) {
        guard status == AMQP_STATUS_OK.rawValue else { throw .library(status: status, context: context) }
    }

    // MARK: Channel and topology

    func openChannel() throws(RabbitMQFailure) {
        if amqp_channel_open(state, Self.channel) == nil { try checkLastReply("channel.open") }
    }

    func confirmSelect() throws(RabbitMQFailure) {
        if amqp_confirm_select(state, Self.channel) == nil { try checkLastReply("confirm.select") }
    }

    func declareExchange(_ exchange: AMQPExchange) throws(RabbitMQFailure) {
        try RabbitMQArena.with { (arena) throws(RabbitMQFailure) -> Void in
            let ok = amqp_exchange_declare(
                state, Self.channel, arena.bytes(exchange.name), arena.bytes(exchange.kind.rawValue), 0,
                exchange.durable ? 1 : 0, exchange.autoDelete ? 1 : 0, exchange.internal ? 1 : 0, arena.table(exchange.arguments)
            )
            if ok == nil { try checkLastReply("exchange.declare \(exchange.name)") }
        }
    }

    func declareQueue(_ queue: AMQPQueue, passive: Bool) throws(RabbitMQFailure) -> AMQPQueueState {
        try RabbitMQArena.with { (arena) throws(RabbitMQFailure) -> AMQPQueueState in
            let ok = amqp_queue_declare(
                state, Self.channel, arena.bytes(queue.name), passive ? 1 : 0, queue.durable ? 1 : 0,
                queue.exclusive ? 1 : 0, queue.autoDelete ? 1 : 0, arena.table(queue.arguments)
            )
            guard let ok else {
                try checkLastReply("queue.declare \(queue.name)")
                throw .library(status: Int32(AMQP_STATUS_UNEXPECTED_STATE.rawValue), context: "queue.declare")
            }
            return AMQPQueueState(
                name: RabbitMQDecoding.string(ok.pointee.queue), messageCount: ok.pointee.message_count,
                consumerCount: ok.pointee.consumer_count
            )
        }
    }

    func bind(_ binding: AMQPBinding) throws(RabbitMQFailure) {
        try RabbitMQArena.with { (arena) throws(RabbitMQFailure) -> Void in
            let ok = amqp_queue_bind(
                state, Self.channel, arena.bytes(binding.queue), arena.bytes(binding.exchange),
                arena.bytes(binding.routingKey), arena.table(binding.arguments)
            )
            if ok == nil { try checkLastReply("queue.bind \(binding.queue)") }
        }
    }

    func deleteQueue(_ name: String) throws(RabbitMQFailure) {
        try RabbitMQArena.with { (arena) throws(RabbitMQFailure) -> Void in
            if amqp_queue_delete(state, Self.channel, arena.bytes(name), 0, 0) == nil { try checkLastReply("queue.delete \(name)") }
        }
    }

    func purgeQueue(_ name: String) throws(RabbitMQFailure) {
        try RabbitMQArena.with { (arena) throws(RabbitMQFailure) -> Void in
            if amqp_queue_purge(state, Self.channel, arena.bytes(name)) == nil { try checkLastReply("queue.purge \(name)") }
        }
    }

    // MARK: Consuming

    func qos(prefetch: UInt16) throws(RabbitMQFailure) {
        // global = 0: per consumer. Quorum queues refuse global QoS.
        if amqp_basic_qos(state, Self.channel, 0, prefetch, 0) == nil { try checkLastReply("basic.qos") }
    }

    func consume(queue: String, consumerTag: String?) throws(RabbitMQFailure) -> String {
        try RabbitMQArena.with { (arena) throws(RabbitMQFailure) -> String in
            let tag = consumerTag.map { arena.bytes($0) } ?? amqp_bytes_t(len: 0, bytes: nil)
            let ok = amqp_basic_consume(state, Self.channel, arena.bytes(queue), tag, 0, 0, 0, amqp_table_t(num_entries: 0, entries: nil))
            guard let ok else {
                try checkLastReply("basic.consume \(queue)")
                throw .library(status: Int32(AMQP_STATUS_UNEXPECTED_STATE.rawValue), context: "basic.consume")
            }
            return RabbitMQDecoding.string(ok.pointee.consumer_tag)
        }
    }

    func cancel(consumerTag: String) throws(RabbitMQFailure) {
        try RabbitMQArena.with { (arena) throws(RabbitMQFailure) -> Void in
            if amqp_basic_cancel(state, Self.channel, arena.bytes(consumerTag)) == nil { try checkLastReply("basic.cancel \(consumerTag)") }
        }
    }

    func ack(_ deliveryTag: UInt64, multiple: Bool) throws(RabbitMQFailure) {
        try checkStatus(amqp_basic_ack(state, Self.channel, deliveryTag, multiple ? 1 : 0), "basic.ack")
    }

    func nack(_ deliveryTag: UInt64, multiple: Bool, requeue: Bool) throws(RabbitMQFailure) {
        try checkStatus(amqp_basic_nack(state, Self.channel, deliveryTag, multiple ? 1 : 0, requeue ? 1 : 0), "basic.nack")
    }

    func reject(_ deliveryTag: UInt64, requeue: Bool) throws(RabbitMQFailure) {
        try checkStatus(amqp_basic_reject(state, Self.channel, deliveryTag, requeue ? 1 : 0), "basic.reject")
    }

    /// Sends basic.get; the answer (get-ok with its message, or get-empty) arrives through ``nextFrame(timeout:)``.
    func sendGet(queue: String) throws(RabbitMQFailure) {
        try RabbitMQArena.with { (arena) throws(RabbitMQFailure) -> Void in
            var get = amqp_basic_get_t(ticket: 0, queue: arena.bytes(queue), no_ack: 0)
            try checkStatus(amqp_send_method(state, Self.channel, AMQP_BASIC_GET_METHOD, &get), "basic.get")
        }
    }

    // MARK: Publishing

    func publish(_ message: AMQPOutgoingMessage) throws(RabbitMQFailure) {
        try RabbitMQArena.with { (arena) throws(RabbitMQFailure) -> Void in
            var properties = arena.properties(message.properties)
            let status = message.body.withUnsafeBytes { body in
                amqp_basic_publish(
                    state, Self.channel, arena.bytes(message.exchange), arena.bytes(message.routingKey),
                    message.mandatory ? 1 : 0, 0, &properties,
                    amqp_bytes_t(len: body.count, bytes: UnsafeMutableRawPointer(mutating: body.baseAddress))
                )
            }
            try checkStatus(status, "basic.publish")
        }
    }

    // MARK: Reading frames

    /// Whether frames read during an RPC are waiting to be handled.
    var hasQueuedFrames: Bool { amqp_frames_enqueued(state) != 0 }

    /// Whether a frame can be read without waiting for the socket.
    var hasBufferedData: Bool { amqp_frames_enqueued(state) != 0 || amqp_data_in_buffer(state) != 0 }

    /// Reads the next frame and decodes it; `nil` when none came within `timeout` (`nil` waits
    /// without limit). Heartbeats are answered and sent inside; channel.flow is answered here.
    func nextFrame(timeout: Duration?) throws(RabbitMQFailure) -> RabbitMQFrame? {
        var frame = amqp_frame_t()
        let status: Int32
        if let timeout {
            var limit = timeval(max(timeout, .zero))
            status = amqp_simple_wait_frame_noblock(state, &frame, &limit)
        } else {
            status = amqp_simple_wait_frame_noblock(state, &frame, nil)
        }
        if status == AMQP_STATUS_TIMEOUT.rawValue { return nil }
        try checkStatus(status, "reading a frame")
        guard frame.frame_type == AMQP_FRAME_METHOD else {
            // A header or body without its method: only after a protocol error on our side.
            return .other(channel: frame.channel, methodID: 0)
        }
        let method = frame.payload.method
        let decoded = method.decoded
        switch method.id {
        case AMQP_BASIC_DELIVER_METHOD:
            guard let deliver = decoded?.assumingMemoryBound(to: amqp_basic_deliver_t.self).pointee else { break }
            let (properties, body) = try readContent("basic.deliver")
            return .deliver(
                AMQPDelivery(
                    deliveryTag: deliver.delivery_tag, redelivered: deliver.redelivered != 0,
                    exchange: RabbitMQDecoding.string(deliver.exchange), routingKey: RabbitMQDecoding.string(deliver.routing_key),
                    consumerTag: RabbitMQDecoding.string(deliver.consumer_tag), properties: properties, body: body
                )
            )
        case AMQP_BASIC_GET_OK_METHOD:
            guard let getOK = decoded?.assumingMemoryBound(to: amqp_basic_get_ok_t.self).pointee else { break }
            let (properties, body) = try readContent("basic.get-ok")
            return .getOK(
                AMQPDelivery(
                    deliveryTag: getOK.delivery_tag, redelivered: getOK.redelivered != 0,
                    exchange: RabbitMQDecoding.string(getOK.exchange), routingKey: RabbitMQDecoding.string(getOK.routing_key),
                    consumerTag: "", properties: properties, body: body
                )
            )
        case AMQP_BASIC_GET_EMPTY_METHOD:
            return .getEmpty
        case AMQP_BASIC_ACK_METHOD:
            guard let ack = decoded?.assumingMemoryBound(to: amqp_basic_ack_t.self).pointee else { break }
            return .ack(deliveryTag: ack.delivery_tag, multiple: ack.multiple != 0)
        case AMQP_BASIC_NACK_METHOD:
            guard let nack = decoded?.assumingMemoryBound(to: amqp_basic_nack_t.self).pointee else { break }
            return .nack(deliveryTag: nack.delivery_tag, multiple: nack.multiple != 0)
        case AMQP_BASIC_RETURN_METHOD:
            guard let returned = decoded?.assumingMemoryBound(to: amqp_basic_return_t.self).pointee else { break }
            let (properties, body) = try readContent("basic.return")
            return .returned(
                RabbitMQReturn(
                    replyCode: returned.reply_code, replyText: RabbitMQDecoding.string(returned.reply_text),
                    exchange: RabbitMQDecoding.string(returned.exchange), routingKey: RabbitMQDecoding.string(returned.routing_key),
                    properties: properties, body: body
                )
            )
        case AMQP_BASIC_CANCEL_METHOD:
            guard let cancel = decoded?.assumingMemoryBound(to: amqp_basic_cancel_t.self).pointee else { break }
            let tag = RabbitMQDecoding.string(cancel.consumer_tag)
            if cancel.nowait == 0 {
                var ok = amqp_basic_cancel_ok_t(consumer_tag: cancel.consumer_tag)
                try checkStatus(amqp_send_method(state, Self.channel, AMQP_BASIC_CANCEL_OK_METHOD, &ok), "basic.cancel-ok")
            }
            return .cancel(consumerTag: tag)
        case AMQP_CHANNEL_FLOW_METHOD:
            guard let flow = decoded?.assumingMemoryBound(to: amqp_channel_flow_t.self).pointee else { break }
            var ok = amqp_channel_flow_ok_t(active: flow.active)
            try checkStatus(amqp_send_method(state, frame.channel, AMQP_CHANNEL_FLOW_OK_METHOD, &ok), "channel.flow-ok")
            return .other(channel: frame.channel, methodID: method.id)
        case AMQP_CONNECTION_BLOCKED_METHOD:
            let reason = decoded.map { RabbitMQDecoding.string($0.assumingMemoryBound(to: amqp_connection_blocked_t.self).pointee.reason) }
            return .blocked(reason: reason ?? "")
        case AMQP_CONNECTION_UNBLOCKED_METHOD:
            return .unblocked
        case AMQP_CHANNEL_CLOSE_METHOD, AMQP_CONNECTION_CLOSE_METHOD:
            throw closeFailure(methodID: method.id, decoded: decoded, context: "reading a frame")
        default:
            return .other(channel: frame.channel, methodID: method.id)
        }
        throw .library(status: Int32(AMQP_STATUS_BAD_AMQP_DATA.rawValue), context: "method \(method.id) without arguments")
    }

    /// Reads the header and body frames that follow a content-bearing method.
    private func readContent(_ context: String) throws(RabbitMQFailure) -> (AMQPProperties, [UInt8]) {
        var message = amqp_message_t()
        let reply = amqp_read_message(state, Self.channel, &message, 0)
        try check(reply, context: "\(context) content")
        defer { amqp_destroy_message(&message) }
        return (RabbitMQDecoding.properties(message.properties), RabbitMQDecoding.data(message.body))
    }

    /// Frees frame memory once nothing refers to it any more.
    func releaseBuffers() {
        amqp_maybe_release_buffers(state)
    }

    // MARK: Closing

    /// Closes the channel and the connection politely, ignoring failures, then releases the handle.
    func close() {
        guard !destroyed else { return }
        // A broker that no longer answers must not hold the caller for a whole RPC timeout.
        var limit = timeval(.seconds(5))
        _ = amqp_set_rpc_timeout(state, &limit)
        _ = amqp_channel_close(state, Self.channel, Int32(AMQP_REPLY_SUCCESS))
        _ = amqp_connection_close(state, Int32(AMQP_REPLY_SUCCESS))
        destroy()
    }
}

extension timeval {
    /// A `timeval` for a non-negative `Duration`.
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self.init(tv_sec: Int(max(0, seconds)), tv_usec: Int(max(0, attoseconds / 1_000_000_000_000)))
    }
}
