import ConfigFiles
import AuditScheduler
import Directory
import Foundation
import Testing
import WardCalendar

private func d(_ text: String) -> CivilDate { CivilDate(iso: text)! }

/// The repository's default calendar file.
func defaultCalendar() throws -> DutyCalendar {
    let path = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("deploy/config/duty-calendar.yaml").path
    return try DutyCalendarDocument.load(path: path)
}

@Suite("Duty calendar, due dates, timeline, audit rotation")
struct DutyPlanningTests {
    @Test("the default calendar is valid and holds the guideline's duties")
    func defaultFile() throws {
        let calendar = try defaultCalendar()
        let kinds = Set(calendar.templates.map(\.kind))
        #expect(kinds.isSuperset(of: [.education, .selfInspection, .audit, .auditPlan, .riskTreatment, .emergencyPlanReview, .managementReview, .policyReview]))
        #expect(calendar.fiscalYearStartMonth == 4)
        #expect(calendar.reminderDays == [30, 7, 1])
        #expect(calendar.fiscalYear(of: d("2027-03-31")) == 2026)
        #expect(calendar.fiscalYear(of: d("2027-04-01")) == 2027)
        #expect(calendar.riskTreatmentTemplate?.recurrence == nil)
    }

    @Test("a bad calendar file reports every problem with its line")
    func badFile() {
        let yaml = """
            start: 2026-04-01
            reminderDays: [30, 7, 7]
            colour: blue
            duties:
              - id: x
                title: t
                kind: education
                article: Art. 23
                rrule: FREQ=YEARLY;BYMONTHDAY=32
                scope: every-section
                owner: sectionSecurityOfficer
              - id: y
                title: t
                kind: management-review
                article: Art. 11(5)
                rrule: FREQ=YEARLY
                scope: ward
                owner: sectionSecurityOfficer
              - id: z
                title: t
                kind: nonsense
                article: Art. 1
                scope: galaxy
                owner: nobody
            """
        do {
            _ = try DutyCalendarDocument.parse(yaml: yaml, fileName: "cal.yaml")
            Issue.record("a bad file was accepted")
        } catch {
            let lines = error.problems.map(\.line)
            #expect(lines.contains(2))  // reminder day twice
            #expect(lines.contains(3))  // unknown key
            #expect(lines.contains(9))  // BYMONTHDAY=32
            #expect(lines.contains(18))  // section role owing a ward duty
            #expect(lines.contains(21))  // unknown kind
            #expect(lines.contains(23))  // unknown scope
            #expect(lines.contains(24))  // unknown role
            #expect(error.description.contains("cal.yaml:9:"))
        }
    }

    @Test("due dates on closing days roll to the next opening day: Golden Week and the new year")
    func holidayRolling() {
        let planner = DutyPlanner(calendar: DutyCalendar(start: d("2025-04-01"), templates: []))
        // 2025: 3 May (Sat, 憲法記念日) … 6 May (Tue, 振替休日) → Wednesday 7 May.
        #expect(planner.dueDate(from: d("2025-05-03"), offsetDays: 0) == d("2025-05-07"))
        #expect(planner.dueDate(from: d("2025-04-29"), offsetDays: 0) == d("2025-04-30"))  // 昭和の日 (Tue)
        // 2026: 3 May (Sun) → 振替休日 Wed 6 May → Thursday 7 May.
        #expect(planner.dueDate(from: d("2026-05-01"), offsetDays: 2) == d("2026-05-07"))
        // Year-end closure 29 Dec - 3 Jan, then 2027-01-04 is a Monday.
        #expect(planner.dueDate(from: d("2026-12-28"), offsetDays: 1) == d("2027-01-04"))
        // 2028-01-03 is a Monday but still closed; 4 Jan opens.
        #expect(planner.dueDate(from: d("2027-12-29"), offsetDays: 0) == d("2028-01-04"))
        // 成人の日 2027: second Monday of January, 11 Jan.
        #expect(planner.dueDate(from: d("2027-01-09"), offsetDays: 0) == d("2027-01-12"))
        // An opening day stays.
        #expect(planner.dueDate(from: d("2026-05-08"), offsetDays: 0) == d("2026-05-08"))
    }

    @Test("the planner expands templates per unit and rolls due dates")
    func planner() throws {
        let calendar = try defaultCalendar()
        let sections = [
            Organisation.Section(code: "a", name: "A", departmentCode: "d1"), Organisation.Section(code: "b", name: "B", departmentCode: "d1"),
            Organisation.Section(code: "c", name: "C", departmentCode: "d2"),
        ]
        let planned = DutyPlanner(calendar: calendar).plan(from: d("2026-04-01"), through: d("2027-03-31"), sections: sections, departments: ["d1", "d2"]) { _ in ["b"] }
        let inspections = planned.filter { $0.kind == .selfInspection }
        #expect(inspections.count == 6)  // twice a year × 3 sections (Art. 24)
        #expect(Set(inspections.map(\.occurrenceDate)) == [d("2026-09-01"), d("2027-02-01")])
        // Only the planned section is audited (Art. 25).
        #expect(planned.filter { $0.kind == .audit }.map(\.unitCode) == ["b"])
        // The policy review (15 Jan + 60 days = 16 Mar 2027, Tue) and the audit plan (1 May 2026, Fri).
        #expect(planned.first { $0.templateID == "policy-review" }?.dueDate == d("2027-03-16"))
        #expect(planned.first { $0.templateID == "audit-plan" }?.dueDate == d("2026-05-01"))
        // Every due date is an opening day.
        #expect(planned.allSatisfy { WardCalendar().isOpeningDay($0.dueDate) })
        #expect(!planned.contains { $0.kind == .riskTreatment })
    }

