import Contracts
public import Logging
public import AMQP
import ClientSupport
public import Foundation
import Hummingbird
import Metrics
import Postgres
import PostgresMigrations
public import Prometheus
import ServiceLifecycle
import UnixSignals

/// Builds and runs a service from its ``ServiceDefinition``: the one `main` of every executable.
public enum ServiceRunner {
    /// Reads `ISMS_*`, bootstraps logging and metrics, migrates, declares the topology, then runs
    /// the HTTP listener, the outbox relay, the timers and the consumers until SIGTERM or SIGINT.
    public static func run(_ definition: ServiceDefinition) async throws {
        let configuration = ServiceConfiguration.fromEnvironment(defaultPort: definition.defaultPort, defaultWorkers: definition.defaultWorkers)
        LoggingSystem.bootstrapISMS(format: configuration.logFormat, level: configuration.logLevel)
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        var logger = Logger(label: definition.name.rawValue)
        logger[metadataKey: "service.instance"] = "\(configuration.instanceID)"
        if configuration.deployment == .production {
            let problems = DevelopmentSecrets.problems(
                configuration: configuration, serviceSecrets: definition.secrets, environment: ProcessInfo.processInfo.environment)
            guard problems.isEmpty else {
                for problem in problems { logger.critical("refusing to start in production: \(problem)") }
                // EX_CONFIG: the deployment is wrong, not the program; no backtrace for the operator.
                exit(78)
            }
        }
        try await run(definition, configuration: configuration, registry: registry, logger: logger)
    }

