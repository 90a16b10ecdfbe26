public import Contracts
import ClientSupport
public import Logging
public import Postgres
public import ServiceLifecycle
public import Foundation

/// A timer row: something to do at `dueAt` (an acknowledgement time-out, a deadline reminder).
///
/// Timers are rows, never in-memory sleeps (brief §5): they survive restarts, and replicas
/// share them because each is claimed with `FOR UPDATE SKIP LOCKED`.
public struct DurableTimer: Sendable, Hashable {
    public var id: Int64
    /// Selects the ``TimerHandler``.
    public var kind: String
    /// Unique within the kind: scheduling the same key again moves the timer.
    public var key: String
    public var dueAt: Date
    /// JSON chosen by whoever scheduled the timer.
    public var payload: String
    /// Earlier failed firings.
    public var attempts: Int
}

/// Schedules and cancels timers inside a caller's transaction.
public enum DurableTimers {
    /// Creates the timer, or moves it if one with the same kind and key exists.
    public static func schedule(kind: String, key: String, at dueAt: Date, payloadJSON: String = "{}", on connection: PostgresConnection, schema: String) throws {
        try schedule(kind: kind, keys: [key], at: [dueAt], payloadsJSON: [payloadJSON], on: connection, schema: schema)
    }

    /// Creates or moves several timers of one kind in one statement (`keys`, `dueAts` and
    /// `payloads` in step).
    public static func schedule(
        kind: String, keys: [String], at dueAts: [Date], payloadsJSON: [String]? = nil, on connection: PostgresConnection, schema: String
    ) throws {
        precondition(keys.count == dueAts.count && (payloadsJSON?.count ?? keys.count) == keys.count, "one due time and payload per key")
        guard !keys.isEmpty else { return }
        _ = try connection.query(
            """
            INSERT INTO \(unescaped: quoted(schema)).timers (kind, key, due_at, payload)
            SELECT \(kind), key, due_at, payload::jsonb
            FROM unnest(\(keys)::text[], \(dueAts)::timestamptz[], \(payloadsJSON ?? Array(repeating: "{}", count: keys.count))::text[])
                 AS t (key, due_at, payload)
            ON CONFLICT (kind, key) DO UPDATE SET due_at = EXCLUDED.due_at, payload = EXCLUDED.payload, attempts = 0, last_error = NULL
            """
        )
    }

    /// Removes the timers of one kind with these keys; returns how many existed.
    @discardableResult
    public static func cancel(kind: String, keys: [String], on connection: PostgresConnection, schema: String) throws -> Int {
        guard !keys.isEmpty else { return 0 }
        return try connection.query(
            "DELETE FROM \(unescaped: quoted(schema)).timers WHERE kind = \(kind) AND key = ANY(\(keys))"
        ).affectedRows
    }

    /// Removes a timer; returns whether one existed.
    @discardableResult
    public static func cancel(kind: String, key: String, on connection: PostgresConnection, schema: String) throws -> Bool {
        try connection.query("DELETE FROM \(unescaped: quoted(schema)).timers WHERE kind = \(kind) AND key = \(key)").affectedRows > 0
    }

    /// Removes every timer of a kind whose key starts with `prefix` (all timers of one case, say).
    @discardableResult
    public static func cancel(kind: String, keyPrefix prefix: String, on connection: PostgresConnection, schema: String) throws -> Int {
        try connection.query(
            "DELETE FROM \(unescaped: quoted(schema)).timers WHERE kind = \(kind) AND starts_with(key, \(prefix))"
        ).affectedRows
    }
}

/// Fires the timers of one kind.
public protocol TimerHandler: Sendable {
    var kind: String { get }
    /// Timers of this kind fire one per transaction instead of in the shared batch: a handler
    /// that locks rows consumers lock too (in another order) must not hold one timer's locks
    /// while it waits for the next timer's, or the two deadlock.
    var firesAlone: Bool { get }
    /// Runs in the transaction that deletes the timer; may schedule new timers and emit messages.
    /// A thrown error keeps the timer and retries it later with back-off.
    func fire(_ timer: DurableTimer, context: inout TransactionContext) throws
}

extension TimerHandler {
    public var firesAlone: Bool { false }
}

/// Claims due timers and fires them.
public struct TimerRunner: Service {
    private let schema: String
    private let handlers: [String: any TimerHandler]
    private let service: ServiceName
    private let database: PostgresPool
    private let pollInterval: Duration
    private let batchSize: Int
    private let logger: Logger
    private let clock: @Sendable () -> Date
    private let metrics = ServiceMetrics()
    private let backoff = Backoff(initial: .seconds(1), maximum: .seconds(300))

