import Foundation
public import WardCalendar

/// A recurrence rule: the subset of RFC 5545 §3.3.10 (RRULE) that the guideline's duties need,
/// over whole days.
///
/// Supported parts: `FREQ` (`YEARLY`, `MONTHLY`, `WEEKLY`, `DAILY`), `INTERVAL`, `BYMONTH`,
/// `BYMONTHDAY` (1…31 and -1…-31 from the month's end), `BYDAY` (with ordinals such as `2MO` or
/// `-1FR` for `YEARLY` and `MONTHLY`), `COUNT`, `UNTIL` (a date, `YYYYMMDD` or `YYYY-MM-DD`;
/// a date-time is cut to its date) and `WKST` (parsed; weeks start on Monday, the default).
/// Anything else is refused, so a rule never means less than it says.
///
/// Expansion follows RFC 5545: `BYMONTH` limits (`YEARLY`: expands), `BYMONTHDAY` expands
/// (`DAILY`: limits), `BYDAY` expands within the month or year (limits when `BYMONTHDAY` is
/// also given, or with `DAILY`); dates that do not exist are skipped, never moved — so
/// `BYMONTHDAY=31` skips 30-day months and a yearly rule from 29 February recurs only in leap
/// years. `COUNT` counts occurrences from `DTSTART`, `UNTIL` is inclusive. Occurrences are the
/// dates on or after `DTSTART` that match the rule (RFC 5545 leaves a `DTSTART` that does not
/// match undefined; like python-dateutil, it is not an occurrence here).
public struct RecurrenceRule: Sendable, Hashable, Codable, CustomStringConvertible {
    /// How often the rule repeats.
    public enum Frequency: String, Sendable, Hashable, Codable, CaseIterable {
        case yearly = "YEARLY"
        case monthly = "MONTHLY"
        case weekly = "WEEKLY"
        case daily = "DAILY"
    }

    /// A `BYDAY` entry: a weekday, optionally the n-th (negative: from the end) in the month or year.
    public struct WeekdayNumber: Sendable, Hashable, Codable, CustomStringConvertible {
        /// 1…53 or -53…-1; nil for every such weekday.
        public var ordinal: Int?
        public var weekday: Weekday

        public init(_ weekday: Weekday, ordinal: Int? = nil) {
            self.weekday = weekday
            self.ordinal = ordinal
        }

        public var description: String {
            (ordinal.map(String.init) ?? "") + RecurrenceRule.code(of: weekday)
        }
    }

    public var frequency: Frequency
    /// Every n-th period; at least 1.
    public var interval: Int
    /// Months 1…12.
    public var byMonth: [Int]
    /// Days of the month, 1…31 or -31…-1.
    public var byMonthDay: [Int]
    public var byDay: [WeekdayNumber]
    /// At most this many occurrences from `DTSTART`.
    public var count: Int?
    /// No occurrence after this date.
    public var until: CivilDate?

    public init(
        frequency: Frequency, interval: Int = 1, byMonth: [Int] = [], byMonthDay: [Int] = [], byDay: [WeekdayNumber] = [],
        count: Int? = nil, until: CivilDate? = nil
    ) {
        self.frequency = frequency
        self.interval = max(1, interval)
        self.byMonth = byMonth
        self.byMonthDay = byMonthDay
        self.byDay = byDay
        self.count = count
        self.until = until
    }

