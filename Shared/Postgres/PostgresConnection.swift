import CLibPQ
import Logging

/// One open PostgreSQL session.
///
/// It is handed to closures that ``PostgresPool`` runs synchronously on the connection's own
/// thread; every call blocks that thread, never the cooperative pool. It is not Sendable: keep it
/// inside the closure.
public final class PostgresConnection {
    let handle: LibPQConnection
    private var savepointCounter = 0

    init(handle: LibPQConnection) {
        self.handle = handle
    }

    /// Opens a session and applies the settings the value coding relies on.
    static func connect(configuration: PostgresConfiguration, connectTimeout: Duration? = nil, logger: Logger) throws(PostgresError) -> PostgresConnection {
        let handle = try LibPQConnection.connect(parameters: configuration.connectionParameters(connectTimeout: connectTimeout), logger: logger)
        // Dates are written and parsed in UTC and ISO style; bytea in hex.
        _ = try handle.exec("SET TimeZone = 'UTC'; SET DateStyle = 'ISO, MDY'; SET bytea_output = 'hex'")
        return PostgresConnection(handle: handle)
    }

    /// Runs `query` with its parameters bound (extended protocol, text format).
    @discardableResult
    public func query(_ query: PostgresQuery) throws -> PostgresResult {
        PostgresResult(try handle.execParams(query.sql, binds: query.binds))
    }

    /// Runs `sql` with the simple query protocol; several `;`-separated statements are allowed
    /// (migrations). Takes no parameters.
    public func execute(_ sql: String) throws {
        _ = try handle.exec(sql)
    }

    /// Runs `body` inside `SAVEPOINT`: released when it returns, rolled back to when it throws
    /// (then the error is rethrown). Work before the savepoint stays. Needs an open transaction.
    public func withSavepoint<T>(_ body: () throws -> T) throws -> T {
        savepointCounter += 1
        let name = "s\(savepointCounter)"
        try execute("SAVEPOINT \(name)")
        let value: T
        do {
            value = try body()
        } catch {
            // A failure here means the connection is gone; the body's error says more.
            try? execute("ROLLBACK TO SAVEPOINT \(name); RELEASE SAVEPOINT \(name)")
            throw error
        }
        try execute("RELEASE SAVEPOINT \(name)")
        return value
    }

    /// Sends a notification to `channel` (`pg_notify`); delivered at commit when in a transaction.
    public func notify(channel: String, payload: String = "") throws {
        try query("SELECT pg_notify(\(channel), \(payload))")
    }

    /// Whether a transaction block is open (including one that failed and awaits ROLLBACK).
    public var isInTransaction: Bool {
        let status = handle.transactionStatus
        return status == PQTRANS_INTRANS || status == PQTRANS_INERROR || status == PQTRANS_ACTIVE
    }

    /// The server process serving this session (`pg_backend_pid()`).
    public var backendProcessID: Int32 {
        handle.backendProcessID
    }

    /// BEGIN, `body`, COMMIT; ROLLBACK when anything throws.
    func transaction<T>(isolation: PostgresIsolation, _ body: (PostgresConnection) throws -> T) throws -> T {
        try execute(isolation.beginStatement)
        let value: T
        do {
            value = try body(self)
        } catch {
            rollbackIfOpen()
            throw error
        }
        if handle.transactionStatus == PQTRANS_INERROR {
            // The body swallowed a failed statement; COMMIT would quietly roll back.
            rollbackIfOpen()
            throw PostgresError(code: .server, message: "the transaction was aborted by an earlier failed statement and has been rolled back", sqlState: "25P02")
        }
        do {
            try execute("COMMIT")
        } catch {
            rollbackIfOpen()
            throw error
        }
        return value
    }

    /// Leaves the session as the next user expects it: no transaction open.
    /// Returns false when the session cannot be trusted any more.
    func settle() -> Bool {
        switch handle.transactionStatus {
        case PQTRANS_IDLE:
            return handle.isHealthy
        case PQTRANS_INTRANS, PQTRANS_INERROR:
            return (try? execute("ROLLBACK")) != nil && handle.isHealthy
        default:
            return false
        }
    }

    private func rollbackIfOpen() {
        if isInTransaction {
            try? execute("ROLLBACK")
        }
    }
}

@available(*, unavailable, message: "a PostgresConnection stays on its own thread")
extension PostgresConnection: Sendable {}

/// The isolation level of a transaction run by ``PostgresPool/withTransaction(isolation:maxAttempts:_:)``.
public enum PostgresIsolation: Sendable, Hashable {
    /// Each statement sees what was committed before it began (PostgreSQL's default).
    case readCommitted
    /// The transaction sees one snapshot; concurrent updates of the same rows fail with 40001.
    case repeatableRead
    /// As if transactions ran one after another; conflicts fail with 40001 and are retried.
    case serializable

    var beginStatement: String {
        switch self {
        case .readCommitted: "BEGIN ISOLATION LEVEL READ COMMITTED"
        case .repeatableRead: "BEGIN ISOLATION LEVEL REPEATABLE READ"
        case .serializable: "BEGIN ISOLATION LEVEL SERIALIZABLE"
        }
    }
}
