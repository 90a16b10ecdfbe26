/// One row of a result, every value in PostgreSQL's text format.
public struct PostgresRow: Sendable {
    let columns: PostgresColumns
    let values: [String?]

    /// Decodes the column named `column`. `Optional` types decode NULL as nil; any other type
    /// throws ``PostgresError`` with code `.decoding` naming the column.
    public func decode<T: PostgresDecodable>(_ column: String, as: T.Type = T.self) throws -> T {
        guard let index = columns.index(of: column) else {
            throw PostgresError(code: .decoding, message: "the result has no column \"\(column)\"")
        }
        return try decode(index, as: T.self)
    }

    /// Decodes the column at `index` (0-based).
    public func decode<T: PostgresDecodable>(_ index: Int, as: T.Type = T.self) throws -> T {
        guard values.indices.contains(index) else {
            throw PostgresError(code: .decoding, message: "the result has no column \(index); it has \(values.count)")
        }
        let name = columns.names[index]
        guard let text = values[index] else {
            if let nullable = T.self as? any PostgresNullDecodable.Type, let null = nullable.postgresNull as? T {
                return null
            }
            throw PostgresError(code: .decoding, message: "column \"\(name)\" is NULL but \(T.self) is not optional")
        }
        do {
            return try T(postgresText: text)
        } catch var error as PostgresError {
            error.message = "column \"\(name)\": \(error.message)"
            throw error
        }
    }

    /// The raw text of the column named `column`; nil for NULL or a missing column.
    public subscript(column: String) -> String? {
        guard let index = columns.index(of: column) else { return nil }
        return values[index]
    }

    /// The column names, in result order.
    public var columnNames: [String] {
        columns.names
    }
}

/// The column names shared by every row of one result.
final class PostgresColumns: Sendable {
    let names: [String]
    private let indexByName: [String: Int]

    init(names: [String]) {
        self.names = names
        var indexByName: [String: Int] = [:]
        // With duplicate names the first column wins, as in most drivers.
        for (index, name) in names.enumerated() where indexByName[name] == nil {
            indexByName[name] = index
        }
        self.indexByName = indexByName
    }

    func index(of name: String) -> Int? {
        indexByName[name]
    }
}

/// The rows a command returned and the row count of its command tag.
public struct PostgresResult: Sendable, Sequence {
    /// The rows, in the order the server sent them.
    public var rows: [PostgresRow]
    /// Rows inserted, updated, deleted, selected, ... according to the command tag.
    public var affectedRows: Int

    /// A result built by hand (test doubles).
    public init(rows: [PostgresRow] = [], affectedRows: Int = 0) {
        self.rows = rows
        self.affectedRows = affectedRows
    }

    /// Iterates over ``rows``.
    public func makeIterator() -> IndexingIterator<[PostgresRow]> {
        rows.makeIterator()
    }

    /// The first row, if any.
    public var first: PostgresRow? {
        rows.first
    }

    init(_ result: LibPQResult) {
        let columns = PostgresColumns(names: (0..<result.columnCount).map(result.columnName))
        let columnCount = result.columnCount
        var rows: [PostgresRow] = []
        rows.reserveCapacity(result.rowCount)
        for row in 0..<result.rowCount {
            rows.append(PostgresRow(columns: columns, values: (0..<columnCount).map { result.value(row: row, column: $0) }))
        }
        self.rows = rows
        self.affectedRows = result.affectedRows
    }
}
