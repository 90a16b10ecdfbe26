/// Japan's national holidays, generated from the rules of the Act on National Holidays
/// (国民の祝日に関する法律, Act No. 178 of 1948) rather than typed in.
///
/// Covered, and exact for 1989-2099:
/// - fixed days: 元日, 建国記念の日, 昭和の日 (4/29, みどりの日 until 2006), 憲法記念日, みどりの日
///   (5/4, from 2007), こどもの日, 山の日 (from 2016), 文化の日, 勤労感謝の日, 天皇誕生日 (12/23 in
///   1989-2018, none in 2019, 2/23 from 2020);
/// - Happy Monday holidays: 成人の日 (2nd Monday of January from 2000, else 1/15), 海の日 (3rd
///   Monday of July from 2003, 7/20 in 1996-2002), 敬老の日 (3rd Monday of September from 2003,
///   else 9/15), スポーツの日 (2nd Monday of October; called 体育の日 until 2019, 10/10 until 1999);
/// - 春分の日 and 秋分の日 by the usual formula. The law leaves them to the astronomical equinox,
///   which the government announces each February for the next year; the formula matches
///   every announcement so far and is the accepted prediction for 1980-2099. Other years use
///   the formula's constants for 1900-1979 and 2100-2150, and the nearest of them beyond;
/// - 振替休日 (Art. 3(2)): from 2007 a holiday on a Sunday moves to the nearest following day that
///   is not a holiday; 1973-2006 only to the Monday;
/// - 国民の休日 (Art. 3(3)): a day between two holidays that is not one itself (1986-2006: not on a
///   Sunday or a substitute holiday);
/// - one-off holidays by special acts: 1989-02-24 (大喪の礼), 1990-11-12 and 2019-10-22 (即位礼正殿の
///   儀), 1993-06-09 (結婚の儀), 2019-05-01 (即位の日), and the Olympic moves of 2020 (海の日 7/23,
///   スポーツの日 7/24, 山の日 8/10) and 2021 (7/22, 7/23, 8/8).
///
/// Years before 1989 are computed with the rules of 1989 and are not exact. A holiday created or
/// moved by a future act must be entered as data: see ``WardCalendar``'s overrides.
public struct JapaneseHolidays: Sendable {
    /// The years for which the generated holidays are exact.
    public static let exactYears: ClosedRange<Int> = 1989...2099

    /// Every national holiday (incl. substitute and citizens' holidays) in `year`, with its
    /// Japanese name.
    public static func holidays(in year: Int) -> [CivilDate: String] {
        if exactYears.contains(year), let cached = table[year] { return cached }
        // The Act on National Holidays (国民の祝日に関する法律, Act No. 178 of 1948) dates from
        // 1948 and the equinox formula holds to 2150:
        // outside those years there are no holidays to name, rather than a crash on a date that
        // the formula cannot place (a request for the year 174 reached here).
        guard (1948...2150).contains(year) else { return [:] }
        return generate(year)
    }

    /// The holiday's Japanese name if `date` is a national holiday, else nil.
    public static func name(of date: CivilDate) -> String? {
        holidays(in: date.year)[date]
    }

    /// Whether `date` is a national holiday (incl. substitute and citizens' holidays).
    public static func isHoliday(_ date: CivilDate) -> Bool {
        name(of: date) != nil
    }

    /// The vernal equinox day (春分日) in March of `year`, by the usual formula.
    public static func vernalEquinoxDay(_ year: Int) -> Int {
        equinoxDay(year, constants: (20_835_700, 20_843_100, 21_851_000))
    }

    /// The autumnal equinox day (秋分日) in September of `year`, by the usual formula.
    public static func autumnalEquinoxDay(_ year: Int) -> Int {
        equinoxDay(year, constants: (23_258_800, 23_248_800, 24_248_800))
    }

    /// Names as the Cabinet Office lists them; the two kinds of "休日" get their usual names.
    public static let substituteHolidayName = "振替休日"
    /// The name given to a citizens' holiday (Art. 3(3)).
    public static let citizensHolidayName = "国民の休日"

    private static let table: [Int: [CivilDate: String]] = {
        var table: [Int: [CivilDate: String]] = [:]
        for year in exactYears { table[year] = generate(year) }
        return table
    }()

