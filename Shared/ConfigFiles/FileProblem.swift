/// One thing wrong with a configuration or data file, with where it is. Every file the services
/// load (the organisation, the duty calendar, the notification routes) reports its problems in
/// this form, all at once, so an operator fixes a file in one pass.
public struct FileProblem: Sendable, Hashable, CustomStringConvertible {
    /// The file name given to the parser.
    public var file: String
    /// 1-based line; 0 when the problem has no position (data built in code, an unreadable file).
    public var line: Int
    /// 1-based column in Unicode scalars; 0 when unknown.
    public var column: Int
    /// What is wrong, and where the rule comes from when the guideline sets it.
    public var message: String

    public init(file: String, line: Int, column: Int, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    /// `file:line:column: message`, the form compilers use, so editors can jump to it.
    public var description: String {
        line > 0 ? "\(file):\(line):\(column): \(message)" : "\(file): \(message)"
    }

    /// "`subject` has N problems:" followed by one indented line per problem.
    public static func report(_ problems: [FileProblem], subject: String) -> String {
        let count = problems.count == 1 ? "1 problem" : "\(problems.count) problems"
        return (["\(subject) has \(count):"] + problems.map { "  " + $0.description }).joined(separator: "\n")
    }
}
