public import Configuration
public import Logging
import Foundation

/// Settings every service shares, read from `ISMS_*` environment variables.
public struct ServiceConfiguration: Sendable {
    /// Broker URL. `ISMS_AMQP_URL` (string), default `amqp://guest:guest@127.0.0.1:5672/%2F`.
    public var amqpURL: String
    /// Database URL. `ISMS_DATABASE_URL` (string). When unset, libpq reads the `PG*` variables.
    public var databaseURL: String?
    /// Ops and API listener address. `ISMS_HTTP_HOST` (string), default `127.0.0.1`.
    public var httpHost: String
    /// Ops and API port. `ISMS_HTTP_PORT` (int), default: the service's own port.
    public var httpPort: Int
    /// Unacknowledged deliveries per consumer. `ISMS_PREFETCH` (int), default 200.
    public var prefetch: Int
    /// Deliveries handled in one database transaction. `ISMS_BATCH_SIZE` (int), default 100.
    public var batchSize: Int
    /// Consumers per queue, each with its own broker connection. `ISMS_WORKERS` (int), default 1
    /// (4 for incident-intake).
    public var workers: Int
    /// Database connections in the pool. `ISMS_DB_POOL_SIZE` (int), default the larger of 4 and
    /// workers + 2.
    public var databasePoolSize: Int
    /// Outbox rows published per relay batch. `ISMS_OUTBOX_BATCH_SIZE` (int), default 500.
    public var outboxBatchSize: Int
    /// Longest wait between outbox sweeps when no notification arrives.
    /// `ISMS_OUTBOX_POLL_MS` (int), default 1000.
    public var outboxPollInterval: Duration
    /// Longest wait between timer sweeps. `ISMS_TIMER_POLL_MS` (int), default 1000.
    public var timerPollInterval: Duration
    /// `x-delivery-limit` of work queues. `ISMS_DELIVERY_LIMIT` (int), default 5.
    public var deliveryLimit: Int
    /// `x-max-length` of work queues. `ISMS_QUEUE_MAX_LENGTH` (int), default 1000000.
    public var queueMaxLength: Int
    /// `ISMS_LOG_LEVEL` (trace…critical), default `info`.
    public var logLevel: Logger.Level
    /// `ISMS_LOG_FORMAT` (`json` or `text`), default `json`.
    public var logFormat: LogFormat
    /// Identifies this replica in logs and claims. `ISMS_INSTANCE_ID` (string), default host-pid.
    public var instanceID: String
    /// `ISMS_ENV` (`development` or `production`), default `development`. In production no
    /// development secret is accepted (``DevelopmentSecrets``).
    public var deployment: Deployment

    public enum LogFormat: String, Sendable {
        case json, text
    }

    /// Reads every key above from `reader`, which is scoped to `isms` by ``fromEnvironment(defaultPort:)``.
    public init(reader: ConfigReader, defaultPort: Int, defaultWorkers: Int = 1) {
        amqpURL = reader.string(forKey: "amqp.url", default: "amqp://guest:guest@127.0.0.1:5672/%2F")
        databaseURL = reader.string(forKey: "database.url")
        httpHost = reader.string(forKey: "http.host", default: "127.0.0.1")
        httpPort = reader.int(forKey: "http.port", default: defaultPort)
        prefetch = max(1, min(reader.int(forKey: "prefetch", default: 200), Int(UInt16.max)))
        batchSize = max(1, reader.int(forKey: "batch.size", default: 100))
        workers = max(1, reader.int(forKey: "workers", default: defaultWorkers))
        // Each consumer holds a connection for its batch; the relay, the timers, HTTP and a
        // service's own loop (the notifier's send worker) share four more.
        databasePoolSize = max(2, reader.int(forKey: "db.pool.size", default: workers + 4))
        outboxBatchSize = max(1, reader.int(forKey: "outbox.batch.size", default: 500))
        outboxPollInterval = .milliseconds(max(10, reader.int(forKey: "outbox.poll.ms", default: 1000)))
        timerPollInterval = .milliseconds(max(10, reader.int(forKey: "timer.poll.ms", default: 1000)))
        deliveryLimit = max(1, reader.int(forKey: "delivery.limit", default: 5))
        queueMaxLength = max(1, reader.int(forKey: "queue.max.length", default: 1_000_000))
        logLevel = reader.string(forKey: "log.level").flatMap(Logger.Level.init(rawValue:)) ?? .info
        logFormat = reader.string(forKey: "log.format").flatMap(LogFormat.init(rawValue:)) ?? .json
        instanceID = reader.string(forKey: "instance.id")
            ?? "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)"
        deployment = reader.string(forKey: "env").flatMap(Deployment.init(rawValue:)) ?? .development
    }

    /// Reads the process environment (`ISMS_*`).
    public static func fromEnvironment(defaultPort: Int, defaultWorkers: Int = 1) -> ServiceConfiguration {
        let reader = ConfigReader(provider: EnvironmentVariablesProvider(secretsSpecifier: .specific(["ISMS_AMQP_URL", "ISMS_DATABASE_URL"])))
        return ServiceConfiguration(reader: reader.scoped(to: "isms"), defaultPort: defaultPort, defaultWorkers: defaultWorkers)
    }
}
