public import AMQP
public import Logging
public import Postgres
public import Foundation
public import PostgresMigrations
import ServiceClient

/// The real servers integration tests run against, found through the environment
/// (`make test` starts them and exports the variables; the defaults match its test profile).
public enum TestServers {
    /// `ISMS_TEST_AMQP_URL`.
    public static var amqpURL: String {
        ProcessInfo.processInfo.environment["ISMS_TEST_AMQP_URL"] ?? "amqp://isms:isms@127.0.0.1:46720/%2F"
    }

    /// `ISMS_TEST_DATABASE_URL`: a role that may create schemas and roles.
    public static var databaseURL: String {
        ProcessInfo.processInfo.environment["ISMS_TEST_DATABASE_URL"] ?? "postgresql://postgres:postgres@127.0.0.1:45432/isms_test"
    }

    /// `ISMS_TEST_MANAGEMENT_URL`: the broker's management API.
    public static var managementURL: String {
        ProcessInfo.processInfo.environment["ISMS_TEST_MANAGEMENT_URL"] ?? "http://isms:isms@127.0.0.1:46721"
    }

    /// The repository root, for scripts and built executables.
    public static var repositoryRoot: URL {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
        }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    }

    /// A logger that drops everything unless `ISMS_TEST_LOG` is set; never bootstraps.
    public static func logger(_ label: String) -> Logger {
        var logger = Logger(label: label, factory: { label -> any LogHandler in
            if ProcessInfo.processInfo.environment["ISMS_TEST_LOG"] != nil { return StreamLogHandler.standardError(label: label) }
            return SwiftLogNoOpLogHandler(label)
        })
        logger.logLevel = ProcessInfo.processInfo.environment["ISMS_TEST_LOG"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        return logger
    }

    public static func amqpConfiguration(name: String = "tests") throws -> AMQPConfiguration {
        try AMQPConfiguration(url: amqpURL, connectionName: name)
    }

    public static func databaseConfiguration() -> PostgresConfiguration {
        PostgresConfiguration(url: databaseURL, applicationName: "isms-tests")
    }

    public static func pool(size: Int = 4) -> PostgresPool {
        PostgresPool(configuration: databaseConfiguration(), size: size, logger: logger("postgres"))
    }

    /// A name no other test uses: queues, schemas, exchanges.
    public static func uniqueName(_ prefix: String) -> String {
        "\(prefix)_\(UUID().uuidString.prefix(8).lowercased())"
    }

    /// Runs `body` with a fresh schema (migrated with `migrations`) and drops it afterwards.
    public static func withSchema<T: Sendable>(
        prefix: String = "t",
        migrations: (String) -> [Migration] = { _ in [] },
        _ body: (_ schema: String, _ pool: PostgresPool) async throws -> T
    ) async throws -> T {
        let schema = uniqueName(prefix)
        let pool = pool()
        _ = try await pool.query("CREATE SCHEMA \(unescaped: Migrator.quoted(schema))")
        do {
            try await Migrator.apply(MigrationSet(schema: schema, migrations: migrations(schema)), on: pool, logger: logger("migrations"))
            let result = try await body(schema, pool)
            _ = try? await pool.query("DROP SCHEMA \(unescaped: Migrator.quoted(schema)) CASCADE")
            await pool.close()
            return result
        } catch {
            _ = try? await pool.query("DROP SCHEMA \(unescaped: Migrator.quoted(schema)) CASCADE")
            await pool.close()
            throw error
        }
    }

    /// The HTTP status of a GET, or nil when nothing answers within two seconds.
    ///
    /// Through the shared client (AsyncHTTPClient), whose time-out holds even against a server
    /// that is closing, so a readiness poll never hangs a test.
    public static func httpStatus(_ url: String) async -> Int? {
        await HTTPFetch.status(of: url, timeout: .seconds(2))
    }

    /// Polls `condition` until it holds or `timeout` passes; returns whether it held.
    public static func eventually(timeout: Duration = .seconds(10), interval: Duration = .milliseconds(50), _ condition: () async throws -> Bool) async rethrows -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try? await Task.sleep(for: interval)
        }
        return try await condition()
    }
}
