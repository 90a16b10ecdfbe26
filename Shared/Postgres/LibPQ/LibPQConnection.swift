import CLibPQ
import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Owns one `PGconn` and frees it in `deinit`: the only place that talks to libpq about a connection.
///
/// Not Sendable: a `PGconn` must be used from one thread at a time, and every instance lives on
/// the dedicated thread of the actor that created it.
final class LibPQConnection {
    private let handle: OpaquePointer
    // libpq keeps only a raw pointer to the sink; this reference keeps it alive until PQfinish.
    private let noticeSink: NoticeSink

    private init(handle: OpaquePointer, logger: Logger) {
        self.handle = handle
        self.noticeSink = NoticeSink(logger: logger)
        // Without a receiver libpq prints notices and warnings to stderr.
        PQsetNoticeReceiver(
            handle,
            { argument, result in
                guard let argument, let result else { return }
                Unmanaged<NoticeSink>.fromOpaque(argument).takeUnretainedValue().receive(result)
            },
            Unmanaged.passUnretained(noticeSink).toOpaque()
        )
    }

    deinit {
        PQfinish(handle)
    }

    /// Opens a connection with `PQconnectdbParams`, expanding the `dbname` entry as a connection
    /// string or URI. Blocks until connected or failed.
    ///
    /// Entries before `dbname` are defaults the connection string may override; entries after
    /// it override the connection string.
    static func connect(parameters: [(keyword: String, value: String)], logger: Logger) throws(PostgresError) -> LibPQConnection {
        let keywords = parameters.map { strdup($0.keyword) }
        let values = parameters.map { strdup($0.value) }
        defer {
            keywords.forEach { free($0) }
            values.forEach { free($0) }
        }
        let keywordPointers = keywords.map { UnsafePointer($0) } + [nil]
        let valuePointers = values.map { UnsafePointer($0) } + [nil]
        guard let handle = PQconnectdbParams(keywordPointers, valuePointers, 1) else {
            throw PostgresError(code: .connectionFailed, message: "libpq could not allocate a connection")
        }
        guard PQstatus(handle) == CONNECTION_OK else {
            let message = Self.errorMessage(of: handle)
            PQfinish(handle)
            throw PostgresError(code: .connectionFailed, message: message)
        }
        return LibPQConnection(handle: handle, logger: logger)
    }

    /// Whether libpq still considers the connection usable.
    var isHealthy: Bool {
        PQstatus(handle) == CONNECTION_OK
    }

    var transactionStatus: PGTransactionStatusType {
        PQtransactionStatus(handle)
    }

    var backendProcessID: Int32 {
        PQbackendPID(handle)
    }

    var errorMessage: String {
        Self.errorMessage(of: handle)
    }

    private static func errorMessage(of handle: OpaquePointer) -> String {
        guard let message = PQerrorMessage(handle) else { return "unknown libpq error" }
        let text = String(cString: message).trimmingWhitespace()
        return text.isEmpty ? "unknown libpq error" : text
    }

    /// Runs `sql` with the simple query protocol (several statements allowed).
    func exec(_ sql: String) throws(PostgresError) -> LibPQResult {
        let result = sql.withCString { PQexec(handle, $0) }
        return try check(result)
    }

    /// Whether `text` holds a NUL byte. One `memchr` over its UTF-8 buffer: a batch's
    /// parameters are whole arrays of documents, and the view's byte-by-byte `contains` was
    /// a few per cent of a service's CPU (issue #16 profiles).
    private static func containsNUL(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { buffer in
            guard let base = buffer.baseAddress, !buffer.isEmpty else { return false }
            return memchr(base, 0, buffer.count) != nil
        }
    }

    /// Runs `sql` with the extended protocol, every parameter and result in text format.
    func execParams(_ sql: String, binds: [String?]) throws(PostgresError) -> LibPQResult {
        guard binds.count <= Int(Int32.max) else {
            throw PostgresError(code: .encoding, message: "too many parameters")
        }
        if binds.contains(where: { $0.map(Self.containsNUL) == true }) {
            throw PostgresError(code: .encoding, message: "a text parameter contains a NUL character, which PostgreSQL cannot store")
        }
        // libpq reads the values during the call only; copies keep them alive until it returns.
        let values: [UnsafeMutablePointer<CChar>?] = binds.map { bind in bind.map { strdup($0) } }
        defer { values.forEach { free($0) } }
        let valuePointers = values.map { $0.map { UnsafePointer($0) } }
        let result = sql.withCString { command in
            PQexecParams(handle, command, Int32(binds.count), nil, valuePointers, nil, nil, 0)
        }
        return try check(result)
    }

