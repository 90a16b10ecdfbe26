public import ClientSupport
import CRabbitMQ
import Foundation
public import Logging

/// One AMQP 0-9-1 connection with one channel, driven by librabbitmq on a thread of its own.
///
/// librabbitmq blocks and must not be used from two threads, so every call runs on the
/// connection's ``DedicatedThreadExecutor``, never on the cooperative pool. The library answers
/// heartbeats only while one of its calls runs: an idle owner calls ``serviceHeartbeats()`` or
/// ``nextDeliveries(max:timeout:)`` well within the heartbeat interval.
///
/// Failures: a broker `channel.close` (404, 406, ...) throws ``AMQPError/Code/channelClosed``
/// and the channel is reopened at once, with confirms re-enabled if they were on; consumers do
/// not survive it, and the next ``nextDeliveries(max:timeout:)`` reports their loss. Delivery
/// tags of the closed channel can no longer be settled (the broker redelivers those messages);
/// tags handed out after a reopen carry the channel's generation in their top 16 bits, so an
/// old tag is refused instead of settling a different message. A `connection.close`, socket
/// error or missed heartbeat closes the connection: ``isOpen`` turns false and every later call
/// throws a retriable ``AMQPError/Code/connectionClosed``.
///
/// Calls run one at a time: a ``nextDeliveries(max:timeout:)`` wait holds the connection for up
/// to its timeout, so a long-polling consumer and a publisher are best given a connection each.
public actor AMQPConnection {
    private let executor: DedicatedThreadExecutor
    private let configuration: AMQPConfiguration
    private let logger: Logger

    private var client: RabbitMQClient?
    private var closeError = AMQPError(.connectionClosed, message: "not connected")

    private var confirmsEnabled = false
    private var nextPublishSequence: UInt64 = 1
    /// Messages of the running publish call that the broker has not confirmed yet, by sequence number.
    private var unconfirmed: [UInt64: Unconfirmed] = [:]
    /// Failed outcomes of the current publish call, by index in its batch.
    private var publishFailures: [Int: AMQPError] = [:]

    private var deliveries: [AMQPDelivery] = []
    private var consumers: [String: String] = [:]
    private var consumerLoss: AMQPError?
    private var channelGeneration: UInt64 = 0
    private var getResult: GetResult?
    private var blocked = false

    private struct Unconfirmed {
        var index: Int
        var message: AMQPOutgoingMessage
        var returned: AMQPError?
    }

    private enum GetResult {
        case message(AMQPDelivery)
        case empty
    }

    private static let tagBits: UInt64 = 48
    private static let tagMask: UInt64 = (1 << tagBits) - 1

    public nonisolated var unownedExecutor: UnownedSerialExecutor {
        executor.asUnownedSerialExecutor()
    }

    private init(configuration: AMQPConfiguration, logger: Logger) {
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: "amqp.url"] = "\(configuration.redactedURL)"
        self.logger = logger
        self.executor = DedicatedThreadExecutor(name: "amqp \(configuration.connectionName ?? configuration.host)")
    }

    isolated deinit {
        client?.close()
        client = nil
        executor.shutdown()
    }

    // MARK: Connecting

    /// Connects, logs in and opens the channel, once.
    ///
    /// - Throws: ``AMQPError`` (`.connectionFailed`, `.authenticationFailed`, `.tlsFailed`,
    ///   `.timeout`, `.invalidConfiguration`).
    public static func connect(_ configuration: AMQPConfiguration, logger: Logger) async throws -> AMQPConnection {
        let connection = AMQPConnection(configuration: configuration, logger: logger)
        try await connection.open()
        return connection
    }

    /// Connects, retrying retriable failures after a back-off delay (full jitter) until it
    /// succeeds, the task is cancelled (throws `CancellationError`), or `maxAttempts` attempts failed.
    public static func connect(
        _ configuration: AMQPConfiguration,
        logger: Logger,
        backoff: Backoff,
        maxAttempts: Int? = nil
    ) async throws -> AMQPConnection {
        var attempt = 0
        while true {
            try Task.checkCancellation()
            do {
                return try await connect(configuration, logger: logger)
            } catch let error as AMQPError where error.isRetriable {
                attempt += 1
                if let maxAttempts, attempt >= maxAttempts { throw error }
                let delay = backoff.delay(attempt: attempt - 1)
                logger.info(
                    "AMQP connect failed, retrying",
                    metadata: [
                        "amqp.url": "\(configuration.redactedURL)", "amqp.attempt": "\(attempt)",
                        "amqp.retry_in_ms": "\(Int(delay.seconds * 1000))", "error": "\(error)",
                    ]
                )
                try await Task.sleep(for: delay)
            }
        }
    }

    private func open() throws {
        let heartbeat = configuration.heartbeat
        let heartbeatSeconds = heartbeat <= .zero ? 0 : Int32(min(65535, max(1, heartbeat.seconds.rounded(.up))))
        let options = RabbitMQClient.ConnectOptions(
            host: configuration.host, port: configuration.port, vhost: configuration.vhost, user: configuration.user,
            password: configuration.password, tls: configuration.tls, heartbeatSeconds: heartbeatSeconds,
            connectionName: configuration.connectionName, connectTimeout: configuration.connectTimeout,
            rpcTimeout: configuration.rpcTimeout
        )
        do {
            client = try RabbitMQClient.connect(options)
        } catch {
            throw Self.connectError(error)
        }
        logger.debug("AMQP connection open", metadata: ["amqp.heartbeat_s": "\(heartbeatSeconds)"])
    }

    private static func connectError(_ failure: RabbitMQClient.ConnectFailure) -> AMQPError {
        func text(_ status: Int32) -> String { String(cString: amqp_error_string2(status)) }
        switch failure {
        case .socket(let status):
            if status == AMQP_STATUS_TIMEOUT.rawValue {
                return AMQPError(.timeout, message: "connecting timed out", status: status)
            }
            if status <= AMQP_STATUS_SSL_ERROR.rawValue && status > _AMQP_STATUS_SSL_NEXT_VALUE.rawValue {
                return AMQPError(.tlsFailed, message: "TLS handshake failed: \(text(status))", status: status)
            }
            return AMQPError(.connectionFailed, message: "connecting failed: \(text(status))", status: status)
        case .tlsSetup(let status, let what):
            return AMQPError(.invalidConfiguration, message: "TLS setup failed \(what): \(text(status))", status: status)
        case .login(.connectionClosed(let replyCode, let replyText)):
            // 403 ACCESS_REFUSED: bad credentials; 530 NOT_ALLOWED: no such vhost or no access to it.
            if replyCode == 403 || replyCode == 530 {
                return AMQPError(.authenticationFailed, message: "login refused: \(replyText)", replyCode: replyCode)
            }
            return AMQPError(.connectionFailed, message: "broker closed the connection during login: \(replyText)", replyCode: replyCode)
        case .login(let failure), .channel(let failure):
            switch failure {
            case .library(let status, let context):
                if status == AMQP_STATUS_TIMEOUT.rawValue {
                    return AMQPError(.timeout, message: "\(context) timed out", status: status)
                }
                return AMQPError(.connectionFailed, message: "\(context) failed: \(text(status))", status: status)
            case .channelClosed(let replyCode, let replyText, _, _), .connectionClosed(let replyCode, let replyText):
                return AMQPError(.connectionFailed, message: "broker refused the channel: \(replyText)", replyCode: replyCode)
            }
        }
    }

    /// Whether the connection can still be used.
    public var isOpen: Bool { client != nil }

    /// Whether the broker has blocked publishing on this connection (memory or disk alarm).
    public var isBlocked: Bool { blocked }

    // MARK: Topology

    /// Declares an exchange (idempotent when the arguments match; 406 when they do not).
    public func declare(_ exchange: AMQPExchange) throws {
        try perform { try $0.declareExchange(exchange) }
    }

    /// Declares a queue (idempotent when the arguments match; 406 when they do not).
    @discardableResult
    public func declare(_ queue: AMQPQueue) throws -> AMQPQueueState {
        try perform { try $0.declareQueue(queue, passive: false) }
    }

    /// Binds a queue to an exchange.
    public func bind(_ binding: AMQPBinding) throws {
        try perform { try $0.bind(binding) }
    }

    /// The message and consumer counts of a queue, or `nil` when it does not exist.
    public func queueState(_ name: String) throws -> AMQPQueueState? {
        do {
            return try perform { try $0.declareQueue(AMQPQueue(name: name), passive: true) }
        } catch let error as AMQPError where error.code == .channelClosed && error.replyCode == 404 {
            return nil
        }
    }

    /// Deletes a queue and the messages in it.
    public func deleteQueue(_ name: String) throws {
        try perform { try $0.deleteQueue(name) }
    }

    /// Removes every ready message from a queue.
    public func purgeQueue(_ name: String) throws {
        try perform { try $0.purgeQueue(name) }
    }

    // MARK: Publishing

    /// Puts the channel in confirm mode (once); from then on every publish waits for the broker's confirms.
    public func enableConfirms() throws {
        guard !confirmsEnabled else { return }
        try perform { try $0.confirmSelect() }
        confirmsEnabled = true
        nextPublishSequence = 1
    }

    /// Publishes one message; with confirms enabled, waits until the broker confirms it.
    ///
    /// - Throws: ``AMQPError`` `.publishNacked`, `.publishReturned` (mandatory and unroutable,
    ///   with `replyCode`), `.channelClosed` (for example 404 for a missing exchange),
    ///   `.timeout`, `.connectionClosed`.
    public func publish(_ message: AMQPOutgoingMessage) throws {
        if let failure = try publish([message])[0] { throw failure }
    }

    /// Publishes messages, then (with confirms enabled) waits until every one is confirmed.
    ///
    /// - Returns: one outcome per message, in order: `nil` when the broker took it, else why not.
    /// - Throws: ``AMQPError`` `.connectionClosed` only when the connection was closed before the call.
    public func publish(_ messages: [AMQPOutgoingMessage]) throws -> [AMQPError?] {
        let client = try requireOpen()
        guard !messages.isEmpty else { return [] }
        publishFailures = [:]
        defer { publishFailures = [:] }
        let trackConfirms = confirmsEnabled
        for (index, message) in messages.enumerated() {
            do {
                try client.publish(message)
            } catch {
                // The connection is gone: what was sent and not confirmed fails with it, and so does the rest.
                let failure = self.failure(error)
                for unsent in index..<messages.count { publishFailures[unsent] = failure }
                return outcomes(count: messages.count)
            }
            if trackConfirms {
                unconfirmed[nextPublishSequence] = Unconfirmed(index: index, message: message)
                nextPublishSequence += 1
            }
        }
        if trackConfirms {
            waitForConfirms()
        }
        return outcomes(count: messages.count)
    }

    private func outcomes(count: Int) -> [AMQPError?] {
        (0..<count).map { publishFailures[$0] }
    }

    private func waitForConfirms() {
        let deadline = ContinuousClock.now + configuration.confirmTimeout
        while !unconfirmed.isEmpty {
            let remaining = deadline - .now
            if remaining <= .zero {
                let failure = AMQPError(.timeout, message: "the broker did not confirm within \(configuration.confirmTimeout)")
                logger.info("AMQP publish confirms timed out", metadata: ["amqp.unconfirmed": "\(unconfirmed.count)"])
                failUnconfirmed(failure)
                return
            }
            do {
                _ = try pump(timeout: remaining)
            } catch {
                // A channel or connection close has already failed every unconfirmed message.
                failUnconfirmed(error as? AMQPError ?? AMQPError(.protocolError, message: "\(error)"))
                return
            }
        }
    }

    private func settle(upTo tag: UInt64, multiple: Bool, failure: AMQPError?) {
        let sequences = multiple ? unconfirmed.keys.filter { $0 <= tag } : [tag]
        for sequence in sequences {
            guard let entry = unconfirmed.removeValue(forKey: sequence) else { continue }
            if let outcome = entry.returned ?? failure { publishFailures[entry.index] = outcome }
        }
    }

    private func failUnconfirmed(_ failure: AMQPError) {
        for entry in unconfirmed.values { publishFailures[entry.index] = entry.returned ?? failure }
        unconfirmed = [:]
    }

    /// Ties a basic.return to the message it returns; its ack follows and settles it as failed.
    private func recordReturn(_ returned: RabbitMQReturn) {
        let failure = AMQPError(
            .publishReturned,
            message: "message returned by the broker: \(returned.replyText) (exchange '\(returned.exchange)', routing key '\(returned.routingKey)')",
            replyCode: returned.replyCode
        )
        // A return carries no sequence number: match the oldest pending message with the same content.
        let match = unconfirmed.filter { _, entry in
            entry.returned == nil && entry.message.mandatory && entry.message.exchange == returned.exchange
                && entry.message.routingKey == returned.routingKey
                && entry.message.properties.messageID == returned.properties.messageID && entry.message.body == returned.body
        }.keys.min()
        if let match {
            unconfirmed[match]?.returned = failure
        } else {
            logger.info("AMQP message returned without a pending confirm", metadata: ["amqp.reply_code": "\(returned.replyCode)", "error": "\(failure.message)"])
        }
    }

    // MARK: Consuming

    /// Sets the prefetch (per consumer) and starts consuming with manual acknowledgement.
    ///
    /// - Returns: the consumer tag (the broker's when `consumerTag` is `nil`).
    public func consume(queue: String, prefetch: UInt16, consumerTag: String? = nil) throws -> String {
        try perform { try $0.qos(prefetch: prefetch) }
        let tag = try perform { try $0.consume(queue: queue, consumerTag: consumerTag) }
        consumers[tag] = queue
        return tag
    }

    /// Waits up to `timeout` for a delivery, then also takes what has already arrived, up to
    /// `max`. Returns `[]` on timeout. Answers heartbeats and settles confirms while waiting.
    ///
    /// - Throws: ``AMQPError`` `.consumerCancelled` when the broker cancelled a consumer (its
    ///   queue was deleted), `.channelClosed` when the channel closed (consumers are gone,
    ///   undelivered messages return to the queue), `.connectionClosed`.
    public func nextDeliveries(max: Int, timeout: Duration) throws -> [AMQPDelivery] {
        _ = try requireOpen()
        let limit = Swift.max(1, max)
        let deadline = ContinuousClock.now + timeout
        while deliveries.isEmpty {
            if let loss = consumerLoss {
                consumerLoss = nil
                throw loss
            }
            let remaining = deadline - .now
            if remaining <= .zero { return [] }
            _ = try pump(timeout: remaining)
        }
        while deliveries.count < limit, try pump(timeout: .zero) {}
        let count = Swift.min(limit, deliveries.count)
        let batch = Array(deliveries.prefix(count))
        deliveries.removeFirst(count)
        return batch
    }

    /// Acknowledges a delivery (and, with `multiple`, every earlier one on the channel).
    public func ack(_ deliveryTag: UInt64, multiple: Bool = false) throws {
        let tag = try brokerTag(deliveryTag)
        try perform { try $0.ack(tag, multiple: multiple) }
    }

    /// Negatively acknowledges a delivery; without `requeue` the queue dead-letters or drops it.
    public func nack(_ deliveryTag: UInt64, multiple: Bool = false, requeue: Bool) throws {
        let tag = try brokerTag(deliveryTag)
        try perform { try $0.nack(tag, multiple: multiple, requeue: requeue) }
    }

    /// Rejects one delivery; without `requeue` the queue dead-letters or drops it.
    public func reject(_ deliveryTag: UInt64, requeue: Bool) throws {
        let tag = try brokerTag(deliveryTag)
        try perform { try $0.reject(tag, requeue: requeue) }
    }

    /// Stops a consumer. Deliveries already received stay valid and must still be settled.
    public func cancel(consumerTag: String) throws {
        try perform { try $0.cancel(consumerTag: consumerTag) }
        consumers[consumerTag] = nil
    }

    /// Fetches one message with `basic.get` (manual acknowledgement), or `nil` when the queue is empty.
    public func get(queue: String) throws -> AMQPDelivery? {
        try perform { try $0.sendGet(queue: queue) }
        getResult = nil
        defer { getResult = nil }
        let deadline = ContinuousClock.now + configuration.rpcTimeout
        while getResult == nil {
            let remaining = deadline - .now
            guard remaining > .zero else {
                throw markClosed(AMQPError(.timeout, message: "basic.get got no answer within \(configuration.rpcTimeout)"))
            }
            _ = try pump(timeout: remaining)
        }
        if case .message(let delivery) = getResult { return delivery }
        return nil
    }

    /// Without blocking: reads every frame already pending (buffering deliveries, settling
    /// confirms) and sends a heartbeat if one is due. Call it regularly on an idle connection.
    public func serviceHeartbeats() throws {
        _ = try requireOpen()
        // Bounded so a flood of frames cannot keep the caller here.
        for _ in 0..<10_000 {
            guard try pump(timeout: .zero) else { return }
        }
    }

    // MARK: Closing

    /// Closes the channel and the connection; idempotent. Unsettled deliveries return to their queues.
    public func close() {
        guard let client else { return }
        client.close()
        _ = markClosed(AMQPError(.connectionClosed, message: "the connection was closed by the application"), log: false)
        logger.debug("AMQP connection closed")
    }

    // MARK: Frames and failures

    private func requireOpen() throws -> RabbitMQClient {
        guard let client else { throw closeError }
        return client
    }

    /// Runs a client call, turning its failure into an ``AMQPError`` (after recovering the channel or closing).
    private func perform<Result>(_ body: (RabbitMQClient) throws -> Result) throws -> Result {
        let client = try requireOpen()
        do {
            return try body(client)
        } catch let error as RabbitMQFailure {
            throw failure(error)
        }
    }

    /// Reads and handles one frame; false when none arrived within `timeout`.
    private func pump(timeout: Duration?) throws -> Bool {
        let client = try requireOpen()
        let frame: RabbitMQFrame?
        do {
            frame = try client.nextFrame(timeout: timeout)
        } catch {
            throw failure(error)
        }
        guard let frame else { return false }
        handle(frame, discardDeliveries: false)
        client.releaseBuffers()
        return true
    }

    private func handle(_ frame: RabbitMQFrame, discardDeliveries: Bool) {
        switch frame {
        case .deliver(var delivery):
            guard !discardDeliveries else { return }
            delivery.deliveryTag = publicTag(delivery.deliveryTag)
            deliveries.append(delivery)
        case .getOK(var delivery):
            delivery.deliveryTag = publicTag(delivery.deliveryTag)
            getResult = .message(delivery)
        case .getEmpty:
            getResult = .empty
        case .ack(let tag, let multiple):
            settle(upTo: tag, multiple: multiple, failure: nil)
        case .nack(let tag, let multiple):
            settle(upTo: tag, multiple: multiple, failure: AMQPError(.publishNacked, message: "the broker nacked the message"))
        case .returned(let returned):
            recordReturn(returned)
        case .cancel(let tag):
            let queue = consumers.removeValue(forKey: tag)
            logger.info("AMQP consumer cancelled by the broker", metadata: ["amqp.consumer_tag": "\(tag)", "amqp.queue": "\(queue ?? "?")"])
            consumerLoss = AMQPError(.consumerCancelled, message: "the broker cancelled consumer \(tag) on queue \(queue ?? "?")")
        case .blocked(let reason):
            blocked = true
            logger.info("AMQP connection blocked by the broker", metadata: ["amqp.reason": "\(reason)"])
        case .unblocked:
            blocked = false
            logger.info("AMQP connection unblocked")
        case .other(let channel, let methodID):
            logger.debug("AMQP frame ignored", metadata: ["amqp.channel": "\(channel)", "amqp.method": "\(methodID)"])
        }
    }

    /// Turns a client failure into the error to throw, recovering the channel or closing the connection first.
    private func failure(_ failure: RabbitMQFailure) -> AMQPError {
        switch failure {
        case .library(let status, let context):
            let text = String(cString: amqp_error_string2(status))
            let code: AMQPError.Code = status == AMQP_STATUS_TIMEOUT.rawValue ? .timeout : .connectionClosed
            return markClosed(AMQPError(code, message: "\(context): \(text)", status: status))
        case .connectionClosed(let replyCode, let replyText):
            return markClosed(AMQPError(.connectionClosed, message: "the broker closed the connection: \(replyText)", replyCode: replyCode))
        case .channelClosed(let replyCode, let replyText, _, _):
            return channelDidClose(AMQPError(.channelClosed, message: replyText, replyCode: replyCode))
        }
    }

    /// The broker closed the channel (close-ok is sent): handle what arrived before the close,
    /// fail what it took with it, and open the channel again.
    private func channelDidClose(_ error: AMQPError) -> AMQPError {
        guard let client else { return closeError }
        logger.debug("AMQP channel closed by the broker; reopening", metadata: ["amqp.reply_code": "\(error.replyCode ?? 0)", "error": "\(error.message)"])
        // Frames read during the failed call arrived before the close: confirms among them still count.
        while client.hasQueuedFrames {
            do {
                guard let frame = try client.nextFrame(timeout: .zero) else { break }
                handle(frame, discardDeliveries: true)
            } catch {
                if case .channelClosed = error { continue }
                return self.failure(error)
            }
        }
        failUnconfirmed(error)
        if !deliveries.isEmpty {
            logger.info("AMQP deliveries of the closed channel dropped; the broker redelivers them", metadata: ["amqp.count": "\(deliveries.count)"])
            deliveries.removeAll()
        }
        if !consumers.isEmpty {
            consumerLoss = AMQPError(
                .channelClosed,
                message: "consumers \(consumers.keys.sorted()) ended with the channel: \(error.message)",
                replyCode: error.replyCode
            )
            consumers = [:]
        }
        channelGeneration += 1
        do {
            try client.openChannel()
            if confirmsEnabled {
                try client.confirmSelect()
                nextPublishSequence = 1
            }
        } catch {
            return self.failure(error)
        }
        client.releaseBuffers()
        return error
    }

    /// Marks the connection closed for good and fails what waited on it.
    @discardableResult
    private func markClosed(_ error: AMQPError, log: Bool = true) -> AMQPError {
        if log {
            logger.info("AMQP connection lost", metadata: ["error": "\(error)"])
        }
        client?.destroy()
        client = nil
        closeError = AMQPError(.connectionClosed, message: "the connection is closed (\(error.message))", status: error.status, replyCode: error.replyCode)
        failUnconfirmed(closeError)
        deliveries.removeAll()
        consumers = [:]
        consumerLoss = nil
        return error
    }

    private func publicTag(_ brokerTag: UInt64) -> UInt64 {
        ((channelGeneration & 0xFFFF) << Self.tagBits) | (brokerTag & Self.tagMask)
    }

    private func brokerTag(_ publicTag: UInt64) throws -> UInt64 {
        _ = try requireOpen()
        guard publicTag >> Self.tagBits == channelGeneration & 0xFFFF else {
            throw AMQPError(
                .channelClosed,
                message: "delivery tag \(publicTag) belongs to a channel that has closed; the broker redelivers that message"
            )
        }
        return publicTag & Self.tagMask
    }
}
