import Foundation

/// One way a document breaks its schema, precise enough to answer a producer field by field.
public struct SchemaViolation: Sendable, Hashable, CustomStringConvertible {
    /// A JSON pointer (RFC 6901) to the offending value; for a missing member, to where it
    /// belongs (`/reporter/sectionCode`); empty for the whole document.
    public var pointer: String
    /// The failing keyword, e.g. `required`, `enum`, `maxLength`, `format`.
    public var code: ViolationCode
    /// A human-readable explanation; it never repeats the offending value.
    public var message: String

    public init(pointer: String, code: ViolationCode, message: String) {
        self.pointer = pointer
        self.code = code
        self.message = message
    }

    public var description: String { "\(pointer.isEmpty ? "(document)" : pointer): \(message) [\(code)]" }
}

/// A JSON Schema (draft 2020-12) document.
public struct JSONSchema: Sendable, Hashable {
    /// The schema as parsed: an object or a boolean.
    public let root: JSONValue

    public init(_ root: JSONValue) throws(ContractError) {
        switch root {
        case .object, .bool: self.root = root
        default: throw ContractError(.invalidJSON, detail: "a JSON Schema is an object or a boolean")
        }
    }

    public init(jsonBytes: some Collection<UInt8>) throws(ContractError) {
        try self.init(JSONValue(parsing: jsonBytes))
    }
}

/// Checks documents against a JSON Schema and returns every violation, not just the first.
///
/// It implements the subset of draft 2020-12 the contracts use: `type`, `enum`, `const`,
/// `required`, `properties`, `additionalProperties`, `items`, `minItems`, `maxItems`,
/// `minLength`, `maxLength`, `pattern`, `format` (`uuid`, `date-time`), `minimum`, `maximum`,
/// `exclusiveMinimum`, `exclusiveMaximum`, `allOf`, `anyOf`, `oneOf`, and `$ref` to `#` or
/// `#/$defs/...`; plus `x-maxUtf8Bytes`, a length limit in bytes of UTF-8 (reported as
/// `maxLength`). Where a value breaks its `type`, only that is reported for it. When no
/// alternative of `anyOf`/`oneOf` matches and exactly one has the value's type, that
/// alternative's violations are reported, so `-1` for "integer ≥ 0 or `unknown`" reads as `minimum`.
public struct JSONSchemaValidator: Sendable {
    /// The schema checked against.
    public let schema: JSONSchema

    /// The keywords this validator understands, assertions and annotations; a schema that uses
    /// another keyword would be checked less strictly than it reads.
    public static let supportedKeywords: Set<String> = [
        // assertions and applicators
        "type", "enum", "const", "required", "properties", "additionalProperties", "items", "minItems", "maxItems",
        "minLength", "maxLength", "pattern", "format", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
        "allOf", "anyOf", "oneOf", "$ref", "x-maxUtf8Bytes",
        // annotations
        "$schema", "$id", "$comment", "$defs", "title", "description", "examples", "default", "deprecated", "readOnly",
        "writeOnly",
    ]

    /// Formats checked; any other `format` is an annotation only.
    public static let supportedFormats: Set<String> = ["uuid", "date-time"]

    /// Every `$ref` of the schema, resolved once: reports are checked thousands of times a second.
    private let references: [String: JSONValue]

    public init(schema: JSONSchema) {
        self.schema = schema
        var references: [String: JSONValue] = [:]
        func collect(_ value: JSONValue) {
            switch value {
            case .object(let members):
                if let reference = members["$ref"]?.stringValue, references[reference] == nil {
                    references[reference] = Self.resolve(reference, in: schema.root)
                }
                members.values.forEach(collect)
            case .array(let elements):
                elements.forEach(collect)
            default:
                break
            }
        }
        collect(schema.root)
        self.references = references
    }

    /// Every violation of the schema by `instance`, in document order.
    public func validate(_ instance: JSONValue) -> [SchemaViolation] {
        var violations: [SchemaViolation] = []
        check(instance, against: schema.root, at: "", depth: 0, into: &violations)
        return violations
    }

    /// Every violation of the schema by the JSON text; text that is not JSON gives one
    /// `invalidJSON` violation for the whole document.
    public func validate(jsonBytes: some Collection<UInt8>) -> [SchemaViolation] {
        do {
            return validate(try JSONValue(parsing: jsonBytes))
        } catch {
            return [SchemaViolation(pointer: "", code: .invalidJSON, message: "is not valid JSON: \(error.detail)")]
        }
    }

    // MARK: - Checking

    private static let maximumDepth = 64

