public import Foundation

/// The one canonical JSON form: what a hash is computed over, so that the same value always
/// gives the same bytes, whoever wrote it and whatever read it back.
///
/// - members sorted by the UTF-8 bytes of their names, no insignificant whitespace;
/// - UTF-8, strings escaped only where RFC 8259 requires it (`"`, `\`, control characters;
///   `/` and non-ASCII stay as they are), control characters as `\b \f \n \r \t` or `\u00xx`;
/// - a number with an integral value that fits 64 bits is written as an integer (`1.0` is `1`),
///   any other as Swift's shortest round-trip form;
/// - times (from ``ContractsJSON/encoder()``) RFC 3339 in UTC with milliseconds; UUIDs as the
///   type encodes them (the contracts' types: lowercase; a type of another module keeps
///   Foundation's upper case until the JSON policy is independent of the type, issue #14
///   item 1). The hash chains' `uuid` columns are lowercase whatever the type.
///
/// Pure code (Foundation only), so anything that hashes or signs JSON can use it.
public enum CanonicalJSON {
    /// The value `value` encodes to under the contracts' JSON policy.
    public static func value(of value: some Encodable) throws -> JSONValue {
        let bytes = try ContractsJSON.encoder().encode(value)
        return try JSONValue(parsing: bytes)
    }

    /// The canonical text of `value`.
    public static func text(of value: some Encodable) throws -> String {
        try self.value(of: value).canonicalText
    }
}

extension JSONValue {
    /// The canonical text of this value (see ``CanonicalJSON``).
    public var canonicalText: String {
        var output = ""
        writeCanonical(to: &output)
        return output
    }

    /// The canonical UTF-8 bytes of this value.
    public var canonicalData: Data { Data(canonicalText.utf8) }

    private func writeCanonical(to output: inout String) {
        switch self {
        case .null: output += "null"
        case .bool(let flag): output += flag ? "true" : "false"
        case .integer(let integer): output += String(integer)
        case .number(let number):
            if !number.isFinite {
                // JSON has no infinities; the parser and JSONEncoder never produce them.
                output += "null"
            } else if number.rounded() == number, let integer = Int64(exactly: number) {
                output += String(integer)
            } else {
                output += "\(number)"
            }
        case .string(let text): Self.writeString(text, to: &output)
        case .array(let elements):
            output += "["
            for (index, element) in elements.enumerated() {
                if index > 0 { output += "," }
                element.writeCanonical(to: &output)
            }
            output += "]"
        case .object(let members):
            output += "{"
            // Byte order of the UTF-8 names, not String's Unicode-aware ordering: other
            // languages can reproduce it without a Unicode library.
            let names = members.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            for (index, name) in names.enumerated() {
                if index > 0 { output += "," }
                Self.writeString(name, to: &output)
                output += ":"
                members[name]!.writeCanonical(to: &output)
            }
            output += "}"
        }
    }

    private static func writeString(_ text: String, to output: inout String) {
        output += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\u{08}": output += "\\b"
            case "\u{0C}": output += "\\f"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case let control where control.value < 0x20:
                let hex = String(control.value, radix: 16)
                output += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: output.unicodeScalars.append(scalar)
            }
        }
        output += "\""
    }
}
