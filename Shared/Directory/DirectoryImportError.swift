public import ConfigFiles

/// Everything wrong with an organisation file (or an ``Organisation`` built in code), all at once.
public struct DirectoryImportError: Error, CustomStringConvertible, Sendable, Hashable {
    /// One thing wrong, with where it is.
    public typealias Problem = FileProblem

    /// The problems, in file order.
    public var problems: [Problem]

    public init(problems: [Problem]) {
        self.problems = problems
    }

    public var description: String { FileProblem.report(problems, subject: "organisation data") }
}

/// An error from the directory's storage or tokens.
public struct DirectoryError: Error, CustomStringConvertible, Sendable, Hashable {
    /// What kind of failure; new codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Base: String, Hashable, Sendable {
            case unknownUnit
            case roleUnitMismatch
            case corruptData
        }

        fileprivate let base: Base

        /// A unit code that names no section or department.
        public static let unknownUnit = Code(base: .unknownUnit)
        /// A unit of the wrong kind for the role, or a unit given to a ward-wide role.
        public static let roleUnitMismatch = Code(base: .roleUnitMismatch)
        /// A stored row the code cannot read (for example a role this version does not know).
        public static let corruptData = Code(base: .corruptData)

        public var description: String { base.rawValue }
    }

    /// What kind of failure.
    public var code: Code
    /// Human-readable detail.
    public var detail: String

    public init(code: Code, detail: String) {
        self.code = code
        self.detail = detail
    }

    /// Whether retrying the same call could succeed: never, these are all about the input or data.
    public var isRetriable: Bool { false }

    public var description: String { "\(code): \(detail)" }
}
