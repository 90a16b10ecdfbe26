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

/// The asset register kept through the scheduler's API and `isms assets` (issue #18 item 0):
/// the ward's file imported by the built `isms`, then read and changed with tokens of each kind.
@Suite(.serialized, .tags(.integration), .needsTestServers) struct AssetRegisterAPITests {
    @Test func importThenKeepThroughTheAPIWithEachRolesScope() async throws {
        try await TestServers.withSchema(prefix: "audit_assets", migrations: { schema in
            MessagingSchema.migrations(schema: schema) + AuditSchedulerMigrations.all(schema: schema)
        }) { schema, pool in
            let directory = DirectoryStore()
            try await Migrator.apply(
                directory.migrations.appending(MessagingSchema.migrations(schema: directory.schema)), on: pool, as: "directory_owner",
                logger: TestServers.logger("migrations"))
            let root = ISMSExecutable.repositoryRoot
            let ward = try DirectoryDocument.load(path: root.appendingPathComponent("deploy/config/ward.yaml").path)
            _ = try await pool.withTransaction { try directory.replace(with: ward, on: $0) }

            // The operator's import: the sample file, checked against the directory; again, nothing changes.
            let operatorEnvironment = ["ISMS_DATABASE_URL": TestServers.databaseURL]
            let file = root.appendingPathComponent("deploy/config/assets.yaml").path
            let imported = try await ISMSExecutable.run(["assets", "import", file], environment: operatorEnvironment)
            #expect(imported.status == 0, "\(imported.output)")
            let again = try await ISMSExecutable.run(["assets", "import", file], environment: operatorEnvironment)
            #expect(again.output.contains("0 created, 0 updated, 6 unchanged"), "\(again.output)")
            // A file naming a section the directory lacks is refused with its line, and saves nothing.
            let broken = FileManager.default.temporaryDirectory.appendingPathComponent("assets-\(UUID().uuidString).yaml")
            try """
                assets:
                  - id: stray
                    name: 迷子
                    section: no-such-section
                    classification: { confidentiality: "2", integrity: "1", availability: "1" }
                """.write(to: broken, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(at: broken) }
            let refused = try await ISMSExecutable.run(["assets", "import", broken.path], environment: operatorEnvironment)
            #expect(refused.status == 65)
            #expect(refused.output.contains("\(broken.path):4:") && refused.output.contains("no section 'no-such-section'"), "\(refused.output)")

            let store = AuditSchedulerStore(schema: schema, directory: directory, calendar: try defaultCalendar())
            let router = APIRoutes.router(database: pool) { routes in
                AssetRoutes(register: AssetRegister(directory: store.directory), database: pool).add(to: routes)
            }
            let officer = try await ISMSExecutable.issueToken(role: "generalSecurityOfficer")
            let familyRegistry = try await ISMSExecutable.issueToken(role: "sectionSecurityOfficer", unit: "family-registry")
            let personnel = try await ISMSExecutable.issueToken(role: "sectionSecurityOfficer", unit: "personnel")
            try await Application(router: router, logger: TestServers.logger("audit-assets")).test(.live) { client in
                let port = try #require(client.port)
                func environment(_ token: String) -> [String: String] { ["ISMS_TOKEN": token, "ISMS_AUDIT_SCHEDULER_URL": "http://127.0.0.1:\(port)"] }
                func put(_ id: String, _ body: String, _ token: String) async throws -> (status: Int, body: String) {
                    let response = try await client.execute(
                        uri: "/v1/assets/\(id)", method: .put,
                        headers: [.authorization: "Bearer \(token)", .contentType: "application/json"], body: ByteBuffer(string: body))
                    return (Int(response.status.code), String(buffer: response.body))
                }

                // Ward-wide: all six; a section: its own two.
                let all = try await ISMSExecutable.run(["assets", "list", "--json"], environment: environment(officer))
                let allIDs = try #require(try JSONSerialization.jsonObject(with: Data(all.output.utf8)) as? [[String: Any]]).compactMap { $0["id"] as? String }
                // The directory schema outlives a run: assets an earlier run registered may be there too.
                let sample = ["family-registry-system", "personnel-records", "resident-notices", "staff-mail", "ward-website", "welfare-case-records"]
                #expect(Set(sample).isSubset(of: allIDs), "\(all.output)")
                let own = try await ISMSExecutable.run(["assets", "list", "--json"], environment: environment(familyRegistry))
                let ownIDs = try #require(try JSONSerialization.jsonObject(with: Data(own.output.utf8)) as? [[String: Any]]).compactMap { $0["id"] as? String }
                #expect(Set(["family-registry-system", "resident-notices"]).isSubset(of: ownIDs))
                let ownSections = try #require(try JSONSerialization.jsonObject(with: Data(own.output.utf8)) as? [[String: Any]]).compactMap { $0["sectionCode"] as? String }
                #expect(Set(ownSections) == ["family-registry"], "\(own.output)")
                let hidden = try await ISMSExecutable.run(["assets", "show", "personnel-records"], environment: environment(familyRegistry))
                #expect(hidden.status == 2, "\(hidden.output)")
                // A department's officer sees its sections' assets (family registry is in residents' affairs), no others.
                let department = try await ISMSExecutable.issueToken(role: "departmentSecurityOfficer", unit: "residents-dept")
                let departmentList = try await ISMSExecutable.run(["assets", "list", "--json"], environment: environment(department))
                let departmentSections = try #require(try JSONSerialization.jsonObject(with: Data(departmentList.output.utf8)) as? [[String: Any]])
                    .compactMap { $0["sectionCode"] as? String }
                #expect(departmentSections.contains("family-registry") && !departmentSections.contains("personnel"), "\(departmentList.output)")

                // A section's officer keeps its own assets, not another's, and cannot move one away.
                let body = #"{"name":"区民向け通知文書","sectionCode":"family-registry","classification":{"confidentiality":"3A","integrity":"2","availability":"1"}}"#
                #expect(try await put("resident-notices", body, familyRegistry).status == 200)
                #expect(try await put("resident-notices", body, personnel).status == 403)
                let moved = body.replacingOccurrences(of: #""sectionCode":"family-registry""#, with: #""sectionCode":"personnel""#)
                #expect(try await put("resident-notices", moved, familyRegistry).status == 403)
                let shown = try await ISMSExecutable.run(["assets", "show", "resident-notices"], environment: environment(officer))
                let shownAsset = try #require(try JSONSerialization.jsonObject(with: Data(shown.output.utf8)) as? [String: Any])
                #expect((shownAsset["classification"] as? [String: Any])?["confidentiality"] as? String == "3A", "\(shown.output)")

                // The officer registers a new one; problems come back per field as JSON pointers.
                let created = try await put(
                    "mn-archive-\(UUID().uuidString.prefix(8).lowercased())",
                    #"{"name":"番号書庫","sectionCode":"family-registry","classification":{"confidentiality":"3A","integrity":"2","availability":"2"},"myNumber":{"handlers":["family-registry-handler"],"area":"書庫"}}"#,
                    officer)
                #expect(created.status == 201, "\(created.body)")
                let invalid = try await put(
                    "mn-archive2",
                    #"{"name":" ","sectionCode":"nowhere","classification":{"confidentiality":"3A","integrity":"2","availability":"2"},"myNumber":{"handlers":["deputy-mayor"],"area":"書庫"}}"#,
                    officer)
                #expect(invalid.status == 422)
                for pointer in ["/name", "/sectionCode", "/myNumber/handlers"] {
                    #expect(invalid.body.contains(#""field":"\#(pointer)""#), "\(pointer) in \(invalid.body)")
                }
                #expect(try await put("-starts-with-a-dash", body, officer).status == 422)
            }
        }
    }
}
