import Contracts
import Foundation
import ISMSTesting
import Postgres
import PostgresMigrations
@testable import ServiceRuntime
import Testing

/// The shared hash-chained ledger against the real PostgreSQL of the test stack.
@Suite(.serialized, .tags(.integration), .needsTestServers) struct HashChainLedgerTests {
    /// A table of every column kind, append-only like the services' ledgers.
    static func migrations(_ schema: String) -> [Migration] {
        let s = Migrator.quoted(schema)
        return [
            Migration(
                version: 10, name: "entries",
                sql: """
                    CREATE TABLE \(s).entries (
                        seq bigint PRIMARY KEY,
                        subject uuid,
                        note text,
                        amount integer,
                        flag boolean,
                        at timestamptz NOT NULL,
                        body jsonb,
                        prev_hash text NOT NULL,
                        hash text NOT NULL,
                        hash_version smallint NOT NULL
                    );
                    CREATE FUNCTION \(s).entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN
                        RAISE EXCEPTION 'entries is append-only';
                    END
                    $$;
                    CREATE TRIGGER entries_append_only BEFORE UPDATE OR DELETE ON \(s).entries
                        FOR EACH ROW EXECUTE FUNCTION \(s).entries_append_only();
                    """)
        ]
    }

    static func ledger(_ schema: String) -> HashChainLedger {
        HashChainLedger(
            name: "test entries", schema: schema, table: "entries",
            columns: [
                .init("subject", .uuid), .init("note", .text), .init("amount", .integer), .init("flag", .boolean), .init("at", .timestamp),
                .init("body", .json),
            ])
    }

    struct Body: Encodable {
        var zulu: String
        var alpha: [Double]
        var at: Date
    }

    static func row(_ index: Int, note: String? = nil) throws -> [String: JSONValue] {
        // jsonb reorders members and drops the layout: the canonical form must not care.
        let body = try JSONValue.document(Body(zulu: "z\(index)", alpha: [0.5, Double(index)], at: Date(timeIntervalSince1970: 1_775_000_000)))
        return [
            "subject": .uuid(UUID()), "note": .text(note ?? "entry \(index) — 日本語 \"quoted\""), "amount": .int(index), "flag": .bool(index % 2 == 0),
            "at": .timestamp(Date(timeIntervalSince1970: 1_775_000_000.123 + Double(index))),
            "body": body,
        ]
    }

    @Test func appendsManyRowsInOneCallAndVerifiesThem() async throws {
        try await TestServers.withSchema(prefix: "chain", migrations: Self.migrations) { schema, pool in
            let ledger = Self.ledger(schema)
            let rows = try (1...250).map { try Self.row($0) }
            let links = try await pool.withTransaction { try ledger.append(rows, on: $0) }
            #expect(links.map(\.seq) == Array(1...250))
            #expect(links[0].prevHash == HashChainLedger.genesisHash)
            #expect(zip(links.dropFirst(), links).allSatisfy { $0.prevHash == $1.hash })
            // A second call continues the chain.
            let next = try await pool.withTransaction { try ledger.append(try Self.row(251), on: $0) }
            #expect(next.seq == 251 && next.prevHash == links.last?.hash)
            // A null column is hashed as null and reads back as null.
            _ = try await pool.withTransaction { try ledger.append(["at": .timestamp(Date())], on: $0) }

            let result = try await pool.withConnection { try ledger.verify(on: $0, pageSize: 100) }
            #expect(result.isIntact)
            #expect(result.rowsChecked == 252)
            let head: String = try await pool.query("SELECT hash FROM \(unescaped: ledger.qualifiedTable) WHERE seq = 252").rows[0].decode("hash")
            #expect(result.headHash == head)
            #expect(result.ledger == "test entries")

            // A column the table does not hash, or a value the database would read back in
            // another form (an upper-case UUID, a time with microseconds or an offset), is
            // refused before anything is written.
            for wrong: [String: JSONValue] in [
                ["unknown": .null], ["at": .timestamp(Date()), "subject": .string("6F9619FF-8B86-D011-B42D-00C04FC964FF")],
                ["at": .string("2026-04-01T09:30:00.000001Z")], ["at": .string("2026-04-01T18:30:00.000+09:00")], ["at": .timestamp(Date()), "amount": .number(1.5)],
            ] {
                await #expect(throws: HashChainLedger.AppendError.self) {
                    try await pool.withTransaction { try ledger.append(wrong, on: $0) }
                }
            }
            #expect(try await pool.withConnection { try ledger.verify(on: $0) }.rowsChecked == 252)
        }
    }

    @Test func concurrentAppendsFromTwoConnectionsKeepOneChain() async throws {
        try await TestServers.withSchema(prefix: "chain", migrations: Self.migrations) { schema, pool in
            let ledger = Self.ledger(schema)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for writer in 0..<2 {
                    group.addTask {
                        for batch in 0..<20 {
                            let rows = try (0..<5).map { try Self.row(writer * 1000 + batch * 10 + $0) }
                            _ = try await pool.withTransaction { try ledger.append(rows, on: $0) }
                        }
                    }
                }
                try await group.waitForAll()
            }
            let result = try await pool.withConnection { try ledger.verify(on: $0) }
            #expect(result.isIntact)
            #expect(result.rowsChecked == 200)
            let distinct: Int = try await pool.query("SELECT count(DISTINCT prev_hash)::int AS n FROM \(unescaped: ledger.qualifiedTable)").rows[0].decode("n")
            #expect(distinct == 200, "no two rows chain to the same predecessor: the chain never forked")
        }
    }

    @Test func verificationNamesExactlyTheRowAnAdministratorChanged() async throws {
        try await TestServers.withSchema(prefix: "chain", migrations: Self.migrations) { schema, pool in
            let ledger = Self.ledger(schema)
            let links = try await pool.withTransaction { try ledger.append(try (1...12).map { try Self.row($0) }, on: $0) }
            let table = ledger.qualifiedTable
            // The trigger refuses changes.
            await #expect(throws: PostgresError.self) {
                try await pool.query("UPDATE \(unescaped: table) SET note = 'edited' WHERE seq = 7")
            }
            // A superuser bypasses the trigger (replica mode skips ordinary triggers) and edits row 7.
            try await pool.withTransaction { connection in
                try connection.execute("SET LOCAL session_replication_role = replica")
                _ = try connection.query("UPDATE \(unescaped: table) SET amount = 700 WHERE seq = 7")
            }
            let edited = try await pool.withConnection { try ledger.verify(on: $0) }
            #expect(edited.isIntact == false)
            #expect(edited.brokenRow?.seq == 7)
            #expect(edited.brokenRow?.problem.contains("edited") == true)
            #expect(edited.brokenRow?.storedHash == links[6].hash)
            #expect(edited.brokenRow?.expectedHash != links[6].hash)
            #expect(edited.rowsChecked == 6)
            #expect(edited.headHash == links[5].hash)

            // Put it back: intact again. Then a changed time, even by a millisecond, is named.
            try await pool.withTransaction { connection in
                try connection.execute("SET LOCAL session_replication_role = replica")
                _ = try connection.query("UPDATE \(unescaped: table) SET amount = 7 WHERE seq = 7")
            }
            #expect(try await pool.withConnection { try ledger.verify(on: $0) }.isIntact)
            try await pool.withTransaction { connection in
                try connection.execute("SET LOCAL session_replication_role = replica")
                _ = try connection.query("UPDATE \(unescaped: table) SET at = at + interval '1 millisecond' WHERE seq = 9")
            }
            #expect(try await pool.withConnection { try ledger.verify(on: $0) }.brokenRow?.seq == 9)

            // A row removed is named as missing at the row after it.
            try await pool.withTransaction { connection in
                try connection.execute("SET LOCAL session_replication_role = replica")
                _ = try connection.query("UPDATE \(unescaped: table) SET at = at - interval '1 millisecond' WHERE seq = 9")
                _ = try connection.query("DELETE FROM \(unescaped: table) WHERE seq = 4")
            }
            let deleted = try await pool.withConnection { try ledger.verify(on: $0) }
            #expect(deleted.brokenRow?.seq == 5)
            #expect(deleted.brokenRow?.problem.contains("missing") == true)
        }
    }

    /// One subject's rows (a case's history) are checked alone: an edit of one of them, or of
    /// the row just before one of them, is named; an edit elsewhere is the whole chain's to find.
    @Test func theRowsOfOneSubjectAreVerifiedWithoutWalkingTheChain() async throws {
        try await TestServers.withSchema(prefix: "chain", migrations: Self.migrations) { schema, pool in
            let ledger = Self.ledger(schema)
            let subject = UUID()
            // Rows 3, 6 and 7 are the subject's.
            let rows = try (1...8).map { index in
                var row = try Self.row(index)
                if [3, 6, 7].contains(index) { row["subject"] = .uuid(subject) }
                return row
            }
            let links = try await pool.withTransaction { try ledger.append(rows, on: $0) }
            let table = ledger.qualifiedTable
            func check() async throws -> HashChainLedger.BrokenRow? {
                try await pool.withConnection { try ledger.verifyRows(where: "subject", equals: subject, on: $0) }
            }
            func edit(_ sql: String) async throws {
                try await pool.withTransaction { connection in
                    try connection.execute("SET LOCAL session_replication_role = replica")
                    try connection.execute(sql)
                }
            }
            #expect(try await check() == nil)
            try await edit("UPDATE \(table) SET amount = 100 WHERE seq = 1")
            #expect(try await check() == nil, "row 1 is not the subject's nor just before one of its rows")
            try await edit("UPDATE \(table) SET note = 'edited' WHERE seq = 6")
            #expect(try await check()?.seq == 6)
            try await edit("UPDATE \(table) SET note = 'entry 6 — 日本語 \"quoted\"' WHERE seq = 6")
            #expect(try await check() == nil)
            // The row before the subject's first was replaced by one with another hash.
            try await edit("UPDATE \(table) SET hash = repeat('0', 64) WHERE seq = 2")
            #expect(try await check()?.seq == 3)
            #expect(try await check()?.problem.contains("prev_hash") == true)
            try await edit("UPDATE \(table) SET hash = '\(links[1].hash)' WHERE seq = 2")
            #expect(try await check() == nil)
            // The row before one of the subject's was removed.
            try await edit("DELETE FROM \(table) WHERE seq = 5")
            #expect(try await check()?.seq == 6)
            #expect(try await check()?.problem.contains("missing") == true)
        }
    }
}
