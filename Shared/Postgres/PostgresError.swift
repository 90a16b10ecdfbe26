/// An error from the Postgres client or the server, with the server's SQLSTATE and fields.
public struct PostgresError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure this is; new codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case connectionFailed
            case connectionLost
            case server
            case decoding
            case encoding
            case poolClosed
            case timeout
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// A connection could not be opened (refused, authentication, fail-over target missing).
        public static let connectionFailed = Self(.connectionFailed)
        /// An open connection broke during a command.
        public static let connectionLost = Self(.connectionLost)
        /// The server answered a command with an error; ``PostgresError/sqlState`` says which.
        public static let server = Self(.server)
        /// A column value could not be decoded into the requested Swift type.
        public static let decoding = Self(.decoding)
        /// A parameter could not be sent (for example a NUL character in text).
        public static let encoding = Self(.encoding)
        /// The pool was closed before or while waiting for a connection.
        public static let poolClosed = Self(.poolClosed)
        /// An operation did not finish within its time limit.
        public static let timeout = Self(.timeout)

        /// The code's name, such as `connectionLost`.
        public var description: String { base.rawValue }
    }

    /// What kind of failure this is.
    public var code: Code
    /// The five-character SQLSTATE sent by the server, such as `23505`.
    public var sqlState: String?
    /// The primary, human-readable message.
    public var message: String
    /// The server's detail field; may contain row values, so it is kept out of ``description``.
    public var detail: String?
    /// The server's hint field.
    public var hint: String?
    /// The constraint that was violated, if the server named one.
    public var constraint: String?

    /// An error built by hand (test doubles, or callers wrapping their own failures).
    public init(
        code: Code,
        message: String,
        sqlState: String? = nil,
        detail: String? = nil,
        hint: String? = nil,
        constraint: String? = nil
    ) {
        self.code = code
        self.message = message
        self.sqlState = sqlState
        self.detail = detail
        self.hint = hint
        self.constraint = constraint
    }

    /// Whether running the whole transaction again may succeed:
    /// `40001` serialization_failure and `40P01` deadlock_detected.
    public var isRetriable: Bool {
        sqlState == "40001" || sqlState == "40P01"
    }

    /// Whether the connection or the server, not the statement, is at fault: failed or lost
    /// connections, SQLSTATE class 08, `57P01` admin_shutdown, `57P02` crash_shutdown,
    /// `57P03` cannot_connect_now and `53300` too_many_connections.
    public var isConnectionProblem: Bool {
        if code == .connectionFailed || code == .connectionLost { return true }
        guard let sqlState else { return false }
        return sqlState.hasPrefix("08") || ["57P01", "57P02", "57P03", "53300"].contains(sqlState)
    }

    /// Whether a unique constraint was violated (`23505`).
    public var isUniqueViolation: Bool {
        sqlState == "23505"
    }

    /// Code, SQLSTATE, message, constraint and hint; never the detail.
    public var description: String {
        var text = "PostgresError.\(code)"
        if let sqlState { text += " (\(sqlState))" }
        text += ": \(message)"
        if let constraint { text += " [constraint \(constraint)]" }
        if let hint { text += " Hint: \(hint)" }
        return text
    }
}
