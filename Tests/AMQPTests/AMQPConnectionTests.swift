import AMQP
import ClientSupport
import Foundation
import ISMSTesting
import Testing

/// Integration tests against a real RabbitMQ (`ISMS_TEST_AMQP_URL`).
@Suite(.tags(.integration), .needsTestServers) struct AMQPConnectionTests {
    typealias Broker = AMQPTestBroker

    @Test func fieldTablesAndPropertiesRoundTrip() async throws {
        try await Broker.withConnection { connection in
            let queue = Broker.uniqueName("tables")
            try await connection.declare(Broker.quorumQueue(queue))
            try await connection.enableConfirms()
            let headers: AMQPTable = [
                "cloudEvents:type": "jp.example.isms.incident.reported.v1",
                "int8": .int8(-8),
                "int16": .int16(-1600),
                "int32": .int32(320_000),
                "int64": .int64(-6_400_000_000),
                "flag": true,
                "off": false,
                "ratio": .double(0.25),
                "single": .float(1.5),
                "when": .timestamp(Date(timeIntervalSince1970: 1_700_000_000)),
                "raw": .bytes([0, 1, 2, 255]),
                "nothing": .void,
                "x-death": .array([
                    .table([
                        "count": .int64(2), "reason": "rejected", "queue": "work",
                        "routing-keys": .array(["a.b", "c"]), "time": .timestamp(Date(timeIntervalSince1970: 1_700_000_100)),
                    ]),
                ]),
                "nested": .table(["level": .table(["deep": .array([.int32(1), "two", .table([:]), .array([])])])]),
                "emptyText": "",
                "unicode": "情報セキュリティ",
            ]
            let properties = AMQPProperties(
                contentType: "application/cloudevents+json", contentEncoding: "identity", headers: headers,
                deliveryMode: .persistent, priority: 3, correlationID: "corr-1", replyTo: "reply.queue",
                expiration: "600000", messageID: "msg-1", timestamp: Date(timeIntervalSince1970: 1_700_000_200),
                type: "jp.example.isms.incident.reported.v1", userID: try AMQPTestBroker.configuration().user, appID: "amqp-tests"
            )
            let body = Array("{\"hello\":\"world\"}".utf8)
            try await connection.publish(AMQPOutgoingMessage(exchange: "", routingKey: queue, body: body, properties: properties))

            let delivery = try #require(try await Broker.get(queue, from: connection))
            #expect(delivery.body == body)
            #expect(delivery.routingKey == queue)
            #expect(delivery.exchange == "")
            #expect(!delivery.redelivered)
            // Quorum queues add their delivery count; everything else comes back as sent.
            var receivedProperties = delivery.properties
            #expect(receivedProperties.headers.removeValue(forKey: "x-delivery-count") == .int64(0))
            #expect(receivedProperties == properties)
            #expect(delivery.properties.headers["x-death"] == headers["x-death"])
            try await connection.ack(delivery.deliveryTag)
            #expect(try await connection.get(queue: queue) == nil)
            try await connection.deleteQueue(queue)
        }
    }

    @Test func confirmedPublishConsumeAckOnQuorumQueue() async throws {
        try await Broker.withConnection { connection in
            let queue = Broker.uniqueName("roundtrip")
            let state = try await connection.declare(Broker.quorumQueue(queue))
            #expect(state.name == queue)
            #expect(state.messageCount == 0)
            try await connection.enableConfirms()
            // Consume first, so deliveries arrive while publish waits for confirms and must be buffered.
            let tag = try await connection.consume(queue: queue, prefetch: 50, consumerTag: "roundtrip-consumer")
            #expect(tag == "roundtrip-consumer")
            let messages = (0..<20).map { index in
                AMQPOutgoingMessage(exchange: "", routingKey: queue, body: Array("message \(index)".utf8), properties: AMQPProperties(messageID: "m\(index)"))
            }
            for message in messages.prefix(5) { try await connection.publish(message) }
            let outcomes = try await connection.publish(Array(messages.dropFirst(5)))
            #expect(outcomes.count == 15)
            #expect(outcomes.allSatisfy { $0 == nil })

            let received = try await Broker.receive(20, from: connection)
            #expect(received.map(\.body) == messages.map(\.body))
            #expect(received.allSatisfy { $0.consumerTag == "roundtrip-consumer" && $0.deliveryCount == 0 })
            for delivery in received { try await connection.ack(delivery.deliveryTag) }
            try await connection.cancel(consumerTag: tag)

            // Settled: nothing is left, ready or unacknowledged.
            try await connection.serviceHeartbeats()
            let after = try #require(try await connection.queueState(queue))
            #expect(after.messageCount == 0)
            #expect(after.consumerCount == 0)
            #expect(try await connection.get(queue: queue) == nil)
            try await connection.deleteQueue(queue)
        }
    }

    @Test func mandatoryPublishToUnroutableKeyIsReturned() async throws {
        try await Broker.withConnection { connection in
            let queue = Broker.uniqueName("routable")
            try await connection.declare(Broker.quorumQueue(queue))
            try await connection.enableConfirms()
            let unroutable = AMQPOutgoingMessage(exchange: "amq.direct", routingKey: Broker.uniqueName("nowhere"), body: Array("lost".utf8))
            let error = await #expect(throws: AMQPError.self) {
                try await connection.publish(unroutable)
            }
            #expect(error?.code == .publishReturned)
            #expect(error?.replyCode == 312)
            #expect(error?.isRetriable == false)

            // In a confirm window only the unroutable message fails.
            let routable = AMQPOutgoingMessage(exchange: "", routingKey: queue, body: Array("kept".utf8))
            let outcomes = try await connection.publish([routable, unroutable, routable])
            #expect(outcomes[0] == nil)
            #expect(outcomes[1]?.code == .publishReturned)
            #expect(outcomes[2] == nil)
            #expect(try await connection.queueState(queue)?.messageCount == 2)
            #expect(await connection.isOpen)
            try await connection.deleteQueue(queue)
        }
    }

    @Test func thousandMessagesThroughTheConfirmWindow() async throws {
        try await Broker.withConnection { connection in
            let queue = Broker.uniqueName("window")
            try await connection.declare(Broker.quorumQueue(queue))
            try await connection.enableConfirms()
            let messages = (0..<1000).map { index in
                AMQPOutgoingMessage(exchange: "", routingKey: queue, body: Array(repeating: UInt8(index % 256), count: 512))
            }
            let outcomes = try await connection.publish(messages)
            #expect(outcomes.count == 1000)
            #expect(outcomes.compactMap { $0 }.isEmpty)
            #expect(try await connection.queueState(queue)?.messageCount == 1000)
            try await connection.deleteQueue(queue)
        }
    }

    @Test func nackWithoutRequeueDeadLettersWithXDeath() async throws {
        try await Broker.withConnection { connection in
            let deadLetterExchange = Broker.uniqueName("dlx")
            let deadLetterQueue = Broker.uniqueName("dlq")
            let workQueue = Broker.uniqueName("work")
            try await connection.declare(AMQPExchange(name: deadLetterExchange, kind: .direct, durable: false, autoDelete: true))
            try await connection.declare(Broker.quorumQueue(deadLetterQueue))
            try await connection.bind(AMQPBinding(queue: deadLetterQueue, exchange: deadLetterExchange, routingKey: deadLetterQueue))
            try await connection.declare(
                Broker.quorumQueue(
                    workQueue,
                    arguments: [
                        "x-dead-letter-exchange": .string(deadLetterExchange),
                        "x-dead-letter-routing-key": .string(deadLetterQueue),
                        "x-delivery-limit": .int64(5),
                    ]
                )
            )
            try await connection.enableConfirms()
            try await connection.publish(AMQPOutgoingMessage(exchange: "", routingKey: workQueue, body: Array("poison".utf8)))

            _ = try await connection.consume(queue: workQueue, prefetch: 1)
            let delivery = try #require(try await Broker.receive(1, from: connection).first)
            try await connection.nack(delivery.deliveryTag, requeue: false)

            let dead = try #require(try await Broker.get(deadLetterQueue, from: connection))
            #expect(dead.body == Array("poison".utf8))
            guard case .array(let deaths) = dead.properties.headers["x-death"], case .table(let death) = deaths.first else {
                Issue.record("no x-death header: \(dead.properties.headers)")
                return
            }
            #expect(death["queue"] == .string(workQueue))
            #expect(death["reason"] == .string("rejected"))
            #expect(death["count"]?.intValue == 1)
            #expect(death["exchange"] == .string(""))
            try await connection.ack(dead.deliveryTag)
            try await connection.deleteQueue(workQueue)
            try await connection.deleteQueue(deadLetterQueue)
        }
    }

    @Test func idleConnectionWithServicedHeartbeatsStaysOpen() async throws {
        try await Broker.withConnection(heartbeat: .seconds(2)) { connection in
            let start = ContinuousClock.now
            while ContinuousClock.now - start < .seconds(7) {
                try await Task.sleep(for: .milliseconds(500))
                try await connection.serviceHeartbeats()
            }
            #expect(await connection.isOpen)
            #expect(try await connection.queueState(Broker.uniqueName("absent")) == nil)
            #expect(await connection.isOpen)
        }
    }

    @Test func idleConnectionWithoutHeartbeatsIsClosedAndSaysSo() async throws {
        let connection = try await Broker.connect(heartbeat: .seconds(1))
        // No library call for well over two heartbeat intervals: the broker gives up on us.
        try await Task.sleep(for: .seconds(5))
        let error = await #expect(throws: AMQPError.self) {
            _ = try await connection.declare(Broker.quorumQueue(Broker.uniqueName("late")))
        }
        #expect(error?.isRetriable == true)
        #expect(await connection.isOpen == false)
        let later = await #expect(throws: AMQPError.self) {
            try await connection.serviceHeartbeats()
        }
        #expect(later?.code == .connectionClosed)
        #expect(later?.isRetriable == true)
        await connection.close()
    }

    @Test func channelErrorsLeaveTheConnectionUsable() async throws {
        try await Broker.withConnection { connection in
            try await connection.enableConfirms()
            // 404 on a passive declare: nil, channel reopened.
            #expect(try await connection.queueState(Broker.uniqueName("missing")) == nil)
            #expect(await connection.isOpen)

            let queue = Broker.uniqueName("after404")
            try await connection.declare(Broker.quorumQueue(queue))
            // 406: same name, different arguments.
            let mismatch = await #expect(throws: AMQPError.self) {
                try await connection.declare(AMQPQueue(name: queue, arguments: ["x-queue-type": "classic"]))
            }
            #expect(mismatch?.code == .channelClosed)
            #expect(mismatch?.replyCode == 406)
            #expect(mismatch?.isRetriable == false)

            // 404 from publishing to a missing exchange fails that publish only.
            let missingExchange = await #expect(throws: AMQPError.self) {
                try await connection.publish(AMQPOutgoingMessage(exchange: Broker.uniqueName("noexchange"), routingKey: "k", body: [1]))
            }
            #expect(missingExchange?.code == .channelClosed)
            #expect(missingExchange?.replyCode == 404)

            // Confirms are back on after every reopen: this publish is confirmed, not lost.
            try await connection.publish(AMQPOutgoingMessage(exchange: "", routingKey: queue, body: Array("still here".utf8)))
            let delivery = try #require(try await Broker.get(queue, from: connection))
            #expect(delivery.body == Array("still here".utf8))
            try await connection.ack(delivery.deliveryTag)
            #expect(await connection.isOpen)
            try await connection.deleteQueue(queue)
        }
    }

    @Test func consumersLostWithTheChannelAreReported() async throws {
        try await Broker.withConnection { connection in
            let queue = Broker.uniqueName("lost")
            try await connection.declare(Broker.quorumQueue(queue))
            try await connection.enableConfirms()
            try await connection.publish(AMQPOutgoingMessage(exchange: "", routingKey: queue, body: [1]))
            _ = try await connection.consume(queue: queue, prefetch: 10)
            let first = try #require(try await Broker.receive(1, from: connection).first)

            #expect(try await connection.queueState(Broker.uniqueName("missing")) == nil)
            let loss = await #expect(throws: AMQPError.self) {
                _ = try await connection.nextDeliveries(max: 10, timeout: .seconds(1))
            }
            #expect(loss?.code == .channelClosed)
            // The old tag belongs to the closed channel: refused, not applied to another message.
            let stale = await #expect(throws: AMQPError.self) {
                try await connection.ack(first.deliveryTag)
            }
            #expect(stale?.code == .channelClosed)

            // Consuming again gets the message back, redelivered.
            _ = try await connection.consume(queue: queue, prefetch: 10)
            let again = try #require(try await Broker.receive(1, from: connection).first)
            #expect(again.body == [1])
            #expect(again.redelivered)
            #expect(again.deliveryTag != first.deliveryTag)
            try await connection.ack(again.deliveryTag)
            try await connection.deleteQueue(queue)
        }
    }

    @Test func deletedQueueCancelsItsConsumer() async throws {
        try await Broker.withConnection { connection in
            let queue = Broker.uniqueName("cancelled")
            try await connection.declare(Broker.quorumQueue(queue))
            _ = try await connection.consume(queue: queue, prefetch: 10)
            try await connection.deleteQueue(queue)
            let error = await #expect(throws: AMQPError.self) {
                _ = try await connection.nextDeliveries(max: 1, timeout: .seconds(2))
            }
            #expect(error?.code == .consumerCancelled)
            #expect(await connection.isOpen)
        }
    }

    @Test func refusedLoginIsNotRetriable() async throws {
        var configuration = try Broker.configuration()
        configuration.password = "wrong-\(UUID().uuidString)"
        let error = await #expect(throws: AMQPError.self) {
            _ = try await AMQPConnection.connect(configuration, logger: Broker.logger, backoff: Backoff(initial: .milliseconds(10)), maxAttempts: 5)
        }
        #expect(error?.code == .authenticationFailed)
        #expect(error?.replyCode == 403)
        #expect(error?.isRetriable == false)

        var missingVirtualHost = try Broker.configuration()
        missingVirtualHost.vhost = Broker.uniqueName("vhost")
        let vhostError = await #expect(throws: AMQPError.self) {
            _ = try await AMQPConnection.connect(missingVirtualHost, logger: Broker.logger)
        }
        #expect(vhostError?.code == .authenticationFailed)
        #expect(vhostError?.replyCode == 530)
    }

    @Test func unreachableBrokerIsRetriedThenFails() async throws {
        var configuration = try Broker.configuration()
        configuration.host = "127.0.0.1"
        configuration.port = 1
        let start = ContinuousClock.now
        let error = await #expect(throws: AMQPError.self) {
            _ = try await AMQPConnection.connect(
                configuration, logger: Broker.logger, backoff: Backoff(initial: .milliseconds(20), maximum: .milliseconds(50)), maxAttempts: 3
            )
        }
        #expect(error?.code == .connectionFailed)
        #expect(error?.isRetriable == true)
        #expect(ContinuousClock.now - start < .seconds(5))
    }

    @Test func connectionErrorClosesTheConnection() async throws {
        let connection = try await Broker.connect()
        let queue = Broker.uniqueName("hard-error")
        try await connection.declare(AMQPQueue(name: queue, durable: false, exclusive: true, autoDelete: true))
        _ = try await connection.consume(queue: queue, prefetch: 1, consumerTag: "twice")
        // Reusing a consumer tag is a connection-level error (530 NOT_ALLOWED).
        let error = await #expect(throws: AMQPError.self) {
            _ = try await connection.consume(queue: queue, prefetch: 1, consumerTag: "twice")
        }
        #expect(error?.code == .connectionClosed)
        #expect(error?.replyCode == 530)
        #expect(error?.isRetriable == true)
        #expect(await connection.isOpen == false)
        let later = await #expect(throws: AMQPError.self) {
            _ = try await connection.nextDeliveries(max: 1, timeout: .milliseconds(10))
        }
        #expect(later?.code == .connectionClosed)
        #expect(later?.isRetriable == true)
        await connection.close()
    }

    @Test func closeIsIdempotentAndLaterCallsThrowConnectionClosed() async throws {
        let connection = try await Broker.connect()
        #expect(await connection.isOpen)
        await connection.close()
        await connection.close()
        #expect(await connection.isOpen == false)
        let error = await #expect(throws: AMQPError.self) {
            try await connection.publish(AMQPOutgoingMessage(exchange: "", routingKey: "x", body: []))
        }
        #expect(error?.code == .connectionClosed)
        #expect(error?.isRetriable == true)
    }
}
