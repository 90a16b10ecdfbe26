import AMQP
import Contracts
import Foundation
import ISMSTesting
import Postgres
@testable import ServiceRuntime
import Testing

@Suite(.serialized, .tags(.integration), .needsTestServers) struct OutboxRelayTests {
    private func relay(schema: String, pool: PostgresPool) throws -> OutboxRelay {
        OutboxRelay(
            options: .init(schemas: [schema], batchSize: 100, pollInterval: .milliseconds(100)),
            amqp: try TestServers.amqpConfiguration(name: "relay-tests"),
            database: pool,
            listenerConfiguration: TestServers.databaseConfiguration(),
            readiness: Readiness(),
            logger: TestServers.logger("relay")
        )
    }

    @Test func publishesWhatACommittedTransactionWroteAndNothingOfARolledBackOne() async throws {
        try await TestServers.withSchema(prefix: "rt", migrations: MessagingSchema.migrations) { schema, pool in
            let queue = try await TestQueue.make()
            let committed = try testEnvelope(id: "committed").amqpMessage(appID: "tests", route: MessageRoute(exchange: "", routingKey: queue.name))
            let rolledBack = try testEnvelope(id: "rolled-back").amqpMessage(appID: "tests", route: MessageRoute(exchange: "", routingKey: queue.name))
            try await pool.withTransaction { connection in
                try Outbox.enqueue([OutboxMessage(committed)], schema: schema, on: connection)
            }
            struct Abort: Error {}
            await #expect(throws: Abort.self) {
                try await pool.withTransaction { connection in
                    try Outbox.enqueue([OutboxMessage(rolledBack)], schema: schema, on: connection)
                    throw Abort()
                }
            }
            let published = try await relay(schema: schema, pool: pool).relayBatch(schema: schema, on: queue.connection)
            #expect(published == 1)
            let delivered = try #require(try await queue.connection.get(queue: queue.name))
            #expect(delivered.properties.messageID == "committed")
            #expect(try await queue.connection.get(queue: queue.name) == nil)
            let pending = try await pool.query("SELECT count(*) AS n FROM \(unescaped: "\"\(schema)\"").outbox WHERE published_at IS NULL").rows.first?.decode("n", as: Int.self)
            #expect(pending == 0)
            await queue.remove()
        }
    }

    @Test func aRefusedMessageStaysInTheOutboxWithItsError() async throws {
        try await TestServers.withSchema(prefix: "rt", migrations: MessagingSchema.migrations) { schema, pool in
            let queue = try await TestQueue.make()
            // Mandatory to an exchange route nobody is bound to: the broker returns it.
            let unroutable = try testEnvelope(id: "unroutable").amqpMessage(appID: "tests", route: MessageRoute(exchange: "amq.direct", routingKey: TestServers.uniqueName("nobody")), mandatory: true)
            try await pool.withTransaction { connection in
                try Outbox.enqueue([OutboxMessage(unroutable)], schema: schema, on: connection)
            }
            let published = try await relay(schema: schema, pool: pool).relayBatch(schema: schema, on: queue.connection)
            #expect(published == 0)
            let row = try #require(try await pool.query("SELECT published_at, last_error, attempts FROM \(unescaped: "\"\(schema)\"").outbox").rows.first)
            #expect(try row.decode("published_at", as: Date?.self) == nil)
            #expect(try row.decode("last_error", as: String?.self)?.isEmpty == false)
            #expect(try row.decode("attempts", as: Int.self) == 1)
            await queue.remove()
        }
    }

    @Test func theRunningRelayIsWokenByTheCommit() async throws {
        try await TestServers.withSchema(prefix: "rt", migrations: MessagingSchema.migrations) { schema, pool in
            let queue = try await TestQueue.make()
            // A long poll interval: only LISTEN/NOTIFY can deliver within the test's deadline.
            let relay = OutboxRelay(
                options: .init(schemas: [schema], batchSize: 100, pollInterval: .seconds(60)),
                amqp: try TestServers.amqpConfiguration(name: "relay-tests"),
                database: pool,
                listenerConfiguration: TestServers.databaseConfiguration(),
                readiness: Readiness(),
                logger: TestServers.logger("relay")
            )
            let task = Task { try await relay.run() }
            try await Task.sleep(for: .seconds(2))
            let message = try testEnvelope(id: "woken").amqpMessage(appID: "tests", route: MessageRoute(exchange: "", routingKey: queue.name))
            try await pool.withTransaction { connection in
                try Outbox.enqueue([OutboxMessage(message)], schema: schema, on: connection)
            }
            let arrived = try await TestServers.eventually(timeout: .seconds(10)) { try await queue.depth() == 1 }
            task.cancel()
            _ = await task.result
            #expect(arrived)
            await queue.remove()
        }
    }
}