    @Test("reminder ladder: 30, 7 and 1 days before, brought forward off closing days; then due, overdue and escalations")
    func timeline() {
        // Due Thursday 7 May 2026, just after Golden Week.
        let timeline = DutyTimeline(
            dueDate: d("2026-05-07"), reminderDays: [30, 7, 1], escalateAfterDays: 7, escalationLevels: 2, calendar: WardCalendar(), noticeHour: 9)
        #expect(timeline.steps.map(\.stage) == [.dueSoon(daysBefore: 30), .dueSoon(daysBefore: 7), .dueSoon(daysBefore: 1), .due, .overdue, .escalated(level: 1), .escalated(level: 2)])
        // 7 Apr (Tue); 30 Apr (Thu); 6 May is a substitute holiday → 1 May (Fri).
        #expect(timeline.steps.map(\.day) == [d("2026-04-07"), d("2026-04-30"), d("2026-05-01"), d("2026-05-07"), d("2026-05-08"), d("2026-05-15"), d("2026-05-22")])
        #expect(timeline.steps[0].at == d("2026-04-07").startInTokyo().addingTimeInterval(9 * 3600))
        // Catch-up: when the overdue notice is already due, reminders and the due notice are skipped.
        #expect(timeline.next(after: -1, now: d("2026-05-09").startInTokyo()) == 4)
        // In time, each step comes in turn.
        #expect(timeline.next(after: -1, now: d("2026-04-01").startInTokyo()) == 0)
        #expect(timeline.next(after: 4, now: d("2026-06-30").startInTokyo()) == 5)
        #expect(timeline.next(after: 6, now: d("2026-06-30").startInTokyo()) == nil)
    }

    @Test("escalation goes up the chain from the owing role")
    func escalationChain() {
        let fromSection = DutyRecipient.escalation(owner: .sectionSecurityOfficer, sectionCode: "s", departmentCode: "d")
        #expect(fromSection.first == DutyRecipient(role: .departmentSecurityOfficer, unitCode: "d"))
        #expect(fromSection.map(\.role) == [.departmentSecurityOfficer, .generalSecurityManager, .generalSecurityOfficer, .ciso])
        #expect(DutyRecipient.escalation(owner: .auditChief, sectionCode: "s", departmentCode: "d") == [DutyRecipient(role: .ciso, unitCode: nil)])
        #expect(DutyRecipient.escalation(owner: .ciso, sectionCode: nil, departmentCode: nil).isEmpty)
    }

    @Test("audit rotation covers every section within the cycle")
    func rotation() {
        let sections = (1...7).map { "s\($0)" }
        var last: [String: Int] = [:]
        var audited: [Int: [String]] = [:]
        for year in 2026...2031 {
            let plan = AuditRotation.plan(sections: sections, lastAudited: last, year: year, cycleYears: 3)
            audited[year] = plan
            for section in plan { last[section] = year }
        }
        #expect(audited[2026] == ["s1", "s2", "s3"])
        for start in 2026...2029 {
            let covered = Set((start..<(start + 3)).flatMap { audited[$0] ?? [] })
            #expect(covered == Set(sections), "years \(start)-\(start + 2)")
        }
        // A section whose last audit is a full cycle back is always included.
        #expect(AuditRotation.plan(sections: ["a", "b", "c", "d"], lastAudited: ["a": 2020, "b": 2025, "c": 2025, "d": 2025], year: 2026, cycleYears: 4).contains("a"))
    }

    @Test("an auditor from the audited section or its department is refused (Art. 13(2))")
    func auditorIndependence() {
        let organisation = Organisation(
            departments: [.init(code: "d1", name: "D1"), .init(code: "d2", name: "D2")],
            sections: [.init(code: "a", name: "A", departmentCode: "d1"), .init(code: "b", name: "B", departmentCode: "d1"), .init(code: "c", name: "C", departmentCode: "d2")],
            people: [.init(id: "chief-a", name: "A chief"), .init(id: "staff-b", name: "B staff"), .init(id: "head-d1", name: "D1 head"), .init(id: "chief-c", name: "C chief")],
            assignments: [
                .init(personID: "chief-a", role: .sectionSecurityOfficer, unitCode: "a"), .init(personID: "staff-b", role: .sectionSecurityStaff, unitCode: "b"),
                .init(personID: "head-d1", role: .departmentSecurityOfficer, unitCode: "d1"), .init(personID: "chief-c", role: .sectionSecurityOfficer, unitCode: "c"),
                .init(personID: "chief-c", role: .auditChief),
            ])
        #expect(AuditorIndependence.conflict(personID: "chief-a", sectionCode: "a", organisation: organisation)?.unitCode == "a")
        #expect(AuditorIndependence.conflict(personID: "staff-b", sectionCode: "a", organisation: organisation) != nil)  // same department
        #expect(AuditorIndependence.conflict(personID: "head-d1", sectionCode: "a", organisation: organisation) != nil)
        #expect(AuditorIndependence.conflict(personID: "nobody", sectionCode: "a", organisation: organisation) != nil)
        #expect(AuditorIndependence.conflict(personID: "chief-c", sectionCode: "a", organisation: organisation) == nil)
        #expect(AuditorIndependence.conflict(personID: "chief-c", sectionCode: "c", organisation: organisation) != nil)
    }
}
