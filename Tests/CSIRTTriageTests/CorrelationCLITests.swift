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

/// `isms incidents merge | split | show --reports` (issue #16): the built `isms` with a token
/// and no database URL against the triage routes served live, over the real database, with the
/// shipped correlation rules.
@Suite(.serialized, .tags(.integration), .needsTestServers) struct CorrelationCLITests {
    /// A case store of its own with the ward's directory, a case of two reports of one campaign
    /// (the second joined by `producer-key`), a case of its own, and the routes on a live port.
    static func withService(
        _ body: @escaping @Sendable (_ baseURL: String, _ storm: String, _ joined: String, _ single: String) async throws -> Void
    ) async throws {
        let schema = "triage_corr_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(10).lowercased())"
        let pool = TestServers.pool()
        let engine = TriageEngine(
            store: TriageStore(schema: schema), directory: DirectoryStore(),
            severityRules: try TriageConfigFiles.severity(), escalationPolicy: try TriageConfigFiles.escalation(),
            statutoryRules: try TriageConfigFiles.statutory(), correlationRules: try TriageConfigFiles.correlation())
        let logger = TestServers.logger("cli-tests")
        func drop() async {
            _ = try? await pool.query("DROP SCHEMA IF EXISTS \(unescaped: Migrator.quoted(schema)) CASCADE")
            await pool.close()
        }
        do {
            _ = try await pool.query("CREATE SCHEMA \(unescaped: Migrator.quoted(schema))")
            try await Migrator.apply(CSIRTTriageService.definition(engine: engine).migrationSet, on: pool, logger: logger)
            try await Migrator.apply(
                engine.directory.migrations.appending(MessagingSchema.migrations(schema: engine.directory.schema)), on: pool, as: "directory_owner", logger: logger)
            let ward = try DirectoryDocument.load(path: ISMSExecutable.repositoryRoot.appendingPathComponent("deploy/config/ward.yaml").path)
            _ = try await pool.withTransaction { try DirectoryStore().replace(with: ward, on: $0) }
            func receive(_ key: String?, minutes: Double) async throws -> (reception: CaseReception, source: String) {
                var new = CorrelationRoutesTests.report(key: key, minutes: minutes)
                new.sectionCode = CLIActsAsUserTests.section
                new.departmentCode = "residents-dept"
                new.correlation?.sectionCode = CLIActsAsUserTests.section
                new.correlation?.departmentCode = "residents-dept"
                let ready = new
                let reception = try await pool.withTransaction(emittingAs: .csirtTriage, schema: schema, logger: TestServers.logger("triage")) { context in
                    try engine.receive(ready, causedBy: nil, context: &context)
                }
                return (reception, ready.source.id)
            }
            let first = try await receive("cli-campaign", minutes: 20)
            let second = try await receive("cli-campaign", minutes: 10)
            let single = try await receive(nil, minutes: 5)
            guard case .attached = second.reception, case .opened = single.reception else {
                throw SetupFailure(text: "the campaign's second report did not join its case, or the third did: \(second), \(single)")
            }
            let router = APIRoutes.router(database: pool) { routes in
                CSIRTTriageService.addRoutes(to: routes, engine: engine, database: pool, ackSecret: "test-secret", logger: logger)
            }
            try await Application(router: router, logger: logger).test(.live) { client in
                let port = try #require(client.port)
                try await body("http://127.0.0.1:\(port)", first.reception.record.caseNumber, second.source, single.reception.record.caseNumber)
            }
        } catch {
            await drop()
            throw error
        }
        await drop()
    }

    struct SetupFailure: Error { var text: String }

    @Test func csirtMergesAndSplitsFromTheCommandLine() async throws {
        try await Self.withService { baseURL, storm, joined, single in
            let csirt = try await ISMSExecutable.issueToken(role: "csirt")
            let staff = try await ISMSExecutable.issueToken(role: "sectionSecurityStaff", unit: CLIActsAsUserTests.section)
            func isms(_ arguments: [String], _ token: String) async throws -> (status: Int32, output: String) {
                try await ISMSExecutable.run(["incidents"] + arguments, environment: ["ISMS_TOKEN": token, "ISMS_CSIRT_TRIAGE_URL": baseURL])
            }
            // The count and the reports, with the rule that joined each.
            let shown = try await isms(["show", storm, "--reports", "10"], csirt)
            #expect(shown.status == 0, "\(shown.output)")
            #expect(shown.output.contains("\(storm): 2 reports"), "\(shown.output)")
            #expect(shown.output.contains(joined) && shown.output.contains("producer-key") && shown.output.contains("opened"), "\(shown.output)")
            let firstOnly = try await isms(["show", storm, "--reports", "1"], csirt)
            #expect(firstOnly.status == 0 && !firstOnly.output.contains(joined) && firstOnly.output.contains("(the first 1 of 2)"), "\(firstOnly.output)")
            let listed = try await isms(["list"], csirt)
            #expect(listed.output.contains("REPORTS"), "\(listed.output)")

            // Section staff may not split: exit 3 with triage's words.
            let refused = try await isms(["split", storm, "--report", joined, "--reason", "another system"], staff)
            #expect(refused.status == 3 && refused.output.contains("HTTP 403"), "\(refused.output)")
            // CSIRT splits the joined report out into a new case.
            let split = try await isms(["split", storm, "--report", joined, "--reason", "another system"], csirt)
            #expect(split.status == 0, "\(split.output)")
            let newCase = try #require(split.output.firstMatch(of: /into (INC-\d{4}-\d{6})/).map { String($0.output.1) }, "\(split.output)")
            #expect(newCase != storm && newCase != single)
            let again = try await isms(["split", storm, "--report", joined, "--reason", "once more"], csirt)
            #expect(again.status == 2 && again.output.contains("HTTP 404"), "the report left the case: \(again.output)")

            // And merges it back: the survivor holds both reports again.
            let itself = try await isms(["merge", newCase, "--into", newCase, "--reason", "same"], csirt)
            #expect(itself.status == 2, "\(itself.output)")
            let merged = try await isms(["merge", newCase, "--into", storm, "--reason", "one campaign after all"], csirt)
            #expect(merged.status == 0 && merged.output.contains("merged into \(storm), which holds 2 reports"), "\(merged.output)")
            let twice = try await isms(["merge", newCase, "--into", single, "--reason", "again"], csirt)
            #expect(twice.status == 2 && twice.output.contains("HTTP 409"), "\(twice.output)")
            let mergedShown = try await isms(["show", newCase, "--reports", "5"], csirt)
            #expect(mergedShown.status == 0 && mergedShown.output.contains("merged into \(storm)"), "\(mergedShown.output)")
            let missing = try await isms(["merge", single, "--into"], csirt)
            #expect(missing.status != 0, "\(missing.output)")
        }
    }
}
