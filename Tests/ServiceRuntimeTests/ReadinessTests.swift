import Configuration
import Contracts
import Foundation
import ISMSTesting
import Postgres
import Prometheus
@testable import ServiceRuntime
import Testing

/// `/readyz` is true only with the broker and the database reachable (brief §7).
@Suite(.serialized, .tags(.integration), .needsTestServers) struct ReadinessTests {
    private func configuration(amqp: String, database: String, port: Int) -> ServiceConfiguration {
        var configuration = ServiceConfiguration(reader: ConfigReader(provider: InMemoryProvider(values: [:])), defaultPort: port)
        configuration.amqpURL = amqp
        configuration.databaseURL = database
        return configuration
    }

    private func status(port: Int, path: String) async -> Int? {
        await TestServers.httpStatus("http://127.0.0.1:\(port)\(path)")
    }

    private func withService(_ configuration: ServiceConfiguration, _ body: () async throws -> Void) async throws {
        let schema = TestServers.uniqueName("ready")
        _ = try await TestServers.pool(size: 1).query("CREATE SCHEMA \(unescaped: schema)")
        let definition = ServiceDefinition(name: .notifier, schema: schema, defaultPort: configuration.httpPort)
        let task = Task {
            try await ServiceRunner.run(definition, configuration: configuration, registry: PrometheusCollectorRegistry(), logger: TestServers.logger("ready"))
        }
        try await body()
        task.cancel()
        _ = await task.result
        _ = try? await TestServers.pool(size: 1).query("DROP SCHEMA \(unescaped: schema) CASCADE")
    }

    @Test func readyWithBrokerAndDatabase() async throws {
        let port = freeTCPPort()
        try await withService(configuration(amqp: TestServers.amqpURL, database: TestServers.databaseURL, port: port)) {
            let ready = await TestServers.eventually(timeout: .seconds(15)) { await status(port: port, path: "/readyz") == 200 }
            #expect(ready)
            #expect(await status(port: port, path: "/healthz") == 200)
            #expect(await status(port: port, path: "/metrics") == 200)
        }
    }

    @Test func notReadyWithoutTheBroker() async throws {
        let port = freeTCPPort()
        // Nothing listens on port 9 (discard) here: the broker is unreachable.
        try await withService(configuration(amqp: "amqp://isms:isms@127.0.0.1:9/%2F", database: TestServers.databaseURL, port: port)) {
            let alive = await TestServers.eventually(timeout: .seconds(10)) { await status(port: port, path: "/healthz") == 200 }
            #expect(alive)
            try await Task.sleep(for: .seconds(1))
            #expect(await status(port: port, path: "/readyz") == 503)
        }
    }

    @Test func notReadyWithoutTheDatabase() async throws {
        let port = freeTCPPort()
        try await withService(configuration(amqp: TestServers.amqpURL, database: "postgresql://nobody:nothing@127.0.0.1:9/none?connect_timeout=1", port: port)) {
            let alive = await TestServers.eventually(timeout: .seconds(10)) { await status(port: port, path: "/healthz") == 200 }
            #expect(alive)
            #expect(await status(port: port, path: "/readyz") == 503)
        }
    }
}
