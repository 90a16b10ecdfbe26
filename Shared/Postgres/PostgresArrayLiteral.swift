/// PostgreSQL's text form of one-dimensional arrays: `{"a,b","say \"hi\"",NULL}`.
enum PostgresArrayLiteral {
    /// Quotes every element, so commas, quotes, braces, spaces and the word NULL survive. Works
    /// on UTF-8 bytes: batches send arrays of whole documents.
    static func encode(_ elements: [String?]) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(2 + elements.reduce(0) { $0 + ($1?.utf8.count ?? 4) + 3 })
        bytes.append(UInt8(ascii: "{"))
        for (index, element) in elements.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            guard var text = element else {
                bytes.append(contentsOf: "NULL".utf8)
                continue
            }
            bytes.append(UInt8(ascii: "\""))
            text.withUTF8 { utf8 in
                // In UTF-8 these two bytes never occur inside a multi-byte character. Most
                // elements have neither and are copied in one go.
                guard utf8.contains(where: { $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) else {
                    bytes.append(contentsOf: utf8)
                    return
                }
                for byte in utf8 {
                    if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { bytes.append(UInt8(ascii: "\\")) }
                    bytes.append(byte)
                }
            }
            bytes.append(UInt8(ascii: "\""))
        }
        bytes.append(UInt8(ascii: "}"))
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The elements of a one-dimensional array literal; nil for NULL. A nested array comes back
    /// as its own literal text, so `[[Int]]` decodes element by element.
    static func decode(_ text: String) throws -> [String?] {
        var scalars = Array(text.unicodeScalars)[...]
        // Arrays whose lower bound is not 1 carry a dimension prefix: `[0:1]={a,b}`.
        if scalars.first == "[", let equals = scalars.firstIndex(of: "=") {
            scalars = scalars[(equals + 1)...]
        }
        guard scalars.first == "{", scalars.last == "}" else { throw malformed }
        var body = scalars.dropFirst().dropLast()
        var elements: [String?] = []
        if body.isEmpty { return elements }
        while true {
            elements.append(try element(&body))
            guard let separator = body.popFirst() else { return elements }
            guard separator == "," else { throw malformed }
        }
    }

    private static var malformed: PostgresError {
        PostgresError(code: .decoding, message: "malformed array literal")
    }

    private static func element(_ body: inout ArraySlice<Unicode.Scalar>) throws -> String? {
        var value = String.UnicodeScalarView()
        switch body.first {
        case "\"":
            body.removeFirst()
            while let character = body.popFirst() {
                switch character {
                case "\\":
                    guard let escaped = body.popFirst() else { throw malformed }
                    value.append(escaped)
                case "\"":
                    return String(value)
                default:
                    value.append(character)
                }
            }
            throw malformed
        case "{":
            var depth = 0
            var quoted = false
            while let character = body.popFirst() {
                value.append(character)
                if quoted {
                    if character == "\\", let escaped = body.popFirst() {
                        value.append(escaped)
                    } else if character == "\"" {
                        quoted = false
                    }
                    continue
                }
                switch character {
                case "\"": quoted = true
                case "{": depth += 1
                case "}":
                    depth -= 1
                    if depth == 0 { return String(value) }
                default: break
                }
            }
            throw malformed
        default:
            while let character = body.first, character != "," {
                body.removeFirst()
                if character == "\\", let escaped = body.popFirst() {
                    value.append(escaped)
                } else {
                    value.append(character)
                }
            }
            let text = String(value)
            return text.uppercased() == "NULL" ? nil : text
        }
    }
}
