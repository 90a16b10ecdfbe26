import Contracts
import Foundation
import ISMSTesting
import Notifier
import Postgres
import ServiceRuntime
import Testing

/// `isms verify`, run as the built executable against a freshly migrated database (its own,
/// so tampering with a chain cannot disturb other tests): one line per ledger, exit 0 when all
/// four chains are intact, 1 and the broken row otherwise.
@Suite(.serialized, .tags(.integration), .needsTestServers) struct ISMSVerifyCommandTests {
    /// A fresh database prepared like the stack's: init.sql, then `isms migrate`.
    static func withMigratedDatabase(_ body: (_ url: String, _ pool: PostgresPool) async throws -> Void) async throws {
        let name = TestServers.uniqueName("isms_verify")
        let admin = TestServers.pool(size: 1)
        _ = try await admin.query("CREATE DATABASE \(unescaped: name) ENCODING 'UTF8' TEMPLATE template0")
        var components = try #require(URLComponents(string: TestServers.databaseURL))
        components.path = "/" + name
        let url = try #require(components.string)
        let pool = PostgresPool(configuration: PostgresConfiguration(url: url, applicationName: "verify-tests"), size: 2, logger: TestServers.logger("verify"))
        do {
            let initSQL = try String(contentsOf: TestServers.repositoryRoot.appendingPathComponent("deploy/postgres/init.sql"), encoding: .utf8)
            try await pool.withConnection { try $0.execute(initSQL) }
            let migrated = try isms(["migrate"], databaseURL: url)
            try #require(migrated.status == 0, "isms migrate: \(migrated.output)")
            try await body(url, pool)
        } catch {
            await pool.close()
            _ = try? await admin.query("DROP DATABASE IF EXISTS \(unescaped: name) WITH (FORCE)")
            await admin.close()
            throw error
        }
        await pool.close()
        _ = try? await admin.query("DROP DATABASE IF EXISTS \(unescaped: name) WITH (FORCE)")
        await admin.close()
    }

    /// Runs the built `isms` executable with the administrator's URL.
    static func isms(_ arguments: [String], databaseURL: String) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = TestServers.repositoryRoot.appendingPathComponent(".build/debug/isms")
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["ISMS_DATABASE_URL"] = databaseURL
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }

    @Test func printsOneLinePerLedgerAndFailsOnTheFirstBrokenRow() async throws {
        try await Self.withMigratedDatabase { url, pool in
            let log = NotifierOperations.deliveryLog()
            try await pool.withTransaction { connection in
                try log.append(
                    (1...3).map { index -> [String: JSONValue] in ["notification_id": .int(index), "state": .text("queued"), "attempt": .int(0), "detail": .text("test"), "at": .timestamp(Date())] },
                    on: connection)
            }
            let intact = try Self.isms(["verify"], databaseURL: url)
            #expect(intact.status == 0, "\(intact.output)")
            let lines = intact.output.split(separator: "\n").map(String.init)
            #expect(lines.count == 4)
            #expect(lines.contains { $0.hasPrefix("case history (triage.case_history): intact, 0 rows") })
            #expect(lines.contains { $0.hasPrefix("duty ledger (audit.ledger): intact, 0 rows") })
            #expect(lines.contains { $0.hasPrefix("sub-contract decisions (contractor.subcontract_decisions): intact, 0 rows") })
            #expect(lines.contains { $0.hasPrefix("notification delivery log (notifier.delivery_log): intact, 3 rows") })

            // An administrator edits the second entry past the append-only trigger.
            try await pool.withTransaction { connection in
                try connection.execute("SET LOCAL session_replication_role = replica")
                _ = try connection.query("UPDATE notifier.delivery_log SET detail = 'nothing to see' WHERE seq = 2")
            }
            let broken = try Self.isms(["verify"], databaseURL: url)
            #expect(broken.status == 1, "\(broken.output)")
            #expect(broken.output.contains("notification delivery log (notifier.delivery_log): BROKEN at row 2: the row's content does not match its hash"))
            #expect(broken.output.contains("case history (triage.case_history): intact, 0 rows"))
        }
    }
}
