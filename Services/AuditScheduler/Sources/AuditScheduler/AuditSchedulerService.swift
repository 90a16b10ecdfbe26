public import Contracts
public import ServiceRuntime

/// The audit-scheduler service.
///
/// Its own issue (#6) has not landed yet: the service starts, migrates its schema's runtime
/// tables, declares its part of the topology (so the events meant for it wait in its queue),
/// serves `/healthz`, `/readyz` and `/metrics`, and stops cleanly on SIGTERM. It consumes
/// nothing yet.
public enum AuditSchedulerService {
    public static func definition() -> ServiceDefinition {
        ServiceDefinition(name: .auditScheduler, schema: "audit", defaultPort: 8083)
    }
}
