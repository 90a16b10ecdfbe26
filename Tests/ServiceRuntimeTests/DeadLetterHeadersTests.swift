import AMQP
import Contracts
import Foundation
import MyNumber
@testable import ServiceRuntime
import Testing

/// What a dead letter's headers say, without a broker: where a replay goes, why, when, and
/// what a replay carries.
@Suite struct DeadLetterHeadersTests {
    let brokerDeath: AMQPTable = [
        "x-death": .array([
            // Newest first: a replayed message that died again, then its first death.
            .table(["exchange": "isms.dead-letter", "routing-keys": .array(["q"]), "queue": "q", "reason": "delivery_limit", "count": .int64(1),
                    "time": .timestamp(Date(timeIntervalSince1970: 1_764_900_100))]),
            .table(["exchange": "isms.events", "routing-keys": .array(["incident.escalated.v1"]), "queue": "q", "reason": "rejected", "count": .int64(1),
                    "time": .timestamp(Date(timeIntervalSince1970: 1_764_900_000))]),
        ]),
    ]

    @Test func theConsumersOriginHeadersComeFirst() {
        var headers = brokerDeath
        headers[DeadLetterHeaders.originalExchange] = "isms.commands"
        headers[DeadLetterHeaders.originalRoutingKey] = "incident.report.submit.v1"
        #expect(DeadLetterHeaders.origin(headers) == DeadLetterHeaders.Destination(exchange: "isms.commands", routingKey: "incident.report.submit.v1"))
    }

    @Test func theBrokersOldestDeathNamesTheOriginWhenTheConsumerDidNot() {
        #expect(DeadLetterHeaders.origin(brokerDeath) == DeadLetterHeaders.Destination(exchange: "isms.events", routingKey: "incident.escalated.v1"))
        #expect(DeadLetterHeaders.errorCode(brokerDeath) == "delivery_limit")
        #expect(DeadLetterHeaders.deadLetteredAt(brokerDeath) == Date(timeIntervalSince1970: 1_764_900_100))
    }

    @Test func theDefaultExchangeIsAnOriginToo() {
        let headers: AMQPTable = [DeadLetterHeaders.originalExchange: "", DeadLetterHeaders.originalRoutingKey: "rt_1"]
        #expect(DeadLetterHeaders.origin(headers) == DeadLetterHeaders.Destination(exchange: "", routingKey: "rt_1"))
    }

    @Test func noOriginIsNoGuess() {
        #expect(DeadLetterHeaders.origin([:]) == nil)
        #expect(DeadLetterHeaders.origin(["x-isms-error-code": "refused"]) == nil)
        #expect(DeadLetterHeaders.origin(["x-death": .array([.table(["exchange": "x"])])]) == nil)
        #expect(DeadLetterHeaders.origin([DeadLetterHeaders.originalExchange: "x"]) == nil)
    }

    @Test func theConsumersReasonAndTimeComeFirst() {
        var headers = brokerDeath
        headers["x-isms-error-code"] = "malformed-envelope"
        headers["x-isms-failed-at"] = "2026-12-05T08:00:00.000Z"
        #expect(DeadLetterHeaders.errorCode(headers) == "malformed-envelope")
        #expect(DeadLetterHeaders.deadLetteredAt(headers) == ContractsJSON.parseTimestamp("2026-12-05T08:00:00.000Z"))
    }

    @Test func reasonsAreTheHeadersThatSayWhy() {
        var headers = brokerDeath
        headers["x-isms-error-reason"] = "no such section"
        headers["x-first-death-queue"] = "q"
        headers[EnvelopeHeader.type] = "jp.ward.isms.incident.escalated.v1"
        headers["traceparent"] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        let reasons = DeadLetterHeaders.reasons(headers)
        #expect(Set(reasons.keys) == ["x-death", "x-isms-error-reason", "x-first-death-queue"])
        #expect(reasons["x-death"]?.arrayValue?.first?["time"] == .string("2025-12-05T02:01:40.000Z"))
    }

    @Test func aReplayKeepsTheMessageAndDropsWhyItDied() {
        var headers = brokerDeath
        headers["x-isms-error-code"] = "refused"
        headers["x-isms-failed-queue"] = "q"
        headers["x-isms-consumer"] = "csirt-triage"
        headers[DeadLetterHeaders.originalExchange] = "isms.events"
        headers["x-delivery-count"] = .int64(4)
        headers[EnvelopeHeader.type] = "jp.ward.isms.incident.escalated.v1"
        let properties = AMQPProperties(contentType: "application/cloudevents+json", headers: headers, deliveryMode: .transient, correlationID: "c-1", messageID: "m-1", type: "t")
        let at = Date(timeIntervalSince1970: 1_764_900_000)
        let replayed = DeadLetterHeaders.replayProperties(properties, from: "q.dlq", at: at)
        #expect(replayed.messageID == "m-1")
        #expect(replayed.correlationID == "c-1")
        #expect(replayed.type == "t")
        #expect(replayed.deliveryMode == .persistent)
        #expect(Set(replayed.headers.keys) == [EnvelopeHeader.type, DeadLetterHeaders.replayedFrom, DeadLetterHeaders.replayedAt])
        #expect(replayed.headers[DeadLetterHeaders.replayedFrom]?.stringValue == "q.dlq")
        #expect(replayed.headers[DeadLetterHeaders.replayedAt]?.stringValue == "2025-12-05T02:00:00.000Z")
    }

    @Test func anOperatorNeverSeesAMyNumberInClear() throws {
        let number = "12345678901" + String(try #require(MyNumberScreener.checkDigit(forFirstEleven: "12345678901")))
        let body = Array(#"{"data":{"note":"個人番号 \#(number)","ref":"\#(number)"}}"#.utf8)
        let shown = DeadLetters.maskedBody(body)
        #expect(!shown.contains(number))
        #expect(shown.contains("個人番号"))
        let reasons = DeadLetters.maskedJSON(["x-isms-error-reason": .string("bad value \(number)")])
        #expect(reasons["x-isms-error-reason"]?.stringValue?.contains(number) == false)
    }
}