    /// Parses an RRULE value such as `FREQ=MONTHLY;BYDAY=-1FR;COUNT=6` (an `RRULE:` prefix is
    /// accepted). Throws for unknown or unsupported parts, bad values and `COUNT` with `UNTIL`.
    public init(parsing text: String) throws(RecurrenceRuleError) {
        var body = Substring(text.trimmingCharacters(in: .whitespaces))
        if body.uppercased().hasPrefix("RRULE:") { body = body.dropFirst(6) }
        var frequency: Frequency?
        var interval = 1
        var byMonth: [Int] = []
        var byMonthDay: [Int] = []
        var byDay: [WeekdayNumber] = []
        var count: Int?
        var until: CivilDate?
        var seen = Set<String>()
        for part in body.split(separator: ";", omittingEmptySubsequences: true) {
            let pieces = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard pieces.count == 2 else { throw RecurrenceRuleError(.malformed, "'\(part)' is not NAME=VALUE") }
            let name = pieces[0].uppercased()
            let value = String(pieces[1]).uppercased()
            guard seen.insert(name).inserted else { throw RecurrenceRuleError(.malformed, "\(name) is given twice") }
            switch name {
            case "FREQ":
                guard let parsed = Frequency(rawValue: value) else {
                    throw RecurrenceRuleError(.unsupported, "FREQ=\(value) is not supported (YEARLY, MONTHLY, WEEKLY, DAILY)")
                }
                frequency = parsed
            case "INTERVAL":
                interval = try Self.integer(value, name: name, in: 1...1000)
            case "BYMONTH":
                byMonth = try Self.list(value, name: name) { text throws(RecurrenceRuleError) in try Self.integer(text, name: name, in: 1...12) }
            case "BYMONTHDAY":
                byMonthDay = try Self.list(value, name: name) { text throws(RecurrenceRuleError) in
                    let day = try Self.integer(text, name: name, in: -31...31)
                    guard day != 0 else { throw RecurrenceRuleError(.invalidValue, "BYMONTHDAY=0 names no day") }
                    return day
                }
            case "BYDAY":
                byDay = try Self.list(value, name: name) { text throws(RecurrenceRuleError) in try Self.weekdayNumber(text) }
            case "COUNT":
                count = try Self.integer(value, name: name, in: 1...100_000)
            case "UNTIL":
                until = try Self.date(value)
            case "WKST":
                guard value == "MO" else { throw RecurrenceRuleError(.unsupported, "only WKST=MO is supported") }
            default:
                throw RecurrenceRuleError(.unsupported, "\(name) is not supported")
            }
        }
        guard let frequency else { throw RecurrenceRuleError(.malformed, "FREQ is required") }
        if count != nil, until != nil { throw RecurrenceRuleError(.malformed, "COUNT and UNTIL must not both be given (RFC 5545)") }
        if byDay.contains(where: { $0.ordinal != nil }) {
            guard frequency == .monthly || frequency == .yearly else {
                throw RecurrenceRuleError(.invalidValue, "BYDAY ordinals such as 2MO need FREQ=MONTHLY or YEARLY")
            }
        }
        self.init(frequency: frequency, interval: interval, byMonth: byMonth, byMonthDay: byMonthDay, byDay: byDay, count: count, until: until)
    }

