import Contracts
import Foundation
import WardCalendar

/// Dates and durations as the ward reads them: Japan Standard Time (UTC+9, no daylight saving).
///
/// All arithmetic, no formatter objects: a page of 300 queue rows parses and prints about a
/// thousand instants, and creating an `ISO8601DateFormatter` per value cost ~0.3 ms each
/// (the bench's queue page took 270 ms at the median with them).
enum ConsoleFormat {
    static func parse(_ iso: String?) -> Date? {
        iso.flatMap(ContractsJSON.parseTimestamp)
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

    /// A `datetime-local` value (`2026-12-05T16:40`, seconds optional) read as the ward's time.
    static func parseInput(_ text: String?) -> Date? {
        guard let text, !text.isEmpty else { return nil }
        let parts = text.split(whereSeparator: { "-T:".contains($0) }).map { Int($0) }
        guard parts.count == 5 || parts.count == 6, parts.allSatisfy({ $0 != nil }) else { return nil }
        let (year, month, day, hour, minute) = (parts[0]!, parts[1]!, parts[2]!, parts[3]!, parts[4]!)
        let second = parts.count == 6 ? parts[5]! : 0
        guard CivilDate.isValid(year: year, month: month, day: day), (0..<24).contains(hour), (0..<60).contains(minute), (0..<60).contains(second)
        else { return nil }
        return CivilDate(year: year, month: month, day: day).startInTokyo().addingTimeInterval(Double(hour * 3600 + minute * 60 + second))
    }

    /// RFC 3339 in UTC, as the services read it.
    static func wire(_ date: Date) -> String {
        ContractsJSON.formatTimestamp(date)
    }

    private static func local(_ date: Date, separator: String) -> String {
        let day = CivilDate.inTokyo(date)
        let secondOfDay = Int((date.timeIntervalSince(day.startInTokyo())).rounded(.down))
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(day.year)-\(two(day.month))-\(two(day.day))\(separator)\(two(secondOfDay / 3600)):\(two(secondOfDay % 3600 / 60))"
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
