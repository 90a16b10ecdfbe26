import Contracts
public import PostgresMigrations
import Directory
public import Foundation
import Logging
import Postgres
public import ServiceRuntime
import WardCalendar

/// The audit scheduler (issue #6): the guideline's recurring duties (Art. 11(5), 13, 23-26, 29)
/// planned from `deploy/config/duty-calendar.yaml`, materialised ahead over a rolling horizon,
/// chased with reminders, escalated up the reporting chain when overdue, completed with evidence,
/// and measured for the management review.
public enum AuditSchedulerService {
    public static let schema = "audit"

    /// The calendar file: `ISMS_AUDIT_CALENDAR_FILE` (string), default `deploy/config/duty-calendar.yaml`.
    public static var calendarPath: String {
        ProcessInfo.processInfo.environment["ISMS_AUDIT_CALENDAR_FILE"] ?? "deploy/config/duty-calendar.yaml"
    }

    /// The risk scale file: `ISMS_AUDIT_RISK_SCALE_FILE` (string), default `deploy/config/risk-scale.yaml`.
    public static var riskScalePath: String {
        ProcessInfo.processInfo.environment["ISMS_AUDIT_RISK_SCALE_FILE"] ?? "deploy/config/risk-scale.yaml"
    }

    /// The service, reading the calendar from ``calendarPath`` (the process stops with every
    /// problem listed, by line, when the file is bad). Tests pass a calendar and a clock.
    public static func definition(
        calendar: DutyCalendar? = nil, riskScale: RiskScale? = nil, clock: @escaping @Sendable () -> Date = Date.init
    ) -> ServiceDefinition {
        let store: @Sendable () throws -> AuditSchedulerStore = {
            AuditSchedulerStore(
                schema: schema, calendar: try calendar ?? DutyCalendarDocument.load(path: calendarPath),
                riskScale: try riskScale ?? RiskScaleDocument.load(path: riskScalePath))
        }
        return ServiceDefinition(
            name: .auditScheduler,
            schema: schema,
            defaultPort: 8083,
            migrations: AuditSchedulerMigrations.all(schema: schema),
            consumers: [
                .init(queue: "audit-scheduler.events") { _ in DirectoryChangedHandler(store: try store()) },
            ],
            timers: { _ in
                let store = try store()
                return [DutyNoticeTimer(store: store), MaterialiseTimer(store: store)]
            },
            routes: { router, environment in
                let store = try store()
                AuditSchedulerRoutes(store: store, database: environment.database, clock: clock).add(to: router)
                AssetRoutes(register: AssetRegister(directory: store.directory), database: environment.database).add(to: router)
                RiskRoutes(store: store, database: environment.database, clock: clock).add(to: router)
            },
            prepare: { environment in
                // Fails the start, listing every problem of the file, before anything consumes.
                let store = try store()
                environment.logger.info("duty calendar loaded", metadata: ["duties.templates": "\(store.calendar.templates.count)"])
                environment.logger.info("risk scale loaded", metadata: ["risks.levels": "\(store.riskScale?.levels.count ?? 0)"])
                // The sweep runs at once after every start (the calendar may have changed), then daily.
                let now = clock()
                try await environment.database.withTransaction { connection in
                    try DurableTimers.schedule(
                        kind: AuditSchedulerStore.materialiseTimerKind, key: MaterialiseTimer.key, at: now, on: connection, schema: schema)
                }
            }
        )
    }

    /// The migrations `isms migrate` applies for this service, with the role that owns them.
    public static var migrationSets: [(set: MigrationSet, owner: String)] {
        [(definition().migrationSet, "audit")]
    }
}
