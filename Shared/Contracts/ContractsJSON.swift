public import Foundation
import Gregorian

/// The JSON conventions every contract uses on the wire.
///
/// Times are RFC 3339 in UTC with exactly three fractional digits
/// (`2025-04-01T09:30:00.000Z`); any RFC 3339 offset or precision is accepted on input.
/// Times therefore travel with millisecond precision. UUIDs are lowercase. Members are sorted,
/// so the same value always encodes to the same bytes.
public enum ContractsJSON {
    /// The encoder for everything that goes out: payloads, HTTP answers, ledger rows, the CLI's
    /// output. See ``ContractsJSONEncoder``.
    public static func encoder(pretty: Bool = false) -> ContractsJSONEncoder {
        ContractsJSONEncoder(pretty: pretty)
    }

    /// A decoder for payloads that accepts any RFC 3339 time.
    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = parseTimestamp(text) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an RFC 3339 date-time: \(text)")
            }
            return date
        }
        return decoder
    }

    /// Formats a time as `YYYY-MM-DDTHH:MM:SS.sssZ` (UTC, milliseconds, rounded to the nearest).
    public static func formatTimestamp(_ date: Date) -> String {
        let totalMilliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded())
        let (seconds, milliseconds) = Gregorian.floorDivide(totalMilliseconds, 1000)
        let (days, secondOfDay) = Gregorian.floorDivide(seconds, 86_400)
        let (year, month, day) = Gregorian.date(days: Int(days))
        return pad(Int64(year), 4) + "-" + pad(Int64(month), 2) + "-" + pad(Int64(day), 2) + "T"
            + pad(secondOfDay / 3600, 2) + ":" + pad(secondOfDay % 3600 / 60, 2) + ":" + pad(secondOfDay % 60, 2)
            + "." + pad(milliseconds, 3) + "Z"
    }

    /// Parses an RFC 3339 `date-time` (`T` or `t`, `Z`, `z` or a `±HH:MM` offset, any number of
    /// fractional digits). Returns nil for anything else, including impossible dates.
    public static func parseTimestamp(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        var index = 0
        func number(_ count: Int) -> Int64? {
            guard index + count <= bytes.count else { return nil }
            var value: Int64 = 0
            for byte in bytes[index..<(index + count)] {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int64(byte - UInt8(ascii: "0"))
            }
            index += count
            return value
        }
        func expect(_ characters: String) -> Bool {
            guard index < bytes.count, characters.utf8.contains(bytes[index]) else { return false }
            index += 1
            return true
        }
        guard let year = number(4), expect("-"), let month = number(2), expect("-"), let day = number(2),
            expect("Tt"), let hour = number(2), expect(":"), let minute = number(2), expect(":"), let second = number(2)
        else { return nil }
        var fraction = 0.0
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            var scale = 0.1
            let start = index
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
                fraction += Double(bytes[index] - UInt8(ascii: "0")) * scale
                scale /= 10
                index += 1
            }
            guard index > start else { return nil }
        }
        var offsetSeconds: Int64 = 0
        if expect("Zz") {
            // UTC
        } else if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
            let sign: Int64 = bytes[index] == UInt8(ascii: "-") ? -1 : 1
            index += 1
            guard let offsetHour = number(2), expect(":"), let offsetMinute = number(2), offsetHour < 24, offsetMinute < 60 else {
                return nil
            }
            offsetSeconds = sign * (offsetHour * 3600 + offsetMinute * 60)
        } else {
            return nil
        }
        guard index == bytes.count, (1...12).contains(month), day >= 1, day <= Gregorian.daysInMonth(year: Int(year), month: Int(month)),
            hour < 24, minute < 60, second <= 60
        else { return nil }
        let days = Int64(Gregorian.days(year: Int(year), month: Int(month), day: Int(day)))
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }

    /// `date` cut to the millisecond precision that survives the wire.
    public static func wirePrecision(_ date: Date) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970 * 1000).rounded() / 1000)
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}

extension UUID {
    /// The UUID as RFC 9562 writes it, lowercase: how every id goes on the wire, into URLs and
    /// into logs, so ids compare equal as strings in any language.
    public var lowercasedString: String { uuidString.lowercased() }
}
