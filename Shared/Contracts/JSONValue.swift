/// A JSON document held as a value: what envelopes carry in their extension attributes, what
/// schemas are made of, and what ``JSONSchemaValidator`` checks.
///
/// Integers without a fraction or exponent that fit 64 bits stay ``integer(_:)``, so that a
/// count read from the wire is never rounded through a `Double`.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .integer(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(nilLiteral: ()) { self = .null }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}

extension JSONValue {
    /// The string, when the value is one.
    public var stringValue: String? {
        if case .string(let value) = self { value } else { nil }
    }

    /// The members, when the value is an object.
    public var objectValue: [String: JSONValue]? {
        if case .object(let value) = self { value } else { nil }
    }

    /// The elements, when the value is an array.
    public var arrayValue: [JSONValue]? {
        if case .array(let value) = self { value } else { nil }
    }

    /// The JSON type name of the value as JSON Schema spells it (`integer` for whole numbers).
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .integer: "integer"
        case .number(let value): value.rounded() == value && value.isFinite ? "integer" : "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    /// The member at `key`, when the value is an object that has it.
    public subscript(key: String) -> JSONValue? {
        objectValue?[key]
    }
}

extension JSONValue: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let flag = try? container.decode(Bool.self) {
            self = .bool(flag)
        } else if let integer = try? container.decode(Int64.self) {
            self = .integer(integer)
        } else if let number = try? container.decode(Double.self) {
            self = .number(number)
        } else if let text = try? container.decode(String.self) {
            self = .string(text)
        } else if let elements = try? container.decode([JSONValue].self) {
            self = .array(elements)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let flag): try container.encode(flag)
        case .integer(let integer): try container.encode(integer)
        case .number(let number): try container.encode(number)
        case .string(let text): try container.encode(text)
        case .array(let elements): try container.encode(elements)
        case .object(let members): try container.encode(members)
        }
    }
}

// MARK: - Parsing

extension JSONValue {
    /// Parses a complete JSON text (RFC 8259). Duplicate member names are an error, since a
    /// CloudEvents attribute may appear only once. A leading UTF-8 byte order mark is ignored.
    public init(parsing bytes: some Collection<UInt8>) throws(ContractError) {
        var parser = JSONParser(Array(bytes))
        self = try parser.parseDocument()
    }

    /// Parses a complete JSON text from a string.
    public init(parsing text: String) throws(ContractError) {
        try self.init(parsing: Array(text.utf8))
    }
}

/// A strict recursive-descent JSON parser that also remembers where each top-level member's
/// value starts and ends, so an envelope's `data` can be kept as the producer's own bytes.
struct JSONParser {
    private let bytes: [UInt8]
    private var index: Int
    private var depth = 0
    /// The byte range of each member value of the top-level object.
    private(set) var topLevelRanges: [String: Range<Int>] = [:]

