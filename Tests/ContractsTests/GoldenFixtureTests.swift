import Contracts
import Foundation
import Testing

/// Every message type has a golden envelope under `Fixtures/<routing key>.json`, equal to the
/// sample built in code, valid against its schemas, and stable through decode and re-encode.
@Suite struct GoldenFixtureTests {
    @Test func fixturesMatchTheSamples() throws {
        for (type, envelope) in try Samples.all() {
            let encoded = try envelope.jsonBytes(pretty: true) + [0x0A]
            let url = Paths.fixture(type)
            if Paths.updateGolden {
                try Data(encoded).write(to: url)
            }
            let fixture = try Paths.bytes(url)
            #expect(fixture == encoded, "\(url.lastPathComponent) differs from the sample; rerun with ISMS_UPDATE_GOLDEN=1 if the change is intended")
        }
    }

    @Test(arguments: MessageTypes.all)
    func fixtureValidatesAgainstItsSchemas(_ type: MessageType) throws {
        let raw = try RawEnvelope(jsonBytes: Paths.bytes(Paths.fixture(type)))
        #expect(raw.type == type.wireName)
        let violations = try Schemas.violations(in: raw)
        #expect(violations.envelope == [])
        #expect(violations.data == [])

        // The whole envelope, data included, also passes the envelope schema.
        let envelopeViolations = JSONSchemaValidator(schema: try Schemas.envelope()).validate(jsonBytes: try Paths.bytes(Paths.fixture(type)))
        #expect(envelopeViolations == [])
    }

    @Test func submitRoundTripsByteForByte() throws {
        try roundTrip(SubmitIncidentReport.self, expected: Samples.submitEnvelope)
    }

    @Test func acceptedRoundTripsByteForByte() throws {
        try roundTrip(IncidentReportAccepted.self, expected: Samples.acceptedEnvelope)
    }

    @Test func rejectedRoundTripsByteForByte() throws {
        try roundTrip(IncidentReportRejected.self, expected: Samples.rejectedEnvelope)
    }

    @Test func reportedRoundTripsByteForByte() throws {
        try roundTrip(IncidentReported.self, expected: Samples.reportedEnvelope)
    }

    @Test func directoryChangedRoundTripsByteForByte() throws {
        try roundTrip(DirectoryChanged.self, expected: Samples.directoryChangedEnvelope)
    }

    private func roundTrip<Payload: MessagePayload>(_: Payload.Type, expected: Envelope<Payload>) throws {
        let fixture = try Paths.bytes(Paths.fixture(Payload.messageType))
        let decoded = try Envelope<Payload>(jsonBytes: fixture)
        #expect(decoded == expected)
        #expect(try decoded.jsonBytes(pretty: true) + [0x0A] == fixture)

        // The compact wire form decodes to the same envelope.
        let compact = try decoded.jsonBytes()
        #expect(!compact.contains(0x0A))
        #expect(try Envelope<Payload>(jsonBytes: compact) == expected)
    }

    @Test func reportedIsRestrictedOnlyWhenAMyNumberWasDetected() throws {
        #expect(Samples.reportedEnvelope.dataClassification == .restricted)
        var clean = Samples.reported
        clean.myNumberDetected = false
        let envelope = Envelope(source: ServiceName.incidentIntake.source, data: clean)
        #expect(envelope.dataClassification == .confidential)
    }

    @Test func uuidsTravelLowercase() throws {
        let text = String(decoding: try Samples.acceptedEnvelope.jsonBytes(), as: UTF8.self)
        #expect(text.contains("\"reportId\":\"3f1c9a2e-5b7d-4c1e-9f0a-6d2b8e4c7a15\""))
        #expect(text.contains("\"intakeId\":\"b6e0d4a1-2c3f-4e5d-8a9b-0c1d2e3f4a5b\""))
        #expect(text == text.replacingOccurrences(of: "3F1C9A2E", with: ""))
    }
}

@Suite struct RegistryTests {
    @Test func everyTypeIsListedOnceWithAUniqueWireName() {
        let names = MessageTypes.all.map(\.wireName)
        #expect(Set(names).count == names.count)
        #expect(Set(MessageTypes.all.map(\.routingKey)).count == names.count)
        // Each service's file lists what it originates; together they are the registry.
        let perService = MessageTypes.incidentIntake + MessageTypes.directory + MessageTypes.csirtTriage + MessageTypes.notifier
            + MessageTypes.auditScheduler + MessageTypes.contractorMonitor
        #expect(Set(perService.map(\.wireName)) == Set(names))
        for type in MessageTypes.all {
            #expect(type.wireName.hasPrefix("jp.ward.isms."))
            #expect(type.wireName.hasSuffix(".v1"))
            #expect(MessageTypes.named(type.wireName) == type)
            #expect(type.schemaFile == "\(type.routingKey).schema.json")
            #expect(!type.summary.isEmpty)
        }
        #expect(MessageTypes.named("jp.ward.isms.nothing.v1") == nil)
    }

    @Test func everyTypeHasASchemaFileAndAFixture() throws {
        for type in MessageTypes.all {
            let schema = try Schemas.schema(for: type)
            #expect(schema.root["$schema"] == "https://json-schema.org/draft/2020-12/schema")
            #expect(FileManager.default.fileExists(atPath: Paths.fixture(type).path), "no fixture for \(type)")
        }
        #expect(try Schemas.envelope().root["type"] == "object")
    }

    @Test func everySchemaFileBelongsToAType() throws {
        let directory = try #require(Schemas.directory)
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".schema.json") }
        #expect(Set(files) == Set(MessageTypes.all.map(\.schemaFile) + [Schemas.envelopeFile]))
    }

    @Test func schemasUseOnlyKeywordsTheValidatorUnderstands() throws {
        func walk(_ schema: JSONValue, _ path: String) {
            guard case .object(let keywords) = schema else { return }
            for (keyword, value) in keywords {
                #expect(JSONSchemaValidator.supportedKeywords.contains(keyword), "\(path): unsupported keyword \(keyword)")
                switch keyword {
                case "properties", "$defs":
                    for (name, subschema) in value.objectValue ?? [:] { walk(subschema, "\(path)/\(keyword)/\(name)") }
                case "items", "additionalProperties":
                    walk(value, "\(path)/\(keyword)")
                case "allOf", "anyOf", "oneOf":
                    for (position, subschema) in (value.arrayValue ?? []).enumerated() { walk(subschema, "\(path)/\(keyword)/\(position)") }
                case "format":
                    #expect(JSONSchemaValidator.supportedFormats.contains(value.stringValue ?? ""), "\(path): unsupported format")
                default:
                    break
                }
            }
        }
        for file in MessageTypes.all.map(\.schemaFile) + [Schemas.envelopeFile] {
            walk(try Schemas.schema(named: file).root, file)
        }
    }

    @Test func kindsRouteToTheRightExchange() {
        #expect(MessageTypes.submitIncidentReport.route == MessageRoute(exchange: "isms.commands", routingKey: "incident-report.submit.v1"))
        #expect(MessageTypes.incidentReported.route == MessageRoute(exchange: "isms.events", routingKey: "incident.reported.v1"))
        #expect(MessageTypes.directoryChanged.route == MessageRoute(exchange: "isms.events", routingKey: "directory.changed.v1"))
        #expect(MessageTypes.incidentReportAccepted.route == nil)
        #expect(MessageTypes.incidentReportRejected.route == nil)
        #expect(SubmitIncidentReport.messageType.kind == .command)
        #expect(IncidentReported.messageType.kind == .event)
    }
}
