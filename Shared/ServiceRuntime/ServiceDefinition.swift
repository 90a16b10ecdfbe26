public import AMQP
public import Contracts
public import Logging
public import Postgres
public import PostgresMigrations
public import ServiceLifecycle

/// What a service is, for the shared runtime: its schema and migrations, the queues it
/// consumes, its timers and its HTTP routes. Each service's `main` builds one and hands it to
/// ``ServiceRunner``; everything else (connections, readiness, shutdown) is the runtime's.
public struct ServiceDefinition: Sendable {
    /// Everything the runtime built, for handlers and routes that need it.
    public struct Environment: Sendable {
        public var configuration: ServiceConfiguration
        public var database: PostgresPool
        public var databaseConfiguration: PostgresConfiguration
        public var amqp: AMQPConfiguration
        public var readiness: Readiness
        public var logger: Logger
    }

    /// One consumed queue and how to build its handler.
    public struct Consumer: Sendable {
        public var queue: String
        public var handler: @Sendable (Environment) throws -> any MessageHandler

        public init(queue: String, handler: @escaping @Sendable (Environment) throws -> any MessageHandler) {
            self.queue = queue
            self.handler = handler
        }
    }

    public var name: ServiceName
    /// The PostgreSQL schema the service owns.
    public var schema: String
    /// The ops and API port when `ISMS_HTTP_PORT` is not set.
    public var defaultPort: Int
    /// Consumers per queue when `ISMS_WORKERS` is not set.
    public var defaultWorkers: Int
    /// The service's own migrations, versions 10 and up (1-9 are the runtime's).
    public var migrations: [Migration]
    public var consumers: [Consumer]
    public var timers: @Sendable (Environment) throws -> [any TimerHandler]
    /// Schemas whose outboxes this service relays (its own, and any it writes on behalf of others).
    public var relaySchemas: [String]
    /// Declares the service's business routes (the ops routes are the runtime's).
    public var routes: @Sendable (APIRoutes, Environment) throws -> Void
    /// Runs once after migrations and before anything consumes (loading configuration files, say).
    public var prepare: @Sendable (Environment) async throws -> Void
    /// Long-running services of the service's own (a delivery worker, say), started after the
    /// timers and before the consumers, and stopped in reverse.
    public var services: @Sendable (Environment) throws -> [any Service]
    /// The service's own secrets, by environment variable, with the development value each has
    /// when unset: in production each must be set to something else (``DevelopmentSecrets``).
    public var secrets: [(variable: String, developmentValue: String)]

    public init(
        name: ServiceName,
        schema: String,
        defaultPort: Int,
        defaultWorkers: Int = 1,
        migrations: [Migration] = [],
        consumers: [Consumer] = [],
        timers: @escaping @Sendable (Environment) throws -> [any TimerHandler] = { _ in [] },
        relaySchemas: [String]? = nil,
        routes: @escaping @Sendable (APIRoutes, Environment) throws -> Void = { _, _ in },
        prepare: @escaping @Sendable (Environment) async throws -> Void = { _ in },
        services: @escaping @Sendable (Environment) throws -> [any Service] = { _ in [] },
        secrets: [(variable: String, developmentValue: String)] = []
    ) {
        self.name = name
        self.schema = schema
        self.defaultPort = defaultPort
        self.defaultWorkers = defaultWorkers
        self.migrations = migrations
        self.consumers = consumers
        self.timers = timers
        self.relaySchemas = relaySchemas ?? [schema]
        self.routes = routes
        self.prepare = prepare
        self.services = services
        self.secrets = secrets
    }

    /// The runtime's tables followed by the service's own migrations.
    public var migrationSet: MigrationSet {
        MigrationSet(schema: schema, migrations: MessagingSchema.migrations(schema: schema) + migrations)
    }
}