    private func check(_ result: OpaquePointer?) throws(PostgresError) -> LibPQResult {
        guard let result else {
            throw PostgresError(code: isHealthy ? .server : .connectionLost, message: errorMessage)
        }
        let owned = LibPQResult(result)
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY, PGRES_SINGLE_TUPLE:
            return owned
        case PGRES_COPY_IN, PGRES_COPY_OUT, PGRES_COPY_BOTH:
            throw PostgresError(code: .server, message: "COPY is not supported by this client")
        default:
            throw owned.error(connectionLost: !isHealthy, fallbackMessage: errorMessage)
        }
    }

    // MARK: Asynchronous use (LISTEN and time-limited probes)

    /// Waits up to `timeout` for the socket to become readable, then reads what arrived.
    /// Returns false when the connection is lost.
    func waitForInput(timeout: Duration) -> Bool {
        let socket = PQsocket(handle)
        guard socket >= 0 else { return false }
        var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        let milliseconds = Int32(clamping: timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        let ready = poll(&descriptor, 1, max(0, milliseconds))
        if ready < 0 && errno != EINTR { return false }
        if ready > 0 {
            guard PQconsumeInput(handle) == 1 else { return false }
        }
        return isHealthy
    }

    /// Reads whatever the server sent while the connection sat idle; false if it is gone.
    ///
    /// A terminated backend sends a FATAL message (libpq treats it as a notice while idle)
    /// and then closes the socket; the EOF is seen only by a further read, hence the loop.
    func checkIdleConnection() -> Bool {
        for _ in 0..<4 {
            let socket = PQsocket(handle)
            guard socket >= 0 else { return false }
            var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, 0) > 0 else { break }
            guard PQconsumeInput(handle) == 1 else { return false }
        }
        return isHealthy
    }

    /// Notifications that arrived with the last input read.
    func drainNotifications() -> [PostgresNotification] {
        var notifications: [PostgresNotification] = []
        while let notify = PQnotifies(handle) {
            let entry = notify.pointee
            notifications.append(
                PostgresNotification(
                    channel: String(cString: entry.relname),
                    payload: entry.extra.map { String(cString: $0) } ?? "",
                    processID: entry.be_pid
                )
            )
            PQfreemem(notify)
        }
        return notifications
    }

    /// Sends `sql` and waits at most `timeout` for it to finish, polling the socket.
    /// Returns false on any failure or time-out; after a time-out the connection is mid-query and
    /// must be discarded.
    func execWithin(_ sql: String, timeout: Duration) -> Bool {
        let deadline = ContinuousClock.now + timeout
        guard sql.withCString({ PQsendQuery(handle, $0) }) == 1 else { return false }
        while PQisBusy(handle) == 1 {
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero, waitForInput(timeout: min(remaining, .milliseconds(100))) else { return false }
        }
        var succeeded = true
        while let result = PQgetResult(handle) {
            let status = PQresultStatus(result)
            if status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK { succeeded = false }
            PQclear(result)
        }
        return succeeded && isHealthy
    }
}

/// Owns one `PGresult` and frees it in `deinit`.
final class LibPQResult {
    let handle: OpaquePointer

    init(_ handle: OpaquePointer) {
        self.handle = handle
    }

    deinit {
        PQclear(handle)
    }

    var rowCount: Int { Int(PQntuples(handle)) }
    var columnCount: Int { Int(PQnfields(handle)) }

    func columnName(_ column: Int) -> String {
        PQfname(handle, Int32(column)).map { String(cString: $0) } ?? ""
    }

    func value(row: Int, column: Int) -> String? {
        let row = Int32(row)
        let column = Int32(column)
        if PQgetisnull(handle, row, column) == 1 { return nil }
        guard let bytes = PQgetvalue(handle, row, column) else { return nil }
        let length = Int(PQgetlength(handle, row, column))
        return String(decoding: UnsafeRawBufferPointer(start: bytes, count: length), as: UTF8.self)
    }

    /// The row count of the command tag (`INSERT 0 5` → 5); 0 where the command has none.
    var affectedRows: Int {
        guard let text = PQcmdTuples(handle) else { return 0 }
        return Int(String(cString: text)) ?? 0
    }

    /// The command tag, such as `COMMIT` or `ROLLBACK`.
    var commandStatus: String {
        PQcmdStatus(handle).map { String(cString: $0) } ?? ""
    }

    func field(_ code: Character) -> String? {
        guard let ascii = code.asciiValue, let text = PQresultErrorField(handle, Int32(ascii)) else { return nil }
        return String(cString: text)
    }

    func error(connectionLost: Bool, fallbackMessage: String) -> PostgresError {
        let sqlState = field("C")
        let message = field("M") ?? PQresultErrorMessage(handle).map { String(cString: $0).trimmingWhitespace() } ?? fallbackMessage
        return PostgresError(
            code: connectionLost ? .connectionLost : .server,
            message: message.isEmpty ? fallbackMessage : message,
            sqlState: sqlState,
            detail: field("D"),
            hint: field("H"),
            constraint: field("n")
        )
    }
}

/// Receives server notices (warnings, `RAISE NOTICE`) and logs them at debug level.
final class NoticeSink {
    private let logger: Logger

    init(logger: Logger) {
        self.logger = logger
    }

    func receive(_ result: OpaquePointer) {
        func field(_ code: Character) -> String {
            guard let ascii = code.asciiValue, let text = PQresultErrorField(result, Int32(ascii)) else { return "" }
            return String(cString: text)
        }
        logger.debug(
            "postgres notice",
            metadata: [
                "postgres.severity": "\(field("V"))",
                "postgres.sqlstate": "\(field("C"))",
                "postgres.message": "\(field("M"))",
            ]
        )
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var view = Substring(self)
        while let last = view.last, last.isWhitespace { view.removeLast() }
        while let first = view.first, first.isWhitespace { view.removeFirst() }
        return String(view)
    }
}
