import Contracts
@testable import ContractorMonitor
import Directory
import Foundation
import Hummingbird
import HummingbirdTesting
import ISMSTesting
import Postgres
import PostgresMigrations
import ServiceRuntime
import Testing

/// `isms contractors` acts as its user through contractor-monitor's API (issue #14 item 7): the
/// built `isms`, tokens from `isms token issue`, no database URL, the routes served live over a
/// register of their own.
@Suite(.serialized, .tags(.integration), .needsTestServers) struct ContractorsCLITests {
    static func withMonitor(_ body: @escaping @Sendable (_ environment: (String) -> [String: String]) async throws -> Void) async throws {
        try await TestServers.withSchema(prefix: "cm_cli", migrations: { MessagingSchema.migrations(schema: $0) + ContractorMigrations.all(schema: $0) }) { schema, pool in
            // Tokens and the organisation live in the shared directory, where `isms token issue`
            // writes; migrated as incident intake does, owned by directory_owner.
            let directory = DirectoryStore()
            try await Migrator.apply(
                directory.migrations.appending(MessagingSchema.migrations(schema: directory.schema)), on: pool, as: "directory_owner",
                logger: TestServers.logger("migrations"))
            let ward = try DirectoryDocument.load(path: Fixture.wardPath)
            _ = try await pool.withTransaction { try directory.replace(with: ward, on: $0) }
            let registry = ContractorRegistry(schema: schema, directory: directory, baseline: Fixture.baseline)
            let router = APIRoutes.router(database: pool) { routes in
                ContractorRoutes(registry: registry, database: pool, logger: TestServers.logger("contractors-cli"), clock: { Date() }).add(to: routes)
            }
            try await Application(router: router, logger: TestServers.logger("contractors-cli")).test(.live) { client in
                let port = try #require(client.port)
                try await body { token in ["ISMS_TOKEN": token, "ISMS_CONTRACTOR_MONITOR_URL": "http://127.0.0.1:\(port)"] }
            }
        }
    }

    @Test func theManagerRegistersAContractorAndSectionStaffMayNot() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("contractor-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: file) }
        let input = ContractorRegistry.ContractorInput(name: "株式会社テスト情報サービス", kind: .outsourcedContractor, profile: Fixture.profile("enhanced"))
        try ContractsJSON.encoder().encode(input).write(to: file)
        try await Self.withMonitor { environment in
            let manager = try await ISMSExecutable.issueToken(role: "generalSecurityManager")
            let staff = try await ISMSExecutable.issueToken(role: "sectionSecurityStaff", unit: "family-registry")

            let refused = try await ISMSExecutable.run(["contractors", "add", "--file", file.path], environment: environment(staff))
            #expect(refused.status == 3 && refused.output.contains("Not allowed for this role or unit"), "\(refused.output)")

            let added = try await ISMSExecutable.run(["contractors", "add", "--file", file.path], environment: environment(manager))
            #expect(added.status == 0 && added.output.contains("株式会社テスト情報サービス"), "\(added.output)")
            let listed = try await ISMSExecutable.run(["contractors", "list"], environment: environment(manager))
            #expect(listed.status == 0 && listed.output.contains("株式会社テスト情報サービス"), "\(listed.output)")
            for command in [["contractors", "contracts"], ["contractors", "violations"], ["contractors", "measures"], ["contractors", "verify"]] {
                let result = try await ISMSExecutable.run(command, environment: environment(manager))
                #expect(result.status == 0, "\(command): \(result.output)")
            }
            let bad = try await ISMSExecutable.run(["contractors", "add", "--file", "/nonexistent.json"], environment: environment(manager))
            #expect(bad.status != 0)
        }
    }
}
