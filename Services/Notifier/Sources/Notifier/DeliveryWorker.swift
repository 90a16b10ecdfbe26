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

    /// Leases every row that is ready, sends them (a few at a time) and records the outcomes;
    /// returns how many were attempted. Tests call this after `TimerRunner.fireDue()`.
    @discardableResult
    public func deliverPending(limit: Int = 50) async throws -> Int {
        let engine = engine
        let now = clock()
        let claims = try await database.withTransaction { connection in
            try engine.claim(limit: limit, now: now, on: connection)
        }
        guard !claims.isEmpty else { return 0 }
        let width = max(1, engine.settings.sendConcurrency)
        for start in stride(from: 0, to: claims.count, by: width) {
            let batch = Array(claims[start..<min(start + width, claims.count)])
            let outcomes = await withTaskGroup(of: (Int, DeliveryFailure?).self) { group in
                for (index, claim) in batch.enumerated() {
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
                var results: [(Int, DeliveryFailure?)] = []
                for await result in group { results.append(result) }
                return results
            }
            // The round's successes in one short transaction; each failure in its own (rare, and
            // its fallback may announce).
            let sent = outcomes.filter { $0.1 == nil }.sorted { $0.0 < $1.0 }.map { batch[$0.0] }
            if !sent.isEmpty { try await recordSent(sent) }
            for (index, failure) in outcomes {
                if let failure { try await record(batch[index], failure: failure) }
            }
        }
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

    private func record(_ claim: NotifierEngine.Claim, failure: DeliveryFailure) async throws {
        let engine = engine
        let logger = logger
        let now = clock()
        try await database.withTransaction(emittingAs: .notifier, schema: engine.schema, logger: logger, now: now) { context in
            try context.announce(try engine.recordFailed(claim, failure: failure, now: now, on: context.connection, logger: logger))
        }
    }
}
