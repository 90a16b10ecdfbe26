public import Foundation

/// When a contract's attestations are due (Art. 28): every `intervalMonths` from the start,
/// and a last one at the end when the end falls between two due dates.
///
/// Month arithmetic is done on the calendar in Japan time, so "quarterly from 1 April" means
/// 1 July, 1 October, ... at 00:00 JST, the instant the quarter closes.
public struct AttestationSchedule: Sendable, Hashable {
    /// The default interval: quarterly where My Number data is handled, yearly otherwise.
    public static func defaultIntervalMonths(handlesMyNumber: Bool) -> Int {
        handlesMyNumber ? 3 : 12
    }

    /// The ward's time zone.
    public static let timeZone = TimeZone(identifier: "Asia/Tokyo")!

    public var startsAt: Date
    public var endsAt: Date
    public var intervalMonths: Int
    public var graceDays: Int

    public init(startsAt: Date, endsAt: Date, intervalMonths: Int, graceDays: Int) {
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.intervalMonths = max(1, intervalMonths)
        self.graceDays = max(0, graceDays)
    }

    /// One attestation period.
    public struct Period: Sendable, Hashable, Codable {
        /// 1, 2, ...
        public var number: Int
        /// When the attestation is due.
        public var dueAt: Date
        /// When a missing attestation becomes a violation.
        public var graceEndsAt: Date
    }

    /// Every period of the contract, in order.
    public var periods: [Period] {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = Self.timeZone
        var result: [Period] = []
        var number = 1
        while true {
            guard let due = calendar.date(byAdding: .month, value: number * intervalMonths, to: startsAt) else { break }
            let dueAt = min(due, endsAt)
            result.append(Period(number: number, dueAt: dueAt, graceEndsAt: dueAt.addingTimeInterval(TimeInterval(graceDays) * 86_400)))
            if due >= endsAt || number >= 10_000 { break }
            number += 1
        }
        return result
    }

    /// The period with this number.
    public func period(_ number: Int) -> Period? {
        periods.first { $0.number == number }
    }

    /// 00:00 Japan time of a `YYYY-MM-DD` day.
    public static func startOfDay(_ text: String) -> Date? {
        let parts = text.split(separator: "-")
        guard parts.count == 3, let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
              parts[0].count == 4, parts[1].count == 2, parts[2].count == 2 else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let components = DateComponents(year: year, month: month, day: day)
        guard let date = calendar.date(from: components),
              calendar.dateComponents([.year, .month, .day], from: date) == DateComponents(year: year, month: month, day: day)
        else { return nil }
        return date
    }

    /// The `YYYY-MM-DD` day in Japan time that `date` falls on.
    public static func day(of date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
    }
}
