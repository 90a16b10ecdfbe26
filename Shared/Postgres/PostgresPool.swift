public import ClientSupport
public import Logging
import Synchronization

/// A bounded pool of PostgreSQL connections, each on a dedicated thread of its own.
///
/// Connections open lazily, on first lease. A lease waits asynchronously when all are in use,
/// first come first served, and gives up its place when its task is cancelled. A connection that
/// broke is reopened on its next lease; if that fails the lease throws a `.connectionFailed` error
/// (``PostgresError/isConnectionProblem``) and the next lease tries again.
public final class PostgresPool: Sendable {
    private let configuration: PostgresConfiguration
    private let size: Int
    private let logger: Logger
    private let retryBackoff: Backoff
    private let state = Mutex(State())

    private struct Waiter {
        var id: Int
        var continuation: CheckedContinuation<PostgresConnectionWorker, any Error>
    }

    private struct State {
        var idle: [PostgresConnectionWorker] = []
        var workers = 0
        var leased = 0
        var waiters: [Waiter] = []
        var nextWaiterID = 0
        var closed = false
        var closeWaiters: [CheckedContinuation<Void, Never>] = []
    }

    /// - Parameters:
    ///   - size: The most connections ever open at once (at least 1).
    ///   - retryBackoff: The pause between attempts of ``withTransaction(isolation:maxAttempts:_:)``.
    public init(
        configuration: PostgresConfiguration,
        size: Int,
        logger: Logger,
        retryBackoff: Backoff = Backoff(initial: .milliseconds(10), maximum: .seconds(1))
    ) {
        self.configuration = configuration
        self.size = max(1, size)
        self.logger = logger
        self.retryBackoff = retryBackoff
    }

    /// Runs `body` on a leased connection, on that connection's thread.
    ///
    /// A transaction the body leaves open is rolled back before the connection returns to the pool.
    /// Throws `CancellationError` if the task is cancelled while waiting for a connection.
    @discardableResult
    public func withConnection<T: Sendable>(_ body: @Sendable (PostgresConnection) throws -> T) async throws -> T {
        let worker = try await lease()
        do {
            let value = try await worker.run(body)
            await release(worker)
            return value
        } catch {
            await release(worker)
            throw error
        }
    }

    /// Runs `body` between BEGIN and COMMIT on one connection, rolling back when it throws.
    ///
    /// On `40001` serialization_failure or `40P01` deadlock_detected (also at COMMIT) the whole
    /// body runs again, up to `maxAttempts` times in all, after a back-off with jitter; so the
    /// body must not have effects outside the database. Connection problems are thrown: the
    /// caller decides whether to retry.
    @discardableResult
    public func withTransaction<T: Sendable>(
        isolation: PostgresIsolation = .readCommitted,
        maxAttempts: Int = 5,
        _ body: @Sendable (PostgresConnection) throws -> T
    ) async throws -> T {
        var attempt = 0
        while true {
            do {
                return try await withConnection { connection in
                    try connection.transaction(isolation: isolation, body)
                }
            } catch let error as PostgresError where error.isRetriable && attempt + 1 < max(1, maxAttempts) {
                logger.debug(
                    "postgres transaction retried",
                    metadata: ["postgres.sqlstate": "\(error.sqlState ?? "")", "postgres.attempt": "\(attempt + 1)"]
                )
                try await Task.sleep(for: retryBackoff.delay(attempt: attempt))
                attempt += 1
            }
        }
    }

    /// Runs one query on a leased connection.
    @discardableResult
    public func query(_ query: PostgresQuery) async throws -> PostgresResult {
        try await withConnection { connection in try connection.query(query) }
    }

    /// Whether `SELECT 1` succeeds within `timeout` (for readiness). Waiting for a free
    /// connection counts toward the limit; connecting may add up to twice that.
    public func isReachable(timeout: Duration = .seconds(2)) async -> Bool {
        let worker: PostgresConnectionWorker? = await withTaskGroup(of: PostgresConnectionWorker?.self) { group in
            group.addTask { try? await self.lease() }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            var leased: PostgresConnectionWorker?
            // Both children are awaited: a lease granted just as the timer fired is still used.
            for await result in group {
                if let result { leased = result }
                group.cancelAll()
            }
            return leased
        }
        guard let worker else { return false }
        let reachable = await worker.ping(timeout: timeout)
        await release(worker)
        return reachable
    }

