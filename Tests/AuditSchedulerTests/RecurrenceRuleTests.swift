import AuditScheduler
import Testing
import WardCalendar

private func d(_ text: String) -> CivilDate { CivilDate(iso: text)! }

private func expand(_ rule: String, start: String, through: String, from: String? = nil) throws -> [String] {
    try RecurrenceRule(parsing: rule).occurrences(start: d(start), from: d(from ?? start), through: d(through)).map(\.iso)
}

@Suite("RFC 5545 recurrence subset")
struct RecurrenceRuleTests {
    @Test("29 February recurs only in leap years")
    func leapDay() throws {
        #expect(try expand("FREQ=YEARLY", start: "2024-02-29", through: "2033-12-31") == ["2024-02-29", "2028-02-29", "2032-02-29"])
        // 2100 is no leap year (Gregorian century rule).
        #expect(try expand("FREQ=YEARLY;INTERVAL=4", start: "2096-02-29", through: "2104-12-31") == ["2096-02-29", "2104-02-29"])
        #expect(try expand("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=-1", start: "2024-01-01", through: "2026-12-31") == ["2024-02-29", "2025-02-28", "2026-02-28"])
    }

    @Test("BYMONTHDAY=31 skips short months; -1 is every month's last day")
    func monthEnds() throws {
        #expect(
            try expand("FREQ=MONTHLY;BYMONTHDAY=31", start: "2025-01-01", through: "2025-12-31")
                == ["2025-01-31", "2025-03-31", "2025-05-31", "2025-07-31", "2025-08-31", "2025-10-31", "2025-12-31"])
        #expect(
            try expand("FREQ=MONTHLY;BYMONTHDAY=-1;COUNT=4", start: "2024-01-15", through: "2030-01-01")
                == ["2024-01-31", "2024-02-29", "2024-03-31", "2024-04-30"])
        // A DTSTART on the 31st without BYMONTHDAY also skips (never moves to the 30th).
        #expect(try expand("FREQ=MONTHLY;COUNT=3", start: "2025-01-31", through: "2026-01-01") == ["2025-01-31", "2025-03-31", "2025-05-31"])
        #expect(try expand("FREQ=MONTHLY;BYMONTHDAY=30,-30", start: "2025-02-01", through: "2025-03-31") == ["2025-03-02", "2025-03-30"])
    }

    @Test("BYDAY ordinals within the month and the year")
    func weekdayOrdinals() throws {
        // Second Monday and last Friday of each month.
        #expect(try expand("FREQ=MONTHLY;BYDAY=2MO", start: "2025-04-01", through: "2025-06-30") == ["2025-04-14", "2025-05-12", "2025-06-09"])
        #expect(try expand("FREQ=MONTHLY;BYDAY=-1FR", start: "2025-01-01", through: "2025-03-31") == ["2025-01-31", "2025-02-28", "2025-03-28"])
        // Fifth Friday exists only in some months.
        #expect(try expand("FREQ=MONTHLY;BYDAY=5FR", start: "2025-01-01", through: "2025-06-30") == ["2025-01-31", "2025-05-30"])
        // Yearly: third Monday of September (敬老の日's rule), and the 20th Monday of the year.
        #expect(try expand("FREQ=YEARLY;BYMONTH=9;BYDAY=3MO", start: "2025-01-01", through: "2026-12-31") == ["2025-09-15", "2026-09-21"])
        #expect(try expand("FREQ=YEARLY;BYDAY=20MO", start: "2025-01-01", through: "2025-12-31") == ["2025-05-19"])
        // BYDAY with BYMONTHDAY limits: Friday the 13th.
        #expect(try expand("FREQ=MONTHLY;BYMONTHDAY=13;BYDAY=FR", start: "2025-01-01", through: "2026-12-31") == ["2025-06-13", "2026-02-13", "2026-03-13", "2026-11-13"])
    }

    @Test("COUNT counts from DTSTART, UNTIL is inclusive")
    func countAndUntil() throws {
        #expect(try expand("FREQ=WEEKLY;BYDAY=MO,TH;COUNT=5", start: "2025-04-01", through: "2025-12-31") == ["2025-04-03", "2025-04-07", "2025-04-10", "2025-04-14", "2025-04-17"])
        // A window that starts later sees only what the count leaves.
        #expect(try expand("FREQ=DAILY;COUNT=10", start: "2025-04-01", through: "2025-12-31", from: "2025-04-08") == ["2025-04-08", "2025-04-09", "2025-04-10"])
        #expect(try expand("FREQ=DAILY;INTERVAL=2;UNTIL=20250409", start: "2025-04-01", through: "2025-12-31") == ["2025-04-01", "2025-04-03", "2025-04-05", "2025-04-07", "2025-04-09"])
        #expect(try expand("FREQ=MONTHLY;INTERVAL=6;BYMONTHDAY=1;UNTIL=2026-07-01T00:00:00Z", start: "2025-07-01", through: "2030-01-01") == ["2025-07-01", "2026-01-01", "2026-07-01"])
        #expect(try expand("FREQ=YEARLY;BYMONTH=4,10;BYMONTHDAY=1;COUNT=3", start: "2025-05-01", through: "2030-01-01") == ["2025-10-01", "2026-04-01", "2026-10-01"])
    }

    @Test("DAILY and WEEKLY with limits")
    func dailyWeekly() throws {
        #expect(try expand("FREQ=DAILY;BYMONTH=1;BYDAY=SA,SU", start: "2025-12-30", through: "2026-01-12") == ["2026-01-03", "2026-01-04", "2026-01-10", "2026-01-11"])
        #expect(try expand("FREQ=WEEKLY;INTERVAL=2", start: "2025-04-02", through: "2025-05-01") == ["2025-04-02", "2025-04-16", "2025-04-30"])
    }

    @Test("bad rules are refused with a reason", arguments: [
        "BYMONTH=4", "FREQ=HOURLY", "FREQ=DAILY;BYDAY=2MO", "FREQ=YEARLY;COUNT=2;UNTIL=20250101", "FREQ=MONTHLY;BYMONTHDAY=0",
        "FREQ=MONTHLY;BYMONTHDAY=32", "FREQ=YEARLY;BYSETPOS=1", "FREQ=YEARLY;FREQ=YEARLY", "FREQ=WEEKLY;BYDAY=XX", "FREQ=MONTHLY;INTERVAL=0",
    ])
    func refused(_ rule: String) {
        #expect(throws: RecurrenceRuleError.self) { try RecurrenceRule(parsing: rule) }
    }

    @Test("a rule prints back as it was read")
    func roundTrip() throws {
        let text = "FREQ=MONTHLY;INTERVAL=2;BYMONTH=1,7;BYMONTHDAY=-1;BYDAY=-1FR,2MO;COUNT=4"
        #expect(try RecurrenceRule(parsing: text).description == text)
        #expect(try RecurrenceRule(parsing: "rrule:freq=yearly;until=20260331").description == "FREQ=YEARLY;UNTIL=20260331")
    }
}
