import Contracts
import CSIRTTriage
import Foundation
import Testing
import WardCalendar

func tokyo(_ text: String) -> Date { ContractsJSON.parseTimestamp(text)! }

/// Statutory obligations (issue #4 item 7): triggers in three-valued logic and the deadline
/// arithmetic of WardCalendar as the rules use it.
@Suite struct StatutoryRulesTests {
    let calendar = WardCalendar()

    func rule(_ id: String) throws -> StatutoryRules.ObligationRule {
        try #require(try TriageConfigFiles.statutory().regimes.flatMap(\.obligations).first { $0.id == id })
    }

    func regime(_ id: String) throws -> StatutoryRules.Regime {
        try #require(try TriageConfigFiles.statutory().regimes.first { $0.id == id })
    }

    @Test func myNumberLeakIsReportableUnlessStronglyEncrypted() throws {
        let myNumber = try regime("my-number-29-4")
        #expect(myNumber.trigger.evaluate(StatutoryVerdicts(myNumber: .yes, strongEncryption: .no)) == .yes)
        #expect(myNumber.trigger.evaluate(StatutoryVerdicts(myNumber: .yes, strongEncryption: .unknown)) == .unknown)
        #expect(myNumber.trigger.evaluate(StatutoryVerdicts(myNumber: .yes, strongEncryption: .yes)) == .no)
        #expect(myNumber.trigger.evaluate(StatutoryVerdicts(myNumber: .no)) == .no)
    }

    @Test func unknownVerdictsKeepTheQuestionOpen() throws {
        let appi = try regime("appi-68")
        // Personal data yes, nothing else known: to decide.
        #expect(appi.trigger.evaluate(StatutoryVerdicts(personalData: .yes)) == .unknown)
        // Every condition known to be absent: no obligation.
        let none = StatutoryVerdicts(personalData: .yes, sensitiveData: .no, propertyDamage: .no, wrongfulIntent: .no, moreThan100Persons: .no, strongEncryption: .no)
        #expect(appi.trigger.evaluate(none) == .no)
        // One condition yes decides even when others are unknown.
        #expect(appi.trigger.evaluate(StatutoryVerdicts(personalData: .yes, moreThan100Persons: .yes, strongEncryption: .no)) == .yes)
        // No personal data at all: no.
        #expect(appi.trigger.evaluate(StatutoryVerdicts(personalData: .no, wrongfulIntent: .yes)) == .no)
    }

    @Test func preliminaryReportAcrossAMonthEndRollsOverTheWeekend() throws {
        // Known Mon 27 Jan 2025 (JST): day 5 is Sat 1 Feb → Mon 3 Feb; ends 00:00 JST 4 Feb.
        let due = try #require(try rule("appi-68-preliminary").due(knownAt: tokyo("2025-01-27T16:00:00+09:00"), verdicts: .init(), calendar: calendar))
        #expect(due.days == 5)
        #expect(due.date == CivilDate(year: 2025, month: 2, day: 3))
        #expect(due.end == tokyo("2025-02-04T00:00:00+09:00"))
    }

    @Test func leapYearCountsTheTwentyNinth() throws {
        // Known Sun 25 Feb 2024: day 5 is Fri 1 Mar (29 Feb exists).
        let leap = try #require(try rule("my-number-29-4-preliminary").due(knownAt: tokyo("2024-02-25T09:00:00+09:00"), verdicts: .init(), calendar: calendar))
        #expect(leap.date == CivilDate(year: 2024, month: 3, day: 1))
        // The same in 2025 (no 29 Feb) ends on Sun 2 Mar → Mon 3 Mar.
        let common = try #require(try rule("my-number-29-4-preliminary").due(knownAt: tokyo("2025-02-25T09:00:00+09:00"), verdicts: .init(), calendar: calendar))
        #expect(common.date == CivilDate(year: 2025, month: 3, day: 3))
    }

    @Test func finalReportIs60DaysWithWrongfulIntentAnd30OtherwiseOrWhenUnknown() throws {
        let final = try rule("appi-68-final")
        let known = tokyo("2025-04-01T10:20:00+09:00")
        let plain = try #require(final.due(knownAt: known, verdicts: StatutoryVerdicts(wrongfulIntent: .no), calendar: calendar))
        #expect(plain.days == 30)
        #expect(plain.date == CivilDate(year: 2025, month: 5, day: 1))
        let unknown = try #require(final.due(knownAt: known, verdicts: StatutoryVerdicts(wrongfulIntent: .unknown), calendar: calendar))
        #expect(unknown.days == 30)
        // 60 days from 1 Apr is Sat 31 May → Mon 2 Jun.
        let intent = try #require(final.due(knownAt: known, verdicts: StatutoryVerdicts(wrongfulIntent: .yes), calendar: calendar))
        #expect(intent.days == 60)
        #expect(intent.date == CivilDate(year: 2025, month: 6, day: 2))
    }

    @Test func yearEndClosurePushesToTheFirstOpenDay() throws {
        // Known 24 Dec 2025: day 5 is 29 Dec → closure to 3 Jan, Sun 4 Jan → Mon 5 Jan 2026.
        let due = try #require(try rule("appi-68-preliminary").due(knownAt: tokyo("2025-12-24T12:00:00+09:00"), verdicts: .init(), calendar: calendar))
        #expect(due.date == CivilDate(year: 2026, month: 1, day: 5))
    }

    @Test func noticeHasNoFixedPeriod() throws {
        #expect(try rule("appi-68-notice").due(knownAt: Date(), verdicts: .init(), calendar: calendar) == nil)
    }

    @Test func remindersBeforeOnAndAfterTheLastDay() throws {
        let reminders = try TriageConfigFiles.statutory().reminders
        let dueDate = CivilDate(year: 2025, month: 4, day: 7)
        let dueAt = tokyo("2025-04-08T00:00:00+09:00")
        let early = reminders.schedule(dueDate: dueDate, dueAt: dueAt, now: tokyo("2025-04-01T12:00:00+09:00"))
        #expect(early.current == nil)
        #expect(early.next?.stage == "reminder")
        #expect(early.next?.at == tokyo("2025-04-04T00:00:00+09:00"))
        let lastDay = reminders.schedule(dueDate: dueDate, dueAt: dueAt, now: tokyo("2025-04-07T09:00:00+09:00"))
        #expect(lastDay.current == "due-today")
        #expect(lastDay.next?.stage == "overdue")
        #expect(lastDay.next?.at == dueAt)
        let late = reminders.schedule(dueDate: dueDate, dueAt: dueAt, now: tokyo("2025-04-09T01:00:00+09:00"))
        #expect(late.current == "overdue")
        #expect(late.next?.at == tokyo("2025-04-10T00:00:00+09:00"))
    }
}
