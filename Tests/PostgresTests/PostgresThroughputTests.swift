import ClientSupport
import Foundation
import ISMSTesting
import Postgres
import Testing

/// Commit throughput on this machine; run with `ISMS_POSTGRES_BENCHMARK=1` (skipped otherwise).
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["ISMS_POSTGRES_BENCHMARK"] != nil), .tags(.integration), .needsTestServers)
struct PostgresThroughputTests {
    static let duration: Duration = .seconds(5)

    @Test func singleRowTransactionsAndBatches() async throws {
        try await TestDatabase.withSchema(size: 2) { pool, schema in
            try await pool.withConnection { connection in
                try connection.execute("CREATE TABLE \(schema).bench (id bigserial PRIMARY KEY, payload text NOT NULL, at timestamptz NOT NULL DEFAULT now())")
            }
            let payload = String(repeating: "x", count: 200)

            for clients in [1, 2] {
                let count = try await Self.run(clients: clients) {
                    try await pool.withTransaction { connection in
                        try connection.query("INSERT INTO \(unescaped: schema).bench (payload) VALUES (\(payload))")
                    }
                    return 1
                }
                print("postgres throughput: single-row INSERT transactions, \(clients) client(s): \(Int(count / Self.duration.seconds)) tx/s")
            }

            var batch: PostgresQuery = "INSERT INTO \(unescaped: schema).bench (payload) VALUES "
            for index in 0..<100 {
                batch.append(unescaped: index == 0 ? "(" : ", (")
                batch.append(bind: payload)
                batch.append(unescaped: ")")
            }
            let rows = try await Self.run(clients: 1) { [batch] in
                try await pool.withTransaction { connection in try connection.query(batch).affectedRows }
            }
            print("postgres throughput: one 100-row INSERT per transaction, 1 client: \(Int(rows / Self.duration.seconds)) rows/s")
            #expect(rows > 0)
        }
    }

    private static func run(clients: Int, _ operation: @escaping @Sendable () async throws -> Int) async throws -> Double {
        let deadline = ContinuousClock.now + duration
        return try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<clients {
                group.addTask {
                    var done = 0
                    while ContinuousClock.now < deadline { done += try await operation() }
                    return done
                }
            }
            return Double(try await group.reduce(0, +))
        }
    }
}
