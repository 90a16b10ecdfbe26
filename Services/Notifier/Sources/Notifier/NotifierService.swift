public import Contracts
public import ServiceRuntime

/// The notifier service.
///
/// Its own issue (#5) has not landed yet: the service starts, migrates its schema's runtime
/// tables, declares its part of the topology (so the events meant for it wait in its queue),
/// serves `/healthz`, `/readyz` and `/metrics`, and stops cleanly on SIGTERM. It consumes
/// nothing yet.
public enum NotifierService {
    public static func definition() -> ServiceDefinition {
        ServiceDefinition(name: .notifier, schema: "notifier", defaultPort: 8085)
    }
}
