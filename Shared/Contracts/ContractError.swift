/// Why a message does not meet its contract.
///
/// Every contract error is permanent: the same bytes fail the same way on every delivery, so a
/// consumer dead-letters the message at once instead of retrying it.
public struct ContractError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of contract failure this is. Extensible: match on the known values, and keep a
    /// default branch for ones added later.
    public struct Code: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The bytes are not one well-formed JSON text.
        public static let invalidJSON = Code(rawValue: "invalidJSON")
        /// A required CloudEvents attribute is absent.
        public static let missingAttribute = Code(rawValue: "missingAttribute")
        /// An attribute is present but has the wrong JSON type or an invalid value.
        public static let invalidAttribute = Code(rawValue: "invalidAttribute")
        /// `specversion` is not `1.0`.
        public static let unsupportedSpecVersion = Code(rawValue: "unsupportedSpecVersion")
        /// The message or its data is not JSON (`content_type`, `datacontenttype`, `data_base64`).
        public static let unsupportedContentType = Code(rawValue: "unsupportedContentType")
        /// The envelope's `type` is not the one the caller asked for.
        public static let typeMismatch = Code(rawValue: "typeMismatch")
        /// An AMQP property or header disagrees with the envelope it carries.
        public static let attributeMismatch = Code(rawValue: "attributeMismatch")
        /// The `data` member is absent or does not decode into the payload type.
        public static let invalidPayload = Code(rawValue: "invalidPayload")
        /// No exchange and routing key are known for the message type.
        public static let unroutable = Code(rawValue: "unroutable")
        /// The payload could not be encoded.
        public static let encodingFailed = Code(rawValue: "encodingFailed")
    }

    /// The kind of failure.
    public var code: Code
    /// The CloudEvents attribute, AMQP property or header concerned, when there is one.
    public var attribute: String?
    /// A human-readable explanation, safe to log (it never quotes payload content).
    public var detail: String

    public init(_ code: Code, attribute: String? = nil, detail: String) {
        self.code = code
        self.attribute = attribute
        self.detail = detail
    }

    /// Always false: retrying the same bytes cannot succeed.
    public var isRetriable: Bool { false }

    public var description: String {
        if let attribute { "\(code) (\(attribute)): \(detail)" } else { "\(code): \(detail)" }
    }
}
