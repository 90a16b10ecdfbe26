import Foundation
import Testing
import WardCalendar

private func d(_ iso: String) -> CivilDate {
    guard let date = CivilDate(iso: iso) else { fatalError("bad test date \(iso)") }
    return date
}

@Suite("Ward calendar")
struct WardCalendarTests {
    let calendar = WardCalendar()

    @Test func closingDays() {
        #expect(calendar.isOpeningDay(d("2026-05-01")))  // Friday
        #expect(calendar.closingReason(d("2026-05-02")) == "土曜日")
        #expect(calendar.closingReason(d("2026-05-03")) == "憲法記念日")
        #expect(calendar.closingReason(d("2026-05-06")) == "振替休日")
        #expect(calendar.closingReason(d("2026-05-10")) == "日曜日")
        #expect(calendar.closingReason(d("2026-12-29")) == "年末年始の休日")
        #expect(calendar.closingReason(d("2027-01-01")) == "元日")
        #expect(calendar.closingReason(d("2027-01-03")) == "年末年始の休日")
        #expect(calendar.isOpeningDay(d("2027-01-04")))
        #expect(calendar.isOpeningDay(d("2026-12-28")))
        #expect(WardCalendar.isYearEndClosure(d("2026-12-29")) && WardCalendar.isYearEndClosure(d("2027-01-03")))
        #expect(!WardCalendar.isYearEndClosure(d("2026-12-28")) && !WardCalendar.isYearEndClosure(d("2027-01-04")))
    }

    @Test func goldenWeekRollsForward() {
        #expect(calendar.nextOpeningDay(onOrAfter: d("2026-05-02")) == d("2026-05-07"))
        #expect(calendar.nextOpeningDay(onOrAfter: d("2026-04-29")) == d("2026-04-30"))
        #expect(calendar.nextOpeningDay(onOrAfter: d("2026-05-07")) == d("2026-05-07"))
        #expect(calendar.previousOpeningDay(onOrBefore: d("2026-05-06")) == d("2026-05-01"))
    }

    @Test func newYearClosure() {
        // 2026-12-28 is a Monday: it stays.
        #expect(calendar.nextOpeningDay(onOrAfter: d("2026-12-28")) == d("2026-12-28"))
        // 29 Dec-3 Jan is closed; 2027-01-04 is a Monday and not 成人の日 (that is 1/11).
        #expect(calendar.nextOpeningDay(onOrAfter: d("2026-12-29")) == d("2027-01-04"))
        // When 4 January is a Sunday the closure runs on: 2025-12-29 → 2026-01-05.
        #expect(calendar.nextOpeningDay(onOrAfter: d("2025-12-29")) == d("2026-01-05"))
        // 2028: 1/3 is a Monday, 1/4 Tuesday.
        #expect(calendar.nextOpeningDay(onOrAfter: d("2027-12-30")) == d("2028-01-04"))
    }

    @Test func openingDayArithmetic() {
        #expect(calendar.addingOpeningDays(0, to: d("2026-05-02")) == d("2026-05-02"))
        #expect(calendar.addingOpeningDays(1, to: d("2026-05-01")) == d("2026-05-07"))
        // 4/29 is 昭和の日; 4/30 and 5/1 are open; then Golden Week.
        #expect(calendar.addingOpeningDays(2, to: d("2026-04-28")) == d("2026-05-01"))
        #expect(calendar.addingOpeningDays(3, to: d("2026-04-28")) == d("2026-05-07"))
        #expect(calendar.addingOpeningDays(-1, to: d("2026-05-07")) == d("2026-05-01"))
        #expect(calendar.openingDays(after: d("2026-04-30"), through: d("2026-05-08")) == 3)
        #expect(calendar.openingDays(after: d("2026-05-08"), through: d("2026-05-01")) == 0)
    }

