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

/// `isms risks` against audit-scheduler's risk routes served live (issue #18 item 1): the built
/// `isms`, tokens from `isms token issue`, the ward's organisation and the shipped risk scale.
@Suite(.serialized, .tags(.integration), .needsTestServers) struct RisksCLITests {
    static let section = "family-registry"

    static func withScheduler(_ body: @escaping @Sendable (_ environment: (String) -> [String: String]) async throws -> Void) async throws {
        try await TestServers.withSchema(prefix: "audit_risks", migrations: { schema in
            MessagingSchema.migrations(schema: schema) + AuditSchedulerMigrations.all(schema: schema)
        }) { schema, pool in
            let directory = DirectoryStore()
            try await Migrator.apply(
                directory.migrations.appending(MessagingSchema.migrations(schema: directory.schema)), on: pool, as: "directory_owner",
                logger: TestServers.logger("migrations"))
            let ward = try DirectoryDocument.load(path: ISMSExecutable.repositoryRoot.appendingPathComponent("deploy/config/ward.yaml").path)
            _ = try await pool.withTransaction { try directory.replace(with: ward, on: $0) }
            let assets = try AssetDocument.load(path: ISMSExecutable.repositoryRoot.appendingPathComponent("deploy/config/assets.yaml").path).assets
            _ = try await pool.withTransaction { try AssetRegister(directory: directory).save(assets, by: "test", on: $0) }
            let store = AuditSchedulerStore(schema: schema, directory: directory, calendar: try defaultCalendar(), riskScale: try defaultRiskScale())
            let router = APIRoutes.router(database: pool) { routes in
                AuditSchedulerRoutes(store: store, database: pool, clock: { Date() }).add(to: routes)
                RiskRoutes(store: store, database: pool, clock: { Date() }).add(to: routes)
            }
            try await Application(router: router, logger: TestServers.logger("audit-risks")).test(.live) { client in
                let port = try #require(client.port)
                try await body { token in ["ISMS_TOKEN": token, "ISMS_AUDIT_SCHEDULER_URL": "http://127.0.0.1:\(port)"] }
            }
        }
    }

    @Test func aSectionRegistersTheCISOAloneAcceptsAboveTheAppetite() async throws {
        try await Self.withScheduler { environment in
            let officer = try await ISMSExecutable.issueToken(role: "sectionSecurityOfficer", unit: Self.section)
            let ciso = try await ISMSExecutable.issueToken(role: "ciso")
            let staff = try await ISMSExecutable.issueToken(role: "sectionSecurityStaff", unit: Self.section)

            let added = try await ISMSExecutable.run(
                [
                    "risks", "add", "--asset", "resident-notices", "--section", Self.section, "--title", "戸籍データの誤送信", "--threat", "メールの誤送信",
                    "--vulnerability", "宛先の確認手順がない", "--likelihood", "3", "--impact", "4", "--source", "incident:2026-0007",
                ], environment: environment(officer))
            #expect(added.status == 0, "\(added.output)")
            #expect(added.output.contains("critical"), "\(added.output)")
            let id = try #require(added.output.split(separator: " ").dropFirst().first.map(String.init))

            let refusedStaff = try await ISMSExecutable.run(["risks", "treat", id, "--treatment", "avoid"], environment: environment(staff))
            #expect(refusedStaff.status == 3, "\(refusedStaff.output)")
            // 3×3 = high, above the appetite: the section's officer gets exit 3 and why.
            let refused = try await ISMSExecutable.run(
                ["risks", "accept", id, "--reason", "費用が大きい", "--likelihood", "3", "--impact", "3"], environment: environment(officer))
            #expect(refused.status == 3 && refused.output.contains("CISO"), "\(refused.output)")
            let noReason = try await ISMSExecutable.run(["risks", "accept", id, "--reason", " ", "--likelihood", "3", "--impact", "3"], environment: environment(ciso))
            #expect(noReason.status == 2, "\(noReason.output)")
            let accepted = try await ISMSExecutable.run(
                ["risks", "accept", id, "--reason", "システム更改まで受容", "--likelihood", "3", "--impact", "3"], environment: environment(ciso))
            #expect(accepted.status == 0 && accepted.output.contains("accept"), "\(accepted.output)")

            let shown = try await ISMSExecutable.run(["risks", "show", id], environment: environment(staff))
            #expect(shown.status == 0, "\(shown.output)")
            let detail = try #require(try JSONSerialization.jsonObject(with: Data(shown.output.utf8)) as? [String: Any])
            #expect(detail["historyVerified"] as? Bool == true)
            #expect((detail["history"] as? [Any])?.count == 2)
            #expect((detail["risk"] as? [String: Any])?["acceptedByRole"] as? String == "ciso")

            let reviewed = try await ISMSExecutable.run(["risks", "review", id, "--notes", "受容の条件を確認"], environment: environment(officer))
            #expect(reviewed.status == 0, "\(reviewed.output)")
            let listed = try await ISMSExecutable.run(["risks", "list", "--above-appetite"], environment: environment(ciso))
            #expect(listed.status == 0 && listed.output.contains("1 risks"), "\(listed.output)")
            let summary = try await ISMSExecutable.run(["risks", "summary"], environment: environment(ciso))
            let figures = try #require(try JSONSerialization.jsonObject(with: Data(summary.output.utf8)) as? [String: Any])
            #expect(figures["total"] as? Int == 1 && figures["acceptedByCISO"] as? Int == 1, "\(summary.output)")
        }
    }
}
