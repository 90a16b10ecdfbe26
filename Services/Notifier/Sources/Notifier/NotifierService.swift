import Acknowledgement
import Contracts
import Directory
import Logging
public import PostgresMigrations
public import ServiceRuntime
import Foundation
import Synchronization

/// The notifier (issue #5): every event is walked through the routing tree; the people it names
/// are resolved through the directory and told on their channels, once, with a ledger row per
/// (event, recipient, channel).
public enum NotifierService {
    public static let schema = "notifier"

    /// The service; `settings` and `channels` default to the environment (``NotifierSettings/fromEnvironment(_:)``).
    ///
    /// The routing file and templates are loaded and checked here, before anything runs: a bad
    /// file stops the start with every problem and its line.
    public static func definition(settings: NotifierSettings? = nil, channels: NotificationChannels? = nil, schema: String = schema) -> ServiceDefinition {
        let prepared = Prepared(settings: settings, channels: channels, schema: schema)
        return ServiceDefinition(
            name: .notifier,
            schema: schema,
            defaultPort: 8085,
            // Two consumers (issue #16): one waits on the database for most of its batch, so a
            // second overlaps parsing, routing and rendering with it; the groups' rows and the
            // delivery log's chain are taken in one order, so they serialise only there. At 200
            // reports/s the first ledger row's p99 went from 1.1-2.5 s to 0.65-0.8 s (bench/README.md).
            defaultWorkers: 2,
            migrations: NotifierMigrations.all(schema: schema),
            consumers: [
                .init(queue: "notifier.events") { _ in NotifierEventHandler(engine: try prepared.engine()) },
            ],
            timers: { _ in NotifierTimerHandler.all(engine: try prepared.engine()) },
            routes: { router, environment in
                NotifierRoutes(
                    operations: NotifierOperations(schema: schema), database: environment.database,
                    directory: DirectoryStore(schema: try prepared.settings().directorySchema), logger: environment.logger
                ).add(to: router)
            },
            prepare: { environment in
                let engine = try prepared.engine()
                environment.logger.info(
                    "routing loaded",
                    metadata: ["notifier.routes": "\(engine.routing.file)", "notifier.templates": "\(engine.templates.directory)", "notifier.route_count": "\(engine.routing.allRoutes.count)"])
            },
            services: { environment in
                // The send worker holds no transaction across I/O and leases what it sends, so
                // being stopped anywhere loses nothing (a lease expires, the row is sent again).
                [DeliveryWorker(engine: try prepared.engine(), channels: try prepared.channels(), database: environment.database, logger: environment.logger)]
            },
            secrets: [("ISMS_ACK_SECRET", AcknowledgementToken.developmentSecret), ("ISMS_NOTIFIER_WEBHOOK_SECRET", NotifierSettings.developmentWebhookSecret)]
        )
    }

    /// The migrations `isms migrate` applies for this service, with the role that owns them.
    public static var migrationSets: [(set: MigrationSet, owner: String)] {
        [(MigrationSet(schema: schema, migrations: MessagingSchema.migrations(schema: schema) + NotifierMigrations.all(schema: schema)), "notifier")]
    }

    /// Loads settings, routes and templates once, on first use.
    final class Prepared: Sendable {
        private let given: NotifierSettings?
        private let givenChannels: NotificationChannels?
        private let schema: String
        private let state = Mutex<NotifierEngine?>(nil)

        init(settings: NotifierSettings?, channels: NotificationChannels?, schema: String) {
            given = settings
            givenChannels = channels
            self.schema = schema
        }

        func settings() throws -> NotifierSettings {
            if let given { return given }
            return try NotifierSettings.fromEnvironment()
        }

        func engine() throws -> NotifierEngine {
            try state.withLock { engine in
                if let engine { return engine }
                let settings = try settings()
                let built = try NotifierEngine(
                    schema: schema, routing: try NotificationRouting.load(path: settings.routesPath),
                    templates: try NotifierTemplates(directory: settings.templatesPath), settings: settings)
                engine = built
                return built
            }
        }

        func channels() throws -> NotificationChannels {
            try givenChannels ?? NotificationChannels(settings: settings())
        }
    }
}