    // day = floor(C + 0.242194 × (year − 1980) − floor((year − 1980) / 4)), in millionths so the
    // arithmetic is exact; C depends on the period (1900-1979, 1980-2099, 2100-2150).
    private static func equinoxDay(_ year: Int, constants: (Int, Int, Int)) -> Int {
        let constant = year < 1980 ? constants.0 : (year <= 2099 ? constants.1 : constants.2)
        let elapsed = year - 1980
        return floorDivide(constant + 242_194 * elapsed, 1_000_000) - floorDivide(elapsed, 4)
    }

    private static func floorDivide(_ a: Int, _ b: Int) -> Int {
        let quotient = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? quotient - 1 : quotient
    }

    /// The `n`-th Monday of `month`.
    private static func nthMonday(_ n: Int, _ year: Int, _ month: Int) -> CivilDate {
        let first = CivilDate(year: year, month: month, day: 1)
        let offset = (Weekday.monday.rawValue - first.weekday.rawValue + 7) % 7
        return first.adding(days: offset + 7 * (n - 1))
    }

    private static func generate(_ year: Int) -> [CivilDate: String] {
        var holidays: [CivilDate: String] = [:]
        func add(_ month: Int, _ day: Int, _ name: String) {
            holidays[CivilDate(year: year, month: month, day: day)] = name
        }
        func add(_ date: CivilDate, _ name: String) { holidays[date] = name }

        // Art. 2: the national holidays proper (「国民の祝日」).
        add(1, 1, "元日")
        if year >= 2000 { add(nthMonday(2, year, 1), "成人の日") } else { add(1, 15, "成人の日") }
        add(2, 11, "建国記念の日")
        if year >= 2020 { add(2, 23, "天皇誕生日") }
        add(3, vernalEquinoxDay(year), "春分の日")
        add(4, 29, year >= 2007 ? "昭和の日" : "みどりの日")
        add(5, 3, "憲法記念日")
        if year >= 2007 { add(5, 4, "みどりの日") }
        add(5, 5, "こどもの日")
        switch year {
        case 2020: add(7, 23, "海の日")
        case 2021: add(7, 22, "海の日")
        case 2003...: add(nthMonday(3, year, 7), "海の日")
        case 1996...2002: add(7, 20, "海の日")
        default: break
        }
        switch year {
        case 2020: add(8, 10, "山の日")
        case 2021: add(8, 8, "山の日")
        case 2016...: add(8, 11, "山の日")
        default: break
        }
        if year >= 2003 { add(nthMonday(3, year, 9), "敬老の日") } else { add(9, 15, "敬老の日") }
        add(9, autumnalEquinoxDay(year), "秋分の日")
        switch year {
        case 2020: add(7, 24, "スポーツの日")
        case 2021: add(7, 23, "スポーツの日")
        case 2022...: add(nthMonday(2, year, 10), "スポーツの日")
        case 2000...2019: add(nthMonday(2, year, 10), "体育の日")
        default: add(10, 10, "体育の日")
        }
        add(11, 3, "文化の日")
        add(11, 23, "勤労感謝の日")
        if (1989...2018).contains(year) { add(12, 23, "天皇誕生日") }
        // Special acts make these days national holidays for that year only.
        switch year {
        case 1989: add(2, 24, "昭和天皇の大喪の礼")
        case 1990: add(11, 12, "即位礼正殿の儀")
        case 1993: add(6, 9, "皇太子徳仁親王の結婚の儀")
        case 2019:
            add(5, 1, "天皇の即位の日")
            add(10, 22, "即位礼正殿の儀の行われる日")
        default: break
        }

        let nationalHolidays = holidays
        var substitutes: Set<CivilDate> = []
        // Art. 3(2): substitute holidays.
        for date in nationalHolidays.keys where date.weekday == .sunday {
            if year >= 2007 {
                var candidate = date.adding(days: 1)
                while nationalHolidays[candidate] != nil { candidate = candidate.adding(days: 1) }
                holidays[candidate] = substituteHolidayName
                substitutes.insert(candidate)
            } else if year >= 1973, nationalHolidays[date.adding(days: 1)] == nil {
                holidays[date.adding(days: 1)] = substituteHolidayName
                substitutes.insert(date.adding(days: 1))
            }
        }
        // Art. 3(3): citizens' holidays, between two national holidays proper.
        if year >= 1986 {
            for date in nationalHolidays.keys {
                let between = date.adding(days: 1)
                guard nationalHolidays[between] == nil, nationalHolidays[between.adding(days: 1)] != nil,
                    !substitutes.contains(between)
                else { continue }
                if year < 2007, between.weekday == .sunday { continue }
                holidays[between] = citizensHolidayName
            }
        }
        return holidays.filter { $0.key.year == year }
    }
}
