import ClientSupport
import Logging

/// One pool slot: a dedicated thread and the connection that lives on it.
///
/// The actor's executor is that thread, so every libpq call (connecting included) and every
/// user closure runs there and never on the cooperative pool. The connection opens on first use
/// and is reopened on the next use after it broke.
actor PostgresConnectionWorker {
    private let executor: DedicatedThreadExecutor
    private let configuration: PostgresConfiguration
    private let logger: Logger
    private var connection: PostgresConnection?

    nonisolated var unownedExecutor: UnownedSerialExecutor {
        executor.asUnownedSerialExecutor()
    }

    init(name: String, configuration: PostgresConfiguration, logger: Logger) {
        self.executor = DedicatedThreadExecutor(name: name)
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: "postgres.connection"] = "\(name)"
        self.logger = logger
    }

    deinit {
        // The connection (if any) is freed with this actor; the thread ends once idle.
        executor.shutdown()
    }

    /// Runs `body` with a healthy connection, then returns the session to a clean state.
    func run<T: Sendable>(_ body: @Sendable (PostgresConnection) throws -> T) throws -> T {
        let connection = try ready()
        defer { settle(connection) }
        return try body(connection)
    }

    /// `SELECT 1` within `timeout`, connecting first if needed; false on any failure.
    func ping(timeout: Duration) -> Bool {
        do {
            let connection = try ready(connectTimeout: timeout)
            if connection.handle.execWithin("SELECT 1", timeout: timeout) { return true }
            // A probe that timed out leaves the session mid-query; it is not reused.
            self.connection = nil
            return false
        } catch {
            return false
        }
    }

    /// Closes the connection and lets the thread end.
    func close() {
        connection = nil
        executor.shutdown()
    }

    private func ready(connectTimeout: Duration? = nil) throws(PostgresError) -> PostgresConnection {
        if let connection {
            // Reading what the server sent while idle notices a terminated session (FATAL,
            // then EOF) before it is handed out.
            if connection.handle.checkIdleConnection() { return connection }
            logger.debug("postgres connection broken; reconnecting")
            self.connection = nil
        }
        do {
            let connection = try PostgresConnection.connect(configuration: configuration, connectTimeout: connectTimeout, logger: logger)
            logger.debug("postgres connection opened", metadata: ["postgres.backend_pid": "\(connection.backendProcessID)"])
            self.connection = connection
            return connection
        } catch {
            logger.debug("postgres connection failed", metadata: ["postgres.error": "\(error)"])
            throw error
        }
    }

    private func settle(_ connection: PostgresConnection) {
        if !connection.settle() {
            logger.debug("postgres connection discarded after use")
            if self.connection === connection { self.connection = nil }
        }
    }
}