    /// Stops leasing, fails waiting leases with `.poolClosed`, waits for leased connections to
    /// come back, and closes every connection. Later calls throw `.poolClosed`.
    public func close() async {
        let (idle, waiters) = state.withLock { state in
            state.closed = true
            let idle = state.idle
            state.idle = []
            state.workers -= idle.count
            let waiters = state.waiters
            state.waiters = []
            return (idle, waiters)
        }
        for waiter in waiters {
            waiter.continuation.resume(throwing: PostgresError(code: .poolClosed, message: "the pool was closed"))
        }
        for worker in idle {
            await worker.close()
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLock { state in
                if state.leased == 0 { return true }
                state.closeWaiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }

    // MARK: Leasing

    /// Leases waiting for a connection (tests).
    var waitingCount: Int {
        state.withLock { $0.waiters.count }
    }

    private enum LeaseDecision {
        case use(PostgresConnectionWorker)
        case create(Int)
        case closed
        case wait(Int)
    }

    private func decide(_ state: inout State) -> LeaseDecision {
        if state.closed { return .closed }
        if let worker = state.idle.popLast() {
            state.leased += 1
            return .use(worker)
        }
        if state.workers < size {
            state.workers += 1
            state.leased += 1
            return .create(state.workers)
        }
        state.nextWaiterID += 1
        return .wait(state.nextWaiterID)
    }

    private func lease() async throws -> PostgresConnectionWorker {
        switch state.withLock({ decide(&$0) }) {
        case .use(let worker):
            return worker
        case .create(let number):
            return makeWorker(number)
        case .closed:
            throw PostgresError(code: .poolClosed, message: "the pool is closed")
        case .wait(let id):
            return try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { continuation in
                    // Decided again under the same lock that registers the waiter, so a
                    // connection released in between is not missed.
                    let decision: LeaseDecision? = state.withLock { state in
                        if Task.isCancelled { return nil }
                        let decision = decide(&state)
                        if case .wait = decision {
                            state.waiters.append(Waiter(id: id, continuation: continuation))
                        }
                        return decision
                    }
                    switch decision {
                    case nil:
                        continuation.resume(throwing: CancellationError())
                    case .use(let worker):
                        continuation.resume(returning: worker)
                    case .create(let number):
                        continuation.resume(returning: makeWorker(number))
                    case .closed:
                        continuation.resume(throwing: PostgresError(code: .poolClosed, message: "the pool is closed"))
                    case .wait:
                        break
                    }
                }
            } onCancel: {
                let waiter = state.withLock { state -> Waiter? in
                    guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                    return state.waiters.remove(at: index)
                }
                waiter?.continuation.resume(throwing: CancellationError())
            }
        }
    }

    private func makeWorker(_ number: Int) -> PostgresConnectionWorker {
        PostgresConnectionWorker(name: "postgres-\(number)", configuration: configuration, logger: logger)
    }

    private enum ReleaseAction {
        case handOver(CheckedContinuation<PostgresConnectionWorker, any Error>)
        case keep
        case close([CheckedContinuation<Void, Never>])
    }

    private func release(_ worker: PostgresConnectionWorker) async {
        let action = state.withLock { state -> ReleaseAction in
            if state.closed {
                state.leased -= 1
                state.workers -= 1
                guard state.leased == 0 else { return .close([]) }
                let closeWaiters = state.closeWaiters
                state.closeWaiters = []
                return .close(closeWaiters)
            }
            if !state.waiters.isEmpty {
                // Handed straight to the longest waiter: it stays leased, FIFO is kept.
                return .handOver(state.waiters.removeFirst().continuation)
            }
            state.leased -= 1
            state.idle.append(worker)
            return .keep
        }
        switch action {
        case .handOver(let continuation):
            continuation.resume(returning: worker)
        case .keep:
            break
        case .close(let closeWaiters):
            await worker.close()
            closeWaiters.forEach { $0.resume() }
        }
    }
}
