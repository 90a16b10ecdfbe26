import AMQP
import ArgumentParser
import Foundation
import Logging
import Postgres

/// Connections and output shared by the subcommands.
enum CLIEnvironment {
    static var environment: [String: String] { ProcessInfo.processInfo.environment }

    static var amqpURL: String { environment["ISMS_AMQP_URL"] ?? "amqp://guest:guest@127.0.0.1:5672/%2F" }

    static var managementURL: String { environment["ISMS_MANAGEMENT_URL"] ?? "http://guest:guest@127.0.0.1:15672" }

    /// A quiet logger: the tool prints its own results; `ISMS_LOG_LEVEL=debug` shows the libraries'.
    static var logger: Logger {
        var logger = Logger(label: "isms")
        logger.logLevel = environment["ISMS_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
        return logger
    }

    static func amqp() throws -> AMQPConfiguration {
        try AMQPConfiguration(url: amqpURL, connectionName: "isms-cli")
    }

    /// `ISMS_DATABASE_URL`, or libpq's `PG*` variables when it is unset.
    static func database() -> PostgresPool {
        let configuration = environment["ISMS_DATABASE_URL"].map { PostgresConfiguration(url: $0, applicationName: "isms") }
            ?? PostgresConfiguration.environment(applicationName: "isms")
        return PostgresPool(configuration: configuration, size: 2, logger: logger)
    }

    /// Runs `body` with a pool that is closed on every path.
    static func withDatabase<T>(_ body: (PostgresPool) async throws -> T) async throws -> T {
        let pool = database()
        do {
            let result = try await body(pool)
            await pool.close()
            return result
        } catch {
            await pool.close()
            throw error
        }
    }

    static func printError(_ message: String) {
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }
}
