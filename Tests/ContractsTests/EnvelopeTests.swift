import Contracts
import Foundation
import Testing

@Suite struct EnvelopeTests {
    private func envelopeJSON(_ members: [String: JSONValue], removing removed: [String] = []) -> [UInt8] {
        var base: [String: JSONValue] = [
            "specversion": "1.0",
            "id": "m-1",
            "source": "urn:isms:producer:test",
            "type": "jp.ward.isms.directory.changed.v1",
            "time": "2025-04-01T09:00:00+09:00",
            "dataclassification": "internal",
            "data": [
                "version": 1, "importedAt": "2025-04-01T00:00:00Z",
                "counts": ["departments": 1, "sections": 2, "people": 3, "assignments": 4],
                "checksum": .string(String(repeating: "a", count: 64)),
            ],
        ]
        for (key, value) in members { base[key] = value }
        for key in removed { base[key] = nil }
        return JSONValue.object(base).jsonBytes()
    }

    private func error(_ body: [UInt8]) -> ContractError? {
        do {
            _ = try RawEnvelope(jsonBytes: body)
            return nil
        } catch {
            return error
        }
    }

    @Test func decodesAMinimalForeignEnvelopeAndKeepsUnknownExtensions() throws {
        let raw = try RawEnvelope(jsonBytes: envelopeJSON(["comexampleext": "value", "priority": 3, "urgent": true]))
        #expect(raw.id == "m-1")
        #expect(raw.time == date("2025-04-01T00:00:00Z"))
        #expect(raw.subject == nil)
        #expect(raw.correlationID == nil)
        #expect(raw.traceParent == nil)
        #expect(raw.extensions == ["comexampleext": "value", "priority": 3, "urgent": true])
        #expect(raw.deduplicationKey == "urn:isms:producer:test m-1")
        #expect(raw.causation.correlationID == "m-1")

        let typed = try raw.decode(as: DirectoryChanged.self)
        #expect(typed.data.counts.people == 3)
        #expect(typed.extensions["comexampleext"] == "value")
        // Extensions survive re-encoding.
        let again = try RawEnvelope(jsonBytes: typed.jsonBytes())
        #expect(again.extensions == raw.extensions)
    }

    @Test func keepsDataAsTheBytesReceived() throws {
        let body = Array(#"{"specversion":"1.0","id":"x","source":"s","type":"t.v1","time":"2025-04-01T00:00:00Z","dataclassification":"public","data": { "b" : 1,  "a" : [1, 2.50] } }"#.utf8)
        let raw = try RawEnvelope(jsonBytes: body)
        #expect(raw.data == Array(#"{ "b" : 1,  "a" : [1, 2.50] }"#.utf8))
        #expect(try raw.dataValue() == ["a": [1, .number(2.5)], "b": 1])
        // Compact output splices the bytes in unchanged.
        let compact = String(decoding: try raw.jsonBytes(), as: UTF8.self)
        #expect(compact.hasSuffix(#""data":{ "b" : 1,  "a" : [1, 2.50] },"dataclassification":"public","datacontenttype":"application/json","id":"x","source":"s","specversion":"1.0","time":"2025-04-01T00:00:00.000Z","type":"t.v1"}"#))
        #expect(compact.hasPrefix("{\"data\""))
    }

    @Test func rejectsAnotherSpecVersion() {
        #expect(error(envelopeJSON(["specversion": "0.3"]))?.code == .unsupportedSpecVersion)
        #expect(error(envelopeJSON(["specversion": 1]))?.code == .invalidAttribute)
    }

    @Test(arguments: ["specversion", "id", "source", "type", "time", "dataclassification"])
    func rejectsAMissingRequiredAttribute(_ attribute: String) {
        let failure = error(envelopeJSON([:], removing: [attribute]))
        #expect(failure?.code == .missingAttribute)
        #expect(failure?.attribute == attribute)
        #expect(failure?.isRetriable == false)
    }

    @Test func rejectsInvalidAttributes() {
        #expect(error(envelopeJSON(["id": ""]))?.code == .invalidAttribute)
        #expect(error(envelopeJSON(["source": "has space"]))?.attribute == "source")
        #expect(error(envelopeJSON(["time": "2025-04-01 09:00"]))?.attribute == "time")
        #expect(error(envelopeJSON(["dataclassification": "secret"]))?.attribute == "dataclassification")
        #expect(error(envelopeJSON(["traceparent": "00-bad"]))?.attribute == "traceparent")
        #expect(error(envelopeJSON(["subject": 7]))?.attribute == "subject")
        #expect(error(envelopeJSON(["datacontenttype": "text/xml"]))?.code == .unsupportedContentType)
        #expect(error(envelopeJSON(["data_base64": "AAAA"]))?.code == .unsupportedContentType)
        #expect(error(Array("[]".utf8))?.code == .invalidJSON)
        #expect(error(Array("{\"id\":1,\"id\":2}".utf8))?.code == .invalidJSON)
        #expect(error(Array("not json".utf8))?.code == .invalidJSON)
        // A content type with parameters is still JSON.
        #expect(error(envelopeJSON(["datacontenttype": "application/json; charset=utf-8"])) == nil)
    }

    @Test func typedDecodingChecksTheTypeAndThePayload() throws {
        let raw = try RawEnvelope(jsonBytes: envelopeJSON([:]))
        #expect(throws: ContractError(.typeMismatch, attribute: "type", detail: "expected jp.ward.isms.incident.reported.v1, got jp.ward.isms.directory.changed.v1")) {
            try raw.decode(as: IncidentReported.self)
        }
        let broken = try RawEnvelope(jsonBytes: envelopeJSON(["data": ["version": "three"]]))
        do {
            _ = try broken.decode(as: DirectoryChanged.self)
            Issue.record("decoded a broken payload")
        } catch {
            #expect(error.code == .invalidPayload)
        }
        let noData = try RawEnvelope(jsonBytes: envelopeJSON([:], removing: ["data"]))
        #expect(noData.data == nil)
        #expect(throws: ContractError.self) { try noData.decode(as: DirectoryChanged.self) }
    }

