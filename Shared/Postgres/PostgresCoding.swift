public import Foundation

/// A value sent to PostgreSQL as a text-format parameter.
public protocol PostgresEncodable: Sendable {
    /// The value in PostgreSQL's text input format; nil sends SQL NULL.
    var postgresText: String? { get }
}

/// A value read from a column in PostgreSQL's text output format.
public protocol PostgresDecodable {
    /// Parses a non-NULL column value; throws ``PostgresError`` with code `.decoding` when it cannot.
    init(postgresText: String) throws
}

/// A type that has a value for SQL NULL (``Optional``); other types refuse NULL.
protocol PostgresNullDecodable {
    static var postgresNull: Self { get }
}

extension PostgresError {
    static func decoding(_ text: String, as type: Any.Type) -> PostgresError {
        // The value itself stays out of the message: it may be personal data.
        PostgresError(code: .decoding, message: "cannot decode a \(text.count)-character value as \(type)")
    }
}

// MARK: Optional

/// nil is SQL NULL.
extension Optional: PostgresEncodable where Wrapped: PostgresEncodable {
    public var postgresText: String? {
        self?.postgresText ?? nil
    }
}

/// Rows decode NULL as nil into an Optional; other types refuse NULL.
extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    public init(postgresText: String) throws {
        self = .some(try Wrapped(postgresText: postgresText))
    }
}

extension Optional: PostgresNullDecodable where Wrapped: PostgresDecodable {
    static var postgresNull: Self { nil }
}

// MARK: Text and numbers

/// `text`, `varchar` and any type read as its text form.
extension String: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { self }

    public init(postgresText: String) {
        self = postgresText
    }
}

/// `boolean`: sent as `true`/`false`, read from `t`/`f`.
extension Bool: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { self ? "true" : "false" }

    public init(postgresText: String) throws {
        switch postgresText {
        case "t", "true", "TRUE", "1", "on", "yes": self = true
        case "f", "false", "FALSE", "0", "off", "no": self = false
        default: throw PostgresError.decoding(postgresText, as: Bool.self)
        }
    }
}

/// `bigint` (and smaller integer columns).
extension Int: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { String(self) }
    public init(postgresText: String) throws { self = try decodeInteger(postgresText) }
}

/// `bigint`.
extension Int64: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { String(self) }
    public init(postgresText: String) throws { self = try decodeInteger(postgresText) }
}

/// `integer`.
extension Int32: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { String(self) }
    public init(postgresText: String) throws { self = try decodeInteger(postgresText) }
}

/// `smallint`.
extension Int16: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { String(self) }
    public init(postgresText: String) throws { self = try decodeInteger(postgresText) }
}

/// Decimal text into a fixed-width integer, refusing values outside its range.
private func decodeInteger<Value: FixedWidthInteger>(_ text: String) throws -> Value {
    guard let value = Value(text) else { throw PostgresError.decoding(text, as: Value.self) }
    return value
}

/// `double precision` (also readable from `real` and `numeric`), with `NaN` and `±Infinity`.
extension Double: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? {
        if isNaN { return "NaN" }
        if isInfinite { return self < 0 ? "-Infinity" : "Infinity" }
        // Swift prints the shortest text that reads back as the same Double.
        return String(self)
    }

    public init(postgresText: String) throws {
        switch postgresText {
        case "NaN": self = .nan
        case "Infinity": self = .infinity
        case "-Infinity": self = -.infinity
        default:
            guard let value = Double(postgresText) else { throw PostgresError.decoding(postgresText, as: Double.self) }
            self = value
        }
    }
}

// MARK: UUID

/// `uuid`, sent in lower case.
extension UUID: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { uuidString.lowercased() }

    public init(postgresText: String) throws {
        guard let value = UUID(uuidString: postgresText) else { throw PostgresError.decoding(postgresText, as: UUID.self) }
        self = value
    }
}

// MARK: Arrays and bytea

/// One-dimensional arrays (`text[]`, `bigint[]`, `uuid[]`, ...) as array literals; `[UInt8]` is `bytea`.
extension Array: PostgresEncodable where Element: PostgresEncodable {
    /// A one-dimensional array literal; `[UInt8]` is the exception and encodes as `bytea`.
    public var postgresText: String? {
        // Not `self as? [UInt8]`: a conditional cast of an array copies it element by element,
        // which for the outbox's bodies was a tenth of triage's CPU (issue #16 profile). The
        // element type is known here, so its bytes are read as they are.
        if Element.self == UInt8.self { return withUnsafeBytes { PostgresBytea.encode($0) } }
        return PostgresArrayLiteral.encode(map { $0.postgresText })
    }
}

extension Array: PostgresDecodable where Element: PostgresDecodable {
    /// Parses a one-dimensional array literal; `[UInt8]` is the exception and decodes `bytea`.
    public init(postgresText: String) throws {
        if Element.self == UInt8.self {
            // The same type, so a bit cast, not an element-by-element `as!` copy.
            self = unsafeBitCast(try PostgresBytea.decode(postgresText), to: [Element].self)
            return
        }
        let elements = try PostgresArrayLiteral.decode(postgresText)
        self = try elements.map { text in
            guard let text else {
                guard let nullable = Element.self as? any PostgresNullDecodable.Type, let null = nullable.postgresNull as? Element else {
                    throw PostgresError(code: .decoding, message: "an array element is NULL but \(Element.self) is not optional")
                }
                return null
            }
            return try Element(postgresText: text)
        }
    }
}

/// A byte, so that `[UInt8]` is `bytea`; alone it is a number.
extension UInt8: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { String(self) }

    public init(postgresText: String) throws { self = try decodeInteger(postgresText) }
}

/// `bytea` in hex format.
extension Data: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { PostgresBytea.encode(self) }

    public init(postgresText: String) throws {
        self = Data(try PostgresBytea.decode(postgresText))
    }
}

/// `bytea` in hex format (`\x0aff`), the server's default output since PostgreSQL 9.0.
enum PostgresBytea {
    private static let digits = Array("0123456789abcdef".utf8)

    static func encode(_ bytes: some Collection<UInt8>) -> String {
        var utf8: [UInt8] = [UInt8(ascii: "\\"), UInt8(ascii: "x")]
        utf8.reserveCapacity(2 + bytes.count * 2)
        for byte in bytes {
            utf8.append(digits[Int(byte >> 4)])
            utf8.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: utf8, as: UTF8.self)
    }

    static func decode(_ text: String) throws -> [UInt8] {
        let utf8 = Array(text.utf8)
        guard utf8.count >= 2, utf8[0] == UInt8(ascii: "\\"), utf8[1] == UInt8(ascii: "x"), utf8.count % 2 == 0 else {
            throw PostgresError(code: .decoding, message: "bytea is not in hex format (set bytea_output = 'hex')")
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity((utf8.count - 2) / 2)
        var index = 2
        while index < utf8.count {
            guard let high = nibble(utf8[index]), let low = nibble(utf8[index + 1]) else {
                throw PostgresError(code: .decoding, message: "bytea contains a character that is not a hex digit")
            }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func nibble(_ character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): character - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): character - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): character - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
