import AMQP
import Contracts
import Foundation
import ServiceRuntime
import Testing

@Suite struct AMQPMappingTests {
    /// What the broker hands a consumer for a published message.
    private func deliver(_ message: AMQPOutgoingMessage) -> AMQPDelivery {
        AMQPDelivery(
            deliveryTag: 1,
            redelivered: false,
            exchange: message.exchange,
            routingKey: message.routingKey,
            consumerTag: "ctag",
            properties: message.properties,
            body: message.body
        )
    }

    @Test func aCommandMirrorsItsEnvelopeInPropertiesAndHeaders() throws {
        let envelope = Samples.submitEnvelope
        let message = try envelope.amqpMessage(appID: "isms", replyTo: "amq.rabbitmq.reply-to")
        #expect(message.exchange == "isms.commands")
        #expect(message.routingKey == "incident-report.submit.v1")
        #expect(message.mandatory)
        let properties = message.properties
        #expect(properties.messageID == envelope.id)
        #expect(properties.type == "jp.ward.isms.incident-report.submit.v1")
        #expect(properties.appID == "isms")
        #expect(properties.timestamp == envelope.time)
        #expect(properties.correlationID == envelope.id)
        #expect(properties.replyTo == "amq.rabbitmq.reply-to")
        #expect(properties.contentType == "application/cloudevents+json")
        #expect(properties.deliveryMode == .persistent)
        #expect(
            properties.headers == [
                "cloudEvents:type": "jp.ward.isms.incident-report.submit.v1",
                "cloudEvents:source": "urn:isms:producer:koseki-jumin",
                "cloudEvents:subject": "3f1c9a2e-5b7d-4c1e-9f0a-6d2b8e4c7a15",
                "cloudEvents:dataclassification": "confidential",
                "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            ]
        )
        #expect(message.body == (try envelope.jsonBytes()))
    }

    @Test(arguments: MessageTypes.all)
    func everyMessageSurvivesPublishAndDelivery(_ type: MessageType) throws {
        let raw = try #require(try Samples.all().first { $0.type == type }).envelope
        let route = type.route ?? .reply(to: "amq.gen-reply-queue")
        let message = try raw.amqpMessage(appID: "incident-intake", replyTo: "reply-here", route: route)
        #expect(message.exchange == route.exchange)
        #expect(message.routingKey == route.routingKey)

        let received = try RawEnvelope(delivery: deliver(message))
        var expected = raw
        expected.replyTo = "reply-here"
        expected.appID = "incident-intake"
        #expect(received == expected)
        #expect(received.deduplicationKey == raw.deduplicationKey)

        // Re-publishing what was received gives the same properties and body.
        let again = try received.amqpMessage(appID: "incident-intake", replyTo: "reply-here", route: route)
        #expect(again == message)
    }

    @Test func typedEnvelopesSurviveTheRoundTrip() throws {
        let message = try Samples.reportedEnvelope.amqpMessage(appID: ServiceName.incidentIntake.rawValue)
        #expect(message.exchange == "isms.events")
        #expect(message.routingKey == "incident.reported.v1")
        #expect(message.properties.headers["cloudEvents:dataclassification"] == "restricted")
        let decoded = try RawEnvelope(delivery: deliver(message)).decode(as: IncidentReported.self)
        #expect(decoded == Samples.reportedEnvelope)
    }

    @Test func aReplyGoesToReplyToWithTheCommandsCorrelation() throws {
        let command = try RawEnvelope(delivery: deliver(try Samples.submitEnvelope.amqpMessage(appID: "isms", replyTo: "amq.rabbitmq.reply-to")))
        #expect(command.replyTo == "amq.rabbitmq.reply-to")
        #expect(command.appID == "isms")
        let reply = Envelope(source: ServiceName.incidentIntake.source, causedBy: command.causation, data: Samples.accepted)
        let route = try #require(command.replyTo.map(MessageRoute.reply(to:)))
        let message = try reply.amqpMessage(appID: ServiceName.incidentIntake.rawValue, route: route)
        #expect(message.exchange == "")
        #expect(message.routingKey == "amq.rabbitmq.reply-to")
        #expect(!message.mandatory)
        #expect(message.properties.correlationID == Samples.submitEnvelope.id)
        #expect(message.properties.headers["traceparent"]?.stringValue?.hasPrefix("00-4bf92f3577b34da6a3ce929d0e0e4736-") == true)

        // A reply cannot be routed without its queue.
        #expect(throws: ContractError.self) { try reply.amqpMessage(appID: "incident-intake") }
    }

    @Test func aForeignProducerMayCarryCorrelationAndTraceOnlyInAMQP() throws {
        var raw = try Samples.submitEnvelope.raw()
        raw.correlationID = nil
        raw.traceParent = nil
        var properties = AMQPProperties(contentType: "application/cloudevents+json; charset=utf-8", correlationID: "corr-42")
        properties.headers["traceparent"] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        let delivery = AMQPDelivery(
            deliveryTag: 9, redelivered: true, exchange: "isms.commands", routingKey: "incident-report.submit.v1",
            consumerTag: "c", properties: properties, body: try raw.jsonBytes()
        )
        let received = try RawEnvelope(delivery: delivery)
        #expect(received.correlationID == "corr-42")
        #expect(received.traceParent?.traceID == "0af7651916cd43dd8448eb211c80319c")
    }

    @Test func aMessageWithoutTraceGetsOneInBodyAndHeader() throws {
        var raw = try Samples.directoryChangedEnvelope.raw()
        raw.traceParent = nil
        let message = try raw.amqpMessage(appID: "isms")
        let header = try #require(message.properties.headers["traceparent"]?.stringValue)
        #expect(TraceParent(header) != nil)
        #expect(try RawEnvelope(jsonBytes: message.body).traceParent?.description == header)
    }

    @Test func mirrorsThatDisagreeAreRefused() throws {
        let message = try Samples.submitEnvelope.amqpMessage(appID: "isms")
        func refusal(_ change: (inout AMQPProperties) -> Void) -> ContractError? {
            var delivery = deliver(message)
            change(&delivery.properties)
            do {
                _ = try RawEnvelope(delivery: delivery)
                return nil
            } catch {
                return error
            }
        }
        #expect(refusal { $0.messageID = "other" }?.attribute == "message_id")
        #expect(refusal { $0.type = "jp.ward.isms.incident.reported.v1" }?.attribute == "type")
        #expect(refusal { $0.correlationID = "other" }?.attribute == "correlation_id")
        #expect(refusal { $0.headers["cloudEvents:source"] = "urn:isms:producer:other" }?.code == .attributeMismatch)
        #expect(refusal { $0.headers["cloudEvents:dataclassification"] = "public" }?.code == .attributeMismatch)
        #expect(refusal { $0.contentType = "application/json" }?.code == .unsupportedContentType)
        #expect(refusal { $0.contentEncoding = "gzip" }?.code == .unsupportedContentType)
        // Absent mirrors are fine: the body is the authority.
        #expect(refusal { $0 = AMQPProperties() } == nil)
        #expect(refusal { $0.headers["cloudEvents:type"] = .bytes(Array("jp.ward.isms.incident-report.submit.v1".utf8)) } == nil)
    }
}