    @Test func aNewMessageStartsAConversationAndATrace() throws {
        let envelope = Envelope(source: "urn:isms:producer:test", data: Samples.submit)
        #expect(envelope.type == "jp.ward.isms.incident-report.submit.v1")
        #expect(envelope.correlationID == envelope.id)
        #expect(envelope.causationID == nil)
        #expect(envelope.subject == "3f1c9a2e-5b7d-4c1e-9f0a-6d2b8e4c7a15")
        #expect(envelope.dataClassification == .confidential)
        #expect(envelope.traceParent != nil)
        #expect(UUID(uuidString: envelope.id) != nil)
        #expect(envelope.id == envelope.id.lowercased())
        // Times are held at the precision that survives the wire.
        #expect(try Envelope<SubmitIncidentReport>(jsonBytes: envelope.jsonBytes()) == envelope)
    }

    @Test func aCausedMessageJoinsTheConversationAndContinuesTheTrace() throws {
        let command = Samples.submitEnvelope
        let reply = Envelope(source: ServiceName.incidentIntake.source, causedBy: command.causation, data: Samples.accepted)
        #expect(reply.correlationID == command.correlationID)
        #expect(reply.causationID == command.id)
        #expect(reply.traceParent?.traceID == command.traceParent?.traceID)
        #expect(reply.traceParent?.parentID != command.traceParent?.parentID)
        #expect(reply.traceParent?.flags == command.traceParent?.flags)

        // A foreign command without correlationid: the conversation is its id.
        let foreign = try RawEnvelope(jsonBytes: envelopeJSON([:]))
        let event = Envelope(source: "s", causedBy: foreign.causation, data: Samples.directoryChanged)
        #expect(event.correlationID == "m-1")
        #expect(event.traceParent != nil)
    }

    @Test func aDeduplicationKeyIsSourceAndID() {
        #expect(Samples.submitEnvelope.deduplicationKey == "urn:isms:producer:koseki-jumin c2a7e5d0-8f1b-4a3c-9e6d-1b2c3d4e5f60")
    }

    @Test func affectedPersonsIsACountOrUnknown() throws {
        let decoder = ContractsJSON.decoder()
        #expect(try decoder.decode(AffectedPersons.self, from: Data("12".utf8)) == .count(12))
        #expect(try decoder.decode(AffectedPersons.self, from: Data(#""unknown""#.utf8)) == .unknown)
        #expect(throws: DecodingError.self) { try decoder.decode(AffectedPersons.self, from: Data("-1".utf8)) }
        #expect(throws: DecodingError.self) { try decoder.decode(AffectedPersons.self, from: Data(#""many""#.utf8)) }
        let encoder = ContractsJSON.encoder()
        #expect(String(decoding: try encoder.encode([AffectedPersons.unknown, .count(101)]), as: UTF8.self) == #"["unknown",101]"#)
        #expect(AffectedPersons.count(101).exceeds(100) == true)
        #expect(AffectedPersons.unknown.exceeds(100) == nil)
    }
}

@Suite struct TimestampTests {
    @Test func formatsUTCWithMilliseconds() {
        #expect(ContractsJSON.formatTimestamp(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
        #expect(ContractsJSON.formatTimestamp(date("2025-04-01T09:10:00.5+09:00")) == "2025-04-01T00:10:00.500Z")
        #expect(ContractsJSON.formatTimestamp(Date(timeIntervalSince1970: -0.001)) == "1969-12-31T23:59:59.999Z")
        #expect(ContractsJSON.formatTimestamp(date("2024-02-29T23:59:59.9996Z")) == "2024-03-01T00:00:00.000Z")
    }

