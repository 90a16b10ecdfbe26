@testable import AuditScheduler
import Directory
import Foundation
import Hummingbird
import HummingbirdTesting
import ISMSTesting
import Postgres
import PostgresMigrations
import ServiceRuntime
import Testing
import WardCalendar

/// `isms duties` and `isms findings` act as their user through audit-scheduler's API (issue #14
/// item 7): the built `isms`, tokens from `isms token issue`, no database URL, the scheduler's
/// routes served live over a duty calendar of their own and the ward's organisation.
@Suite(.serialized, .tags(.integration), .needsTestServers) struct DutiesCLITests {
    static let section = "family-registry"

    static func withScheduler(_ body: @escaping @Sendable (_ environment: (String) -> [String: String]) async throws -> Void) async throws {
        try await TestServers.withSchema(prefix: "audit_cli", migrations: { schema in
            MessagingSchema.migrations(schema: schema) + AuditSchedulerMigrations.all(schema: schema)
        }) { schema, pool in
            // Tokens and the organisation live in the shared directory, where `isms token issue`
            // writes; migrated as incident intake does, owned by directory_owner.
            let directory = DirectoryStore()
            try await Migrator.apply(
                directory.migrations.appending(MessagingSchema.migrations(schema: directory.schema)), on: pool, as: "directory_owner",
                logger: TestServers.logger("migrations"))
            let ward = try DirectoryDocument.load(path: ISMSExecutable.repositoryRoot.appendingPathComponent("deploy/config/ward.yaml").path)
            _ = try await pool.withTransaction { try directory.replace(with: ward, on: $0) }
            let store = AuditSchedulerStore(schema: schema, directory: directory, calendar: try defaultCalendar())
            let now = Date()
            _ = try await pool.withTransaction { try store.materialise(today: CivilDate.inTokyo(now), now: now, on: $0) }

            let router = APIRoutes.router(database: pool) { routes in
                AuditSchedulerRoutes(store: store, database: pool, clock: { Date() }).add(to: routes)
            }
            try await Application(router: router, logger: TestServers.logger("audit-cli")).test(.live) { client in
                let port = try #require(client.port)
                try await body { token in ["ISMS_TOKEN": token, "ISMS_AUDIT_SCHEDULER_URL": "http://127.0.0.1:\(port)"] }
            }
        }
    }

    @Test func aSectionSeesItsOwnDutiesAndTheReviewIsWardWide() async throws {
        try await Self.withScheduler { environment in
            let manager = try await ISMSExecutable.issueToken(role: "generalSecurityManager")
            let staff = try await ISMSExecutable.issueToken(role: "sectionSecurityStaff", unit: Self.section)

            let all = try await ISMSExecutable.run(["duties", "list", "--json"], environment: environment(manager))
            #expect(all.status == 0, "\(all.output)")
            let allUnits = Set(try #require(try JSONSerialization.jsonObject(with: Data(all.output.utf8)) as? [[String: Any]]).compactMap { $0["unitCode"] as? String })
            #expect(allUnits.count > 1, "\(allUnits)")

            let own = try await ISMSExecutable.run(["duties", "list", "--json"], environment: environment(staff))
            #expect(own.status == 0, "\(own.output)")
            let ownUnits = Set(try #require(try JSONSerialization.jsonObject(with: Data(own.output.utf8)) as? [[String: Any]]).compactMap { $0["unitCode"] as? String })
            #expect(ownUnits.isSubset(of: [Self.section, "residents-dept"]), "\(ownUnits)")
            let table = try await ISMSExecutable.run(["duties", "list"], environment: environment(staff))
            #expect(table.status == 0 && table.output.contains("duties in fiscal year"), "\(table.output)")

            // The management review's measures are the ward's: a section's token gets exit 3.
            let report = try await ISMSExecutable.run(["duties", "report"], environment: environment(staff))
            #expect(report.status == 3 && report.output.contains("ward-wide"), "\(report.output)")
            let wardReport = try await ISMSExecutable.run(["duties", "report"], environment: environment(manager))
            #expect(wardReport.status == 0, "\(wardReport.output)")

            let findings = try await ISMSExecutable.run(["findings", "list"], environment: environment(manager))
            #expect(findings.status == 0, "\(findings.output)")
            let missing = try await ISMSExecutable.run(["duties", "show", UUID().uuidString], environment: environment(manager))
            #expect(missing.status == 2, "\(missing.output)")
        }
    }
}
