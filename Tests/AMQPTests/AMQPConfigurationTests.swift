import AMQP
import Testing

@Suite struct AMQPConfigurationTests {
    @Test func plainURLWithDefaults() throws {
        let configuration = try AMQPConfiguration(url: "amqp://broker.example")
        #expect(configuration.host == "broker.example")
        #expect(configuration.port == 5672)
        #expect(configuration.vhost == "/")
        #expect(configuration.user == "guest")
        #expect(configuration.password == "guest")
        #expect(configuration.tls == nil)
        #expect(configuration.heartbeat == .seconds(30))
        #expect(configuration.connectTimeout == .seconds(10))
    }

    @Test(arguments: [
        ("amqp://h", "/"),
        ("amqp://h/", "/"),
        ("amqp://h/%2F", "/"),
        ("amqp://h/%2f", "/"),
        ("amqp://h/isms", "isms"),
        ("amqp://h/prod%2Fincidents", "prod/incidents"),
        ("amqp://u:p@h:1234/", "/"),
    ])
    func virtualHost(url: String, vhost: String) throws {
        #expect(try AMQPConfiguration(url: url).vhost == vhost)
    }

    @Test func credentialsPortAndName() throws {
        let configuration = try AMQPConfiguration(url: "amqp://svc%40isms:p%3Ass%2Fw@10.0.0.5:46720/isms", connectionName: "intake", heartbeat: .seconds(5))
        #expect(configuration.user == "svc@isms")
        #expect(configuration.password == "p:ss/w")
        #expect(configuration.host == "10.0.0.5")
        #expect(configuration.port == 46720)
        #expect(configuration.connectionName == "intake")
        #expect(configuration.heartbeat == .seconds(5))
    }

    @Test func amqpsDefaults() throws {
        let configuration = try AMQPConfiguration(url: "amqps://u:p@rabbit.internal/")
        #expect(configuration.port == 5671)
        #expect(configuration.vhost == "/")
        let tls = try #require(configuration.tls)
        #expect(tls.verifyPeer)
        #expect(tls.verifyHostname)
        #expect(tls.caFile == nil)
    }

    @Test func amqpsQueryOptions() throws {
        let configuration = try AMQPConfiguration(
            url: "amqps://h:5999/%2F?cacertfile=/etc/ca.pem&certfile=/etc/c.pem&keyfile=/etc/k.pem&verify=verify_none&heartbeat=7&connection_timeout=2500"
        )
        let tls = try #require(configuration.tls)
        #expect(tls.caFile == "/etc/ca.pem")
        #expect(tls.certFile == "/etc/c.pem")
        #expect(tls.keyFile == "/etc/k.pem")
        #expect(!tls.verifyPeer)
        #expect(configuration.port == 5999)
        #expect(configuration.heartbeat == .seconds(7))
        #expect(configuration.connectTimeout == .milliseconds(2500))
    }

    @Test func ipv6Host() throws {
        let configuration = try AMQPConfiguration(url: "amqp://[::1]:5673/")
        #expect(configuration.host == "::1")
        #expect(configuration.port == 5673)
        #expect(configuration.redactedURL == "amqp://guest@[::1]:5673/%2F")
    }

    @Test(arguments: [
        "http://h/",
        "h:5672",
        "amqp://h:0/",
        "amqp://h:99999/",
        "amqp://h:port/",
        "amqp://h/a/b",
        "amqp://h/%zz",
        "amqp://h/?cacertfile=/ca.pem",
        "amqp://h/?unknown=1",
        "amqp://h/?heartbeat=-1",
    ])
    func invalidURL(url: String) {
        #expect {
            try AMQPConfiguration(url: url)
        } throws: { error in
            (error as? AMQPError)?.code == .invalidConfiguration
        }
    }

    @Test func redactedURLHasNoPassword() throws {
        let configuration = try AMQPConfiguration(url: "amqps://svc:s3cret@h/isms")
        #expect(configuration.redactedURL == "amqps://svc@h:5671/isms")
        #expect(!configuration.redactedURL.contains("s3cret"))
    }
}

@Suite struct AMQPErrorTests {
    @Test func retriability() {
        #expect(AMQPError(.connectionClosed, message: "").isRetriable)
        #expect(AMQPError(.connectionFailed, message: "").isRetriable)
        #expect(AMQPError(.timeout, message: "").isRetriable)
        #expect(AMQPError(.publishNacked, message: "").isRetriable)
        #expect(!AMQPError(.publishReturned, message: "", replyCode: 312).isRetriable)
        #expect(!AMQPError(.channelClosed, message: "", replyCode: 404).isRetriable)
        #expect(!AMQPError(.channelClosed, message: "", replyCode: 406).isRetriable)
        #expect(AMQPError(.channelClosed, message: "", replyCode: 541).isRetriable)
        #expect(!AMQPError(.authenticationFailed, message: "", replyCode: 403).isRetriable)
        #expect(!AMQPError(.invalidConfiguration, message: "").isRetriable)
        #expect(!AMQPError(.tlsFailed, message: "", status: -0x0202).isRetriable)
    }

    @Test func descriptionCarriesTheDetail() {
        let error = AMQPError(.channelClosed, message: "NOT_FOUND - no queue 'q'", status: nil, replyCode: 404)
        #expect(error.description == "AMQPError.channelClosed (404): NOT_FOUND - no queue 'q'")
    }
}
