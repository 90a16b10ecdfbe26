import Contracts
import Directory
public import Foundation
public import Logging
public import Postgres
public import ServiceLifecycle
import ServiceRuntime

/// Sends what the `deliver` timers handed over, outside any database transaction (issue #5
/// item 2): lease rows in one short transaction, send, then record each outcome in a second.
public struct DeliveryWorker: Service {
    public let engine: NotifierEngine
    public let channels: NotificationChannels
    private let database: PostgresPool
    private let logger: Logger
    private let clock: @Sendable () -> Date
    private let pollInterval: Duration

    public init(
        engine: NotifierEngine, channels: NotificationChannels, database: PostgresPool, logger: Logger,
        pollInterval: Duration = .milliseconds(250), clock: @escaping @Sendable () -> Date = Date.init
    ) {
        self.engine = engine
        self.channels = channels
        self.database = database
        self.logger = logger
        self.pollInterval = pollInterval
        self.clock = clock
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            var failures = 0
            while !Task.isCancelled {
                do {
                    let sent = try await deliverPending()
                    failures = 0
                    if sent == 0 { try await Task.sleep(for: pollInterval) }
                } catch is CancellationError {
                    return
                } catch {
                    logger.warning("send sweep failed; retrying", metadata: ["error": "\(error)"])
                    try? await Task.sleep(for: .seconds(min(30, 1 << min(failures, 5))))
                    failures += 1
                }
            }
        }
    }

    /// Leases every row that is ready, sends them (`sendConcurrency` at a time) and records the
    /// outcomes; returns how many were attempted. Tests call this after `TimerRunner.fireDue()`.
    ///
    /// The round's outcomes are recorded in two transactions, the successes and the failures,
    /// not one per send: each appends to the delivery log, whose chain is one lock for the whole
    /// notifier, so a commit per send made the consumer wait behind the worker at a storm.
    @discardableResult
    public func deliverPending(limit: Int = 50) async throws -> Int {
        let engine = engine
        let now = clock()
        let claims = try await database.withTransaction { connection in
            try engine.claim(limit: limit, now: now, on: connection)
        }
        guard !claims.isEmpty else { return 0 }
        let channels = channels
        let width = max(1, engine.settings.sendConcurrency)
        let failures = await withTaskGroup(of: (Int, DeliveryFailure?).self) { group in
            func send(_ index: Int) {
                let claim = claims[index]
                let channel = channels.channel(for: claim.notification.channel.kind)
                group.addTask {
                    do throws(DeliveryFailure) {
                        try await channel.send(claim.notification)
                        return (index, nil)
                    } catch {
                        return (index, error)
                    }
                }
            }
            // A window of `width` sends in flight: the next starts when one ends.
            var next = min(width, claims.count)
            for index in 0..<next { send(index) }
            var failures: [(index: Int, failure: DeliveryFailure)] = []
            for await (index, failure) in group {
                if let failure { failures.append((index, failure)) }
                if next < claims.count {
                    send(next)
                    next += 1
                }
            }
            return failures.sorted { $0.index < $1.index }
        }
        let failed = Set(failures.map(\.index))
        let sent = claims.indices.filter { !failed.contains($0) }.map { claims[$0] }
        if !sent.isEmpty { try await recordSent(sent) }
        if !failures.isEmpty { try await record(failures.map { (claims[$0.index], $0.failure) }) }
        return claims.count
    }

    private func recordSent(_ claims: [NotifierEngine.Claim]) async throws {
        let engine = engine
        let logger = logger
        let now = clock()
        try await database.withTransaction { connection in
            try engine.recordSent(claims, now: now, on: connection, logger: logger)
        }
    }

    /// Records the round's failed sends in one transaction (each retries or falls back, and is
    /// announced when it failed for good).
    private func record(_ failures: [(claim: NotifierEngine.Claim, failure: DeliveryFailure)]) async throws {
        let engine = engine
        let logger = logger
        let now = clock()
        try await database.withTransaction(emittingAs: .notifier, schema: engine.schema, logger: logger, now: now) { context in
            try context.announce(try engine.recordFailed(failures, now: now, on: context.connection, logger: logger))
        }
    }
}
