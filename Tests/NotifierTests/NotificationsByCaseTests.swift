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

/// `GET /v1/notifications?caseNumber=`: what a case page of the web console shows, against a
/// ledger of its own in the real database.
@Suite(.serialized, .tags(.integration), .needsTestServers) struct NotificationsByCaseTests {
    @Test func theLedgerFiltersByTheEventsCaseForTheIncidentHandlers() async throws {
        let schema = TestServers.uniqueName("ntf_case")
        let directorySchema = TestServers.uniqueName("ntf_dir")
        let pool = TestServers.pool()
        let logger = TestServers.logger("notifier-by-case")
        let directory = DirectoryStore(schema: directorySchema)
        func drop() async {
            for name in [schema, directorySchema] { _ = try? await pool.query("DROP SCHEMA IF EXISTS \(unescaped: Migrator.quoted(name)) CASCADE") }
        }
        do {
            for name in [schema, directorySchema] { _ = try await pool.query("CREATE SCHEMA \(unescaped: Migrator.quoted(name))") }
            try await Migrator.apply(
                MigrationSet(schema: schema, migrations: MessagingSchema.migrations(schema: schema) + NotifierMigrations.all(schema: schema)),
                on: pool, logger: logger)
            try await Migrator.apply(directory.migrations, on: pool, logger: logger)
            // Three events: two of case A (one before the case number was known: intake's), one of case B.
            let now = Date()
            let events: [(key: String, caseNumber: String?, intakeID: String?)] = [
                ("e-a1", "INC-2026-000001", "i-a"), ("e-a0", nil, "i-a"), ("e-b1", "INC-2026-000002", "i-b"),
            ]
            let s = Migrator.quoted(schema)
            _ = try await pool.withTransaction { connection in
                for event in events {
                    _ = try connection.query(
                        """
                        INSERT INTO \(unescaped: s).events (event_key, event_source, event_id, event_type, event_time, classification, case_number, intake_id,
                            attributes, context)
                        VALUES (\(event.key), 'test', \(event.key), 'incident.escalated.v1', \(now), 'internal', \(event.caseNumber), \(event.intakeID), '{}', '{}')
                        """)
                    _ = try connection.query(
                        """
                        INSERT INTO \(unescaped: s).notifications (event_key, route, recipient, recipient_name, reason, channel_kind, channel_address,
                            language, state, template, subject, body, created_at, updated_at)
                        VALUES (\(event.key), 'test', 'person:p-csirt', 'p-csirt', 'test', 'email', 'csirt@ward.example', 'ja', 'sent', 't', 's', 'b', \(now), \(now))
                        """)
                }
                return true
            }
            let tokens = directory.tokens
            let csirt = try await pool.withTransaction { try tokens.issue(role: .csirt, unitCode: nil, label: "csirt", on: $0).token }
            let ciso = try await pool.withTransaction { try tokens.issue(role: .ciso, unitCode: nil, label: "ciso", on: $0).token }
            let auditChief = try await pool.withTransaction { try tokens.issue(role: .auditChief, unitCode: nil, label: "audit", on: $0).token }
            let router = APIRoutes.router(database: pool, tokens: tokens) { routes in
                NotifierRoutes(operations: NotifierOperations(schema: schema), database: pool, directory: directory, logger: logger).add(to: routes)
            }
            try await Application(router: router, logger: logger).test(.router) { client in
                func eventKeys(_ query: String, _ token: String) async throws -> [String] {
                    try await client.execute(uri: "/v1/notifications?\(query)", method: .get, headers: [.authorization: "Bearer \(token)"]) { response in
                        #expect(response.status == .ok, "\(String(buffer: response.body))")
                        let object = try #require(try JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8)) as? [String: Any])
                        let rows = try #require(object["notifications"] as? [[String: Any]])
                        return rows.compactMap { $0["eventKey"] as? String }.sorted()
                    }
                }
                #expect(try await eventKeys("", csirt) == ["e-a0", "e-a1", "e-b1"])
                #expect(try await eventKeys("caseNumber=INC-2026-000001", csirt) == ["e-a1"])
                #expect(try await eventKeys("caseNumber=INC-2026-000002", ciso) == ["e-b1"])
                #expect(try await eventKeys("caseNumber=INC-2026-000009", csirt) == [])
                #expect(try await eventKeys("caseNumber=INC-2026-000001&state=failed", csirt) == [])
                // Not an incident handler nor an operator: refused, with or without the case.
                for query in ["", "caseNumber=INC-2026-000001"] {
                    try await client.execute(uri: "/v1/notifications?\(query)", method: .get, headers: [.authorization: "Bearer \(auditChief)"]) { response in
                        #expect(response.status == .forbidden)
                    }
                }
                try await client.execute(uri: "/v1/notifications?caseNumber=a&caseNumber=b", method: .get, headers: [.authorization: "Bearer \(csirt)"]) { response in
                    #expect(response.status == .badRequest)
                }
            }
        } catch {
            await drop()
            await pool.close()
            throw error
        }
        await drop()
        await pool.close()
    }
}
