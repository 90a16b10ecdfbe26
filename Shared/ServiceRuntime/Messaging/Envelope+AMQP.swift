public import AMQP
public import Contracts
import Foundation

/// The AMQP headers that mirror envelope attributes, so brokers, shovels and operators can see
/// them without parsing the body. The body stays the authority.
public enum EnvelopeHeader {
    public static let type = "cloudEvents:type"
    public static let source = "cloudEvents:source"
    public static let subject = "cloudEvents:subject"
    public static let dataClassification = "cloudEvents:dataclassification"
    /// W3C Trace Context.
    public static let traceParent = "traceparent"
}

extension RawEnvelope {
    /// The AMQP properties that mirror the envelope: `message_id` = id, `type` = type,
    /// `app_id`, `timestamp` = time, `correlation_id` = correlationid (or id), `content_type`
    /// `application/cloudevents+json`, persistent delivery, and the ``EnvelopeHeader`` headers.
    /// A missing trace context must have been filled in before (``amqpMessage(appID:replyTo:route:mandatory:)`` does).
    public func amqpProperties(appID: String, replyTo: String? = nil) -> AMQPProperties {
        var headers: AMQPTable = [
            EnvelopeHeader.type: .string(type),
            EnvelopeHeader.source: .string(source),
            EnvelopeHeader.dataClassification: .string(dataClassification.rawValue),
        ]
        if let subject { headers[EnvelopeHeader.subject] = .string(subject) }
        if let traceParent { headers[EnvelopeHeader.traceParent] = .string(traceParent.description) }
        return AMQPProperties(
            contentType: EnvelopeFormat.mediaType,
            headers: headers,
            deliveryMode: .persistent,
            correlationID: correlationID ?? id,
            replyTo: replyTo,
            messageID: id,
            timestamp: time,
            type: type,
            appID: appID
        )
    }

    /// The envelope as a message to publish. The route defaults to the registered type's
    /// (commands to `isms.commands`, events to `isms.events`); a reply needs
    /// `route: .reply(to: command.replyTo)`. A message without a trace context gets a new one,
    /// in the body and the header alike.
    ///
    /// `mandatory` defaults to true, except through the default exchange (replies): RabbitMQ
    /// returns a reply to a direct reply-to queue (`amq.rabbitmq.reply-to.*`) as unroutable even
    /// when it delivered it (rabbitmq-server#6124), and a reply whose producer has gone is
    /// dropped by design, since the producer retries with the same `reportId`.
    public func amqpMessage(
        appID: String,
        replyTo: String? = nil,
        route: MessageRoute? = nil,
        mandatory: Bool? = nil
    ) throws(ContractError) -> AMQPOutgoingMessage {
        guard let route = route ?? messageType?.route else {
            throw ContractError(.unroutable, attribute: "type", detail: "no route is known for \(type); pass one")
        }
        var envelope = self
        if envelope.traceParent == nil { envelope.traceParent = .random() }
        return AMQPOutgoingMessage(
            exchange: route.exchange,
            routingKey: route.routingKey,
            body: try envelope.jsonBytes(),
            properties: envelope.amqpProperties(appID: appID, replyTo: replyTo),
            mandatory: mandatory ?? !route.exchange.isEmpty
        )
    }

    /// Reads the envelope a delivery carries and checks that the AMQP properties and headers
    /// that mirror it agree with it. Takes `reply_to` and `app_id` from the delivery; takes
    /// `correlation_id` and `traceparent` from the delivery when the body has none.
    public init(delivery: AMQPDelivery) throws(ContractError) {
        let properties = delivery.properties
        if let contentType = properties.contentType, !EnvelopeFormat.mediaType(contentType, is: EnvelopeFormat.mediaType) {
            throw ContractError(
                .unsupportedContentType,
                attribute: "content_type",
                detail: "content_type is \(contentType), expected \(EnvelopeFormat.mediaType)"
            )
        }
        if let encoding = properties.contentEncoding, !encoding.isEmpty, encoding.lowercased() != "identity" {
            throw ContractError(.unsupportedContentType, attribute: "content_encoding", detail: "content_encoding \(encoding) is not supported")
        }
        try self.init(jsonBytes: delivery.body)

        func agree(_ name: String, _ mirrored: String?, _ actual: String?) throws(ContractError) {
            guard let mirrored, mirrored != actual else { return }
            throw ContractError(.attributeMismatch, attribute: name, detail: "\(name) disagrees with the envelope")
        }
        try agree("message_id", properties.messageID, id)
        try agree("type", properties.type, type)
        let headers = properties.headers
        try agree(EnvelopeHeader.type, headers[EnvelopeHeader.type]?.stringValue, type)
        try agree(EnvelopeHeader.source, headers[EnvelopeHeader.source]?.stringValue, source)
        try agree(EnvelopeHeader.subject, headers[EnvelopeHeader.subject]?.stringValue, subject)
        try agree(EnvelopeHeader.dataClassification, headers[EnvelopeHeader.dataClassification]?.stringValue, dataClassification.rawValue)
        if let correlationID {
            try agree("correlation_id", properties.correlationID, correlationID)
        } else {
            correlationID = properties.correlationID
        }
        if traceParent == nil, let header = headers[EnvelopeHeader.traceParent]?.stringValue {
            // A malformed transport header is not the producer's contract: start a new trace.
            traceParent = TraceParent(header)
        }
        replyTo = properties.replyTo
        appID = properties.appID
    }
}

extension Envelope {
    /// The envelope as a message to publish; see ``RawEnvelope/amqpMessage(appID:replyTo:route:mandatory:)``.
    public func amqpMessage(
        appID: String,
        replyTo: String? = nil,
        route: MessageRoute? = nil,
        mandatory: Bool? = nil
    ) throws(ContractError) -> AMQPOutgoingMessage {
        try raw().amqpMessage(appID: appID, replyTo: replyTo, route: route, mandatory: mandatory)
    }
}
