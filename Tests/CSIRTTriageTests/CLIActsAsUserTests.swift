import Contracts
import CSIRTTriage
import Directory
import Foundation
import ISMSTesting
import Hummingbird
import HummingbirdTesting
import enum ISMSTesting.ISMSExecutable
import Postgres
import PostgresMigrations
import ServiceRuntime
import Testing

/// `isms incidents` acts as its user through csirt-triage's API (issue #14 item 7): the built
/// `isms` runs with a token and no database URL against the triage routes served live on a
/// port, over the real database. Tokens come from `isms token issue`, as an operator makes them.
@Suite(.serialized, .tags(.integration), .needsTestServers) struct CLIActsAsUserTests {
    static let section = "family-registry"
    static let otherSection = "personnel"

    /// A case store of its own, the shared directory (where `isms token issue` writes, migrated
    /// before `body` runs) holding the ward's organisation, one case in each of two sections,
    /// and the routes on a live port.
    static func withService(_ body: @escaping @Sendable (_ baseURL: String, _ cases: (own: String, other: String)) async throws -> Void) async throws {
        let schema = "triage_cli_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(10).lowercased())"
        let pool = TestServers.pool()
        let engine = TriageEngine(
            store: TriageStore(schema: schema), directory: DirectoryStore(),
            severityRules: try TriageConfigFiles.severity(), escalationPolicy: try TriageConfigFiles.escalation(),
            statutoryRules: try TriageConfigFiles.statutory())
        let logger = TestServers.logger("cli-tests")
        do {
            _ = try await pool.query("CREATE SCHEMA \(unescaped: Migrator.quoted(schema))")
            try await Migrator.apply(CSIRTTriageService.definition(engine: engine).migrationSet, on: pool, logger: logger)
            // As incident intake migrates the shared directory: owned by directory_owner, or the
            // suites that run the services as their own roles could not use it afterwards.
            try await Migrator.apply(
                engine.directory.migrations.appending(MessagingSchema.migrations(schema: engine.directory.schema)), on: pool, as: "directory_owner", logger: logger)
            let ward = try DirectoryDocument.load(path: ISMSExecutable.repositoryRoot.appendingPathComponent("deploy/config/ward.yaml").path)
            _ = try await pool.withTransaction { try DirectoryStore().replace(with: ward, on: $0) }
            let own = try await open(section: section, department: "residents-dept", engine: engine, pool: pool)
            let other = try await open(section: otherSection, department: "general-affairs-dept", engine: engine, pool: pool)

            let router = APIRoutes.router(database: pool) { routes in
                CSIRTTriageService.addRoutes(to: routes, engine: engine, database: pool, ackSecret: "test-secret", logger: logger)
            }
            try await Application(router: router, logger: logger).test(.live) { client in
                let port = try #require(client.port)
                try await body("http://127.0.0.1:\(port)", (own, other))
            }
        } catch {
            _ = try? await pool.query("DROP SCHEMA IF EXISTS \(unescaped: Migrator.quoted(schema)) CASCADE")
            await pool.close()
            throw error
        }
        _ = try? await pool.query("DROP SCHEMA IF EXISTS \(unescaped: Migrator.quoted(schema)) CASCADE")
        await pool.close()
    }

    static func open(section: String, department: String, engine: TriageEngine, pool: PostgresPool) async throws -> String {
        var event = reported(knownAt: Date().addingTimeInterval(-600))
        event.sectionCode = section
        event.departmentCode = department
        let new = NewCase(reported: event)
        return try await pool.withTransaction(emittingAs: .csirtTriage, schema: engine.store.schema, logger: TestServers.logger("triage")) { context in
            let (record, _) = try engine.open(new, causedBy: nil, context: &context)
            return record.caseNumber
        }
    }

    @Test func aTokenWithoutDatabaseURLSeesWhatItsRoleAndUnitMay() async throws {
        try await Self.withService { baseURL, cases in
            let csirt = try await ISMSExecutable.issueToken(role: "csirt")
            let staff = try await ISMSExecutable.issueToken(role: "sectionSecurityStaff", unit: Self.section)
            // CSIRT sees every case, with nothing but its token and the service's URL.
            let all = try await ISMSExecutable.run(["incidents", "list", "--json", "--limit", "500"], environment: ["ISMS_TOKEN": csirt, "ISMS_CSIRT_TRIAGE_URL": baseURL])
            #expect(all.status == 0, "\(all.output)")
            #expect(all.output.contains(cases.own) && all.output.contains(cases.other))

            // A section's token sees its own section's cases only.
            let own = try await ISMSExecutable.run(["incidents", "list", "--json", "--limit", "500"], environment: ["ISMS_TOKEN": staff, "ISMS_CSIRT_TRIAGE_URL": baseURL])
            #expect(own.status == 0, "\(own.output)")
            #expect(own.output.contains(cases.own))
            #expect(!own.output.contains(cases.other))
            let sections = try #require(try JSONSerialization.jsonObject(with: Data(own.output.utf8)) as? [[String: Any]]).compactMap { $0["sectionCode"] as? String }
            #expect(!sections.isEmpty && sections.allSatisfy { $0 == Self.section })
            let hidden = try await ISMSExecutable.run(["incidents", "show", cases.other], environment: ["ISMS_TOKEN": staff, "ISMS_CSIRT_TRIAGE_URL": baseURL])
            #expect(hidden.status == 2, "\(hidden.output)")

            // Section staff may not confirm an incident: exit 3 with the service's problem text.
            let refused = try await ISMSExecutable.run(["incidents", "qualify", cases.own, "--incident"], environment: ["ISMS_TOKEN": staff, "ISMS_CSIRT_TRIAGE_URL": baseURL])
            #expect(refused.status == 3, "\(refused.output)")
            #expect(refused.output.contains("Not allowed for this role or unit") && refused.output.contains("HTTP 403"), "\(refused.output)")
            let digestRefused = try await ISMSExecutable.run(["incidents", "digest"], environment: ["ISMS_TOKEN": staff, "ISMS_CSIRT_TRIAGE_URL": baseURL])
            #expect(digestRefused.status == 3, "\(digestRefused.output)")

            // CSIRT may, and is recorded as the token, not as a name the command line claimed.
            let confirmed = try await ISMSExecutable.run(["incidents", "qualify", cases.own, "--incident"], environment: ["ISMS_TOKEN": csirt, "ISMS_CSIRT_TRIAGE_URL": baseURL])
            #expect(confirmed.status == 0, "\(confirmed.output)")
            #expect(confirmed.output.contains("\(cases.own): triaged"))
            let shown = try await ISMSExecutable.run(["incidents", "show", cases.own], environment: ["ISMS_TOKEN": csirt, "ISMS_CSIRT_TRIAGE_URL": baseURL])
            #expect(shown.status == 0 && shown.output.contains("token:"), "\(shown.output)")

            // A token that is not one, and no token at all.
            let bogus = try await ISMSExecutable.run(["incidents", "list"], environment: ["ISMS_TOKEN": "not-a-token", "ISMS_CSIRT_TRIAGE_URL": baseURL])
            #expect(bogus.status == 3 && bogus.output.contains("unknown, revoked or expired"), "\(bogus.output)")
            let none = try await ISMSExecutable.run(["incidents", "list"], environment: ["ISMS_CSIRT_TRIAGE_URL": baseURL])
            #expect(none.status == 3 && none.output.contains("isms login"), "\(none.output)")
        }
    }

    @Test func loginSavesTheTokenForLaterCommands() async throws {
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("isms-cli-config-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: config) }
        try await Self.withService { baseURL, cases in
            let csirt = try await ISMSExecutable.issueToken(role: "csirt")
            let environment = ["XDG_CONFIG_HOME": config.path, "ISMS_CSIRT_TRIAGE_URL": baseURL]
            let saved = config.appendingPathComponent("isms/token")

            // A token the service does not know is refused and not saved.
            let wrong = try await ISMSExecutable.run(["login", "--token", "not-a-token"], environment: environment)
            #expect(wrong.status == 3, "\(wrong.output)")
            #expect(!FileManager.default.fileExists(atPath: saved.path))

            // From standard input, checked, saved readable by its owner only.
            let login = try await ISMSExecutable.run(["login"], environment: environment, stdin: csirt + "\n")
            #expect(login.status == 0, "\(login.output)")
            let attributes = try FileManager.default.attributesOfItem(atPath: saved.path)
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
            #expect(try String(contentsOf: saved, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) == csirt)

            // Later commands use it; ISMS_TOKEN overrides it.
            let list = try await ISMSExecutable.run(["incidents", "list", "--limit", "500"], environment: environment)
            #expect(list.status == 0 && list.output.contains(cases.own), "\(list.output)")
            let digest = try await ISMSExecutable.run(["incidents", "digest", "--days", "1"], environment: environment)
            #expect(digest.status == 0 && digest.output.contains("digest of"), "\(digest.output)")
            let overridden = try await ISMSExecutable.run(["incidents", "list"], environment: environment.merging(["ISMS_TOKEN": "not-a-token"]) { $1 })
            #expect(overridden.status == 3, "\(overridden.output)")

            let logout = try await ISMSExecutable.run(["logout"], environment: environment)
            #expect(logout.status == 0)
            #expect(!FileManager.default.fileExists(atPath: saved.path))
            let after = try await ISMSExecutable.run(["incidents", "list"], environment: environment)
            #expect(after.status == 3, "\(after.output)")
        }
    }
}
