import Testing
import WardCalendar

private func d(_ iso: String) -> CivilDate {
    guard let date = CivilDate(iso: iso) else { fatalError("bad test date \(iso)") }
    return date
}

private func expectHolidays(
    _ year: Int,
    _ expected: [String: String],
    sourceLocation: SourceLocation = #_sourceLocation
) {
    let generated = JapaneseHolidays.holidays(in: year)
    let expectedByDate = Dictionary(uniqueKeysWithValues: expected.map { (d($0.key), $0.value) })
    #expect(generated == expectedByDate, sourceLocation: sourceLocation)
    for date in Set(generated.keys).symmetricDifference(expectedByDate.keys).sorted() {
        Issue.record(
            "\(date): generated \(generated[date] ?? "-"), expected \(expectedByDate[date] ?? "-")",
            sourceLocation: sourceLocation
        )
    }
}

/// The lists below are the Cabinet Office's (内閣府「国民の祝日について」), where both kinds of
/// "休日" are named by what they are.
@Suite("Japanese national holidays")
struct JapaneseHolidaysTests {
    @Test func holidays2025() {
        expectHolidays(
            2025,
            [
                "2025-01-01": "元日", "2025-01-13": "成人の日", "2025-02-11": "建国記念の日",
                "2025-02-23": "天皇誕生日", "2025-02-24": "振替休日", "2025-03-20": "春分の日",
                "2025-04-29": "昭和の日", "2025-05-03": "憲法記念日", "2025-05-04": "みどりの日",
                "2025-05-05": "こどもの日", "2025-05-06": "振替休日", "2025-07-21": "海の日",
                "2025-08-11": "山の日", "2025-09-15": "敬老の日", "2025-09-23": "秋分の日",
                "2025-10-13": "スポーツの日", "2025-11-03": "文化の日", "2025-11-23": "勤労感謝の日",
                "2025-11-24": "振替休日",
            ]
        )
    }

    @Test func holidays2026() {
        expectHolidays(
            2026,
            [
                "2026-01-01": "元日", "2026-01-12": "成人の日", "2026-02-11": "建国記念の日",
                "2026-02-23": "天皇誕生日", "2026-03-20": "春分の日", "2026-04-29": "昭和の日",
                "2026-05-03": "憲法記念日", "2026-05-04": "みどりの日", "2026-05-05": "こどもの日",
                "2026-05-06": "振替休日", "2026-07-20": "海の日", "2026-08-11": "山の日",
                "2026-09-21": "敬老の日", "2026-09-22": "国民の休日", "2026-09-23": "秋分の日",
                "2026-10-12": "スポーツの日", "2026-11-03": "文化の日", "2026-11-23": "勤労感謝の日",
            ]
        )
    }

    @Test func holidays2019WithTheEnthronement() {
        expectHolidays(
            2019,
            [
                "2019-01-01": "元日", "2019-01-14": "成人の日", "2019-02-11": "建国記念の日",
                "2019-03-21": "春分の日", "2019-04-29": "昭和の日", "2019-04-30": "国民の休日",
                "2019-05-01": "天皇の即位の日", "2019-05-02": "国民の休日", "2019-05-03": "憲法記念日",
                "2019-05-04": "みどりの日", "2019-05-05": "こどもの日", "2019-05-06": "振替休日",
                "2019-07-15": "海の日", "2019-08-11": "山の日", "2019-08-12": "振替休日",
                "2019-09-16": "敬老の日", "2019-09-23": "秋分の日", "2019-10-14": "体育の日",
                "2019-10-22": "即位礼正殿の儀の行われる日", "2019-11-03": "文化の日", "2019-11-04": "振替休日",
                "2019-11-23": "勤労感謝の日",
            ]
        )
    }

    @Test func holidays2020And2021WithTheOlympicMoves() {
        expectHolidays(
            2020,
            [
                "2020-01-01": "元日", "2020-01-13": "成人の日", "2020-02-11": "建国記念の日",
                "2020-02-23": "天皇誕生日", "2020-02-24": "振替休日", "2020-03-20": "春分の日",
                "2020-04-29": "昭和の日", "2020-05-03": "憲法記念日", "2020-05-04": "みどりの日",
                "2020-05-05": "こどもの日", "2020-05-06": "振替休日", "2020-07-23": "海の日",
                "2020-07-24": "スポーツの日", "2020-08-10": "山の日", "2020-09-21": "敬老の日",
                "2020-09-22": "秋分の日", "2020-11-03": "文化の日", "2020-11-23": "勤労感謝の日",
            ]
        )
        expectHolidays(
            2021,
            [
                "2021-01-01": "元日", "2021-01-11": "成人の日", "2021-02-11": "建国記念の日",
                "2021-02-23": "天皇誕生日", "2021-03-20": "春分の日", "2021-04-29": "昭和の日",
                "2021-05-03": "憲法記念日", "2021-05-04": "みどりの日", "2021-05-05": "こどもの日",
                "2021-07-22": "海の日", "2021-07-23": "スポーツの日", "2021-08-08": "山の日",
                "2021-08-09": "振替休日", "2021-09-20": "敬老の日", "2021-09-23": "秋分の日",
                "2021-11-03": "文化の日", "2021-11-23": "勤労感謝の日",
            ]
        )
    }

