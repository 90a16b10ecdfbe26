public import Foundation

/// The ward's calendar: which days its offices are closed, when a due date falls, and when a
/// statutory period ends. One implementation serves every service (DOMAIN.md, "The ward
/// calendar").
///
/// The ward is closed on Saturdays, Sundays, national holidays (``JapaneseHolidays``) and over
/// the year end, 29 December to 3 January — the local government holidays of the Local
/// Autonomy Act Art. 4-2(1) as the ward's holiday ordinance lists them, the same days as the
/// national agencies' (Act on Holidays of Administrative Organs, Art. 1(1)).
///
/// Holidays are data: ``extraClosingDays`` adds closing days (a holiday created by an act after
/// this code was written) and ``extraOpeningDays`` removes them (a holiday abolished or moved).
/// Both correct the calendar itself and so apply to statutory deadlines too; do not use them
/// for ward events that do not change the law's holidays. A day in both sets is open.
public struct WardCalendar: Sendable {
    /// Days closed besides the generated ones.
    public var extraClosingDays: Set<CivilDate>
    /// Days open although generated as closed; they win over ``extraClosingDays``.
    public var extraOpeningDays: Set<CivilDate>

    /// The reason given for a day in ``extraClosingDays``.
    public static let extraClosingReason = "臨時閉庁日"
    /// The reason given for a day of the year-end closure that is no national holiday.
    public static let yearEndClosureReason = "年末年始の休日"

    /// Creates a calendar with optional corrections to the generated closing days.
    public init(extraClosingDays: Set<CivilDate> = [], extraOpeningDays: Set<CivilDate> = []) {
        self.extraClosingDays = extraClosingDays
        self.extraOpeningDays = extraOpeningDays
    }

    /// Whether the ward is closed on `date`.
    public func isClosingDay(_ date: CivilDate) -> Bool {
        closingReason(date) != nil
    }

    /// Whether the ward is open on `date`.
    public func isOpeningDay(_ date: CivilDate) -> Bool {
        !isClosingDay(date)
    }

    /// Why the ward is closed on `date` — the holiday's name, "年末年始の休日", "土曜日" /
    /// "日曜日" or "臨時閉庁日", in that order of preference — or nil when it is open.
    public func closingReason(_ date: CivilDate) -> String? {
        if extraOpeningDays.contains(date) { return nil }
        if let holiday = JapaneseHolidays.name(of: date) { return holiday }
        if Self.isYearEndClosure(date) { return Self.yearEndClosureReason }
        if date.weekday.isWeekend { return date.weekday.japaneseName }
        if extraClosingDays.contains(date) { return Self.extraClosingReason }
        return nil
    }

    /// Whether `date` lies in the year-end closure, 29 December to 3 January.
    public static func isYearEndClosure(_ date: CivilDate) -> Bool {
        (date.month == 12 && date.day >= 29) || (date.month == 1 && date.day <= 3)
    }

    /// `date` if the ward is open then, else the first opening day after it: rolls a due date
    /// forward.
    public func nextOpeningDay(onOrAfter date: CivilDate) -> CivilDate {
        var day = date
        while isClosingDay(day) { day = day.adding(days: 1) }
        return day
    }

    /// `date` if the ward is open then, else the last opening day before it: brings a reminder
    /// forward.
    public func previousOpeningDay(onOrBefore date: CivilDate) -> CivilDate {
        var day = date
        while isClosingDay(day) { day = day.adding(days: -1) }
        return day
    }

    /// The `count`-th opening day after `date` ("within three working days"); `date` itself
    /// when `count` is 0, negative counts go back.
    public func addingOpeningDays(_ count: Int, to date: CivilDate) -> CivilDate {
        var day = date
        var remaining = abs(count)
        let step = count < 0 ? -1 : 1
        while remaining > 0 {
            day = day.adding(days: step)
            if isOpeningDay(day) { remaining -= 1 }
        }
        return day
    }

    /// Opening days strictly after `start` up to and including `end` (0 when `end` ≤ `start`).
    public func openingDays(after start: CivilDate, through end: CivilDate) -> Int {
        var count = 0
        var day = start.adding(days: 1)
        while day <= end {
            if isOpeningDay(day) { count += 1 }
            day = day.adding(days: 1)
        }
        return count
    }

    /// The last day of a statutory period of `days` days counted from `known`, the day the fact
    /// became known.
    ///
    /// Civil Code Art. 140: the first day is not counted, so the period runs from the next day
    /// and its `days`-th day is `known` + `days`, weekends and holidays included. Art. 141: the
    /// period ends at the end of that day. Art. 142 and the Act on Holidays of Administrative
    /// Organs Art. 2 (for a report to a national agency such as the Personal Information
    /// Protection Commission): when that last day is a Sunday, Saturday, national holiday or
    /// in 29 December-3 January, the period ends on the next day that is none of these.
    /// (Art. 140's proviso for a period that begins at midnight does not apply: a fact becomes
    /// known during a day.) `days` must not be negative.
    public func statutoryDeadline(knownOn known: CivilDate, days: Int) -> CivilDate {
        precondition(days >= 0, "a period cannot be negative")
        return nextOpeningDay(onOrAfter: known.adding(days: days))
    }

    /// The instant a statutory period of `days` days from the instant `knownAt` expires: the end
    /// of ``statutoryDeadline(knownOn:days:)`` in Japan, i.e. 00:00 JST of the following day.
    public func statutoryDeadlineInstant(knownAt: Date, days: Int) -> Date {
        statutoryDeadline(knownOn: CivilDate.inTokyo(knownAt), days: days).endInTokyo()
    }
}