    public init(
        schema: String,
        service: ServiceName,
        handlers: [any TimerHandler],
        database: PostgresPool,
        pollInterval: Duration,
        batchSize: Int = 100,
        logger: Logger,
        clock: @escaping @Sendable () -> Date = Date.init
    ) {
        self.schema = schema
        self.service = service
        self.handlers = Dictionary(handlers.map { ($0.kind, $0) }, uniquingKeysWith: { first, _ in first })
        self.database = database
        self.pollInterval = pollInterval
        self.batchSize = batchSize
        self.logger = logger
        self.clock = clock
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            var failures = 0
            while !Task.isCancelled {
                do {
                    let fired = try await fireDue()
                    failures = 0
                    if fired < batchSize {
                        try await Task.sleep(for: try await sleepDuration())
                    }
                } catch is CancellationError {
                    return
                } catch {
                    logger.warning("timer sweep failed; retrying", metadata: ["db.schema": "\(schema)", "error": "\(error)"])
                    try? await Task.sleep(for: Backoff().delay(attempt: failures))
                    failures += 1
                }
            }
        }
    }

    /// Fires every timer due now (by the injected clock); returns how many were claimed. Up to
    /// a batch of them share a transaction; those whose handler ``TimerHandler/firesAlone`` get
    /// one each.
    @discardableResult
    public func fireDue() async throws -> Int {
        let alone = handlers.values.filter(\.firesAlone).map(\.kind).sorted()
        var fired = try await fire(limit: batchSize, kinds: alone, only: false)
        guard !alone.isEmpty else { return fired }
        for _ in 0..<batchSize {
            guard try await fire(limit: 1, kinds: alone, only: true) == 1 else { break }
            fired += 1
        }
        return fired
    }

    /// Claims and fires up to `limit` due timers of `kinds` (`only`) or of every other kind.
    private func fire(limit: Int, kinds: [String], only: Bool) async throws -> Int {
        let now = clock()
        let schema = schema
        let handlers = handlers
        let logger = logger
        let backoff = backoff
        return try await database.withTransaction { connection in
            let table = "\(quoted(schema)).timers"
            let due = try connection.query(
                """
                SELECT id, kind, key, due_at, payload::text AS payload, attempts FROM \(unescaped: table)
                WHERE due_at <= \(now) AND (kind = ANY(\(kinds)::text[])) = \(only)
                ORDER BY due_at
                LIMIT \(limit)
                FOR UPDATE SKIP LOCKED
                """
            ).map { row in
                DurableTimer(
                    id: try row.decode("id"),
                    kind: try row.decode("kind"),
                    key: try row.decode("key"),
                    dueAt: try row.decode("due_at"),
                    payload: try row.decode("payload"),
                    attempts: try row.decode("attempts")
                )
            }
            for timer in due {
                var timerLogger = logger
                timerLogger[metadataKey: "timer.kind"] = "\(timer.kind)"
                timerLogger[metadataKey: "timer.key"] = "\(timer.key)"
                do {
                    try connection.withSavepoint {
                        _ = try connection.query("DELETE FROM \(unescaped: table) WHERE id = \(timer.id)")
                        guard let handler = handlers[timer.kind] else {
                            throw PermanentFailure(code: "unknown-timer", reason: "no handler for timer kind \(timer.kind)")
                        }
                        var context = TransactionContext(connection: connection, schema: schema, service: service, logger: timerLogger, now: now)
                        try handler.fire(timer, context: &context)
                        try context.flushOutbox()
                    }
                } catch let error as PostgresError where error.isConnectionProblem || error.isRetriable {
                    throw error
                } catch {
                    let retryIn = max(1, Int(backoff.cap(attempt: timer.attempts).seconds))
                    timerLogger.error("timer failed; it will fire again", metadata: ["error": "\(error)", "timer.retry_in_s": "\(retryIn)"])
                    _ = try connection.query(
                        """
                        UPDATE \(unescaped: table)
                        SET attempts = attempts + 1, last_error = \("\(error)"), due_at = \(now)::timestamptz + make_interval(secs => \(retryIn))
                        WHERE id = \(timer.id)
                        """
                    )
                }
            }
            return due.count
        }
    }

    private func sleepDuration() async throws -> Duration {
        let now = clock()
        let schema = schema
        let (next, due): (Date?, Int) = try await database.withConnection { connection in
            let row = try connection.query("SELECT min(due_at) AS next, count(*) FILTER (WHERE due_at <= \(now)) AS due FROM \(unescaped: quoted(schema)).timers").rows.first
            return (try row?.decode("next", as: Date?.self), try row?.decode("due", as: Int.self) ?? 0)
        }
        // Brief §7: timers that are due and not yet fired (a runner that falls behind shows here).
        metrics.timerBacklog(schema: schema, due)
        guard let next else { return pollInterval }
        let untilNext = Duration.milliseconds(max(0, Int(next.timeIntervalSince(now) * 1000)))
        return min(pollInterval, max(.milliseconds(5), untilNext))
    }
}
