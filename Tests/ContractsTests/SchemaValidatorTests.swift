import Contracts
import Foundation
import Testing

/// Intake answers a bad report field by field from these violations, so they must be precise
/// (the pointer of the field, the failing keyword) and complete (every problem, not the first).
@Suite struct SchemaValidatorTests {
    private let submitSchema = JSONSchemaValidator(schema: try! Schemas.schema(for: MessageTypes.submitIncidentReport))

    /// The sample report's `data` as a JSON value, changed by `edit`.
    private func report(_ edit: (inout [String: JSONValue]) -> Void) throws -> JSONValue {
        var members = try #require(try Samples.submitEnvelope.raw().dataValue()?.objectValue)
        edit(&members)
        return .object(members)
    }

    private func violations(_ edit: (inout [String: JSONValue]) -> Void) throws -> [SchemaViolation] {
        submitSchema.validate(try report(edit))
    }

    private func pairs(_ violations: [SchemaViolation]) -> [String] {
        violations.map { "\($0.pointer) \($0.code)" }
    }

    private static func set(_ value: JSONValue?, at path: String, in members: inout [String: JSONValue]) {
        var keys = path.split(separator: "/").map(String.init)
        let last = keys.removeLast()
        func update(_ node: inout JSONValue, _ keys: ArraySlice<String>) {
            if keys.isEmpty {
                if case .object(var object) = node { object[last] = value; node = .object(object) }
                if case .array(var array) = node, let index = Int(last) {
                    if let value { array[index] = value } else { array.remove(at: index) }
                    node = .array(array)
                }
                return
            }
            let key = keys.first!
            if case .object(var object) = node, var child = object[key] {
                update(&child, keys.dropFirst())
                object[key] = child
                node = .object(object)
            } else if case .array(var array) = node, let index = Int(key) {
                update(&array[index], keys.dropFirst())
                node = .array(array)
            }
        }
        var root = JSONValue.object(members)
        update(&root, keys[...])
        members = root.objectValue!
    }

    @Test func theSampleIsValid() throws {
        #expect(try violations { _ in } == [])
    }

    @Test func aMissingRequiredMemberPointsAtWhereItBelongs() throws {
        let found = try violations { Self.set(nil, at: "reporter/sectionCode", in: &$0) }
        #expect(found == [SchemaViolation(pointer: "/reporter/sectionCode", code: .required, message: "is required")])
    }

