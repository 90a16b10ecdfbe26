import Directory
import Foundation
import Hummingbird
import HummingbirdTesting
import ISMSTesting
@testable import Notifier
import Postgres
import PostgresMigrations
import ServiceRuntime
import Testing

/// `isms notifications` and `isms silences` act as their user through the notifier's API
/// (issue #14 item 7): the built `isms`, a token from `isms token issue`, no database URL, the
/// notifier's routes served live over a ledger of their own.
@Suite(.serialized, .tags(.integration), .needsTestServers) struct NotificationsCLITests {
    static func withNotifier(_ body: @escaping @Sendable (_ environment: (String) -> [String: String]) async throws -> Void) async throws {
        let schema = TestServers.uniqueName("ntf_cli")
        let pool = TestServers.pool()
        let logger = TestServers.logger("notifier-cli")
        do {
            _ = try await pool.query("CREATE SCHEMA \(unescaped: Migrator.quoted(schema))")
            try await Migrator.apply(
                MigrationSet(schema: schema, migrations: MessagingSchema.migrations(schema: schema) + NotifierMigrations.all(schema: schema)),
                on: pool, logger: logger)
            // Tokens live in the shared directory, where `isms token issue` writes; migrated as
            // incident intake does, owned by directory_owner.
            let directory = DirectoryStore()
            try await Migrator.apply(
                directory.migrations.appending(MessagingSchema.migrations(schema: directory.schema)), on: pool, as: "directory_owner", logger: logger)
            let router = APIRoutes.router(database: pool) { routes in
                NotifierRoutes(operations: NotifierOperations(schema: schema), database: pool, directory: DirectoryStore(), logger: logger).add(to: routes)
            }
            try await Application(router: router, logger: logger).test(.live) { client in
                let port = try #require(client.port)
                try await body { token in ["ISMS_TOKEN": token, "ISMS_NOTIFIER_URL": "http://127.0.0.1:\(port)"] }
            }
        } catch {
            _ = try? await pool.query("DROP SCHEMA IF EXISTS \(unescaped: Migrator.quoted(schema)) CASCADE")
            await pool.close()
            throw error
        }
        _ = try? await pool.query("DROP SCHEMA IF EXISTS \(unescaped: Migrator.quoted(schema)) CASCADE")
        await pool.close()
    }

    @Test func operatorsSilenceAndVerifyASectionIsRefused() async throws {
        try await Self.withNotifier { environment in
            let csirt = try await ISMSExecutable.issueToken(role: "csirt")
            let staff = try await ISMSExecutable.issueToken(role: "sectionSecurityStaff", unit: "family-registry")

            // The ledger is for ward-wide operator roles: a section's token is refused with exit 3.
            let refused = try await ISMSExecutable.run(["notifications", "list"], environment: environment(staff))
            #expect(refused.status == 3, "\(refused.output)")
            #expect(refused.output.contains("Only ward-wide operator roles"), "\(refused.output)")
            let silenceRefused = try await ISMSExecutable.run(
                ["silences", "add", "--matcher", "type=incident.case-opened.v1", "--minutes", "30", "--reason", "maintenance"], environment: environment(staff))
            #expect(silenceRefused.status == 3, "\(silenceRefused.output)")

            // CSIRT silences, lists and expires; recorded as its token.
            let added = try await ISMSExecutable.run(
                ["silences", "add", "--matcher", "type=incident.case-opened.v1", "--minutes", "30", "--reason", "maintenance"], environment: environment(csirt))
            #expect(added.status == 0, "\(added.output)")
            let id = try #require(added.output.split(separator: " ").dropFirst().first.map(String.init))
            let listed = try await ISMSExecutable.run(["silences", "list"], environment: environment(csirt))
            // The notifier still writes its UUIDs upper-case (issue #14 item 1 makes them one case).
            #expect(listed.status == 0 && listed.output.lowercased().contains(id) && listed.output.contains("token:tests"), "\(listed.output)")
            let expired = try await ISMSExecutable.run(["silences", "expire", id], environment: environment(csirt))
            #expect(expired.status == 0 && expired.output.contains("expired"), "\(expired.output)")

            // The ledger and its chain, through GET /v1/delivery-log/verification.
            let list = try await ISMSExecutable.run(["notifications", "list", "--json"], environment: environment(csirt))
            #expect(list.status == 0, "\(list.output)")
            #expect((try? JSONSerialization.jsonObject(with: Data(list.output.utf8))) as? [Any] != nil, "\(list.output)")
            let verified = try await ISMSExecutable.run(["notifications", "verify"], environment: environment(csirt))
            #expect(verified.status == 0 && verified.output.contains("intact: 0 entries"), "\(verified.output)")
            let missing = try await ISMSExecutable.run(["notifications", "show", "999999"], environment: environment(csirt))
            #expect(missing.status == 2, "\(missing.output)")
        }
    }
}
