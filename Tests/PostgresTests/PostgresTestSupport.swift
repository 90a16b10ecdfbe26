import Foundation
import Logging
import Postgres
import Synchronization

/// The test server (`ISMS_TEST_DATABASE_URL`), pools on it, and a throw-away schema per test.
enum TestDatabase {
    static var url: String {
        ProcessInfo.processInfo.environment["ISMS_TEST_DATABASE_URL"] ?? "postgresql://postgres:postgres@127.0.0.1:45432/isms_test"
    }

    static let logger = Logger(label: "postgres-tests") { _ in SwiftLogNoOpLogHandler() }

    static func uniqueName(_ prefix: String) -> String {
        prefix + "_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
    }

    static func configuration(applicationName: String = "isms-postgres-tests") -> PostgresConfiguration {
        PostgresConfiguration(url: url, applicationName: applicationName)
    }

    static func withPool<T>(
        size: Int = 2,
        applicationName: String = "isms-postgres-tests",
        _ body: (PostgresPool) async throws -> T
    ) async throws -> T {
        let pool = PostgresPool(configuration: configuration(applicationName: applicationName), size: size, logger: logger)
        do {
            let value = try await body(pool)
            await pool.close()
            return value
        } catch {
            await pool.close()
            throw error
        }
    }

    /// Runs `body` with a pool and a fresh schema that is dropped afterwards.
    static func withSchema<T>(
        size: Int = 2,
        applicationName: String = "isms-postgres-tests",
        _ body: (PostgresPool, String) async throws -> T
    ) async throws -> T {
        try await withPool(size: size, applicationName: applicationName) { pool in
            let schema = uniqueName("pgtest")
            try await pool.withConnection { try $0.execute("CREATE SCHEMA \(schema)") }
            do {
                let value = try await body(pool, schema)
                try await pool.withConnection { try $0.execute("DROP SCHEMA \(schema) CASCADE") }
                return value
            } catch {
                _ = try? await pool.withConnection { try $0.execute("DROP SCHEMA \(schema) CASCADE") }
                throw error
            }
        }
    }
}

/// A value shared between tasks and connection threads.
final class Shared<Value: Sendable>: Sendable {
    private let storage: Mutex<Value>

    init(_ value: Value) {
        storage = Mutex(value)
    }

    var value: Value {
        storage.withLock { $0 }
    }

    @discardableResult
    func update<R: Sendable>(_ body: @Sendable (inout Value) -> R) -> R {
        storage.withLock { body(&$0) }
    }
}

/// Blocks connection threads (never the cooperative pool) until `parties` have arrived.
final class ThreadBarrier: @unchecked Sendable {
    private let condition = NSCondition()
    private var arrived = 0
    private let parties: Int

    init(parties: Int) {
        self.parties = parties
    }

    /// Returns false if the others did not arrive in time.
    @discardableResult
    func arriveAndWait(timeout: TimeInterval = 10) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        arrived += 1
        condition.broadcast()
        let deadline = Date(timeIntervalSinceNow: timeout)
        while arrived < parties {
            if !condition.wait(until: deadline) { return false }
        }
        return true
    }
}

struct TestFailure: Error, Equatable {}

/// Polls `condition` every 50 ms until it holds or `timeout` passes.
func eventually(timeout: Duration = .seconds(10), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return try await condition()
}

/// The thread running the caller (synchronous: `Thread.current` is not for async code).
func currentThread() -> ObjectIdentifier {
    ObjectIdentifier(Thread.current)
}
