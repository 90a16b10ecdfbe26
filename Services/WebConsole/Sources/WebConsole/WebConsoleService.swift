public import Directory
import Foundation
public import Hummingbird
import HummingbirdAuth
public import Logging
import Metrics
import Postgres
import PostgresMigrations
public import Prometheus
import ServiceLifecycle
public import ServiceRuntime
import UnixSignals

/// The `web-console` executable: configuration, logging, its schema, the router, and one
/// ServiceGroup with the HTTP server and the session sweeper. No broker: the console is a
/// client of the services' HTTP APIs.
public enum WebConsoleService {
    /// Reads `ISMS_*` (``ConsoleConfiguration``), bootstraps logging and metrics, refuses a
    /// production start with development secrets, then serves until SIGTERM or SIGINT.
    public static func run() async throws {
        let configuration = ConsoleConfiguration()
        LoggingSystem.bootstrapISMS(format: configuration.runtime.logFormat, level: configuration.runtime.logLevel)
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        var logger = Logger(label: "web-console")
        logger[metadataKey: "service.instance"] = "\(configuration.runtime.instanceID)"
        if configuration.runtime.deployment == .production {
            var problems = DevelopmentSecrets.problems(
                configuration: configuration.runtime, serviceSecrets: [], environment: ProcessInfo.processInfo.environment, usesBroker: false)
            if !configuration.secureCookies { problems.append("ISMS_CONSOLE_PUBLIC_URL is not https: session cookies would travel in clear") }
            guard problems.isEmpty else {
                for problem in problems { logger.critical("refusing to start in production: \(problem)") }
                exit(78)  // EX_CONFIG, as the services
            }
        }
        try await run(configuration: configuration, registry: registry, logger: logger)
    }

    /// As ``run()`` with explicit configuration and no process-wide bootstrap (tests).
    public static func run(configuration: ConsoleConfiguration, registry: PrometheusCollectorRegistry, logger: Logger, schema: String = ConsoleMigrations.schema, directory: DirectoryStore = DirectoryStore()) async throws {
        let databaseConfiguration = configuration.databaseURL.map { PostgresConfiguration(url: $0, applicationName: "web-console") }
            ?? PostgresConfiguration.environment(applicationName: "web-console")
        let database = PostgresPool(configuration: databaseConfiguration, size: configuration.runtime.databasePoolSize, logger: logger)
        let readiness = Readiness(requires: [.database, .migrated])
        let sessions = SessionPersistDriver(database: database, schema: schema, logger: logger)
        let console = WebConsole(
            configuration: configuration, database: database, renderer: try await ConsoleRenderer(), directory: directory, schema: schema, logger: logger)
        let router = router(console: console, sessions: sessions, readiness: readiness, registry: registry)
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(configuration.httpHost, port: configuration.httpPort), serverName: "web-console"),
            logger: logger
        )
        logger.info("starting", metadata: ["db": "\(databaseConfiguration.redactedDescription)", "http.port": "\(configuration.httpPort)", "public.url": "\(configuration.publicURL)"])
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: app), .init(service: Migrate(database: database, schema: schema, readiness: readiness, logger: logger)), .init(service: sessions)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                cancellationSignals: [],
                logger: logger
            )
        )
        try await group.run()
        await database.close()
        logger.info("stopped")
    }

    /// The pages behind their middleware, and the ops routes (`/healthz`, `/readyz`, `/metrics`) without it.
    public static func router(console: WebConsole, sessions: SessionPersistDriver, readiness: Readiness, registry: PrometheusCollectorRegistry) -> Router<ConsoleRequestContext> {
        let router = Router(context: ConsoleRequestContext.self)
        OpsRoutes.add(to: router, readiness: readiness, database: console.database, registry: registry)
        let pages = router.group()
        pages.add(middleware: ConsolePageMiddleware(renderer: console.renderer))
        pages.add(
            middleware: SessionMiddleware<ConsoleRequestContext>(
                storage: sessions,
                configuration: .init(
                    sessionCookieParameters: .init(name: "isms_session", path: "/", secure: console.configuration.secureCookies, sameSite: .strict),
                    keyPrefix: "session.", defaultSessionExpiration: .seconds(Int64(ConsoleSession.idleTimeout)))))
        pages.add(middleware: ConsoleStateMiddleware(database: console.database, secureCookies: console.configuration.secureCookies, logger: console.logger))
        console.addRoutes(to: pages)
        return router
    }

    /// Applies the console's migrations once the database answers, then marks it ready.
    struct Migrate: Service {
        let database: PostgresPool
        let schema: String
        let readiness: Readiness
        let logger: Logger

        func run() async throws {
            do {
                try await cancelWhenGracefulShutdown {
                    try await ServiceRunner.untilAvailable("database migrations", logger: logger) {
                        try await Migrator.apply(ConsoleMigrations.set(schema: schema), on: database, logger: logger)
                    }
                }
                readiness.set(.migrated, true)
                readiness.set(.database, true)
            } catch is CancellationError {
                return
            }
            // Stay in the group until shutdown: a finished service would stop the others.
            try? await gracefulShutdown()
        }
    }
}
