/// Why a contractor-monitor operation failed.
public struct ContractorMonitorError: Error, CustomStringConvertible, Sendable {
    /// What went wrong; extensible.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        public var description: String { name }

        /// A request broke a rule (unknown section, wrong contract kind, missing handlers, ...).
        public static let invalidRequest = Code(name: "invalidRequest")
        /// Something named does not exist (or is not visible to the caller).
        public static let notFound = Code(name: "notFound")
        /// The caller's role or unit does not allow this.
        public static let forbidden = Code(name: "forbidden")
        /// The same thing was recorded before (contract reference, attestation period).
        public static let conflict = Code(name: "conflict")
        /// The baseline file or settings are wrong.
        public static let invalidConfiguration = Code(name: "invalidConfiguration")
        /// Stored data does not read back.
        public static let corruptData = Code(name: "corruptData")
    }

    public var code: Code
    /// What exactly, for the caller; never personal data.
    public var detail: String
    /// Every problem when there are several (field-level validation).
    public var problems: [String]

    public init(_ code: Code, _ detail: String, problems: [String] = []) {
        self.code = code
        self.detail = detail
        self.problems = problems
    }

    /// Whether trying again unchanged could succeed.
    public var isRetriable: Bool { false }
    public var isNotFound: Bool { code == .notFound }
    public var isForbidden: Bool { code == .forbidden }
    public var isConflict: Bool { code == .conflict }
    public var isInvalidRequest: Bool { code == .invalidRequest }

    public var description: String { "\(code): \(detail)" + (problems.isEmpty ? "" : " (\(problems.joined(separator: "; ")))") }
}
