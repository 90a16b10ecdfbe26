import Foundation

/// A `Codable` value stored in a `json` or `jsonb` column.
///
/// Keys are written sorted, and dates as ISO 8601 with fractional seconds, so stored documents
/// are stable and readable from SQL.
public struct PostgresJSON<Value: Codable & Sendable>: PostgresEncodable, PostgresDecodable, Sendable {
    /// The decoded document.
    public var value: Value

    /// Wraps `value` for binding as a parameter.
    public init(_ value: Value) {
        self.value = value
    }

    /// The value as compact JSON.
    public var postgresText: String? {
        // Encoding a Codable value only fails for values JSON cannot hold (such as a NaN Double);
        // such a bug should surface where the value is built, not as a silent NULL.
        do {
            let data = try Self.makeEncoder().encode(value)
            return String(decoding: data, as: UTF8.self)
        } catch {
            preconditionFailure("PostgresJSON could not encode \(Value.self): \(error)")
        }
    }

    /// Decodes `json` or `jsonb` text.
    public init(postgresText: String) throws {
        do {
            value = try Self.makeDecoder().decode(Value.self, from: Data(postgresText.utf8))
        } catch {
            throw PostgresError(code: .decoding, message: "cannot decode JSON as \(Value.self): \(error)")
        }
    }

    private static func makeEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(fractionalISO8601.format(date))
        }
        return encoder
    }

    private static func makeDecoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            if let date = (try? fractionalISO8601.parse(text)) ?? (try? wholeSecondISO8601.parse(text)) {
                return date
            }
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an ISO 8601 date")
        }
        return decoder
    }
}

private let fractionalISO8601 = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
private let wholeSecondISO8601 = Date.ISO8601FormatStyle()

extension PostgresJSON: Equatable where Value: Equatable {}
extension PostgresJSON: Hashable where Value: Hashable {}
