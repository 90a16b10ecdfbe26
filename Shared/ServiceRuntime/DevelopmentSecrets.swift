import Foundation

/// Where a service runs: `ISMS_ENV`, `development` (the default: `make run`, the tests) or
/// `production`.
public enum Deployment: String, Sendable {
    case development
    case production
}

/// The rule that no development secret is accepted outside development: in production a service
/// refuses to start while any secret it uses is unset or still one that ships in this repository
/// (the local stack's passwords, the default acknowledgement and webhook secrets), naming each,
/// so the operator fixes the deployment instead of running with a key everyone can read.
public enum DevelopmentSecrets {
    /// Passwords of the local stacks and of RabbitMQ's out-of-the-box user (deploy/postgres/init.sql
    /// gives every role its own name as password; stack.sh's broker user is `isms:isms`).
    static let knownPasswords: Set<String> = ["guest", "isms", "postgres", "isms_admin", "intake", "triage", "audit", "contractor", "notifier", "console"]

    /// What is wrong with the secrets of a service configured as `configuration`, with the
    /// service's own secrets: the environment variable and the development value it must not keep.
    public static func problems(
        configuration: ServiceConfiguration, serviceSecrets: [(variable: String, developmentValue: String)], environment: [String: String],
        usesBroker: Bool = true
    ) -> [String] {
        var problems: [String] = []
        if !usesBroker {
            // The web console speaks only HTTP and SQL: no broker URL to check.
        } else if let password = password(in: configuration.amqpURL), knownPasswords.contains(password) {
            problems.append("ISMS_AMQP_URL uses a development password")
        } else if password(in: configuration.amqpURL) == nil {
            problems.append("ISMS_AMQP_URL names no credentials (RabbitMQ's default user is guest:guest)")
        }
        if let url = configuration.databaseURL, let password = password(in: url), knownPasswords.contains(password) {
            problems.append("ISMS_DATABASE_URL uses a development password")
        } else if configuration.databaseURL == nil, let password = environment["PGPASSWORD"], knownPasswords.contains(password) {
            problems.append("PGPASSWORD is a development password")
        }
        for (variable, developmentValue) in serviceSecrets {
            guard let value = environment[variable], !value.isEmpty else {
                problems.append("\(variable) is not set (its development default is not accepted in production)")
                continue
            }
            if value == developmentValue { problems.append("\(variable) is still the development value") }
        }
        return problems
    }

    /// The password of a `scheme://user:password@host/…` URL, percent-decoded.
    static func password(in url: String) -> String? {
        guard let components = URLComponents(string: url) else { return nil }
        return components.password?.removingPercentEncoding ?? components.password
    }
}
