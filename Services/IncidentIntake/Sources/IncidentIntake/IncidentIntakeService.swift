public import PostgresMigrations
public import ServiceRuntime
import Contracts
import Directory
import Foundation

/// Incident intake (issue #3): reports from the broker and from HTTP are validated,
/// de-duplicated, screened for My Numbers, stored, and announced as `incident.reported`.
///
/// It also relays the `directory` schema's outbox, where `isms directory import` writes
/// `directory.changed`: intake is the service that may write the directory.
public enum IncidentIntakeService {
    public static let schema = "intake"

    /// `ISMS_INTAKE_CLOCK_SKEW_SECONDS` (int, default 300): how far in the future a report's
    /// time stamps may lie.
    public static func definition(processor: IntakeProcessor? = nil) -> ServiceDefinition {
        ServiceDefinition(
            name: .incidentIntake,
            schema: schema,
            defaultPort: 8081,
            // One consumer spends most of a batch on CPU (validation, screening, JSON) while the
            // database and broker wait, then the other way round; four overlap them and saturate
            // two cores (bench/README.md: 727 reports/s with one, 1,200-1,500 with four).
            defaultWorkers: 4,
            migrations: IntakeMigrations.all,
            consumers: [
                .init(queue: "incident-intake.commands") { _ in
                    SubmitReportHandler(processor: processor ?? defaultProcessor())
                },
            ],
            relaySchemas: [schema, DirectoryStore().schema],
            routes: { router, environment in
                IntakeRoutes(processor: processor ?? defaultProcessor(), database: environment.database, logger: environment.logger).add(to: router)
            },
            prepare: { environment in
                // The directory schema belongs to directory_owner, which intake is a member of.
                let directory = DirectoryStore()
                try await Migrator.apply(
                    directory.migrations.appending(MessagingSchema.migrations(schema: directory.schema)),
                    on: environment.database,
                    as: "directory_owner",
                    logger: environment.logger
                )
            }
        )
    }

    /// The migrations `isms migrate` applies for this service, with the role that owns them.
    public static var migrationSets: [(set: MigrationSet, owner: String)] {
        let directory = DirectoryStore()
        return [
            (definition().migrationSet, "intake"),
            (directory.migrations.appending(MessagingSchema.migrations(schema: directory.schema)), "directory_owner"),
        ]
    }

    static func defaultProcessor() -> IntakeProcessor {
        let skew = ProcessInfo.processInfo.environment["ISMS_INTAKE_CLOCK_SKEW_SECONDS"].flatMap(Int.init) ?? 300
        return IntakeProcessor(validator: ReportValidator(clockSkew: .seconds(skew)))
    }
}
