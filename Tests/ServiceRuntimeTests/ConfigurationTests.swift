import Configuration
import Logging
@testable import ServiceRuntime
import Testing

@Suite struct ServiceConfigurationTests {
    @Test func defaultsApplyWhenNothingIsSet() {
        let configuration = ServiceConfiguration(reader: ConfigReader(provider: InMemoryProvider(values: [:])), defaultPort: 8081)
        #expect(configuration.httpPort == 8081)
        #expect(configuration.prefetch == 200)
        #expect(configuration.batchSize == 100)
        #expect(configuration.deliveryLimit == 5)
        #expect(configuration.logFormat == .json)
        #expect(configuration.databaseURL == nil)
    }

    @Test func environmentNamesMapToKeys() {
        let provider = EnvironmentVariablesProvider(environmentVariables: [
            "ISMS_AMQP_URL": "amqp://u:p@h:1/v",
            "ISMS_HTTP_PORT": "9000",
            "ISMS_PREFETCH": "70000",
            "ISMS_LOG_FORMAT": "text",
            "ISMS_LOG_LEVEL": "debug",
            "ISMS_OUTBOX_POLL_MS": "250",
        ])
        let configuration = ServiceConfiguration(reader: ConfigReader(provider: provider).scoped(to: "isms"), defaultPort: 8081)
        #expect(configuration.amqpURL == "amqp://u:p@h:1/v")
        #expect(configuration.httpPort == 9000)
        // Prefetch is an AMQP short: clamped rather than wrapped.
        #expect(configuration.prefetch == Int(UInt16.max))
        #expect(configuration.logFormat == .text)
        #expect(configuration.logLevel == .debug)
        #expect(configuration.outboxPollInterval == .milliseconds(250))
    }
}