    @Test func parsesRFC3339() {
        #expect(date("2025-04-01T00:00:00Z") == Date(timeIntervalSince1970: 1_743_465_600))
        #expect(date("2025-04-01t09:00:00.000+09:00") == Date(timeIntervalSince1970: 1_743_465_600))
        #expect(date("2025-03-31T19:30:00-04:30") == Date(timeIntervalSince1970: 1_743_465_600))
        for text in [
            "2025-04-01", "2025-04-01T00:00:00", "2025-02-29T00:00:00Z", "2025-13-01T00:00:00Z", "2025-04-01T24:00:00Z",
            "2025-04-01T00:00:00.Z", "2025-04-01T00:00:00+0900", "2025-04-01T00:00:00Z ", "２０２５-04-01T00:00:00Z",
        ] {
            #expect(ContractsJSON.parseTimestamp(text) == nil, "\(text) should not parse")
        }
        #expect(ContractsJSON.parseTimestamp("2024-02-29T00:00:00Z") != nil)
    }

    @Test func roundTripsMillisecondsExactly() {
        for millisecond in stride(from: 0, to: 1000, by: 7) {
            let text = "2025-04-01T01:30:00.\(String(format: "%03d", millisecond))Z"
            #expect(ContractsJSON.formatTimestamp(date(text)) == text)
        }
    }
}

@Suite struct TraceParentTests {
    @Test func parsesAndPrintsVersion00() throws {
        let trace = try #require(TraceParent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"))
        #expect(trace.traceID == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(trace.parentID == "00f067aa0ba902b7")
        #expect(trace.isSampled)
        #expect(trace.description == "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
    }

    @Test func rejectsInvalidHeaders() {
        for header in [
            "", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ] {
            #expect(TraceParent(header) == nil, "\(header) should not parse")
        }
        // A later version is read by its version-00 prefix.
        #expect(TraceParent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-ever") != nil)
    }

    @Test func randomAndChildAreValid() throws {
        for _ in 0..<100 {
            let trace = TraceParent.random()
            #expect(TraceParent(trace.description) == trace)
            let child = trace.child()
            #expect(child.traceID == trace.traceID)
            #expect(TraceParent(child.description) == child)
        }
    }
}

@Suite struct JSONValueTests {
    @Test func parsesAndWritesStably() throws {
        let text = #"{"z":[1,-0.5,1e3,true,null],"a":{"ü":"\u00e9\n\"\\/\ud83d\ude00"},"m":""}"#
        let value = try JSONValue(parsing: text)
        #expect(value["z"] == [1, .number(-0.5), .number(1000), true, nil])
        #expect(value["a"]?["ü"] == "é\n\"\\/😀")
        #expect(value.jsonString() == #"{"a":{"ü":"é\n\"\\/😀"},"m":"","z":[1,-0.5,1000,true,null]}"#)
        #expect(value.jsonString(pretty: true) == """
            {
              "a": {
                "ü": "é\\n\\"\\\\/😀"
              },
              "m": "",
              "z": [
                1,
                -0.5,
                1000,
                true,
                null
              ]
            }
            """)
        #expect(try JSONValue(parsing: value.jsonBytes()) == (try JSONValue(parsing: value.jsonBytes(pretty: true))))
    }

    @Test func rejectsMalformedJSON() {
        for text in [
            "", "{", "[1,]", "{\"a\":1,}", "01", "1.", "-", "\"\u{01}\"", "\"\\x\"", "\"\\ud800\"", "tru", "{} {}", "{'a':1}",
            String(repeating: "[", count: 200) + String(repeating: "]", count: 200),
        ] {
            #expect(throws: ContractError.self, "\(text.prefix(20)) should not parse") { try JSONValue(parsing: text) }
        }
        #expect(throws: ContractError.self) { try JSONValue(parsing: [0x22, 0xFF, 0x22]) }
        // Invalid UTF-8 after an escape, and before one.
        #expect(throws: ContractError.self) { try JSONValue(parsing: [0x22, 0x5C, 0x6E, 0xFF, 0x22]) }
        #expect(throws: ContractError.self) { try JSONValue(parsing: [0x22, 0xFF, 0x5C, 0x6E, 0x22]) }
    }

    @Test func stringsStartingOrEndingWithAnEscapeKeepEveryScalar() throws {
        #expect(try JSONValue(parsing: #""\u00e9x""#) == "éx")
        #expect(try JSONValue(parsing: #""x\t""#) == "x\t")
        #expect(try JSONValue(parsing: #""\ud83d\ude00""#) == "😀")
        #expect(try JSONValue(parsing: #""""#) == "")
    }

    @Test func isCodable() throws {
        let value: JSONValue = ["a": [1, .number(2.5), "x", true, nil], "b": ["c": 3]]
        let encoded = try ContractsJSON.encoder().encode(value)
        #expect(String(decoding: encoded, as: UTF8.self) == #"{"a":[1,2.5,"x",true,null],"b":{"c":3}}"#)
        #expect(try ContractsJSON.decoder().decode(JSONValue.self, from: encoded) == value)
    }

    @Test func keepsLargeIntegersExact() throws {
        #expect(try JSONValue(parsing: "9007199254740993") == .integer(9_007_199_254_740_993))
        #expect(try JSONValue(parsing: "2.0").typeName == "integer")
        #expect(throws: ContractError.self) { try JSONValue(parsing: "1e400") }
    }
}