    static let maximumDepth = 128

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
        // RFC 8259 §8.1: parsers MAY ignore a byte order mark.
        self.index = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
    }

    /// The bytes of `range`, as they were received.
    func slice(_ range: Range<Int>) -> [UInt8] { Array(bytes[range]) }

    mutating func parseDocument() throws(ContractError) -> JSONValue {
        skipWhitespace()
        let value = try parseValue()
        skipWhitespace()
        guard index == bytes.count else { throw failure("unexpected content after the JSON value") }
        return value
    }

    private func failure(_ detail: String) -> ContractError {
        ContractError(.invalidJSON, detail: "\(detail) at byte \(index)")
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private mutating func parseValue() throws(ContractError) -> JSONValue {
        guard index < bytes.count else { throw failure("unexpected end of input") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw failure("unexpected character")
        }
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(ContractError) {
        let count = literal.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw failure("unexpected end of input") }
        let matches = literal.withUTF8Buffer { expected in
            expected.elementsEqual(bytes[index..<(index + count)])
        }
        guard matches else { throw failure("invalid literal") }
        index += count
    }

    private mutating func enter() throws(ContractError) {
        depth += 1
        guard depth <= Self.maximumDepth else { throw failure("nesting deeper than \(Self.maximumDepth)") }
    }

    private mutating func parseObject() throws(ContractError) -> JSONValue {
        try enter()
        defer { depth -= 1 }
        let isTopLevel = depth == 1
        index += 1
        var members: [String: JSONValue] = [:]
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw failure("expected a member name") }
            let key = try parseString()
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw failure("expected ':'") }
            index += 1
            skipWhitespace()
            let start = index
            let value = try parseValue()
            guard members.updateValue(value, forKey: key) == nil else {
                throw failure("duplicate member \"\(key)\"")
            }
            if isTopLevel { topLevelRanges[key] = start..<index }
            skipWhitespace()
            guard index < bytes.count else { throw failure("unexpected end of input") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
            } else if bytes[index] == UInt8(ascii: "}") {
                index += 1
                return .object(members)
            } else {
                throw failure("expected ',' or '}'")
            }
        }
    }

    private mutating func parseArray() throws(ContractError) -> JSONValue {
        try enter()
        defer { depth -= 1 }
        index += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue())
            skipWhitespace()
            guard index < bytes.count else { throw failure("unexpected end of input") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
            } else if bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .array(elements)
            } else {
                throw failure("expected ',' or ']'")
            }
        }
    }

    private mutating func parseString() throws(ContractError) -> String {
        index += 1
        // Most strings have no escape: validated as UTF-8 in one go and returned as they are.
        // Text is built in a `String`, not a `UnicodeScalarView`: appending a run to a scalar
        // view went scalar by scalar and was a fifth of the notifier's CPU (issue #16 profile).
        var text = ""
        var runStart = index
        func run(_ end: Int) throws(ContractError) -> String {
            guard end > runStart else { return "" }
            guard let run = String(validating: bytes[runStart..<end], as: UTF8.self) else { throw failure("invalid UTF-8 in a string") }
            return run
        }
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                let last = try run(index)
                index += 1
                if text.isEmpty { return last }
                text += last
                return text
            case UInt8(ascii: "\\"):
                text += try run(index)
                index += 1
                text.unicodeScalars.append(try parseEscape())
                runStart = index
            case 0x00..<0x20:
                throw failure("unescaped control character in a string")
            default:
                index += 1
            }
        }
        throw failure("unterminated string")
    }

    private mutating func parseEscape() throws(ContractError) -> Unicode.Scalar {
        guard index < bytes.count else { throw failure("unterminated escape") }
        let byte = bytes[index]
        index += 1
        switch byte {
        case UInt8(ascii: "\""): return "\""
        case UInt8(ascii: "\\"): return "\\"
        case UInt8(ascii: "/"): return "/"
        case UInt8(ascii: "b"): return "\u{08}"
        case UInt8(ascii: "f"): return "\u{0C}"
        case UInt8(ascii: "n"): return "\n"
        case UInt8(ascii: "r"): return "\r"
        case UInt8(ascii: "t"): return "\t"
        case UInt8(ascii: "u"):
            let high = try parseHex4()
            if (0xD800...0xDBFF).contains(high) {
                guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                    throw failure("unpaired surrogate")
                }
                index += 2
                let low = try parseHex4()
                guard (0xDC00...0xDFFF).contains(low) else { throw failure("unpaired surrogate") }
                let value = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
                guard let scalar = Unicode.Scalar(value) else { throw failure("invalid escape") }
                return scalar
            }
            guard let scalar = Unicode.Scalar(high) else { throw failure("unpaired surrogate") }
            return scalar
        default:
            throw failure("invalid escape")
        }
    }

    private mutating func parseHex4() throws(ContractError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw failure("truncated \\u escape") }
        var value: UInt32 = 0
        for byte in bytes[index..<(index + 4)] {
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw failure("invalid \\u escape")
            }
            value = value << 4 | UInt32(digit)
        }
        index += 4
        return value
    }

    private mutating func parseNumber() throws(ContractError) -> JSONValue {
        let start = index
        var isInteger = true
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count else { throw failure("truncated number") }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else if isDigit(bytes[index]) {
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        } else {
            throw failure("invalid number")
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            guard index < bytes.count, isDigit(bytes[index]) else { throw failure("invalid number") }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            isInteger = false
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < bytes.count, isDigit(bytes[index]) else { throw failure("invalid number") }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        if isInteger, let integer = Int64(text) { return .integer(integer) }
        guard let double = Double(text), double.isFinite else { throw failure("number out of range") }
        return .number(double)
    }

    private func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }
}

// MARK: - Writing

