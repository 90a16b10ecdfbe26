public import ConfigFiles
/// An error of the notifier: a bad routing file or template folder, a bad API request, a storage
/// problem. New codes may be added.
public struct NotifierError: Error, CustomStringConvertible, Sendable, Hashable {
    /// What kind of failure.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Base: String, Hashable, Sendable {
            case invalidRoutes
            case missingTemplate
            case invalidTemplate
            case invalidSettings
            case notFound
            case invalidState
            case invalidRequest
        }

        fileprivate let base: Base
        private init(_ base: Base) { self.base = base }

        /// The routing file is malformed; ``NotifierError/problems`` name the lines.
        public static let invalidRoutes = Self(.invalidRoutes)
        /// A routed event type has no template in some language (issue #5 item 6).
        public static let missingTemplate = Self(.missingTemplate)
        /// A template does not parse.
        public static let invalidTemplate = Self(.invalidTemplate)
        /// An `ISMS_NOTIFIER_*` setting is malformed.
        public static let invalidSettings = Self(.invalidSettings)
        /// No notification or silence with that id.
        public static let notFound = Self(.notFound)
        /// The operation does not apply in the row's current state (retrying a sent notification).
        public static let invalidState = Self(.invalidState)
        /// A request's body or parameters are invalid.
        public static let invalidRequest = Self(.invalidRequest)

        public var description: String { base.rawValue }
    }

    /// One problem at a place in a file: `file:line:column: message`.
    public typealias Problem = FileProblem

    public var code: Code
    public var detail: String
    /// Every problem found, for ``Code/invalidRoutes`` and ``Code/missingTemplate``.
    public var problems: [Problem]

    public init(_ code: Code, detail: String, problems: [Problem] = []) {
        self.code = code
        self.detail = detail
        self.problems = problems
    }

    public var description: String {
        ([ "\(code): \(detail)" ] + problems.map { "  " + $0.description }).joined(separator: "\n")
    }
}
