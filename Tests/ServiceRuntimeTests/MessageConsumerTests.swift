import AMQP
import Contracts
import Foundation
import ISMSTesting
import Postgres
import Synchronization
@testable import ServiceRuntime
import Testing

/// The consumer against the real broker and database (brief §5).
@Suite(.serialized, .tags(.integration), .needsTestServers) struct MessageConsumerTests {
    @Test func oneMessageDeliveredTwiceHasOneEffect() async throws {
        try await TestServers.withSchema(prefix: "rt", migrations: effectsMigration) { schema, pool in
            let queue = try await TestQueue.make()
            let envelope = testEnvelope()
            try await queue.publish(envelope)
            try await queue.publish(envelope)
            let service = try consumer(queue: queue, schema: schema, pool: pool, handler: RecordingHandler(failure: .none))
            let task = Task { try await service.run() }
            let drained = try await TestServers.eventually {
                let depth = try await queue.depth()
                let inbox = try await count("inbox", schema: schema, pool: pool)
                return depth == 0 && inbox == 1
            }
            task.cancel()
            _ = await task.result
            #expect(drained)
            #expect(try await count("effects", schema: schema, pool: pool) == 1)
            #expect(try await queue.depth(queue.deadLetter) == 0)
            await queue.remove()
        }
    }

    @Test func permanentFailureIsDeadLetteredAtOnceWithItsReason() async throws {
        try await TestServers.withSchema(prefix: "rt", migrations: effectsMigration) { schema, pool in
            let queue = try await TestQueue.make()
            try await queue.publish(testEnvelope())
            let service = try consumer(queue: queue, schema: schema, pool: pool, handler: RecordingHandler(failure: .permanent))
            let task = Task { try await service.run() }
            let deadLettered = try await TestServers.eventually { try await queue.depth(queue.deadLetter) == 1 }
            task.cancel()
            _ = await task.result
            #expect(deadLettered)
            let dead = try #require(try await queue.connection.get(queue: queue.deadLetter))
            #expect(dead.properties.headers["x-isms-error-code"]?.stringValue == "test-permanent")
            #expect(dead.properties.headers["x-isms-error-reason"]?.stringValue == "this message can never succeed")
            #expect(dead.properties.headers["x-isms-failed-queue"]?.stringValue == queue.name)
            // Dead-lettered at once: the first delivery was the only one.
            #expect(dead.properties.headers["x-delivery-count"] == nil || dead.deliveryCount == 0)
            #expect(try await queue.depth() == 0)
            #expect(try await count("effects", schema: schema, pool: pool) == 0)
            await queue.remove()
        }
    }

    @Test func poisonMessageIsDeadLetteredByTheBrokerAfterTheDeliveryLimit() async throws {
        try await TestServers.withSchema(prefix: "rt", migrations: effectsMigration) { schema, pool in
            let queue = try await TestQueue.make(deliveryLimit: 2)
            let poison = testEnvelope()
            try await queue.publish(poison)
            let service = try consumer(queue: queue, schema: schema, pool: pool, handler: RecordingHandler(failure: .transient))
            let task = Task { try await service.run() }
            let deadLettered = try await TestServers.eventually(timeout: .seconds(20)) { try await queue.depth(queue.deadLetter) == 1 }
            task.cancel()
            _ = await task.result
            #expect(deadLettered)
            let dead = try #require(try await queue.connection.get(queue: queue.deadLetter))
            #expect(dead.properties.messageID == poison.id)
            // RabbitMQ's own dead-lettering says why in x-death.
            guard case .array(let deaths)? = dead.properties.headers["x-death"], case .table(let death)? = deaths.first else {
                Issue.record("no x-death header on \(dead.properties.headers)")
                await queue.remove()
                return
            }
            #expect(death["reason"]?.stringValue == "delivery_limit")
            #expect(try await count("effects", schema: schema, pool: pool) == 0)
            await queue.remove()
        }
    }

    @Test func aBadMessageDoesNotRollBackItsNeighbours() async throws {
        try await TestServers.withSchema(prefix: "rt", migrations: effectsMigration) { schema, pool in
            let queue = try await TestQueue.make()
            try await queue.publish(testEnvelope(id: "good-1"))
            try await queue.publish(testEnvelope(id: "bad", data: #"{"poison":true}"#))
            try await queue.publish(testEnvelope(id: "good-2"))
            let service = try consumer(queue: queue, schema: schema, pool: pool, handler: SelectiveHandler())
            let task = Task { try await service.run() }
            let settled = try await TestServers.eventually {
                let depth = try await queue.depth()
                let dead = try await queue.depth(queue.deadLetter)
                return depth == 0 && dead == 1
            }
            task.cancel()
            _ = await task.result
            #expect(settled)
            let handled = try await pool.query("SELECT message_id FROM \(unescaped: "\"\(schema)\"").effects ORDER BY message_id").rows.map { try $0.decode("message_id", as: String.self) }
            #expect(handled == ["good-1", "good-2"])
            await queue.remove()
        }
    }

    /// The batch path: duplicates inside and across batches run once, a permanent failure is
    /// dead-lettered without an inbox row, and a batch whose handler throws is handled again
    /// message by message without losing its good messages.
    @Test func aBatchHandlerAppliesWholeBatchesAndFallsBackMessageByMessage() async throws {
        try await TestServers.withSchema(prefix: "rt", migrations: effectsMigration) { schema, pool in
            let queue = try await TestQueue.make()
            let twice = testEnvelope(id: "twice")
            try await queue.publish(twice)
            try await queue.publish(twice)
            try await queue.publish(testEnvelope(id: "refused", data: #"{"refuse":true}"#))
            for n in 0..<5 { try await queue.publish(testEnvelope(id: "good-\(n)")) }
            // This one makes the whole batch throw: its batch is redone one by one.
            try await queue.publish(testEnvelope(id: "breaks-batch", data: #"{"break":true}"#))
            let handler = BatchingHandler()
            let service = try consumer(queue: queue, schema: schema, pool: pool, handler: handler, batchSize: 50)
            let task = Task { try await service.run() }
            let settled = try await TestServers.eventually {
                let depth = try await queue.depth()
                let dead = try await queue.depth(queue.deadLetter)
                let effects = try await count("effects", schema: schema, pool: pool)
                return depth == 0 && dead == 1 && effects == 7
            }
            task.cancel()
            _ = await task.result
            #expect(settled)
            #expect(handler.largestBatch.withLock { $0 } > 1, "the consumer handed over whole batches")
            let handled = try await pool.query("SELECT message_id FROM \(unescaped: "\"\(schema)\"").effects ORDER BY message_id").rows.map { try $0.decode("message_id", as: String.self) }
            #expect(handled == ["breaks-batch", "good-0", "good-1", "good-2", "good-3", "good-4", "twice"])
            let inbox = try await pool.query("SELECT message_key FROM \(unescaped: "\"\(schema)\"").inbox").rows.map { try $0.decode("message_key", as: String.self) }
            #expect(inbox.count == 7)
            #expect(!inbox.contains { $0.contains("refused") })
            let dead = try #require(try await queue.connection.get(queue: queue.deadLetter))
            #expect(dead.properties.messageID == "refused")
            #expect(dead.properties.headers["x-isms-error-code"]?.stringValue == "refused")
            await queue.remove()
        }
    }

    /// Inserts one effect per message in one statement; refuses the message that asks for it;
    /// throws for the whole batch when one message says "break" (handled alone, it succeeds).
    final class BatchingHandler: BatchMessageHandler {
        let largestBatch = Mutex(0)

        func handle(_ message: IncomingMessage, context: inout TransactionContext) throws {
            if let failure = try handleBatch([message], context: &context)[0] { throw failure }
        }

        func handleBatch(_ messages: [IncomingMessage], context: inout TransactionContext) throws -> [PermanentFailure?] {
            func says(_ word: String, _ message: IncomingMessage) -> Bool { String(decoding: message.envelope.data ?? [], as: UTF8.self).contains(word) }
            largestBatch.withLock { $0 = max($0, messages.count) }
            if messages.count > 1, messages.contains(where: { says("break", $0) }) { throw RecordingHandler.TestFailure() }
            let applied = messages.filter { !says("refuse", $0) }.map(\.envelope.id)
            _ = try context.connection.query(
                "INSERT INTO \(unescaped: "\"\(context.schema)\"").effects (message_id) SELECT unnest(\(applied)::text[])")
            return messages.map { says("refuse", $0) ? PermanentFailure(code: "refused", reason: "refused") : nil }
        }
    }

    /// Fails permanently for the message whose data says it is poison.
    struct SelectiveHandler: MessageHandler {
        func handle(_ message: IncomingMessage, context: inout TransactionContext) throws {
            _ = try context.connection.query("INSERT INTO \(unescaped: "\"\(context.schema)\"").effects (message_id) VALUES (\(message.envelope.id))")
            if String(decoding: message.envelope.data ?? [], as: UTF8.self).contains("poison") {
                // The insert above must be rolled back with this message's savepoint.
                throw PermanentFailure(code: "poison", reason: "poison")
            }
        }
    }
}
