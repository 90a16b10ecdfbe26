import Configuration
import ServiceRuntime
import Testing

/// No development secret is accepted in production (issue #17 item 6): the rule, without servers.
@Suite struct DevelopmentSecretsTests {
    static func configuration(_ environment: [String: String]) -> ServiceConfiguration {
        ServiceConfiguration(reader: ConfigReader(provider: EnvironmentVariablesProvider(environmentVariables: environment)).scoped(to: "isms"), defaultPort: 8082)
    }

    static let secrets = [(variable: "ISMS_ACK_SECRET", developmentValue: "dev-ack-secret")]

    @Test func theDevelopmentDefaultsAreEachNamed() {
        let problems = DevelopmentSecrets.problems(
            configuration: Self.configuration(["ISMS_ENV": "production", "ISMS_DATABASE_URL": "postgresql://triage:triage@db/isms"]),
            serviceSecrets: Self.secrets, environment: [:])
        #expect(problems.count == 3, "\(problems)")
        #expect(problems.contains { $0.contains("ISMS_AMQP_URL") })
        #expect(problems.contains { $0.contains("ISMS_DATABASE_URL") })
        #expect(problems.contains { $0.contains("ISMS_ACK_SECRET is not set") })
        #expect(Self.configuration(["ISMS_ENV": "production"]).deployment == .production)
        #expect(Self.configuration([:]).deployment == .development)
    }

    @Test func realSecretsPass() {
        let problems = DevelopmentSecrets.problems(
            configuration: Self.configuration([
                "ISMS_AMQP_URL": "amqps://triage:Zq8%40v1-long@broker.isms.svc/%2F", "ISMS_DATABASE_URL": "postgresql://triage:s3cret-from-vault@db/isms",
            ]),
            serviceSecrets: Self.secrets, environment: ["ISMS_ACK_SECRET": "4f9c0e6b1d"])
        #expect(problems.isEmpty, "\(problems)")
        #expect(
            DevelopmentSecrets.problems(
                configuration: Self.configuration(["ISMS_AMQP_URL": "amqp://x:y@h/%2F"]), serviceSecrets: Self.secrets,
                environment: ["ISMS_ACK_SECRET": "dev-ack-secret"]
            ) == ["ISMS_ACK_SECRET is still the development value"])
    }
}
