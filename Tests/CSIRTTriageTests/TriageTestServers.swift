import AMQP
import Foundation
import Logging
import Postgres

/// The real servers, from the environment (`ISMS_TEST_DATABASE_URL`, `ISMS_TEST_AMQP_URL`).
enum TestServers {
    static var amqpURL: String {
        ProcessInfo.processInfo.environment["ISMS_TEST_AMQP_URL"] ?? "amqp://isms:isms@127.0.0.1:46720/%2F"
    }

    static var databaseURL: String {
        ProcessInfo.processInfo.environment["ISMS_TEST_DATABASE_URL"] ?? "postgresql://postgres:postgres@127.0.0.1:45432/isms_test"
    }

    /// Drops everything unless `ISMS_TEST_LOG` names a level; never bootstraps.
    static func logger(_ label: String) -> Logger {
        let level = ProcessInfo.processInfo.environment["ISMS_TEST_LOG"].flatMap(Logger.Level.init(rawValue:))
        var logger = Logger(label: label) { label -> any LogHandler in
            if level != nil { return StreamLogHandler.standardError(label: label) }
            return SwiftLogNoOpLogHandler(label)
        }
        logger.logLevel = level ?? .info
        return logger
    }

    static func amqpConfiguration(name: String) throws -> AMQPConfiguration {
        try AMQPConfiguration(url: amqpURL, connectionName: name)
    }

    static func pool(size: Int = 4) -> PostgresPool {
        PostgresPool(configuration: PostgresConfiguration(url: databaseURL, applicationName: "triage-tests"), size: size, logger: logger("postgres"))
    }

    static func uniqueName(_ prefix: String) -> String {
        "\(prefix)_\(UUID().uuidString.prefix(8).lowercased())"
    }

    /// Polls `condition` until it holds or `timeout` passes.
    static func eventually(timeout: Duration = .seconds(10), interval: Duration = .milliseconds(50), _ condition: () async throws -> Bool) async rethrows -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try? await Task.sleep(for: interval)
        }
        return try await condition()
    }
}