    /// The rule as RRULE text, parts in a fixed order.
    public var description: String {
        var parts = ["FREQ=\(frequency.rawValue)"]
        if interval != 1 { parts.append("INTERVAL=\(interval)") }
        if !byMonth.isEmpty { parts.append("BYMONTH=" + byMonth.map(String.init).joined(separator: ",")) }
        if !byMonthDay.isEmpty { parts.append("BYMONTHDAY=" + byMonthDay.map(String.init).joined(separator: ",")) }
        if !byDay.isEmpty { parts.append("BYDAY=" + byDay.map(\.description).joined(separator: ",")) }
        if let count { parts.append("COUNT=\(count)") }
        if let until { parts.append("UNTIL=" + until.iso.replacingOccurrences(of: "-", with: "")) }
        return parts.joined(separator: ";")
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do {
            self = try RecurrenceRule(parsing: text)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.description)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    // MARK: Expansion

    /// The occurrences of the rule started at `start` that fall in `from`…`through`, in order.
    ///
    /// `COUNT` is counted from `start`, so a window later than `start` sees only what is left.
    public func occurrences(start: CivilDate, from: CivilDate, through: CivilDate) -> [CivilDate] {
        var result: [CivilDate] = []
        var produced = 0
        // Capped well inside CivilDate's range so that stepping one period further never traps.
        let last = min(through, until ?? through, CivilDate(year: 9000, month: 12, day: 31))
        guard last >= start, last >= from else { return [] }
        var period = 0
        while true {
            let (periodStart, candidates) = self.candidates(period: period, start: start)
            if periodStart > last { break }
            for date in candidates where date >= start {
                if date > last { return result }
                produced += 1
                if date >= from { result.append(date) }
                if let count, produced >= count { return result }
            }
            period += 1
        }
        return result
    }

    /// The first occurrence on or after `date`, if any comes before `limit`.
    public func nextOccurrence(start: CivilDate, onOrAfter date: CivilDate, limit: CivilDate) -> CivilDate? {
        occurrences(start: start, from: date, through: limit).first
    }

    /// The first day of the `period`-th period after the one holding `start`, and the sorted
    /// dates of that period matching the rule (before `COUNT`/`UNTIL`).
    private func candidates(period: Int, start: CivilDate) -> (CivilDate, [CivilDate]) {
        let step = period * interval
        switch frequency {
        case .yearly:
            let year = start.year + step
            return (CivilDate(year: year, month: 1, day: 1), yearly(year: year, start: start))
        case .monthly:
            let first = start.firstOfMonth.adding(months: step)
            return (first, monthly(year: first.year, month: first.month, start: start))
        case .weekly:
            // Weeks start on Monday (WKST=MO).
            let offset = (start.weekday.rawValue + 5) % 7
            let monday = start.adding(days: -offset + 7 * step)
            let days = (0..<7).map { monday.adding(days: $0) }
            let weekdays = byDay.isEmpty ? [start.weekday] : byDay.map(\.weekday)
            return (monday, days.filter { weekdays.contains($0.weekday) && monthAllowed($0.month) })
        case .daily:
            let day = start.adding(days: step)
            return (day, dailyMatches(day) ? [day] : [])
        }
    }

    private func monthAllowed(_ month: Int) -> Bool {
        byMonth.isEmpty || byMonth.contains(month)
    }

    private func dailyMatches(_ day: CivilDate) -> Bool {
        monthAllowed(day.month)
            && (byMonthDay.isEmpty || byMonthDay.contains { Self.resolve($0, in: day.year, day.month) == day.day })
            && (byDay.isEmpty || byDay.contains { $0.weekday == day.weekday })
    }

    private func yearly(year: Int, start: CivilDate) -> [CivilDate] {
        if byMonth.isEmpty, byMonthDay.isEmpty, !byDay.isEmpty {
            // BYDAY alone in a yearly rule counts ordinals within the year.
            let days = (1...12).flatMap { month in (1...CivilDate.daysInMonth(year: year, month: month)).map { CivilDate(year: year, month: month, day: $0) } }
            return Self.select(byDay, in: days)
        }
        let months: [Int]
        if !byMonth.isEmpty {
            months = byMonth.sorted()
        } else if !byMonthDay.isEmpty {
            months = Array(1...12)
        } else {
            months = [start.month]
        }
        return months.flatMap { monthly(year: year, month: $0, start: start, limitByMonth: false) }
    }

    private func monthly(year: Int, month: Int, start: CivilDate, limitByMonth: Bool = true) -> [CivilDate] {
        if limitByMonth, !monthAllowed(month) { return [] }
        let length = CivilDate.daysInMonth(year: year, month: month)
        let days = (1...length).map { CivilDate(year: year, month: month, day: $0) }
        if !byMonthDay.isEmpty {
            let wanted = Set(byMonthDay.compactMap { Self.resolve($0, in: year, month) })
            let matching = days.filter { wanted.contains($0.day) }
            return byDay.isEmpty ? matching : matching.filter { day in byDay.contains { $0.weekday == day.weekday } }
        }
        if !byDay.isEmpty {
            return Self.select(byDay, in: days)
        }
        // Neither: the day of DTSTART, skipped where the month is too short (RFC 5545).
        return start.day <= length ? [CivilDate(year: year, month: month, day: start.day)] : []
    }

    /// A BYMONTHDAY value as a day of this month, or nil when the month has no such day.
    private static func resolve(_ value: Int, in year: Int, _ month: Int) -> Int? {
        let length = CivilDate.daysInMonth(year: year, month: month)
        let day = value > 0 ? value : length + 1 + value
        return (1...length).contains(day) ? day : nil
    }

    /// The days of `days` (one month or one year, in order) that the BYDAY list picks.
    private static func select(_ byDay: [WeekdayNumber], in days: [CivilDate]) -> [CivilDate] {
        var picked = Set<CivilDate>()
        for entry in byDay {
            let matching = days.filter { $0.weekday == entry.weekday }
            if let ordinal = entry.ordinal {
                let index = ordinal > 0 ? ordinal - 1 : matching.count + ordinal
                if matching.indices.contains(index) { picked.insert(matching[index]) }
            } else {
                picked.formUnion(matching)
            }
        }
        return picked.sorted()
    }

    // MARK: Parsing helpers

    static let weekdayCodes: [(String, Weekday)] = [
        ("MO", .monday), ("TU", .tuesday), ("WE", .wednesday), ("TH", .thursday), ("FR", .friday), ("SA", .saturday), ("SU", .sunday),
    ]

    static func code(of weekday: Weekday) -> String {
        weekdayCodes.first { $0.1 == weekday }!.0
    }

    private static func integer(_ text: some StringProtocol, name: String, in range: ClosedRange<Int>) throws(RecurrenceRuleError) -> Int {
        guard let value = Int(text), range.contains(value) else {
            throw RecurrenceRuleError(.invalidValue, "\(name)=\(text) must be an integer in \(range.lowerBound)…\(range.upperBound)")
        }
        return value
    }

    private static func list<T>(_ text: String, name: String, _ parse: (Substring) throws(RecurrenceRuleError) -> T) throws(RecurrenceRuleError) -> [T] {
        let items = text.split(separator: ",", omittingEmptySubsequences: false)
        guard !items.contains(where: \.isEmpty) else { throw RecurrenceRuleError(.malformed, "\(name) has an empty entry") }
        var values: [T] = []
        for item in items { values.append(try parse(item)) }
        return values
    }

    private static func weekdayNumber(_ text: Substring) throws(RecurrenceRuleError) -> WeekdayNumber {
        guard text.count >= 2, let weekday = weekdayCodes.first(where: { $0.0 == text.suffix(2) })?.1 else {
            throw RecurrenceRuleError(.invalidValue, "BYDAY=\(text) is not a weekday such as MO, 2MO or -1FR")
        }
        let prefix = text.dropLast(2)
        if prefix.isEmpty { return WeekdayNumber(weekday) }
        guard let ordinal = Int(prefix.hasPrefix("+") ? prefix.dropFirst() : prefix), ordinal != 0, (-53...53).contains(ordinal) else {
            throw RecurrenceRuleError(.invalidValue, "BYDAY=\(text): the ordinal must be 1…53 or -53…-1")
        }
        return WeekdayNumber(weekday, ordinal: ordinal)
    }

    private static func date(_ text: String) throws(RecurrenceRuleError) -> CivilDate {
        // A date-time (20250331T235959Z) is cut to its date: duties are whole days.
        let datePart = text.split(separator: "T", maxSplits: 1).first.map(String.init) ?? text
        let digits = datePart.replacingOccurrences(of: "-", with: "")
        guard digits.count == 8, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber),
            let date = CivilDate(iso: "\(digits.prefix(4))-\(digits.dropFirst(4).prefix(2))-\(digits.suffix(2))")
        else { throw RecurrenceRuleError(.invalidValue, "UNTIL=\(text) is not a date (YYYYMMDD)") }
        return date
    }
}

/// A recurrence rule that cannot be read.
public struct RecurrenceRuleError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of problem; extensible.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        let name: String
        /// Not `NAME=VALUE;…`, a part given twice, FREQ missing, COUNT with UNTIL.
        public static let malformed = Code(name: "malformed")
        /// A part or value this subset does not support.
        public static let unsupported = Code(name: "unsupported")
        /// A value out of range.
        public static let invalidValue = Code(name: "invalid-value")
        public var description: String { name }
    }

    public var code: Code
    public var detail: String

    public init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = detail
    }

    public var description: String { "recurrence rule (\(code)): \(detail)" }
}
