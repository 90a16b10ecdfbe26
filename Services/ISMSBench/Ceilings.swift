import AMQP
import Foundation
import Logging
import Postgres

/// What this machine can do at all with the project's own client libraries: the ceilings every
/// hop is compared with.
struct Ceilings {
    var setup: BenchSetup
    var logger: Logger

    struct BrokerResult: Codable, Sendable {
        var messages: Int
        var publishPerSecond: Double
        var consumePerSecond: Double
    }

    /// Publishes `count` persistent 1 KB messages with confirms in windows of 100 to a quorum
    /// queue, then consumes them with prefetch 100, acknowledging each batch with `multiple`.
    func broker(count: Int) async throws -> BrokerResult {
        let queue = "bench.ceiling"
        let publisher = try await AMQPConnection.connect(AMQPConfiguration(url: setup.amqpURL, connectionName: "isms-bench/ceiling-publish"), logger: logger)
        try? await publisher.deleteQueue(queue)
        _ = try await publisher.declare(AMQPQueue(name: queue, arguments: ["x-queue-type": "quorum"]))
        try await publisher.enableConfirms()
        let body = [UInt8](repeating: UInt8(ascii: "x"), count: 1024)
        let window = (0..<100).map { _ in
            AMQPOutgoingMessage(exchange: "", routingKey: queue, body: body, properties: AMQPProperties(contentType: "application/octet-stream", deliveryMode: .persistent), mandatory: true)
        }
        let start = ContinuousClock.now
        var sent = 0
        while sent < count {
            let outcomes = try await publisher.publish(window)
            if let failure = outcomes.compactMap({ $0 }).first { throw failure }
            sent += window.count
        }
        let publishSeconds = Clock.elapsed(since: start)
        await publisher.close()

        let consumer = try await AMQPConnection.connect(AMQPConfiguration(url: setup.amqpURL, connectionName: "isms-bench/ceiling-consume"), logger: logger)
        _ = try await consumer.consume(queue: queue, prefetch: 100)
        let consumeStart = ContinuousClock.now
        var received = 0
        while received < sent {
            let deliveries = try await consumer.nextDeliveries(max: 100, timeout: .seconds(5))
            guard let last = deliveries.last else { throw BenchError("broker ceiling: the queue stopped delivering after \(received)") }
            try await consumer.ack(last.deliveryTag, multiple: true)
            received += deliveries.count
        }
        let consumeSeconds = Clock.elapsed(since: consumeStart)
        try? await consumer.deleteQueue(queue)
        await consumer.close()
        return BrokerResult(messages: sent, publishPerSecond: Double(sent) / publishSeconds, consumePerSecond: Double(received) / consumeSeconds)
    }

    struct DatabaseResult: Codable, Sendable {
        var singleRowOneClient: Double
        var singleRowTwoClients: Double
        var hundredRowsPerTransaction: Double
        var secondsPerTest: Double
    }

    /// Single-row INSERT transactions (synchronous commit, as configured) with 1 and 2 clients,
    /// and 100-row INSERTs per transaction, each for `seconds`.
    func database(seconds: Double) async throws -> DatabaseResult {
        let pool = PostgresPool(configuration: PostgresConfiguration(url: setup.databaseURL, applicationName: "isms-bench/ceiling"), size: 2, logger: logger)
        defer { Task { await pool.close() } }
        try await pool.withConnection { connection in
            try connection.execute(
                """
                DROP TABLE IF EXISTS public.bench_ceiling;
                CREATE TABLE public.bench_ceiling (id bigserial PRIMARY KEY, key uuid NOT NULL, body text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
                """
            )
        }
        let body = String(repeating: "x", count: 512)

        @Sendable func singleRows(_ connection: PostgresConnection) throws -> Int {
            let start = ContinuousClock.now
            var count = 0
            while Clock.elapsed(since: start) < seconds {
                _ = try connection.query("INSERT INTO public.bench_ceiling (key, body) VALUES (\(UUID()), \(body))")
                count += 1
            }
            return count
        }
        var start = ContinuousClock.now
        let one = try await pool.withConnection(singleRows)
        let oneRate = Double(one) / Clock.elapsed(since: start)

        start = ContinuousClock.now
        async let a = pool.withConnection(singleRows)
        async let b = pool.withConnection(singleRows)
        let two = try await a + b
        let twoRate = Double(two) / Clock.elapsed(since: start)

        start = ContinuousClock.now
        let rows = try await pool.withConnection { connection in
            let start = ContinuousClock.now
            var rows = 0
            while Clock.elapsed(since: start) < seconds {
                var query = PostgresQuery(unsafeSQL: "INSERT INTO public.bench_ceiling (key, body) VALUES ")
                for index in 0..<100 {
                    if index > 0 { query.append(unescaped: ", ") }
                    query.append(unescaped: "(")
                    query.append(bind: UUID())
                    query.append(unescaped: ", ")
                    query.append(bind: body)
                    query.append(unescaped: ")")
                }
                _ = try connection.query(query)
                rows += 100
            }
            return rows
        }
        let batchRate = Double(rows) / Clock.elapsed(since: start)
        try await pool.withConnection { try $0.execute("DROP TABLE public.bench_ceiling") }
        return DatabaseResult(singleRowOneClient: oneRate, singleRowTwoClients: twoRate, hundredRowsPerTransaction: batchRate, secondsPerTest: seconds)
    }
}