    private func check(_ instance: JSONValue, against schema: JSONValue, at pointer: String, depth: Int, into violations: inout [SchemaViolation]) {
        guard depth < Self.maximumDepth else {
            violations.append(SchemaViolation(pointer: pointer, code: "schemaError", message: "is nested too deeply to check"))
            return
        }
        switch schema {
        case .bool(true): return
        case .bool(false):
            violations.append(SchemaViolation(pointer: pointer, code: "invalid", message: "is not allowed"))
            return
        case .object: break
        default: return
        }
        let keywords = schema.objectValue!

        if let reference = keywords["$ref"]?.stringValue {
            if let target = resolve(reference) {
                check(instance, against: target, at: pointer, depth: depth + 1, into: &violations)
            } else {
                violations.append(SchemaViolation(pointer: pointer, code: "schemaError", message: "refers to a schema that does not exist"))
            }
        }

        if let types = keywords["type"].map(Self.typeNames), !types.isEmpty, !types.contains(where: { Self.matches(instance, type: $0) }) {
            violations.append(
                SchemaViolation(pointer: pointer, code: .type, message: "must be \(Self.describe(types: types)), not \(Self.article(instance.typeName))")
            )
            return
        }

        if let allowed = keywords["enum"]?.arrayValue, !allowed.contains(where: { Self.equal($0, instance) }) {
            let list = allowed.map { $0.jsonString() }.joined(separator: ", ")
            violations.append(SchemaViolation(pointer: pointer, code: .enum, message: "must be one of \(list)"))
        }
        if let constant = keywords["const"], !Self.equal(constant, instance) {
            violations.append(SchemaViolation(pointer: pointer, code: .const, message: "must be \(constant.jsonString())"))
        }

        switch instance {
        case .string(let text): checkString(text, keywords, pointer, &violations)
        case .integer(let integer): checkNumber(Double(integer), keywords, pointer, &violations)
        case .number(let number): checkNumber(number, keywords, pointer, &violations)
        case .object(let members): checkObject(members, keywords, pointer, depth, &violations)
        case .array(let elements): checkArray(elements, keywords, pointer, depth, &violations)
        case .null, .bool: break
        }

        for subschema in keywords["allOf"]?.arrayValue ?? [] {
            check(instance, against: subschema, at: pointer, depth: depth + 1, into: &violations)
        }
        if let alternatives = keywords["anyOf"]?.arrayValue {
            checkAlternatives(instance, alternatives, exactlyOne: false, pointer, depth, &violations)
        }
        if let alternatives = keywords["oneOf"]?.arrayValue {
            checkAlternatives(instance, alternatives, exactlyOne: true, pointer, depth, &violations)
        }
    }

    private func checkString(_ text: String, _ keywords: [String: JSONValue], _ pointer: String, _ violations: inout [SchemaViolation]) {
        // JSON Schema counts length in code points.
        let length = text.unicodeScalars.count
        if let minimum = Self.integer(keywords["minLength"]), length < minimum {
            let message = minimum == 1 ? "must not be empty" : "must be at least \(minimum) characters long"
            violations.append(SchemaViolation(pointer: pointer, code: .minLength, message: message))
        }
        if let maximum = Self.integer(keywords["maxLength"]), length > maximum {
            violations.append(SchemaViolation(pointer: pointer, code: .maxLength, message: "must be at most \(maximum) characters long"))
        } else if let maximum = Self.integer(keywords["x-maxUtf8Bytes"]), text.utf8.count > maximum {
            violations.append(SchemaViolation(pointer: pointer, code: .maxLength, message: "must be at most \(maximum) bytes of UTF-8"))
        }
        if let pattern = keywords["pattern"]?.stringValue, !Self.matches(text, pattern: pattern) {
            violations.append(SchemaViolation(pointer: pointer, code: .pattern, message: "must match the pattern \(pattern)"))
        }
        if let format = keywords["format"]?.stringValue {
            switch format {
            case "uuid" where !Self.isUUID(text):
                violations.append(
                    SchemaViolation(pointer: pointer, code: .format, message: "must be a UUID (8-4-4-4-12 hex digits)")
                )
            case "date-time" where ContractsJSON.parseTimestamp(text) == nil:
                violations.append(
                    SchemaViolation(
                        pointer: pointer,
                        code: .format,
                        message: "must be an RFC 3339 date-time with a time zone, e.g. 2025-04-01T09:30:00.000+09:00"
                    )
                )
            default: break
            }
        }
    }

