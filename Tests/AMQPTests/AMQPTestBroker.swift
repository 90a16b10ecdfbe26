import AMQP
import Foundation
import Logging

/// The broker the integration tests run against: `ISMS_TEST_AMQP_URL`, by default the local
/// test stack. An unreachable broker fails the tests; nothing is skipped.
enum AMQPTestBroker {
    static var url: String {
        ProcessInfo.processInfo.environment["ISMS_TEST_AMQP_URL"] ?? "amqp://isms:isms@127.0.0.1:46720/%2F"
    }

    static let logger: Logger = {
        var logger = Logger(label: "AMQPTests")
        logger.logLevel = .notice
        return logger
    }()

    static func configuration(heartbeat: Duration = .seconds(30)) throws -> AMQPConfiguration {
        var configuration = try AMQPConfiguration(url: url, connectionName: "amqp-tests", heartbeat: heartbeat)
        configuration.connectTimeout = .seconds(5)
        configuration.confirmTimeout = .seconds(20)
        return configuration
    }

    static func connect(heartbeat: Duration = .seconds(30)) async throws -> AMQPConnection {
        try await AMQPConnection.connect(configuration(heartbeat: heartbeat), logger: logger)
    }

    /// Runs `body` with a fresh connection and closes it on every path.
    static func withConnection<Result>(
        heartbeat: Duration = .seconds(30),
        _ body: (AMQPConnection) async throws -> Result
    ) async throws -> Result {
        let connection = try await connect(heartbeat: heartbeat)
        do {
            let result = try await body(connection)
            await connection.close()
            return result
        } catch {
            await connection.close()
            throw error
        }
    }

    /// A queue or exchange name no other test run uses.
    static func uniqueName(_ purpose: String) -> String {
        "test.amqp.\(purpose).\(UUID().uuidString.prefix(8).lowercased())"
    }

    /// A quorum queue that the broker removes a minute after its last use, should a test fail
    /// before deleting it.
    static func quorumQueue(_ name: String, arguments: AMQPTable = [:]) -> AMQPQueue {
        AMQPQueue(name: name, arguments: arguments.merging(["x-queue-type": "quorum", "x-expires": .int64(60_000)]) { $1 })
    }

    /// Waits for `count` deliveries, up to `timeout` in total.
    static func receive(_ count: Int, from connection: AMQPConnection, timeout: Duration = .seconds(10)) async throws -> [AMQPDelivery] {
        var received: [AMQPDelivery] = []
        let deadline = ContinuousClock.now + timeout
        while received.count < count, ContinuousClock.now < deadline {
            received += try await connection.nextDeliveries(max: count - received.count, timeout: .milliseconds(500))
        }
        return received
    }

    /// Polls `basic.get` until a message arrives, up to `timeout`.
    static func get(_ queue: String, from connection: AMQPConnection, timeout: Duration = .seconds(10)) async throws -> AMQPDelivery? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let delivery = try await connection.get(queue: queue) { return delivery }
            try await Task.sleep(for: .milliseconds(100))
        }
        return nil
    }
}
