import AMQP
import Foundation
import ISMSTesting
import Testing

/// TLS against a broker with an `amqps` listener: `ISMS_TEST_AMQPS_URL`, whose `cacertfile`
/// query parameter names the CA that signed the broker's certificate for the URL's host name.
/// The local test stack has no TLS listener, so these run only when that variable is set.
@Suite(
    .enabled(
        if: ProcessInfo.processInfo.environment["ISMS_TEST_AMQPS_URL"] != nil,
        "needs ISMS_TEST_AMQPS_URL (an amqps:// listener and its cacertfile)"
    ),
    .tags(.integration), .needsTestServers
)
struct AMQPTLSTests {
    static func configuration() throws -> AMQPConfiguration {
        let url = try #require(ProcessInfo.processInfo.environment["ISMS_TEST_AMQPS_URL"])
        var configuration = try AMQPConfiguration(url: url, connectionName: "amqp-tls-tests")
        configuration.connectTimeout = .seconds(5)
        return configuration
    }

    @Test func verifiedTLSConnectionCarriesMessages() async throws {
        let configuration = try Self.configuration()
        #expect(configuration.tls?.caFile != nil)
        let connection = try await AMQPConnection.connect(configuration, logger: AMQPTestBroker.logger)
        let queue = AMQPTestBroker.uniqueName("tls")
        try await connection.declare(AMQPQueue(name: queue, durable: false, exclusive: true, autoDelete: true))
        try await connection.enableConfirms()
        try await connection.publish(AMQPOutgoingMessage(exchange: "", routingKey: queue, body: Array("over TLS".utf8)))
        let delivery = try #require(try await AMQPTestBroker.get(queue, from: connection))
        #expect(delivery.body == Array("over TLS".utf8))
        try await connection.ack(delivery.deliveryTag)
        await connection.close()
    }

    @Test func untrustedCertificateIsRefused() async throws {
        var configuration = try Self.configuration()
        // The system bundle does not know the test CA.
        configuration.tls?.caFile = nil
        let error = await #expect(throws: AMQPError.self) {
            _ = try await AMQPConnection.connect(configuration, logger: AMQPTestBroker.logger)
        }
        #expect(error?.code == .tlsFailed)
        #expect(error?.isRetriable == false)
    }

    @Test func wrongHostNameIsRefusedUnlessHostNameChecksAreOff() async throws {
        var configuration = try Self.configuration()
        // The certificate names a DNS host, not this address.
        configuration.host = "127.0.0.1"
        let error = await #expect(throws: AMQPError.self) {
            _ = try await AMQPConnection.connect(configuration, logger: AMQPTestBroker.logger)
        }
        #expect(error?.code == .tlsFailed)
        #expect(error?.isRetriable == false)

        configuration.tls?.verifyHostname = false
        let connection = try await AMQPConnection.connect(configuration, logger: AMQPTestBroker.logger)
        #expect(await connection.isOpen)
        await connection.close()
    }
}
