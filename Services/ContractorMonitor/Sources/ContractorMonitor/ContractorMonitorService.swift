import Contracts
import Logging
public import Foundation
public import PostgresMigrations
public import ServiceRuntime
import Directory
import Postgres

/// The contractor monitor (issue #7): the registry of contractors and contracts with their
/// special provisions (Art. 3(15), 6, 18(8)), the sub-contract chain gate (Art. 6(3)(4)),
/// periodic compliance attestations with durable reminders (Art. 28), the contract-end
/// certificate, and violations announced as `contractor.violation.detected` (Art. 3(13)(イ)).
public enum ContractorMonitorService {
    public static let schema = "contractor"

    /// The service; `ISMS_CONTRACTOR_*` settings are read by ``ContractorMonitorSettings/fromEnvironment(_:)``.
    ///
    /// - Parameters:
    ///   - registry: the registry to use; by default one over the `contractor` schema with the
    ///     baseline file named by `ISMS_CONTRACTOR_BASELINE`.
    ///   - clock: "now" for the HTTP API (tests inject one; timers take the runner's clock).
    public static func definition(registry: ContractorRegistry? = nil, clock: @escaping @Sendable () -> Date = Date.init) throws -> ServiceDefinition {
        let registry = try registry ?? defaultRegistry()
        return ServiceDefinition(
            name: .contractorMonitor,
            schema: registry.schema,
            defaultPort: 8084,
            migrations: ContractorMigrations.all(schema: registry.schema),
            consumers: [
                .init(queue: "contractor-monitor.events") { _ in DirectoryChangedHandler(registry: registry) },
            ],
            timers: { _ in registry.timerHandlers },
            routes: { router, environment in
                ContractorRoutes(registry: registry, database: environment.database, logger: environment.logger, clock: clock).add(to: router)
            },
            prepare: { environment in
                // Contracts registered before they were announced (issue #18) are announced now.
                let now = clock()
                let announced = try await environment.database.withTransaction { connection in try registry.announceUnannounced(now: now, on: connection) }
                if announced > 0 { environment.logger.info("contracts in force announced", metadata: ["contracts.announced": "\(announced)"]) }
            }
        )
    }

    /// The migrations `isms migrate` applies for this service, with the role that owns them.
    public static var migrationSets: [(set: MigrationSet, owner: String)] {
        [(MigrationSet(schema: schema, migrations: MessagingSchema.migrations(schema: schema) + ContractorMigrations.all(schema: schema)), "contractor")]
    }

    /// The registry over the `contractor` schema with the configured baseline (for `isms contractors ...`).
    public static func defaultRegistry(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ContractorRegistry {
        let settings = ContractorMonitorSettings.fromEnvironment(environment)
        return ContractorRegistry(schema: schema, baseline: try ContractorBaseline.load(path: settings.baselinePath), settings: settings)
    }
}

/// Consumes `directory.changed`: a contract whose responsible section left the directory is
/// logged, so an officer reassigns it; the contract itself is kept (it is a record).
struct DirectoryChangedHandler: MessageHandler {
    let registry: ContractorRegistry

    func handle(_ message: IncomingMessage, context: inout TransactionContext) throws {
        guard message.envelope.type == MessageTypes.directoryChanged.wireName else {
            throw PermanentFailure(code: "unexpected-type", reason: "contractor-monitor.events takes \(MessageTypes.directoryChanged.wireName), not \(message.envelope.type)")
        }
        let sections = Set(try registry.directory.sections(on: context.connection).map(\.code))
        let orphaned = try registry.contracts(on: context.connection).filter { !sections.contains($0.sectionCode) && $0.state(at: context.now) != .closed }
        if !orphaned.isEmpty {
            context.logger.warning(
                "contracts whose responsible section is no longer in the directory",
                metadata: ["contract.references": "\(orphaned.map(\.reference).sorted())"])
        }
    }
}
