import AMQP
import Contracts
import Foundation
import ISMSTesting
import Logging
import Postgres
import PostgresMigrations
@testable import ServiceRuntime

/// A quorum work queue with its own dead-letter queue, like the production topology, under
/// unique names; deleted afterwards.
struct TestQueue {
    let name: String
    let deadLetter: String
    let connection: AMQPConnection

    static func make(deliveryLimit: Int = 5) async throws -> TestQueue {
        let name = TestServers.uniqueName("rt")
        let connection = try await AMQPConnection.connect(TestServers.amqpConfiguration(name: "runtime-tests"), logger: TestServers.logger("amqp"))
        try await connection.declare(AMQPExchange(name: BusLayout.deadLetterExchange, kind: .direct))
        try await connection.declare(
            AMQPQueue(name: name, arguments: [
                "x-queue-type": "quorum",
                "x-delivery-limit": .int64(Int64(deliveryLimit)),
                "x-dead-letter-exchange": .string(BusLayout.deadLetterExchange),
                "x-dead-letter-routing-key": .string(name),
                "x-dead-letter-strategy": "at-least-once",
                "x-overflow": "reject-publish",
            ])
        )
        try await connection.declare(AMQPQueue(name: name + ".dlq", arguments: ["x-queue-type": "quorum"]))
        try await connection.bind(AMQPBinding(queue: name + ".dlq", exchange: BusLayout.deadLetterExchange, routingKey: name))
        try await connection.enableConfirms()
        return TestQueue(name: name, deadLetter: name + ".dlq", connection: connection)
    }

    func publish(_ envelope: RawEnvelope) async throws {
        try await connection.publish(envelope.amqpMessage(appID: "tests", route: MessageRoute(exchange: "", routingKey: name)))
    }

    func depth(_ queue: String? = nil) async throws -> UInt32 {
        try await connection.queueState(queue ?? name)?.messageCount ?? 0
    }

    func remove() async {
        try? await connection.deleteQueue(name)
        try? await connection.deleteQueue(deadLetter)
        await connection.close()
    }
}

/// An envelope of a registered type with arbitrary JSON data.
func testEnvelope(id: String = UUID().uuidString.lowercased(), data: String = #"{"n":1}"#) -> RawEnvelope {
    RawEnvelope(
        id: id,
        source: "urn:isms:test",
        type: MessageTypes.directoryChanged.wireName,
        time: Date(),
        dataClassification: .internal,
        data: Array(data.utf8)
    )
}

/// Records each handled message in `<schema>.effects`; throws for the ones it is told to.
struct RecordingHandler: MessageHandler {
    enum Failure: Sendable { case none, transient, permanent }
    let failure: Failure

    func handle(_ message: IncomingMessage, context: inout TransactionContext) throws {
        switch failure {
        case .none: break
        case .transient: throw TestFailure()
        case .permanent: throw PermanentFailure(code: "test-permanent", reason: "this message can never succeed")
        }
        _ = try context.connection.query(
            "INSERT INTO \(unescaped: "\"\(context.schema)\"").effects (message_id) VALUES (\(message.envelope.id))"
        )
    }

    struct TestFailure: Error {}
}

func effectsMigration(schema: String) -> [Migration] {
    MessagingSchema.migrations(schema: schema) + [
        Migration(version: 10, name: "effects", sql: "CREATE TABLE \"\(schema)\".effects (id bigserial PRIMARY KEY, message_id text NOT NULL)"),
    ]
}

func consumer(queue: TestQueue, schema: String, pool: PostgresPool, handler: any MessageHandler, batchSize: Int = 10) throws -> MessageConsumer {
    MessageConsumer(
        options: .init(queue: queue.name, consumerName: "runtime-tests", schema: schema, service: .isms, prefetch: 50, batchSize: batchSize),
        amqp: try TestServers.amqpConfiguration(name: "runtime-tests-consumer"),
        database: pool,
        handler: handler,
        readiness: Readiness(),
        logger: TestServers.logger("consumer")
    )
}

func count(_ table: String, schema: String, pool: PostgresPool) async throws -> Int {
    try await pool.query("SELECT count(*) AS n FROM \(unescaped: "\"\(schema)\"").\(unescaped: table)").rows.first?.decode("n", as: Int.self) ?? -1
}
