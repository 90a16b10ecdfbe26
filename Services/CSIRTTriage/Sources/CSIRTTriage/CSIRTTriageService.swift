import Acknowledgement
import Contracts
import Directory
public import Logging
public import Postgres
public import Foundation
public import PostgresMigrations
public import ServiceRuntime
import WardCalendar

/// CSIRT triage (issue #4): every `incident.reported` becomes a numbered case with a reasoned
/// severity; the chain is told by the escalation policy; statutory deadlines are tracked; the
/// life cycle is guarded by role and recorded in a hash-chained history; CSIRT works through
/// the HTTP API (`/v1/cases...`) and `isms incidents`.
///
/// Configuration (environment):
/// - `ISMS_TRIAGE_SEVERITY_RULES` (path, default `deploy/config/severity-rules.yaml`)
/// - `ISMS_TRIAGE_ESCALATION_POLICY` (path, default `deploy/config/escalation-policy.yaml`)
/// - `ISMS_TRIAGE_STATUTORY_RULES` (path, default `deploy/config/statutory-rules.yaml`)
/// - `ISMS_TRIAGE_CORRELATION_RULES` (path, default `deploy/config/correlation-rules.yaml`):
///   which related reports join one open case (issue #16)
/// - `ISMS_ACK_SECRET` (string, default `dev-ack-secret`): signs acknowledgement links.
/// - `ISMS_TRIAGE_DIGEST_HOURS` (int, default 168): how often the masked incident digest goes to
///   every section's security staff (Art. 10, 16(7)).
/// Every file is loaded and validated at start; an error names the file and line and stops the
/// service before it consumes anything.
public enum CSIRTTriageService {
    public static let schema = "triage"

    /// The service; `engine` replaces the configuration files (tests), `ackSecret` the environment's.
    public static func definition(engine: TriageEngine? = nil, ackSecret: String? = nil, digestInterval: Duration? = nil) -> ServiceDefinition {
        let schema = engine?.store.schema ?? Self.schema
        let digestInterval = digestInterval ?? Self.digestInterval()
        return ServiceDefinition(
            name: .csirtTriage,
            schema: schema,
            defaultPort: 8082,
            migrations: TriageMigrations.all(schema: schema),
            consumers: [
                .init(queue: "csirt-triage.events") { _ in
                    messageHandler(engine: try engine ?? loadEngine())
                },
            ],
            timers: { _ in
                timerHandlers(engine: try engine ?? loadEngine(), digestInterval: digestInterval)
            },
            routes: { router, environment in
                addRoutes(
                    to: router, engine: try engine ?? loadEngine(), database: environment.database,
                    ackSecret: ackSecret ?? AcknowledgementToken.secretFromEnvironment, logger: environment.logger)
            },
            prepare: { environment in
                let loaded = try engine ?? loadEngine()
                try await environment.database.withConnection { connection in
                    try loaded.scheduleFirstDigest(every: digestInterval, now: Date(), on: connection)
                }
                environment.logger.info(
                    "triage rules loaded",
                    metadata: [
                        "severity.version": "\(loaded.severityRules.version)", "escalation.version": "\(loaded.escalationPolicy.version)",
                        "statutory.version": "\(loaded.statutoryRules.version)", "correlation.version": "\(loaded.correlationRules.version)",
                    ])
            },
            secrets: [("ISMS_ACK_SECRET", AcknowledgementToken.developmentSecret)]
        )
    }

    /// Adds the CSIRT API (`/v1/cases...`, `/v1/acknowledgements/{token}`) to `router`.
    public static func addRoutes(to router: APIRoutes, engine: TriageEngine, database: PostgresPool, ackSecret: String, logger: Logger) {
        TriageRoutes(engine: engine, database: database, ackSecret: ackSecret, logger: logger).add(to: router)
    }

    /// The handler of `csirt-triage.events`: puts each report into a case (a new one, or the
    /// open case a correlation rule finds), a batch at a time.
    public static func messageHandler(engine: TriageEngine) -> any MessageHandler {
        CaseSourceHandler(engine: engine)
    }

    /// The timers: escalation steps, statutory reminders, the end of use restrictions, the digest.
    public static func timerHandlers(engine: TriageEngine, digestInterval: Duration = digestInterval()) -> [any TimerHandler] {
        [
            EscalationTimerHandler(engine: engine), ObligationTimerHandler(engine: engine), RestrictionTimerHandler(engine: engine),
            DigestTimerHandler(engine: engine, interval: digestInterval),
        ]
    }

    /// `ISMS_TRIAGE_DIGEST_HOURS`, at least one hour.
    public static func digestInterval(environment: [String: String] = ProcessInfo.processInfo.environment) -> Duration {
        .seconds(max(1, environment["ISMS_TRIAGE_DIGEST_HOURS"].flatMap(Int.init) ?? 168) * 3600)
    }

    /// The migrations `isms migrate` applies for this service, with the role that owns them.
    public static var migrationSets: [(set: MigrationSet, owner: String)] {
        [(definition(engine: nil).migrationSet, "triage")]
    }

    /// Loads the four configuration files named by the environment (or their defaults).
    public static func loadEngine(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> TriageEngine {
        TriageEngine(
            severityRules: try SeverityRules.load(path: environment["ISMS_TRIAGE_SEVERITY_RULES"] ?? "deploy/config/severity-rules.yaml"),
            escalationPolicy: try EscalationPolicy.load(path: environment["ISMS_TRIAGE_ESCALATION_POLICY"] ?? "deploy/config/escalation-policy.yaml"),
            statutoryRules: try StatutoryRules.load(path: environment["ISMS_TRIAGE_STATUTORY_RULES"] ?? "deploy/config/statutory-rules.yaml"),
            correlationRules: try CorrelationRules.load(path: environment["ISMS_TRIAGE_CORRELATION_RULES"] ?? "deploy/config/correlation-rules.yaml")
        )
    }
}
