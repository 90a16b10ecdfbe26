import AMQP
import Contracts
import Directory
import Foundation
import Hummingbird
import HummingbirdTesting
import ISMSTesting
import Postgres
import PostgresMigrations
@testable import ServiceRuntime
import Synchronization
import Testing

/// Dead letters an operator works (issue #17 item 5), against the real broker and database:
/// poison messages dead-lettered by a real consumer are listed with their reasons, replayed
/// after the cause is fixed (once in effect, however often replayed), or discarded on record.
@Suite(.serialized, .tags(.integration), .needsTestServers) struct DeadLettersTests {
    /// Fails every message for good while `broken`; afterwards records each like ``RecordingHandler``.
    final class FixableHandler: MessageHandler {
        let broken = Mutex(true)

        func handle(_ message: IncomingMessage, context: inout TransactionContext) throws {
            if broken.withLock({ $0 }) { throw PermanentFailure(code: "test-broken", reason: "the handler is broken until fixed") }
            _ = try context.connection.query(
                "INSERT INTO \(unescaped: "\"\(context.schema)\"").effects (message_id) VALUES (\(message.envelope.id))")
        }
    }

    /// The code of the ``DeadLetterError`` that `body` throws; nil when it throws none.
    func refusal(_ body: () async throws -> Void) async -> DeadLetterError.Code? {
        do {
            try await body()
            return nil
        } catch {
            return (error as? DeadLetterError)?.code
        }
    }

    func deadLetters(_ queue: TestQueue, schema: String, pool: PostgresPool) throws -> DeadLetters {
        DeadLetters(
            amqp: try TestServers.amqpConfiguration(name: "dead-letter-tests"), database: pool, schema: schema, queues: [queue.name],
            logger: TestServers.logger("dead-letters"))
    }

    @Test func listedWithReasonsReplayedOnceAndDiscardedOnRecord() async throws {
        try await TestServers.withSchema(prefix: "dlq", migrations: effectsMigration) { schema, pool in
            let queue = try await TestQueue.make()
            let handler = FixableHandler()
            // The same message twice (a producer's retry, say), and another.
            let twice = testEnvelope(id: "twice")
            try await queue.publish(twice)
            try await queue.publish(twice)
            try await queue.publish(testEnvelope(id: "other"))
            let service = try consumer(queue: queue, schema: schema, pool: pool, handler: handler)
            let task = Task { try await service.run() }
            #expect(try await TestServers.eventually { try await queue.depth(queue.deadLetter) == 3 })
            let letters = try deadLetters(queue, schema: schema, pool: pool)

            // Listed with their reasons, twice over: listing moves nothing.
            for _ in 0..<2 {
                let list = try await letters.list(queue: queue.name, limit: 50)
                #expect(list.depth == 3)
                #expect(list.deadLetters.map(\.messageId) == ["twice", "twice", "other"])
                #expect(list.deadLetters.map(\.position) == [1, 2, 3])
                let first = try #require(list.deadLetters.first)
                #expect(first.errorCode == "test-broken")
                #expect(first.reasons["x-isms-error-reason"] == .string("the handler is broken until fixed"))
                #expect(first.reasons["x-isms-failed-queue"] == .string(queue.name))
                #expect(first.origin == DeadLetterHeaders.Destination(exchange: "", routingKey: queue.name))
                #expect(first.deadLetteredAt != nil)
                #expect(first.type == MessageTypes.directoryChanged.wireName)
                #expect(first.size > 0)
            }
            let head = try await letters.list(queue: queue.name, limit: 1)
            #expect(head.deadLetters.count == 1)
            #expect(head.depth == 3)
            // The broker settles returns asynchronously: the depth comes back, nothing is lost.
            #expect(try await TestServers.eventually { try await queue.depth(queue.deadLetter) == 3 })

            let shown = try await letters.show(queue: queue.name, messageID: "other")
            #expect(shown.summary.messageId == "other")
            #expect(shown.headers["x-isms-error-code"] == .string("test-broken"))
            #expect(shown.body.contains(#""n":1"#))
            #expect(try await TestServers.eventually { try await queue.depth(queue.deadLetter) == 3 })

            // Refusals: no such message, not this service's queue, no reason.
            #expect(await refusal { _ = try await letters.replay(queue: queue.name, messageID: "missing", by: "tester") } == .notFound)
            #expect(await refusal { _ = try await letters.list(queue: "incident-intake.commands", limit: 5) } == .unknownQueue)
            #expect(await refusal { _ = try await letters.discard(queue: queue.name, messageID: "other", reason: "  ", by: "tester") } == .reasonRequired)
            #expect(try await TestServers.eventually { try await queue.depth(queue.deadLetter) == 3 })

            // The cause fixed, both copies replayed: handled once (the inbox keeps it so).
            handler.broken.withLock { $0 = false }
            let replayed = try await letters.replay(queue: queue.name, messageID: "twice", by: "tester")
            #expect(replayed.destination == DeadLetterHeaders.Destination(exchange: "", routingKey: queue.name))
            _ = try await letters.replay(queue: queue.name, messageID: "twice", by: "tester")
            let settled = try await TestServers.eventually {
                let (depth, dead) = (try await queue.depth(), try await queue.depth(queue.deadLetter))
                return depth == 0 && dead == 1
            }
            #expect(settled)
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await count("effects", schema: schema, pool: pool) == 1)
            #expect(try await count("inbox", schema: schema, pool: pool) == 1)

            // Discarded: recorded first, then gone.
            let discarded = try await letters.discard(queue: queue.name, messageID: "other", reason: "test data, never valid", by: "token:ops")
            #expect(discarded.action == "discarded")
            #expect(try await queue.depth(queue.deadLetter) == 0)
            let record = try #require(
                try await pool.query("SELECT * FROM \(unescaped: Migrator.quoted(schema)).dead_letter_discards").rows.first)
            #expect(try record.decode("queue", as: String.self) == queue.name)
            #expect(try record.decode("message_id", as: String.self) == "other")
            #expect(try record.decode("message_type", as: String.self) == MessageTypes.directoryChanged.wireName)
            #expect(try record.decode("error_code", as: String.self) == "test-broken")
            #expect(try record.decode("reason", as: String.self) == "test data, never valid")
            #expect(try record.decode("discarded_by", as: String.self) == "token:ops")
            #expect(try await count("effects", schema: schema, pool: pool) == 1)
            task.cancel()
            _ = await task.result
            await queue.remove()
        }
    }

    /// A message the broker dead-lettered at the delivery limit has only `x-death` to say where
    /// it came from; a replay goes there.
    @Test func aBrokerDeadLetteredMessageIsReplayedWhereXDeathSays() async throws {
        try await TestServers.withSchema(prefix: "dlq", migrations: effectsMigration) { schema, pool in
            let queue = try await TestQueue.make(deliveryLimit: 1)
            try await queue.publish(testEnvelope(id: "poison"))
            let failing = try consumer(queue: queue, schema: schema, pool: pool, handler: RecordingHandler(failure: .transient))
            let task = Task { try await failing.run() }
            let deadLettered = try await TestServers.eventually(timeout: .seconds(20)) { try await queue.depth(queue.deadLetter) == 1 }
            task.cancel()
            _ = await task.result
            #expect(deadLettered)
            let letters = try deadLetters(queue, schema: schema, pool: pool)
            let letter = try #require(try await letters.list(queue: queue.name, limit: 10).deadLetters.first)
            #expect(letter.errorCode == "delivery_limit")
            #expect(letter.reasons["x-death"] != nil)
            #expect(letter.origin == DeadLetterHeaders.Destination(exchange: "", routingKey: queue.name))

            _ = try await letters.replay(queue: queue.name, messageID: "poison", by: "tester")
            let working = try consumer(queue: queue, schema: schema, pool: pool, handler: RecordingHandler(failure: .none))
            let again = Task { try await working.run() }
            let handled = try await TestServers.eventually { try await count("effects", schema: schema, pool: pool) == 1 }
            again.cancel()
            _ = await again.result
            #expect(handled)
            #expect(try await queue.depth(queue.deadLetter) == 0)
            await queue.remove()
        }
    }

    /// The routes: operator roles only, this service's queues only, a reason required.
    @Test func theRoutesAnswerOperatorsOnlyAndOnlyForTheirOwnQueues() async throws {
        try await TestServers.withSchema(prefix: "dlq", migrations: effectsMigration) { schema, pool in
            let queue = try await TestQueue.make()
            try await queue.publish(testEnvelope(id: "dead-1"))
            let service = try consumer(queue: queue, schema: schema, pool: pool, handler: RecordingHandler(failure: .permanent))
            let task = Task { try await service.run() }
            #expect(try await TestServers.eventually { try await queue.depth(queue.deadLetter) == 1 })
            task.cancel()
            _ = await task.result

            let directory = DirectoryStore(schema: TestServers.uniqueName("dlq_dir"))
            _ = try await pool.query("CREATE SCHEMA \(unescaped: Migrator.quoted(directory.schema))")
            try await Migrator.apply(directory.migrations, on: pool, logger: TestServers.logger("migrations"))
            let tokens = directory.tokens
            let operatorToken = try await pool.withTransaction { try tokens.issue(role: .generalSystemAdministrator, unitCode: nil, label: "ops", on: $0).token }
            let auditChief = try await pool.withTransaction { try tokens.issue(role: .auditChief, unitCode: nil, label: "audit", on: $0).token }
            let letters = try deadLetters(queue, schema: schema, pool: pool)
            let router = APIRoutes.router(database: pool, tokens: tokens) { routes in DeadLetterRoutes(deadLetters: letters).add(to: routes) }
            try await Application(router: router, logger: TestServers.logger("http")).test(.router) { client in
                func call(_ method: HTTPRequest.Method, _ uri: String, _ token: String, body: String? = nil) async throws -> (HTTPResponse.Status, String) {
                    try await client.execute(
                        uri: uri, method: method, headers: [.authorization: "Bearer \(token)", .contentType: "application/json"],
                        body: body.map { ByteBuffer(string: $0) }
                    ) { ($0.status, String(buffer: $0.body)) }
                }
                let list = try await call(.get, "/v1/dead-letters?queue=\(queue.name)", operatorToken)
                #expect(list.0 == .ok, "\(list.1)")
                #expect(list.1.contains(#""messageId":"dead-1""#))
                #expect(try await call(.get, "/v1/dead-letters?queue=\(queue.name)", auditChief).0 == .forbidden)
                #expect(try await call(.post, "/v1/dead-letters/dead-1/replay?queue=\(queue.name)", auditChief).0 == .forbidden)
                #expect(try await call(.post, "/v1/dead-letters/dead-1/discard?queue=\(queue.name)", auditChief, body: #"{"reason":"x"}"#).0 == .forbidden)
                // Another service's queue is not this one's to serve.
                #expect(try await call(.get, "/v1/dead-letters?queue=incident-intake.commands", operatorToken).0 == .notFound)
                #expect(try await call(.get, "/v1/dead-letters/dead-1?queue=incident-intake.commands", operatorToken).0 == .notFound)
                #expect(try await call(.get, "/v1/dead-letters", operatorToken).0 == .badRequest)
                #expect(try await call(.get, "/v1/dead-letters/nothing?queue=\(queue.name)", operatorToken).0 == .notFound)
                let shown = try await call(.get, "/v1/dead-letters/dead-1?queue=\(queue.name)", operatorToken)
                #expect(shown.0 == .ok)
                #expect(shown.1.contains(#""x-isms-error-code":"test-permanent""#))
                #expect(try await call(.post, "/v1/dead-letters/dead-1/discard?queue=\(queue.name)", operatorToken, body: "{}").0 == .unprocessableContent)
                let discarded = try await call(.post, "/v1/dead-letters/dead-1/discard?queue=\(queue.name)", operatorToken, body: #"{"reason":"a test"}"#)
                #expect(discarded.0 == .ok, "\(discarded.1)")
                #expect(discarded.1.contains(#""by":"token:ops""#))
            }
            #expect(try await queue.depth(queue.deadLetter) == 0)
            #expect(try await count("dead_letter_discards", schema: schema, pool: pool) == 1)
            _ = try? await pool.query("DROP SCHEMA IF EXISTS \(unescaped: Migrator.quoted(directory.schema)) CASCADE")
            await queue.remove()
        }
    }
}