    private func checkNumber(_ number: Double, _ keywords: [String: JSONValue], _ pointer: String, _ violations: inout [SchemaViolation]) {
        if let minimum = Self.double(keywords["minimum"]), number < minimum {
            violations.append(SchemaViolation(pointer: pointer, code: .minimum, message: "must be at least \(JSONWriter.format(minimum))"))
        }
        if let maximum = Self.double(keywords["maximum"]), number > maximum {
            violations.append(SchemaViolation(pointer: pointer, code: .maximum, message: "must be at most \(JSONWriter.format(maximum))"))
        }
        if let bound = Self.double(keywords["exclusiveMinimum"]), number <= bound {
            violations.append(SchemaViolation(pointer: pointer, code: .minimum, message: "must be greater than \(JSONWriter.format(bound))"))
        }
        if let bound = Self.double(keywords["exclusiveMaximum"]), number >= bound {
            violations.append(SchemaViolation(pointer: pointer, code: .maximum, message: "must be less than \(JSONWriter.format(bound))"))
        }
    }

    private func checkObject(
        _ members: [String: JSONValue],
        _ keywords: [String: JSONValue],
        _ pointer: String,
        _ depth: Int,
        _ violations: inout [SchemaViolation]
    ) {
        for case .string(let name) in keywords["required"]?.arrayValue ?? [] where members[name] == nil {
            violations.append(SchemaViolation(pointer: pointer + "/" + Self.escape(name), code: .required, message: "is required"))
        }
        let properties = keywords["properties"]?.objectValue ?? [:]
        for name in JSONWriter.sortedKeys(members.keys) {
            let memberPointer = pointer + "/" + Self.escape(name)
            if let subschema = properties[name] {
                check(members[name]!, against: subschema, at: memberPointer, depth: depth + 1, into: &violations)
            } else if let additional = keywords["additionalProperties"] {
                if additional == .bool(false) {
                    violations.append(
                        SchemaViolation(pointer: memberPointer, code: .additionalProperties, message: "is not a member this contract defines")
                    )
                } else {
                    check(members[name]!, against: additional, at: memberPointer, depth: depth + 1, into: &violations)
                }
            }
        }
    }

    private func checkArray(_ elements: [JSONValue], _ keywords: [String: JSONValue], _ pointer: String, _ depth: Int, _ violations: inout [SchemaViolation]) {
        if let minimum = Self.integer(keywords["minItems"]), elements.count < minimum {
            let message = minimum == 1 ? "must not be empty" : "must have at least \(minimum) items"
            violations.append(SchemaViolation(pointer: pointer, code: .minItems, message: message))
        }
        if let maximum = Self.integer(keywords["maxItems"]), elements.count > maximum {
            violations.append(SchemaViolation(pointer: pointer, code: .maxItems, message: "must have at most \(maximum) items"))
        }
        if let items = keywords["items"] {
            for (position, element) in elements.enumerated() {
                check(element, against: items, at: pointer + "/" + String(position), depth: depth + 1, into: &violations)
            }
        }
    }

    private func checkAlternatives(
        _ instance: JSONValue,
        _ alternatives: [JSONValue],
        exactlyOne: Bool,
        _ pointer: String,
        _ depth: Int,
        _ violations: inout [SchemaViolation]
    ) {
        let code: ViolationCode = exactlyOne ? .oneOf : .anyOf
        let results = alternatives.map { alternative in
            var found: [SchemaViolation] = []
            check(instance, against: alternative, at: pointer, depth: depth + 1, into: &found)
            return found
        }
        let passing = results.filter(\.isEmpty).count
        if passing == 1 || (passing > 1 && !exactlyOne) { return }
        if passing > 1 {
            violations.append(SchemaViolation(pointer: pointer, code: code, message: "matches more than one alternative"))
            return
        }
        // Alternatives the value has the type of: their violations say what is wrong with it.
        let typed = results.filter { found in !found.contains { $0.pointer == pointer && $0.code == .type } }
        if typed.count == 1 {
            violations.append(contentsOf: typed[0])
        } else if typed.isEmpty {
            let types = alternatives.flatMap { resolveShallow($0)["type"].map(Self.typeNames) ?? [] }
            violations.append(
                SchemaViolation(
                    pointer: pointer,
                    code: .type,
                    message: "must be \(Self.describe(types: Self.unique(types))), not \(Self.article(instance.typeName))"
                )
            )
        } else if typed.allSatisfy({ $0.allSatisfy { $0.code == .required } }) {
            let names = Self.unique(typed.flatMap { $0.map { Self.unescape($0.pointer.split(separator: "/").last.map(String.init) ?? "") } })
            violations.append(SchemaViolation(pointer: pointer, code: .required, message: "needs at least one of: \(names.joined(separator: ", "))"))
        } else {
            let reasons = typed.compactMap { $0.first.map { "\($0.pointer == pointer ? "" : $0.pointer + " ")\($0.message)" } }
            violations.append(SchemaViolation(pointer: pointer, code: code, message: "matches no alternative: \(reasons.joined(separator: "; or "))"))
        }
    }