    @Test func aWrongEnumValue() throws {
        let found = try violations { $0["category"] = "earthquake" }
        #expect(pairs(found) == ["/category enum"])
        #expect(found[0].message.contains("\"contractor-violation\""))
        #expect(!found[0].message.contains("earthquake"))
        #expect(pairs(try violations { Self.set("maybe", at: "answers/myNumber", in: &$0) }) == ["/answers/myNumber enum"])
        #expect(pairs(try violations { Self.set("4", at: "affectedAssets/0/classification/confidentiality", in: &$0) })
            == ["/affectedAssets/0/classification/confidentiality enum"])
    }

    @Test func tooLongInCharactersAndInBytes() throws {
        #expect(pairs(try violations { $0["title"] = .string(String(repeating: "あ", count: 201)) }) == ["/title maxLength"])
        #expect(try violations { $0["title"] = .string(String(repeating: "あ", count: 200)) } == [])
        #expect(pairs(try violations { $0["title"] = "" }) == ["/title minLength"])
        // 30,000 characters are within maxLength but 90,000 bytes of UTF-8.
        let long = try violations { $0["description"] = .string(String(repeating: "個", count: 30_000)) }
        #expect(pairs(long) == ["/description maxLength"])
        #expect(long[0].message == "must be at most 65536 bytes of UTF-8")
        #expect(try violations { $0["description"] = .string(String(repeating: "a", count: 65_536)) } == [])
    }

    @Test func aBadUUIDAndABadTime() throws {
        #expect(pairs(try violations { $0["reportId"] = "3f1c9a2e-5b7d-4c1e-9f0a" }) == ["/reportId format"])
        #expect(pairs(try violations { $0["reportId"] = 42 }) == ["/reportId type"])
        #expect(try violations { $0["reportId"] = "3F1C9A2E-5B7D-4C1E-9F0A-6D2B8E4C7A15" } == [])
        #expect(pairs(try violations { $0["knownAt"] = "2025-02-30T10:00:00Z" }) == ["/knownAt format"])
        #expect(pairs(try violations { $0["knownAt"] = "2025-04-01T10:00:00" }) == ["/knownAt format"])
    }

    @Test func anExtraPropertyAnywhere() throws {
        #expect(pairs(try violations { $0["severity"] = "high" }) == ["/severity additionalProperties"])
        #expect(pairs(try violations { Self.set("x", at: "reporter/email", in: &$0) }) == ["/reporter/email additionalProperties"])
        #expect(pairs(try violations { Self.set(true, at: "attachments/0/scanned", in: &$0) }) == ["/attachments/0/scanned additionalProperties"])
    }

    @Test func aNestedArrayItem() throws {
        let found = try violations {
            Self.set("not-a-hash", at: "attachments/0/sha256", in: &$0)
            Self.set(-5, at: "attachments/0/size", in: &$0)
        }
        #expect(pairs(found) == ["/attachments/0/sha256 pattern", "/attachments/0/size minimum"])
        // An asset needs an id or a name.
        let anonymous = try violations { Self.set(nil, at: "affectedAssets/1/name", in: &$0) }
        #expect(anonymous == [SchemaViolation(pointer: "/affectedAssets/1", code: .required, message: "needs at least one of: id, name")])
        #expect(pairs(try violations { Self.set("PC", at: "affectedAssets/1", in: &$0) }) == ["/affectedAssets/1 type"])
        #expect(pairs(try violations { $0["attachments"] = .array(Array(repeating: $0["attachments"]!.arrayValue![0], count: 21)) })
            == ["/attachments maxItems"])
    }

    @Test func affectedPersonsIsACountOrUnknown() throws {
        #expect(try violations { $0["affectedPersons"] = "unknown" } == [])
        #expect(try violations { $0["affectedPersons"] = 0 } == [])
        #expect(pairs(try violations { $0["affectedPersons"] = -1 }) == ["/affectedPersons minimum"])
        #expect(pairs(try violations { $0["affectedPersons"] = "many" }) == ["/affectedPersons const"])
        let fraction = try violations { $0["affectedPersons"] = .number(1.5) }
        #expect(fraction == [SchemaViolation(pointer: "/affectedPersons", code: .type, message: "must be an integer or a string, not a number")])
    }

    @Test func everyProblemIsReportedNotJustTheFirst() throws {
        let found = try violations {
            $0["reportId"] = "nope"
            $0["title"] = nil
            $0["category"] = "other-thing"
            $0["extra"] = 1
            Self.set(nil, at: "reporter/contact", in: &$0)
            Self.set("Yes", at: "answers/personalData", in: &$0)
            Self.set("ABC", at: "attachments/0/sha256", in: &$0)
        }
        #expect(
            pairs(found) == [
                "/title required",
                "/answers/personalData enum",
                "/attachments/0/sha256 pattern",
                "/category enum",
                "/extra additionalProperties",
                "/reportId format",
                "/reporter/contact required",
            ]
        )
    }

    @Test func aDocumentThatIsNotJSONOrNotAnObject() {
        #expect(pairs(submitSchema.validate(jsonBytes: Array("{\"reportId\":".utf8))) == [" invalidJSON"])
        #expect(pairs(submitSchema.validate(.array([]))) == [" type"])
        let empty = submitSchema.validate(.object([:]))
        #expect(empty.count == 12)
        #expect(empty.allSatisfy { $0.code == .required })
    }

    @Test func violationsBecomeRejectionErrors() throws {
        let found = try violations { Self.set(nil, at: "reporter/sectionCode", in: &$0) }
        let rejection = IncidentReportRejected(reportID: Samples.reportID, errors: found.map(IncidentReportRejected.FieldError.init))
        #expect(rejection.errors == [.init(field: "/reporter/sectionCode", code: .required, message: "is required")])
        // And the rejection itself meets its schema.
        let envelope = Envelope(source: ServiceName.incidentIntake.source, data: rejection)
        let check = try Schemas.violations(in: envelope.raw())
        #expect(check.envelope == [])
        #expect(check.data == [])
    }

    @Test func envelopeViolations() throws {
        var raw = try Samples.submitEnvelope.raw()
        raw.type = "jp.ward.isms.incident-report.submit"
        #expect(throws: ContractError.self) { try Schemas.violations(in: raw) }

        let envelopeSchema = JSONSchemaValidator(schema: try Schemas.envelope())
        let document: JSONValue = [
            "specversion": "1.0", "id": "", "source": "a b", "type": "com.example.thing", "time": "yesterday",
            "dataclassification": "secret", "traceparent": "00-x", "ext": ["nested": true], "data": nil,
        ]
        #expect(
            pairs(envelopeSchema.validate(document)) == [
                "/dataclassification enum", "/ext type", "/id minLength", "/source pattern", "/time format", "/traceparent pattern",
                "/type pattern",
            ]
        )
    }

    @Test func pointersEscapeTildeAndSlash() {
        let schema = JSONSchemaValidator(schema: try! JSONSchema(["type": "object", "additionalProperties": false]))
        #expect(pairs(schema.validate(["a/b": 1, "c~d": 2])) == ["/a~1b additionalProperties", "/c~0d additionalProperties"])
    }

    @Test func patternsAreUnanchoredECMAStyle() {
        let schema = JSONSchemaValidator(schema: try! JSONSchema(["type": "string", "pattern": "^[0-9a-f]{4}$"]))
        #expect(schema.validate("beef") == [])
        #expect(pairs(schema.validate("beef\n")) == [" pattern"])
        #expect(pairs(schema.validate("Beef")) == [" pattern"])
        let search = JSONSchemaValidator(schema: try! JSONSchema(["type": "string", "pattern": "b+"]))
        #expect(search.validate("abbc") == [])
    }
}
