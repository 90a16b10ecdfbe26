import Contracts
import Foundation
import ISMSTesting
import Postgres
import ServiceRuntime
import Synchronization
import Testing

@Suite(.serialized, .tags(.integration), .needsTestServers) struct TimerRunnerTests {
    /// Records the transaction each timer fired in.
    final class Fired: Sendable {
        let transactions = Mutex<[String: [Int64]]>([:])
    }

    struct RecordingHandler: TimerHandler {
        let kind: String
        let firesAlone: Bool
        let fired: Fired

        func fire(_ timer: DurableTimer, context: inout TransactionContext) throws {
            let transaction = try context.connection.query("SELECT txid_current() AS t").rows.first?.decode("t", as: Int64.self) ?? 0
            fired.transactions.withLock { $0[kind, default: []].append(transaction) }
        }
    }

    @Test func timersOfAKindThatFiresAloneGetATransactionEachAndTheRestShareOne() async throws {
        try await TestServers.withSchema(prefix: "rt", migrations: MessagingSchema.migrations) { schema, pool in
            let fired = Fired()
            let runner = TimerRunner(
                schema: schema, service: .notifier,
                handlers: [RecordingHandler(kind: "shared", firesAlone: false, fired: fired), RecordingHandler(kind: "alone", firesAlone: true, fired: fired)],
                database: pool, pollInterval: .seconds(1), logger: TestServers.logger("timers"))
            let due = Date().addingTimeInterval(-1)
            try await pool.withTransaction { connection in
                for kind in ["shared", "alone"] {
                    try DurableTimers.schedule(kind: kind, keys: ["1", "2", "3"], at: [due, due, due], on: connection, schema: schema)
                }
            }
            #expect(try await runner.fireDue() == 6)
            let transactions = fired.transactions.withLock { $0 }
            #expect(transactions["shared"]?.count == 3 && Set(transactions["shared"] ?? []).count == 1)
            #expect(transactions["alone"]?.count == 3 && Set(transactions["alone"] ?? []).count == 3)
            #expect(Set(transactions["alone"] ?? []).isDisjoint(with: transactions["shared"] ?? []))
            #expect(try await runner.fireDue() == 0)
        }
    }
}
