import ArgumentParser
import AuditScheduler
import CSIRTTriage
import ContractorMonitor
import IncidentIntake
import Notifier
import PostgresMigrations
import WebConsole
import ServiceRuntime

/// Every schema's migrations with the role that owns the schema.
enum ServiceCatalogue {
    static var migrationSets: [(set: MigrationSet, owner: String)] {
        IncidentIntakeService.migrationSets + CSIRTTriageService.migrationSets + AuditSchedulerService.migrationSets
            + ContractorMonitorService.migrationSets + NotifierService.migrationSets + ConsoleMigrations.migrationSets
    }
}

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply every service's migrations (as the administrator, on behalf of each schema's owner role).",
        discussion: "Services also migrate their own schema at start; this lets an operator do it ahead of a release."
    )

    func run() async throws {
        try await CLIEnvironment.withDatabase { pool in
            for (set, owner) in ServiceCatalogue.migrationSets {
                let applied = try await Migrator.apply(set, on: pool, as: owner, logger: CLIEnvironment.logger)
                print("\(set.schema): \(applied.isEmpty ? "up to date" : "applied \(applied.map(String.init).joined(separator: ", "))") (latest \(set.migrations.last?.version ?? 0))")
            }
        }
    }
}