    // MARK: - Helpers

    private func resolve(_ reference: String) -> JSONValue? {
        references[reference] ?? Self.resolve(reference, in: schema.root)
    }

    private static func resolve(_ reference: String, in root: JSONValue) -> JSONValue? {
        guard reference.hasPrefix("#") else { return nil }
        var current = root
        for token in reference.dropFirst().split(separator: "/", omittingEmptySubsequences: true) {
            let key = Self.unescape(String(token))
            switch current {
            case .object(let members):
                guard let next = members[key] else { return nil }
                current = next
            case .array(let elements):
                guard let position = Int(key), elements.indices.contains(position) else { return nil }
                current = elements[position]
            default:
                return nil
            }
        }
        return current
    }

    private func resolveShallow(_ schema: JSONValue) -> [String: JSONValue] {
        guard let keywords = schema.objectValue else { return [:] }
        if keywords["type"] == nil, let reference = keywords["$ref"]?.stringValue, let target = resolve(reference)?.objectValue {
            return target
        }
        return keywords
    }

    private static func typeNames(_ value: JSONValue) -> [String] {
        switch value {
        case .string(let name): [name]
        case .array(let names): names.compactMap(\.stringValue)
        default: []
        }
    }

    private static func matches(_ instance: JSONValue, type: String) -> Bool {
        switch (type, instance) {
        case ("null", .null), ("boolean", .bool), ("string", .string), ("array", .array), ("object", .object): true
        case ("number", .integer), ("number", .number), ("integer", .integer): true
        case ("integer", .number(let value)): value.isFinite && value.rounded() == value
        default: false
        }
    }

    private static func describe(types: [String]) -> String {
        let described = types.map(article)
        guard described.count > 1 else { return described.first ?? "valid" }
        return described.dropLast().joined(separator: ", ") + " or " + described.last!
    }

    private static func article(_ type: String) -> String {
        switch type {
        case "null": "null"
        case "integer", "object", "array": "an \(type)"
        default: "a \(type)"
        }
    }

    private static func unique(_ values: [String]) -> [String] {
        var seen: Set<String> = []
        return values.filter { seen.insert($0).inserted }
    }

    private static func equal(_ lhs: JSONValue, _ rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.integer(let a), .number(let b)), (.number(let b), .integer(let a)): Double(a) == b
        case (.array(let a), .array(let b)): a.count == b.count && zip(a, b).allSatisfy { equal($0, $1) }
        case (.object(let a), .object(let b)): a.count == b.count && a.allSatisfy { key, value in b[key].map { equal(value, $0) } ?? false }
        default: lhs == rhs
        }
    }

    private static func integer(_ value: JSONValue?) -> Int? {
        switch value {
        case .integer(let integer): Int(exactly: integer)
        case .number(let number): Int(exactly: number)
        default: nil
        }
    }

    private static func double(_ value: JSONValue?) -> Double? {
        switch value {
        case .integer(let integer): Double(integer)
        case .number(let number): number
        default: nil
        }
    }

    static func escape(_ token: String) -> String {
        token.replacing("~", with: "~0").replacing("/", with: "~1")
    }

    static func unescape(_ token: String) -> String {
        token.replacing("~1", with: "/").replacing("~0", with: "~")
    }

    private static func isUUID(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == 36 else { return false }
        for (position, byte) in bytes.enumerated() {
            if [8, 13, 18, 23].contains(position) {
                guard byte == UInt8(ascii: "-") else { return false }
            } else {
                let isHex = (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
                    || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte)
                guard isHex else { return false }
            }
        }
        return true
    }

    private static func matches(_ text: String, pattern: String) -> Bool {
        guard let regex = compiled(pattern) else { return false }
        return (try? regex.firstMatch(in: text)) != nil
    }

    private static let regexes = RegexCache()

    private static func compiled(_ pattern: String) -> Regex<AnyRegexOutput>? {
        regexes.regex(pattern)
    }
}

/// The schemas' few patterns, each compiled once. `Regex` is not `Sendable`, but a compiled
/// regex is never mutated after it is stored, so sharing it behind the lock is safe.
private final class RegexCache: @unchecked Sendable {
    private let lock = NSLock()
    private var regexes: [String: Regex<AnyRegexOutput>] = [:]

    func regex(_ pattern: String) -> Regex<AnyRegexOutput>? {
        lock.lock()
        defer { lock.unlock() }
        if let regex = regexes[pattern] { return regex }
        // ECMA-262 patterns are not anchored and work on code points.
        guard let regex = try? Regex(pattern).matchingSemantics(.unicodeScalar) else { return nil }
        regexes[pattern] = regex
        return regex
    }
}