    /// As ``run(_:)`` with explicit configuration and no process-wide bootstrap (tests).
    public static func run(
        _ definition: ServiceDefinition,
        configuration: ServiceConfiguration,
        registry: PrometheusCollectorRegistry,
        logger: Logger,
        clock: @escaping @Sendable () -> Date = Date.init
    ) async throws {
        let amqp = try AMQPConfiguration(url: configuration.amqpURL, connectionName: "\(definition.name.rawValue)@\(configuration.instanceID)")
        let databaseConfiguration = configuration.databaseURL.map { PostgresConfiguration(url: $0, applicationName: definition.name.rawValue) }
            ?? PostgresConfiguration.environment(applicationName: definition.name.rawValue)
        let database = PostgresPool(configuration: databaseConfiguration, size: configuration.databasePoolSize, logger: logger)
        let readiness = Readiness()
        let environment = ServiceDefinition.Environment(
            configuration: configuration,
            database: database,
            databaseConfiguration: databaseConfiguration,
            amqp: amqp,
            readiness: readiness,
            logger: logger
        )
        logger.info(
            "starting",
            metadata: ["amqp.url": "\(amqp.redactedURL)", "db": "\(databaseConfiguration.redactedDescription)", "http.port": "\(configuration.httpPort)"]
        )

        let deadLetters = DeadLetters(
            amqp: amqp, database: database, schema: definition.schema, queues: definition.consumers.map(\.queue), logger: logger)
        let router = try APIRoutes.router(database: database) { routes in
            try definition.routes(routes, environment)
            // Every service serves its own queues' dead letters to operators.
            DeadLetterRoutes(deadLetters: deadLetters).add(to: routes)
        }
        OpsRoutes.add(to: router, readiness: readiness, database: database, registry: registry)
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(configuration.httpHost, port: configuration.httpPort), serverName: definition.name.rawValue),
            logger: logger
        )
        // The HTTP listener starts first so /healthz and /readyz answer while the workers wait
        // for the database and the broker; it stops last so /readyz says "not ready" during the drain.
        let workers = Workers(definition: definition, environment: environment, clock: clock)
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: app), .init(service: workers)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                cancellationSignals: [],
                logger: logger
            )
        )
        try await group.run()
        await database.close()
        logger.info("stopped")
    }

    /// Migrates, declares the topology, then runs the relay, the timers and the consumers.
    struct Workers: Service {
        let definition: ServiceDefinition
        let environment: ServiceDefinition.Environment
        let clock: @Sendable () -> Date

        func run() async throws {
            let (configuration, database, readiness, logger, amqp) = (
                environment.configuration, environment.database, environment.readiness, environment.logger, environment.amqp
            )
            let started: Bool
            do {
                started = try await cancelWhenGracefulShutdown {
                try await untilAvailable("database migrations", logger: logger) {
                    try await Migrator.apply(definition.migrationSet, on: database, logger: logger)
                }
                readiness.set(.database, true)
                let topology = Topology.forService(
                    definition.name,
                    options: TopologyOptions(deliveryLimit: configuration.deliveryLimit, maxLength: configuration.queueMaxLength)
                )
                try await untilAvailable("topology declaration", logger: logger) {
                    let connection = try await AMQPConnection.connect(amqp, logger: logger)
                    try await connection.declare(topology)
                    await connection.close()
                }
                readiness.set(.topology, true)
                try await definition.prepare(environment)
                return true
                }
            } catch is CancellationError {
                // Asked to stop while still waiting for the database or the broker.
                return
            } catch {
                logger.critical("cannot start", metadata: ["error": "\(error)"])
                throw error
            }
            guard started, !Task.isCancelled else { return }

            // Started in this order and stopped in reverse: consumers stop taking work first, then
            // the timers, then the relay publishes what they committed.
            var services: [any Service] = [
                OutboxRelay(
                    options: .init(schemas: definition.relaySchemas, batchSize: configuration.outboxBatchSize, pollInterval: configuration.outboxPollInterval),
                    amqp: amqp,
                    database: database,
                    listenerConfiguration: environment.databaseConfiguration,
                    readiness: readiness,
                    logger: logger
                ),
            ]
            let timers = try definition.timers(environment)
            if !timers.isEmpty {
                services.append(
                    TimerRunner(
                        schema: definition.schema,
                        service: definition.name,
                        handlers: timers,
                        database: database,
                        pollInterval: configuration.timerPollInterval,
                        logger: logger,
                        clock: clock
                    )
                )
            }
            services += try definition.services(environment)
            for consumer in definition.consumers {
                let handler = try consumer.handler(environment)
                for worker in 0..<configuration.workers {
                    var connection = amqp
                    connection.connectionName = "\(amqp.connectionName ?? definition.name.rawValue)/\(consumer.queue)#\(worker)"
                    services.append(
                        MessageConsumer(
                            options: .init(
                                queue: consumer.queue,
                                consumerName: definition.name.rawValue,
                                schema: definition.schema,
                                service: definition.name,
                                prefetch: configuration.prefetch,
                                batchSize: configuration.batchSize
                            ),
                            amqp: connection,
                            database: database,
                            handler: handler,
                            readiness: readiness,
                            logger: logger,
                            clock: clock
                        )
                    )
                }
            }
            let group = ServiceGroup(configuration: .init(services: services.map { .init(service: $0) }, logger: logger))
            try await group.run()
        }
    }

    /// Retries `work` with back-off while the broker or database is not there yet.
    public static func untilAvailable(_ what: String, logger: Logger, _ work: () async throws -> Void) async throws {
        let backoff = Backoff(initial: .milliseconds(200), maximum: .seconds(5))
        var attempt = 0
        while true {
            do {
                try await work()
                return
            } catch let error as PostgresError where error.isConnectionProblem {
                logger.warning("waiting for the database", metadata: ["step": "\(what)", "error": "\(error)"])
            } catch let error as AMQPError where error.isRetriable {
                logger.warning("waiting for the broker", metadata: ["step": "\(what)", "error": "\(error)"])
            }
            try await Task.sleep(for: backoff.delay(attempt: attempt))
            attempt += 1
        }
    }
}

extension AMQPConnection {
    /// Declares exchanges, then queues, then bindings; idempotent.
    public func declare(_ topology: Topology) throws {
        for exchange in topology.exchanges { try declare(exchange) }
        for queue in topology.queues { try declare(queue) }
        for binding in topology.bindings { try bind(binding) }
    }
}
