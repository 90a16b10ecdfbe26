import Contracts
import Foundation

/// How subcommands print records: a service's JSON, pretty, by the contracts' one writer.
enum CLIOutput {
    /// Prints a service's JSON answer pretty, members sorted; `key` picks one member of the
    /// top-level object (the list of `{"cases": [...]}`).
    static func json(answer data: Data, key: String? = nil) throws {
        var value = try JSONValue(parsing: Array(data))
        if let key, let member = value[key] { value = member }
        print(value.jsonString(pretty: true))
    }

    /// A service's JSON answer as an object (empty when it is not one).
    static func object(_ data: Data) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
    }

    /// The list `key` of a service's JSON answer.
    static func objects(_ data: Data, key: String) -> [[String: Any]] {
        object(data)[key] as? [[String: Any]] ?? []
    }

    /// A JSON member as table text: strings as they are, times shortened to seconds, numbers
    /// absent values as `-`.
    static func text(_ value: Any?) -> String {
        switch value {
        case let string as String:
            if string.count > 20, string.contains("T"), let date = ContractsJSON.parseTimestamp(string) { return self.date(date) }
            return string
        case let number as NSNumber: return number.stringValue
        case nil, is NSNull: return "-"
        default: return "\(value!)"
        }
    }

    /// Left-aligned columns separated by two spaces.
    static func table(_ header: [String], _ rows: [[String]]) {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        for row in all {
            print(row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[index] - cell.count)
            }.joined(separator: "  "))
        }
    }

    static func date(_ date: Date?) -> String {
        guard let date else { return "-" }
        return date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: false).timeSeparator(.colon))
    }
}