extension JSONValue {
    /// The value as JSON text: members sorted by name (byte order of their UTF-8), no escaped
    /// slashes, non-ASCII characters as UTF-8. The same value always gives the same bytes.
    public func jsonBytes(pretty: Bool = false) -> [UInt8] {
        var writer = JSONWriter(pretty: pretty)
        writer.write(self)
        return writer.output
    }

    /// The value as JSON text; see ``jsonBytes(pretty:)``.
    public func jsonString(pretty: Bool = false) -> String {
        String(decoding: jsonBytes(pretty: pretty), as: UTF8.self)
    }
}

/// Writes JSON with a stable layout: sorted members, two-space indentation when pretty.
struct JSONWriter {
    let pretty: Bool
    private(set) var output: [UInt8] = []
    private var level = 0

    init(pretty: Bool) {
        self.pretty = pretty
    }

    mutating func write(_ value: JSONValue) {
        switch value {
        case .null: append("null")
        case .bool(let flag): append(flag ? "true" : "false")
        case .integer(let integer): append(String(integer))
        case .number(let double): append(Self.format(double))
        case .string(let string): writeString(string)
        case .array(let elements):
            writeContainer(open: "[", close: "]", count: elements.count) { writer, position in
                writer.write(elements[position])
            }
        case .object(let members):
            let keys = Self.sortedKeys(members.keys)
            writeContainer(open: "{", close: "}", count: keys.count) { writer, position in
                writer.writeString(keys[position])
                writer.append(writer.pretty ? ": " : ":")
                writer.write(members[keys[position]]!)
            }
        }
    }

    /// Writes an object whose members are already JSON text; used to splice a payload in as received.
    mutating func writeObject(rawMembers: [(key: String, json: [UInt8])]) {
        let sorted = rawMembers.sorted { Self.precedes($0.key, $1.key) }
        writeContainer(open: "{", close: "}", count: sorted.count) { writer, position in
            writer.writeString(sorted[position].key)
            writer.append(writer.pretty ? ": " : ":")
            writer.output.append(contentsOf: sorted[position].json)
        }
    }

    static func sortedKeys(_ keys: some Sequence<String>) -> [String] {
        keys.sorted(by: precedes)
    }

    static func precedes(_ lhs: String, _ rhs: String) -> Bool {
        lhs.utf8.lexicographicallyPrecedes(rhs.utf8)
    }

    /// An integral value that fits 64 bits as an integer (`1.0` is `1`), any other finite one in
    /// Swift's shortest round-trip form; JSON has no infinities or NaN, which become `null`.
    static func format(_ double: Double) -> String {
        guard double.isFinite else { return "null" }
        if double.rounded() == double, let integer = Int64(exactly: double) { return String(integer) }
        return "\(double)"
    }

    private mutating func writeContainer(open: Character, close: Character, count: Int, element: (inout JSONWriter, Int) -> Void) {
        append(String(open))
        guard count > 0 else {
            append(String(close))
            return
        }
        level += 1
        for position in 0..<count {
            if position > 0 { append(",") }
            newline()
            element(&self, position)
        }
        level -= 1
        newline()
        append(String(close))
    }

    private mutating func newline() {
        guard pretty else { return }
        output.append(0x0A)
        output.append(contentsOf: repeatElement(UInt8(ascii: " "), count: level * 2))
    }

    private mutating func append(_ text: String) {
        output.append(contentsOf: text.utf8)
    }

    private mutating func writeString(_ string: String) {
        output.append(UInt8(ascii: "\""))
        var string = string
        string.withUTF8 { utf8 in
            // Most strings need no escape and are copied in one go.
            guard utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) else {
                output.append(contentsOf: utf8)
                return
            }
            writeEscaped(utf8)
        }
        output.append(UInt8(ascii: "\""))
    }

    private mutating func writeEscaped(_ utf8: UnsafeBufferPointer<UInt8>) {
        for byte in utf8 {
            switch byte {
            case UInt8(ascii: "\""): append("\\\"")
            case UInt8(ascii: "\\"): append("\\\\")
            case 0x0A: append("\\n")
            case 0x0D: append("\\r")
            case 0x09: append("\\t")
            case 0x08: append("\\b")
            case 0x0C: append("\\f")
            case 0x00..<0x20:
                let hex = String(byte, radix: 16)
                append("\\u" + String(repeating: "0", count: 4 - hex.count) + hex)
            default: output.append(byte)
            }
        }
    }
}
