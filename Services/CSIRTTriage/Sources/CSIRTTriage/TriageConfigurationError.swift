/// A configuration file of the triage service (severity rules, escalation policy, statutory
/// rules) that cannot be used; ``description`` names the file and line.
public struct TriageConfigurationError: Error, CustomStringConvertible, Sendable, Hashable {
    /// What kind of problem.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let rawValue: String

        /// The file is not YAML.
        public static let syntax = Code(rawValue: "syntax")
        /// A required key is missing.
        public static let missingKey = Code(rawValue: "missing-key")
        /// A value has the wrong type or is not one of the allowed values.
        public static let invalidValue = Code(rawValue: "invalid-value")
        /// A key this version does not know (a typo would otherwise be ignored silently).
        public static let unknownKey = Code(rawValue: "unknown-key")
        /// The file cannot be read.
        public static let unreadable = Code(rawValue: "unreadable")

        public var description: String { rawValue }
    }

    public var code: Code
    /// The file name as given.
    public var file: String
    /// 1-based line, when known.
    public var line: Int?
    public var detail: String

    public init(code: Code, file: String, line: Int?, detail: String) {
        self.code = code
        self.file = file
        self.line = line
        self.detail = detail
    }

    /// Configuration errors never go away by retrying.
    public var isRetriable: Bool { false }

    public var description: String {
        "\(file)\(line.map { ":\($0)" } ?? ""): \(detail) [\(code)]"
    }
}
