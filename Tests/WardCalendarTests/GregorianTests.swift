import Gregorian
import Testing

/// The one day arithmetic the wire, PostgreSQL and the ward's days share.
@Suite struct GregorianTests {
    @Test func dayCountsAgreeBothWays() {
        for days in stride(from: -800_000, through: 800_000, by: 997) {
            let (year, month, day) = Gregorian.date(days: days)
            #expect(Gregorian.days(year: year, month: month, day: day) == days)
        }
    }

    @Test func knownDays() {
        #expect(Gregorian.days(year: 1970, month: 1, day: 1) == 0)
        #expect(Gregorian.date(days: -1) == (1969, 12, 31))
        #expect(Gregorian.days(year: 2000, month: 3, day: 1) - Gregorian.days(year: 2000, month: 2, day: 28) == 2)
        #expect(Gregorian.daysInMonth(year: 1900, month: 2) == 28)
        #expect(Gregorian.floorDivide(-1, 86_400) == (-1, 86_399))
    }
}
