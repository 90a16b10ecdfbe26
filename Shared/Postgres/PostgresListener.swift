public import ClientSupport
public import Logging

/// A notification received on a `LISTEN` channel.
public struct PostgresNotification: Sendable, Hashable {
    /// The channel it was sent to.
    public var channel: String
    /// The payload; empty when none was sent.
    public var payload: String
    /// The server process of the session that sent it.
    public var processID: Int32

    /// A notification built by hand (test doubles).
    public init(channel: String, payload: String, processID: Int32) {
        self.channel = channel
        self.payload = payload
        self.processID = processID
    }
}

/// A `LISTEN` session on a thread of its own that yields notifications.
///
/// ``run()`` connects, listens on every channel, and polls the socket; when the connection is
/// lost it reconnects with back-off and listens again. Notifications sent while it was
/// disconnected are lost (PostgreSQL keeps none), so consumers also poll as a fall-back.
public final class PostgresListener: Sendable {
    private let configuration: PostgresConfiguration
    private let channels: [String]
    private let logger: Logger
    private let backoff: Backoff
    private let stream: AsyncStream<PostgresNotification>
    private let continuation: AsyncStream<PostgresNotification>.Continuation

    /// - Parameters:
    ///   - channels: Channel names, used exactly as written (quoted, so case matters).
    ///   - backoff: Delays between reconnection attempts.
    public init(configuration: PostgresConfiguration, channels: [String], logger: Logger, backoff: Backoff = .init()) {
        self.configuration = configuration
        self.channels = channels
        self.logger = logger
        self.backoff = backoff
        (stream, continuation) = AsyncStream.makeStream(bufferingPolicy: .unbounded)
    }

    /// The notifications, in arrival order; for one consumer. Finishes when ``run()`` returns.
    public var notifications: AsyncStream<PostgresNotification> {
        stream
    }

    /// Listens until the calling task is cancelled (noticed within about 250 ms, or once a
    /// connection attempt in progress ends), reconnecting with back-off after connection loss;
    /// then closes the session and finishes ``notifications``. Call it once.
    public func run() async {
        let worker = PostgresListenerWorker(configuration: configuration, channels: channels, logger: logger)
        var attempt = 0
        while !Task.isCancelled {
            do {
                try await worker.listen()
                if attempt > 0 {
                    logger.info("postgres listener reconnected", metadata: ["postgres.attempts": "\(attempt)"])
                }
                attempt = 0
                while !Task.isCancelled {
                    for notification in try await worker.nextNotifications() {
                        continuation.yield(notification)
                    }
                }
            } catch {
                let delay = backoff.delay(attempt: attempt)
                logger.info(
                    "postgres listener disconnected; retrying",
                    metadata: ["postgres.error": "\(error)", "postgres.retry_in": "\(delay)", "postgres.attempt": "\(attempt + 1)"]
                )
                await worker.disconnect()
                attempt += 1
                do {
                    try await Task.sleep(for: delay)
                } catch {
                    break
                }
            }
        }
        await worker.close()
        continuation.finish()
    }
}

/// The listener's session and the dedicated thread it blocks on.
actor PostgresListenerWorker {
    private let executor = DedicatedThreadExecutor(name: "postgres-listener")
    private let configuration: PostgresConfiguration
    private let channels: [String]
    private let logger: Logger
    private var connection: PostgresConnection?

    nonisolated var unownedExecutor: UnownedSerialExecutor {
        executor.asUnownedSerialExecutor()
    }

    init(configuration: PostgresConfiguration, channels: [String], logger: Logger) {
        self.configuration = configuration
        self.channels = channels
        self.logger = logger
    }

    deinit {
        executor.shutdown()
    }

    /// Connects and runs `LISTEN` for every channel.
    func listen() throws {
        connection = nil
        let connection = try PostgresConnection.connect(configuration: configuration, logger: logger)
        if !channels.isEmpty {
            try connection.execute(channels.map { "LISTEN \(Self.quoteIdentifier($0))" }.joined(separator: "; "))
        }
        self.connection = connection
        logger.debug("postgres listener listening", metadata: ["postgres.channels": "\(channels)"])
    }

    /// Polls the socket in slices of 250 ms until notifications arrive or the task is cancelled.
    func nextNotifications() throws(PostgresError) -> [PostgresNotification] {
        guard let connection else { throw PostgresError(code: .connectionLost, message: "not connected") }
        while true {
            let pending = connection.handle.drainNotifications()
            if !pending.isEmpty || Task.isCancelled { return pending }
            guard connection.handle.waitForInput(timeout: .milliseconds(250)) else {
                throw PostgresError(code: .connectionLost, message: connection.handle.errorMessage)
            }
        }
    }

    func disconnect() {
        connection = nil
    }

    func close() {
        connection = nil
        executor.shutdown()
    }

    static func quoteIdentifier(_ name: String) -> String {
        var quoted = "\""
        for character in name {
            quoted.append(character)
            if character == "\"" { quoted.append(character) }
        }
        return quoted + "\""
    }
}
