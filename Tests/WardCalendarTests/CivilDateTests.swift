import Foundation
import Testing
import WardCalendar

private func d(_ iso: String) -> CivilDate {
    guard let date = CivilDate(iso: iso) else { fatalError("bad test date \(iso)") }
    return date
}

@Suite("Civil dates")
struct CivilDateTests {
    @Test func parsesAndPrintsISO() throws {
        let date = try #require(CivilDate(iso: "2026-05-03"))
        #expect(date == CivilDate(year: 2026, month: 5, day: 3))
        #expect(date.iso == "2026-05-03")
        #expect("\(date)" == "2026-05-03")
        #expect(CivilDate(year: 33, month: 1, day: 9).iso == "0033-01-09")
        for bad in [
            "2026-02-29", "2026-13-01", "2026-00-10", "2026-04-31", "2026-5-3", "20260503", "2026-05-03T00",
            "２０２６-05-03", "", "0000-01-01",
        ] {
            #expect(CivilDate(iso: bad) == nil, "\(bad)")
        }
        #expect(CivilDate(iso: "2028-02-29") != nil)
        #expect(CivilDate(iso: "2000-02-29") != nil)
        #expect(CivilDate(iso: "1900-02-29") == nil)
    }

    @Test func codableAsISOString() throws {
        let date = d("2026-12-29")
        let data = try JSONEncoder().encode(["due": date])
        #expect(String(decoding: data, as: UTF8.self) == #"{"due":"2026-12-29"}"#)
        #expect(try JSONDecoder().decode([String: CivilDate].self, from: data) == ["due": date])
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode([String: CivilDate].self, from: Data(#"{"due":"2026-02-30"}"#.utf8))
        }
    }

    @Test func arithmetic() {
        #expect(d("2026-01-31").adding(days: 30) == d("2026-03-02"))
        #expect(d("2028-01-30").adding(days: 30) == d("2028-02-29"))
        #expect(d("2026-12-31").adding(days: 1) == d("2027-01-01"))
        #expect(d("2027-01-01").adding(days: -1) == d("2026-12-31"))
        #expect(d("1970-01-01").daysSince1970 == 0)
        #expect(d("2000-03-01").daysSince1970 == 11_017)
        #expect(CivilDate(daysSince1970: -1) == d("1969-12-31"))
        #expect(d("2026-01-01").days(until: d("2027-01-01")) == 365)
        #expect(d("2028-01-01").days(until: d("2029-01-01")) == 366)
        #expect(d("2026-01-31").adding(months: 1) == d("2026-02-28"))
        #expect(d("2028-01-31").adding(months: 1) == d("2028-02-29"))
        #expect(d("2026-03-15").adding(months: -3) == d("2025-12-15"))
        #expect(d("2028-02-29").adding(years: 1) == d("2029-02-28"))
        #expect(d("2026-02-10").daysInMonth == 28)
        #expect(d("2026-02-10").lastOfMonth == d("2026-02-28"))
        #expect(d("2026-02-10").firstOfMonth == d("2026-02-01"))
        // Round trip over four centuries, which covers every leap-year rule.
        var date = d("1999-12-25")
        for offset in 0..<146_097 {
            let next = date.adding(days: 1)
            #expect(next.daysSince1970 == date.daysSince1970 + 1)
            #expect(next > date)
            if offset % 1_000 == 0 { #expect(CivilDate(iso: date.iso) == date) }
            date = next
        }
        #expect(date == d("2399-12-25"))
    }

    @Test func ordering() {
        #expect(d("2026-05-03") < d("2026-05-04"))
        #expect(d("2026-05-31") < d("2026-06-01"))
        #expect(d("2025-12-31") < d("2026-01-01"))
        #expect(
            [d("2026-06-01"), d("2025-12-31"), d("2026-05-31")].sorted() == [
                d("2025-12-31"), d("2026-05-31"), d("2026-06-01"),
            ]
        )
    }

    @Test func weekdays() {
        #expect(d("1970-01-01").weekday == .thursday)
        #expect(d("2026-01-01").weekday == .thursday)
        #expect(d("2026-05-03").weekday == .sunday)
        #expect(d("2026-05-02").weekday == .saturday)
        #expect(d("2028-02-29").weekday == .tuesday)
        #expect(d("1969-12-31").weekday == .wednesday)
        #expect(d("2000-01-01").weekday == .saturday)
        #expect(Weekday.saturday.isWeekend && Weekday.sunday.isWeekend && !Weekday.friday.isWeekend)
        #expect(Weekday.sunday.japaneseName == "日曜日")
        // The numbering matches Foundation's Gregorian calendar.
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 9 * 3600)!
        for offset in stride(from: -800, to: 800, by: 37) {
            let date = d("2026-01-01").adding(days: offset)
            #expect(calendar.component(.weekday, from: date.startInTokyo()) == date.weekday.rawValue)
        }
    }

    @Test func tokyoConversions() {
        // 2026-01-31T14:59:59Z is 23:59:59 JST on the 31st; a second later it is 1 February.
        #expect(CivilDate.inTokyo(Date(timeIntervalSince1970: 1_769_871_599)) == d("2026-01-31"))
        #expect(CivilDate.inTokyo(Date(timeIntervalSince1970: 1_769_871_600)) == d("2026-02-01"))
        #expect(d("2026-02-01").startInTokyo() == Date(timeIntervalSince1970: 1_769_871_600))
        #expect(d("2026-01-31").endInTokyo() == d("2026-02-01").startInTokyo())
        #expect(CivilDate.inTokyo(Date(timeIntervalSince1970: 0)) == d("1970-01-01"))
        #expect(CivilDate.inTokyo(Date(timeIntervalSince1970: -32_401)) == d("1969-12-31"))
        #expect(CivilDate.inTokyo(Date(timeIntervalSince1970: -32_400)) == d("1970-01-01"))
        let formatter = ISO8601DateFormatter()
        #expect(formatter.string(from: d("2026-05-03").startInTokyo()) == "2026-05-02T15:00:00Z")
    }
}
