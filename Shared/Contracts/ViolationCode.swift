/// Why a field was refused: the code in a ``SchemaViolation`` and in the `errors` of an
/// ``IncidentReportRejected`` reply.
///
/// Schema codes are the name of the JSON Schema keyword that failed; the others come from the
/// domain rules the receiving service applies after the schema. The set is open: a producer must
/// treat an unknown code like a generic error and show its message.
public struct ViolationCode: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible, ExpressibleByStringLiteral {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }
    public var description: String { rawValue }

    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    // Schema keywords.
    /// A required member is missing.
    public static let required: Self = "required"
    /// The value has the wrong JSON type.
    public static let type: Self = "type"
    /// The value is not one of the allowed values.
    public static let `enum`: Self = "enum"
    /// The value is not the one fixed value allowed.
    public static let const: Self = "const"
    /// A string is not in the required format (uuid, date-time).
    public static let format: Self = "format"
    /// A string is too short.
    public static let minLength: Self = "minLength"
    /// A string is too long (in characters, or in UTF-8 bytes where the contract says so).
    public static let maxLength: Self = "maxLength"
    /// A number is too small.
    public static let minimum: Self = "minimum"
    /// A number is too large.
    public static let maximum: Self = "maximum"
    /// A string does not match the required pattern.
    public static let pattern: Self = "pattern"
    /// An array has too few items.
    public static let minItems: Self = "minItems"
    /// An array has too many items.
    public static let maxItems: Self = "maxItems"
    /// A member that the contract does not define.
    public static let additionalProperties: Self = "additionalProperties"
    /// The value matches none, or more than one, of the alternatives.
    public static let oneOf: Self = "oneOf"
    /// The value matches none of the alternatives.
    public static let anyOf: Self = "anyOf"
    /// The document is not JSON at all.
    public static let invalidJSON: Self = "invalidJSON"

    // Domain rules.
    /// A time lies in the future.
    public static let future: Self = "future"
    /// Times are out of order (occurred ≤ detected ≤ known).
    public static let order: Self = "order"
    /// The section code is not in the organisation directory.
    public static let unknownSection: Self = "unknownSection"
    /// The producer may not file for that section.
    public static let forbidden: Self = "forbidden"
    /// The same id was used before with different content.
    public static let conflict: Self = "conflict"
    /// The message is larger than the contract allows.
    public static let tooLarge: Self = "tooLarge"
    /// A field meant for identifiers holds personal data: a My Number in a `correlationKey`.
    public static let personalData: Self = "personalData"
}
