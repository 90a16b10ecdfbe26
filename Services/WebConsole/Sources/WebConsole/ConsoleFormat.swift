import Foundation

/// Dates and durations as the ward reads them: Japan Standard Time (UTC+9, no daylight saving,
/// so a fixed offset needs no time-zone database in the image).
enum ConsoleFormat {
    static let ward = TimeZone(secondsFromGMT: 9 * 3600)!

    static func parse(_ iso: String?) -> Date? {
        guard let iso else { return nil }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: iso) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: iso)
    }

    /// `2026-12-05 16:40` in the ward's time.
    static func date(_ iso: String?) -> String {
        guard let date = parse(iso) else { return "" }
        return local(date, separator: " ")
    }

    /// `2026-12-05T16:40`: the value of an `<input type="datetime-local">`.
    static func inputValue(_ date: Date) -> String {
        local(date, separator: "T")
    }

    /// A `datetime-local` value read as the ward's time.
    static func parseInput(_ text: String?) -> Date? {
        guard let text, !text.isEmpty else { return nil }
        let withSeconds = text.count == 16 ? text + ":00" : text
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = ward
        let parts = withSeconds.split(whereSeparator: { "-T:".contains($0) }).compactMap { Int($0) }
        guard parts.count == 6 else { return nil }
        return calendar.date(from: DateComponents(year: parts[0], month: parts[1], day: parts[2], hour: parts[3], minute: parts[4], second: parts[5]))
    }

    /// RFC 3339 in UTC, as the services read it.
    static func wire(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    private static func local(_ date: Date, separator: String) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = ward
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        func two(_ value: Int?) -> String { value.map { $0 < 10 ? "0\($0)" : "\($0)" } ?? "00" }
        return "\(c.year ?? 0)-\(two(c.month))-\(two(c.day))\(separator)\(two(c.hour)):\(two(c.minute))"
    }

    /// `2日 3時間`, `45分`; `2 d 3 h`, `45 min`. Negative spans read as their size.
    static func duration(_ seconds: TimeInterval, _ language: ConsoleLanguage) -> String {
        let minutes = Int(abs(seconds) / 60)
        let (days, hours, mins) = (minutes / 1440, (minutes % 1440) / 60, minutes % 60)
        let ja = language == .ja
        if days > 0 { return ja ? "\(days)日 \(hours)時間" : "\(days) d \(hours) h" }
        if hours > 0 { return ja ? "\(hours)時間 \(mins)分" : "\(hours) h \(mins) min" }
        return ja ? "\(mins)分" : "\(mins) min"
    }
}
