public import Foundation
import Gregorian

/// `timestamptz` (also `timestamp` and `date`, read as UTC) with microsecond precision.
///
/// Every connection runs with `TimeZone = 'UTC'` and `DateStyle = 'ISO, MDY'`, so the server
/// writes `2024-05-01 09:30:00.123456+00`; offsets other than `+00` are still understood.
/// `infinity` and `-infinity` map to `Date.distantFuture` and `Date.distantPast`.
extension Date: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? {
        PostgresTimestamp.format(microsecondsSince1970: PostgresTimestamp.microsecondsSince1970(self))
    }

    public init(postgresText: String) throws {
        self = try PostgresTimestamp.parse(postgresText)
    }
}

enum PostgresTimestamp {
    private static let microsecondsPerSecond: Int64 = 1_000_000
    private static let secondsFrom1970To2001: Int64 = 978_307_200

    static func microsecondsSince1970(_ date: Date) -> Int64 {
        // Counting from Foundation's own epoch keeps a round trip exact to the microsecond.
        let since2001 = Int64((date.timeIntervalSinceReferenceDate * 1_000_000).rounded())
        return since2001 + secondsFrom1970To2001 * microsecondsPerSecond
    }

    static func date(microsecondsSince1970 micros: Int64) -> Date {
        let since2001 = micros - secondsFrom1970To2001 * microsecondsPerSecond
        return Date(timeIntervalSinceReferenceDate: Double(since2001) / 1_000_000)
    }

    static func format(microsecondsSince1970 micros: Int64) -> String {
        let (seconds, fraction) = Gregorian.floorDivide(micros, microsecondsPerSecond)
        let (days, secondOfDay) = Gregorian.floorDivide(seconds, 86_400)
        let (year, month, day) = Gregorian.date(days: Int(days))
        let hour = Int(secondOfDay / 3600)
        let minute = Int(secondOfDay % 3600 / 60)
        let second = Int(secondOfDay % 60)
        var text = "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2)) \(pad(hour, 2)):\(pad(minute, 2)):\(pad(second, 2))"
        if fraction != 0 {
            // Trailing zeros dropped, as the server writes them.
            var digits = pad(Int(fraction), 6)[...]
            while digits.last == "0" { digits.removeLast() }
            text += "." + digits
        }
        return text + "+00"
    }

    static func parse(_ text: String) throws -> Date {
        switch text {
        case "infinity": return .distantFuture
        case "-infinity": return .distantPast
        default: break
        }
        var scanner = Scanner(Array(text.utf8))
        guard
            let year = scanner.integer(minDigits: 4, maxDigits: 7), scanner.skip("-"),
            let month = scanner.integer(minDigits: 2, maxDigits: 2), scanner.skip("-"),
            let day = scanner.integer(minDigits: 2, maxDigits: 2),
            (1...12).contains(month), (1...31).contains(day)
        else { throw PostgresError.decoding(text, as: Date.self) }

        var secondOfDay: Int64 = 0
        var micros: Int64 = 0
        var offsetSeconds: Int64 = 0
        if scanner.skip(" ") || scanner.skip("T") {
            guard
                let hour = scanner.integer(minDigits: 2, maxDigits: 2), scanner.skip(":"),
                let minute = scanner.integer(minDigits: 2, maxDigits: 2), scanner.skip(":"),
                let second = scanner.integer(minDigits: 2, maxDigits: 2),
                hour <= 24, minute < 60, second <= 60
            else { throw PostgresError.decoding(text, as: Date.self) }
            secondOfDay = Int64(hour * 3600 + minute * 60 + second)
            if scanner.skip(".") {
                var digits = 0
                while let digit = scanner.digit() {
                    // Digits past the sixth cannot come from PostgreSQL; they are ignored.
                    if digits < 6 { micros = micros * 10 + Int64(digit) }
                    digits += 1
                }
                guard digits > 0 else { throw PostgresError.decoding(text, as: Date.self) }
                for _ in digits..<max(digits, 6) { micros *= 10 }
            }
            if let sign = scanner.sign() {
                guard let hours = scanner.integer(minDigits: 2, maxDigits: 2) else { throw PostgresError.decoding(text, as: Date.self) }
                var offset = hours * 3600
                if scanner.skip(":"), let minutes = scanner.integer(minDigits: 2, maxDigits: 2) {
                    offset += minutes * 60
                    if scanner.skip(":"), let seconds = scanner.integer(minDigits: 2, maxDigits: 2) {
                        offset += seconds
                    }
                }
                offsetSeconds = Int64(sign * offset)
            } else if scanner.skip("Z") {
                offsetSeconds = 0
            }
        }
        // " BC" years and anything else unexpected land here.
        guard scanner.isAtEnd else { throw PostgresError.decoding(text, as: Date.self) }
        let seconds = Int64(Gregorian.days(year: year, month: month, day: day)) * 86_400 + secondOfDay - offsetSeconds
        return date(microsecondsSince1970: seconds * microsecondsPerSecond + micros)
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }

    /// A cursor over ASCII bytes.
    private struct Scanner {
        let bytes: [UInt8]
        var index = 0

        init(_ bytes: [UInt8]) {
            self.bytes = bytes
        }

        var isAtEnd: Bool { index == bytes.count }

        mutating func skip(_ character: Unicode.Scalar) -> Bool {
            guard index < bytes.count, bytes[index] == UInt8(ascii: character) else { return false }
            index += 1
            return true
        }

        mutating func digit() -> Int? {
            guard index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) else { return nil }
            defer { index += 1 }
            return Int(bytes[index] - UInt8(ascii: "0"))
        }

        mutating func integer(minDigits: Int, maxDigits: Int) -> Int? {
            let start = index
            var value = 0
            while index - start < maxDigits, let digit = digit() {
                value = value * 10 + digit
            }
            guard index - start >= minDigits else {
                index = start
                return nil
            }
            return value
        }

        mutating func sign() -> Int? {
            if skip("+") { return 1 }
            if skip("-") { return -1 }
            return nil
        }
    }
}
