/// SQL with parameters: every interpolated value becomes `$n` and travels separately, so no
/// value is ever spliced into the SQL text.
///
/// ```swift
/// let result = try connection.query("SELECT name FROM intake.incident WHERE id = \(id)")
/// ```
///
/// `\(unescaped: name)` splices trusted SQL, such as an identifier our own code built.
public struct PostgresQuery: ExpressibleByStringInterpolation, Sendable, CustomStringConvertible {
    /// The SQL text with `$1`, `$2`, ... placeholders.
    public var sql: String
    /// The parameters in text format; nil is SQL NULL.
    public var binds: [String?]

    /// SQL built at run time together with its parameters. The caller guarantees that `sql`
    /// holds no untrusted text.
    public init(unsafeSQL sql: String, binds: [String?] = []) {
        self.sql = sql
        self.binds = binds
    }

    /// SQL without parameters.
    public init(stringLiteral value: String) {
        self.sql = value
        self.binds = []
    }

    /// SQL with `\(value)` parameters and `\(unescaped: sql)` fragments.
    public init(stringInterpolation: StringInterpolation) {
        self.sql = stringInterpolation.sql
        self.binds = stringInterpolation.binds
    }

    /// Appends trusted SQL text (for queries built in a loop, such as multi-row INSERTs).
    public mutating func append(unescaped sql: String) {
        self.sql += sql
    }

    /// Appends `value` as the next parameter placeholder (`$n`).
    public mutating func append(bind value: some PostgresEncodable) {
        binds.append(value.postgresText)
        sql += "$\(binds.count)"
    }

    /// The SQL and the number of parameters, never their values.
    public var description: String {
        binds.isEmpty ? sql : "\(sql) [\(binds.count) parameters]"
    }

    /// Collects the SQL text and the parameters of an interpolated query.
    public struct StringInterpolation: StringInterpolationProtocol {
        var sql: String
        var binds: [String?]

        /// Reserves room for the text and parameters.
        public init(literalCapacity: Int, interpolationCount: Int) {
            sql = ""
            sql.reserveCapacity(literalCapacity + interpolationCount * 3)
            binds = []
            binds.reserveCapacity(interpolationCount)
        }

        /// Appends literal SQL text.
        public mutating func appendLiteral(_ literal: String) {
            sql += literal
        }

        /// Binds `value` as the next parameter.
        public mutating func appendInterpolation(_ value: some PostgresEncodable) {
            bind(value.postgresText)
        }

        /// Binds `optional` as the next parameter; nil is SQL NULL.
        public mutating func appendInterpolation(_ optional: (some PostgresEncodable)?) {
            bind(optional?.postgresText ?? nil)
        }

        /// Splices trusted SQL (identifiers and fragments our own code built) into the text.
        public mutating func appendInterpolation(unescaped sql: String) {
            self.sql += sql
        }

        private mutating func bind(_ text: String?) {
            binds.append(text)
            sql += "$\(binds.count)"
        }
    }
}