    @Test func citizensHolidaysInSilverWeeks() {
        #expect(JapaneseHolidays.name(of: d("2009-09-22")) == "国民の休日")
        #expect(JapaneseHolidays.name(of: d("2015-09-22")) == "国民の休日")
        #expect(JapaneseHolidays.name(of: d("2032-09-21")) == "国民の休日")
        #expect(JapaneseHolidays.name(of: d("2027-09-22")) == nil)
    }

    @Test func olderRules() {
        // Before 2007 the 4th of May was a citizens' holiday and 4/29 was みどりの日.
        #expect(JapaneseHolidays.name(of: d("2005-05-04")) == "国民の休日")
        #expect(JapaneseHolidays.name(of: d("2005-04-29")) == "みどりの日")
        // 2003-05-04 was a Sunday: neither a citizens' holiday nor moved.
        #expect(JapaneseHolidays.name(of: d("2003-05-04")) == nil)
        // 2004-05-03 was a Monday, so 5/4 (Tue) was a citizens' holiday; 2008-05-04 a Sunday → 5/6.
        #expect(JapaneseHolidays.name(of: d("2004-05-04")) == "国民の休日")
        #expect(JapaneseHolidays.name(of: d("2008-05-06")) == "振替休日")
        // Until 2006 a Sunday holiday moved only to the Monday: 2006-01-01 (Sun) → 1/2.
        #expect(JapaneseHolidays.name(of: d("2006-01-02")) == "振替休日")
        #expect(JapaneseHolidays.name(of: d("1999-01-15")) == "成人の日")
        #expect(JapaneseHolidays.name(of: d("1999-10-11")) == "振替休日")  // 10/10 was a Sunday
        #expect(JapaneseHolidays.name(of: d("2018-12-23")) == "天皇誕生日")
        #expect(JapaneseHolidays.name(of: d("2018-12-24")) == "振替休日")
        #expect(JapaneseHolidays.name(of: d("2019-12-23")) == nil)
        #expect(JapaneseHolidays.name(of: d("2002-07-20")) == "海の日")
        #expect(JapaneseHolidays.name(of: d("2015-08-11")) == nil)
        #expect(JapaneseHolidays.name(of: d("1989-02-24")) == "昭和天皇の大喪の礼")
    }

    @Test(arguments: [
        (2000, 20, 23), (2010, 21, 23), (2012, 20, 22), (2016, 20, 22), (2020, 20, 22), (2023, 21, 23),
        (2024, 20, 22), (2025, 20, 23), (2026, 20, 23), (2027, 21, 23), (2028, 20, 22),
    ])
    func equinoxes(year: Int, vernal: Int, autumnal: Int) {
        #expect(JapaneseHolidays.vernalEquinoxDay(year) == vernal)
        #expect(JapaneseHolidays.autumnalEquinoxDay(year) == autumnal)
        #expect(JapaneseHolidays.name(of: CivilDate(year: year, month: 3, day: vernal)) == "春分の日")
        #expect(JapaneseHolidays.name(of: CivilDate(year: year, month: 9, day: autumnal)) == "秋分の日")
    }

    @Test func everyYearIsSane() {
        for year in 1989...2099 {
            let holidays = JapaneseHolidays.holidays(in: year)
            // 15-16 holidays proper since 2016, plus substitutes and citizens' holidays.
            #expect((14...24).contains(holidays.count), "\(year): \(holidays.count)")
            #expect(holidays.keys.allSatisfy { $0.year == year })
            // No substitute holiday lands on a Sunday, and every Sunday holiday proper has one.
            for (date, name) in holidays where date.weekday == .sunday {
                #expect(name != JapaneseHolidays.substituteHolidayName && name != JapaneseHolidays.citizensHolidayName)
                if year >= 2007 {
                    var next = date.adding(days: 1)
                    while let following = holidays[next], following != JapaneseHolidays.substituteHolidayName {
                        next = next.adding(days: 1)
                    }
                    #expect(holidays[next] == JapaneseHolidays.substituteHolidayName, "\(date)")
                }
            }
        }
    }
}
