public import Foundation
import Gregorian

/// A date on the civil (proleptic Gregorian) calendar with no time and no time zone: a day as
/// people in Japan name it. Years 1 through 9999.
///
/// Conversions from and to instants use Japan Standard Time, UTC+9, computed directly rather
/// than through `TimeZone`: Japan has kept UTC+9 without daylight saving since 1952, and the
/// arithmetic needs no tz database in the container.
public struct CivilDate: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// The year, 1-9999.
    public let year: Int
    /// The month, 1-12.
    public let month: Int
    /// The day of the month, 1 through the length of the month.
    public let day: Int

    /// The date `year`-`month`-`day`; traps unless it exists (use ``isValid(year:month:day:)``
    /// or ``init(iso:)`` for input).
    public init(year: Int, month: Int, day: Int) {
        precondition(Self.isValid(year: year, month: month, day: day), "no such date: \(year)-\(month)-\(day)")
        self.year = year
        self.month = month
        self.day = day
    }

    /// Parses an ISO 8601 calendar date, exactly "YYYY-MM-DD"; nil if malformed or nonexistent.
    public init?(iso: some StringProtocol) {
        let bytes = Array(iso.utf8)
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-") else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for byte in bytes[range] {
                guard byte &- UInt8(ascii: "0") < 10 else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            Self.isValid(year: year, month: month, day: day)
        else { return nil }
        self.init(year: year, month: month, day: day)
    }

    /// The date `daysSince1970` days after 1970-01-01 (negative: before it).
    public init(daysSince1970: Int) {
        let (year, month, day) = Gregorian.date(days: daysSince1970)
        self.init(year: year, month: month, day: day)
    }

    /// Days from 1970-01-01 to this date (negative before it).
    public var daysSince1970: Int {
        Gregorian.days(year: year, month: month, day: day)
    }

    /// "YYYY-MM-DD".
    public var iso: String {
        func pad(_ value: Int, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
    }

    /// The ISO form, "YYYY-MM-DD".
    public var description: String { iso }

    /// The date `days` days later (earlier when negative).
    public func adding(days: Int) -> CivilDate {
        CivilDate(daysSince1970: daysSince1970 + days)
    }

    /// The same day `months` months later (earlier when negative), or the last day of that
    /// month when it is shorter: 2026-01-31 + 1 month = 2026-02-28.
    public func adding(months: Int) -> CivilDate {
        let index = year * 12 + (month - 1) + months
        let newYear = index >= 0 ? index / 12 : (index - 11) / 12
        let newMonth = index - newYear * 12 + 1
        return CivilDate(
            year: newYear,
            month: newMonth,
            day: min(day, Self.daysInMonth(year: newYear, month: newMonth))
        )
    }

    /// The same day `years` years later (earlier when negative); 29 February becomes 28
    /// February in a common year.
    public func adding(years: Int) -> CivilDate {
        adding(months: years * 12)
    }

    /// Days from this date to `other`: positive when `other` is later.
    public func days(until other: CivilDate) -> Int {
        other.daysSince1970 - daysSince1970
    }

    /// The day of the week.
    public var weekday: Weekday {
        // 1970-01-01 was a Thursday.
        let index = ((daysSince1970 + 4) % 7 + 7) % 7
        return Weekday(rawValue: index + 1)!
    }

    /// The number of days in this date's month.
    public var daysInMonth: Int { Self.daysInMonth(year: year, month: month) }

    /// The first day of this date's month.
    public var firstOfMonth: CivilDate { CivilDate(year: year, month: month, day: 1) }

    /// The last day of this date's month.
    public var lastOfMonth: CivilDate { CivilDate(year: year, month: month, day: daysInMonth) }

    /// The date in Japan at `date`.
    public static func inTokyo(_ date: Date) -> CivilDate {
        let seconds = date.timeIntervalSince1970 + Double(tokyoOffsetSeconds)
        precondition(seconds.isFinite, "not a finite instant")
        return CivilDate(daysSince1970: Int((seconds / 86_400).rounded(.down)))
    }

    /// Today in Japan.
    public static func todayInTokyo(now: Date = Date()) -> CivilDate {
        inTokyo(now)
    }

    /// The instant this day begins in Japan (00:00 JST).
    public func startInTokyo() -> Date {
        Date(timeIntervalSince1970: Double(daysSince1970 * 86_400 - Self.tokyoOffsetSeconds))
    }

    /// The instant this day ends in Japan: the start of the next day, 00:00 JST.
    public func endInTokyo() -> Date {
        adding(days: 1).startInTokyo()
    }

    /// Whether `year` is a Gregorian leap year.
    public static func isLeapYear(_ year: Int) -> Bool { Gregorian.isLeapYear(year) }

    /// The number of days in `month` of `year`.
    public static func daysInMonth(year: Int, month: Int) -> Int { Gregorian.daysInMonth(year: year, month: month) }

    /// Whether `year`-`month`-`day` is a date in years 1-9999.
    public static func isValid(year: Int, month: Int, day: Int) -> Bool {
        (1...9999).contains(year) && (1...12).contains(month) && day >= 1
            && day <= daysInMonth(year: year, month: month)
    }

    public static func < (lhs: CivilDate, rhs: CivilDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    /// Decodes the ISO form, "YYYY-MM-DD".
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let date = CivilDate(iso: text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a YYYY-MM-DD date: \(text)")
        }
        self = date
    }

    /// Encodes the ISO form, "YYYY-MM-DD".
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(iso)
    }

    static let tokyoOffsetSeconds = 9 * 3_600
}

/// A day of the week, numbered as Foundation's `Calendar` numbers them (Sunday = 1).
public enum Weekday: Int, Sendable, Hashable, CaseIterable, Codable, CustomStringConvertible {
    case sunday = 1, monday, tuesday, wednesday, thursday, friday, saturday

    /// Saturday or Sunday.
    public var isWeekend: Bool { self == .saturday || self == .sunday }

    /// The Japanese name: 日曜日 … 土曜日.
    public var japaneseName: String {
        ["日曜日", "月曜日", "火曜日", "水曜日", "木曜日", "金曜日", "土曜日"][rawValue - 1]
    }

    /// The English name in lower case.
    public var description: String {
        ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"][rawValue - 1]
    }
}