    @Test func overrides() {
        let special = d("2026-06-17")
        let corrected = WardCalendar(extraClosingDays: [special], extraOpeningDays: [d("2026-09-22"), special])
        #expect(corrected.isOpeningDay(special))  // opening wins
        let withClosure = WardCalendar(extraClosingDays: [special])
        #expect(withClosure.closingReason(special) == "臨時閉庁日")
        #expect(withClosure.nextOpeningDay(onOrAfter: special) == d("2026-06-18"))
        #expect(withClosure.statutoryDeadline(knownOn: d("2026-06-12"), days: 5) == d("2026-06-18"))
        #expect(corrected.isOpeningDay(d("2026-09-22")))
        #expect(corrected.nextOpeningDay(onOrAfter: d("2026-09-19")) == d("2026-09-22"))
    }

    // Civil Code Art. 140-142; Act on Holidays of Administrative Organs Art. 2.
    @Test func statutoryDeadlines() {
        // Final report, 30 days: the first day is not counted; 2026-03-02 is a Monday.
        #expect(calendar.statutoryDeadline(knownOn: d("2026-01-31"), days: 30) == d("2026-03-02"))
        // Leap year: 30 days from 2028-01-30 is 2028-02-29, a Tuesday, and stays.
        #expect(calendar.statutoryDeadline(knownOn: d("2028-01-30"), days: 30) == d("2028-02-29"))
        // ... from 2028-01-28 it is Sunday 2028-02-27, which rolls to Monday the 28th.
        #expect(calendar.statutoryDeadline(knownOn: d("2028-01-28"), days: 30) == d("2028-02-28"))
        // Wrongful intent, 60 days: 2026-04-01 + 60 = Sunday 2026-05-31 → Monday 2026-06-01.
        #expect(calendar.statutoryDeadline(knownOn: d("2026-04-01"), days: 60) == d("2026-06-01"))
        #expect(calendar.statutoryDeadline(knownOn: d("2026-03-06"), days: 60) == d("2026-05-07"))
        // Landing on a Sunday rolls to the Monday: 2026-05-10.
        #expect(calendar.statutoryDeadline(knownOn: d("2026-04-10"), days: 30) == d("2026-05-11"))
        // Landing on 30 December rolls past the year-end closure to Monday 2027-01-04.
        #expect(calendar.statutoryDeadline(knownOn: d("2026-11-30"), days: 30) == d("2027-01-04"))
        // Preliminary report in practice within 5 days.
        #expect(calendar.statutoryDeadline(knownOn: d("2026-06-01"), days: 5) == d("2026-06-08"))  // Sat → Mon
        #expect(calendar.statutoryDeadline(knownOn: d("2026-06-02"), days: 5) == d("2026-06-08"))  // Sun → Mon
        #expect(calendar.statutoryDeadline(knownOn: d("2026-06-03"), days: 5) == d("2026-06-08"))
        #expect(calendar.statutoryDeadline(knownOn: d("2026-06-04"), days: 5) == d("2026-06-09"))
        #expect(calendar.statutoryDeadline(knownOn: d("2026-04-28"), days: 5) == d("2026-05-07"))  // Golden Week
        #expect(calendar.statutoryDeadline(knownOn: d("2026-12-25"), days: 5) == d("2027-01-04"))
        #expect(calendar.statutoryDeadline(knownOn: d("2026-09-16"), days: 5) == d("2026-09-24"))  // Silver Week
        // Zero days: the day itself, rolled.
        #expect(calendar.statutoryDeadline(knownOn: d("2026-05-02"), days: 0) == d("2026-05-07"))
    }

    @Test func statutoryDeadlineInstants() {
        // Known at 23:59:59 JST on 31 January: the deadline is 2026-03-02, ending at 00:00 JST on 3 March.
        let lateOn31st = Date(timeIntervalSince1970: 1_769_871_599)
        #expect(calendar.statutoryDeadlineInstant(knownAt: lateOn31st, days: 30) == d("2026-03-03").startInTokyo())
        // One second later it is 1 February in Tokyo: 2026-03-03 (Tuesday), ending 00:00 JST 4 March.
        let startOf1st = Date(timeIntervalSince1970: 1_769_871_600)
        #expect(calendar.statutoryDeadlineInstant(knownAt: startOf1st, days: 30) == d("2026-03-04").startInTokyo())
        let formatter = ISO8601DateFormatter()
        #expect(
            formatter.string(from: calendar.statutoryDeadlineInstant(knownAt: startOf1st, days: 30))
                == "2026-03-03T15:00:00Z"
        )
    }
}
