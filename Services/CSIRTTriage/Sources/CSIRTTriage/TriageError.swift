/// Why a triage operation was refused.
public struct TriageError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let rawValue: String
        /// No such case (or not visible to the caller).
        public static let notFound = Code(rawValue: "not-found")
        /// The caller's role may not do this.
        public static let forbidden = Code(rawValue: "forbidden")
        /// The life cycle does not allow it now.
        public static let invalidTransition = Code(rawValue: "invalid-transition")
        /// The request is incomplete or malformed.
        public static let invalidRequest = Code(rawValue: "invalid-request")
        /// It was already done (an obligation filed twice).
        public static let conflict = Code(rawValue: "conflict")
        public var description: String { rawValue }
    }

    /// One wrong member of a request, by its JSON pointer (closing without lessons, issue #18).
    public struct FieldProblem: Hashable, Sendable {
        public var field: String
        public var code: String
        public var message: String
    }

    public var code: Code
    public var detail: String
    /// The members at fault, when the refusal is about the request's fields; the API lists them
    /// as the problem's `errors`, as intake does for a report.
    public var fieldProblems: [FieldProblem]

    public init(code: Code, detail: String, fieldProblems: [FieldProblem] = []) {
        self.code = code
        self.detail = detail
        self.fieldProblems = fieldProblems
    }

    init(_ error: CaseLifecycleError) {
        switch error.code {
        case .forbidden: self.init(code: .forbidden, detail: error.detail)
        case .reasonRequired: self.init(code: .invalidRequest, detail: error.detail)
        default: self.init(code: .invalidTransition, detail: error.detail)
        }
    }

    /// Refusals never succeed by retrying.
    public var isRetriable: Bool { false }

    public var description: String { "\(code): \(detail)" }
}
