import AuditScheduler
import ConfigFiles
import Directory
import Foundation
import Testing
import WardCalendar

private func d(_ text: String) -> CivilDate { CivilDate(iso: text)! }

/// Issue #18 item 3 without servers: the calendar file's `selfInspection` rules and the retired
/// `contractors` list, and contractor education planned from the contracts in force.
@Suite("Duties on demand: calendar file and planning")
struct OnDemandPlanningTests {
    @Test("the default calendar opens improvement actions below 70 % and has an improvement template")
    func defaultFile() throws {
        let calendar = try defaultCalendar()
        #expect(calendar.selfInspection == SelfInspectionRules(improvementBelow: 70, improvementDueDays: 30))
        let improvement = try #require(calendar.templates.first { $0.kind == .improvement })
        #expect(improvement.recurrence == nil && improvement.article == "Art. 24")
        #expect(calendar.template(id: "contractor-education")?.scope == .everyContractor)
    }

    @Test("a static contractors list is refused with why, and selfInspection is checked, each with its line")
    func retiredContractorsAndSelfInspection() {
        let yaml = """
            start: 2026-04-01
            contractors: [acme]
            selfInspection: { improvementBelow: 150, improvementDueDays: 0 }
            duties:
              - id: improvement
                title: 改善
                kind: improvement
                article: Art. 24
                rrule: FREQ=YEARLY
                scope: every-section
                owner: sectionSecurityOfficer
            """
        do {
            _ = try DutyCalendarDocument.parse(yaml: yaml, fileName: "cal.yaml")
            Issue.record("a bad file was accepted")
        } catch {
            let problems = error.problems
            #expect(problems.contains { $0.line == 2 && $0.message.contains("no longer read") && $0.message.contains("contracts in force") })
            #expect(problems.contains { $0.line == 3 && $0.message.contains("improvementBelow") })
            #expect(problems.contains { $0.line == 3 && $0.message.contains("improvementDueDays") })
            #expect(problems.contains { $0.line == 9 && $0.message.contains("takes no rrule") })
        }
    }

    @Test("every-contractor occurrences cover the contracts in force between the occurrence and its due date")
    func contractorUnits() throws {
        let template = DutyTemplate(
            id: "contractor-education", title: "委託事業者等への一般教育", kind: .education, article: "Art. 23",
            recurrence: try RecurrenceRule(parsing: "FREQ=YEARLY;BYMONTH=6;BYMONTHDAY=1"), scope: .everyContractor, owner: .sectionSecurityOfficer,
            dueOffsetDays: 90)
        let calendar = DutyCalendar(start: d("2026-04-01"), templates: [template])
        func contract(_ n: Int, from: String, to: String) -> ContractInForce {
            ContractInForce(
                contractID: UUID(), contractReference: "R8-\(n)", contractorID: UUID(), contractorName: "株式会社\(n)", sectionCode: "s\(n % 2)",
                departmentCode: "d", startDate: d(from), endDate: d(to), handlesMyNumber: false)
        }
        let contracts = [
            contract(1, from: "2026-04-01", to: "2027-03-31"),  // in force on 1 June
            contract(2, from: "2026-07-01", to: "2026-12-31"),  // starts before the due date (30 Aug)
            contract(3, from: "2025-04-01", to: "2026-05-31"),  // ended the day before
            contract(4, from: "2026-09-01", to: "2027-03-31"),  // starts after the due date
        ]
        let planned = DutyPlanner(calendar: calendar).plan(
            from: d("2026-04-01"), through: d("2027-03-31"), sections: [], departments: [], contracts: contracts) { _ in [] }
        #expect(Set(planned.compactMap(\.sourceID)) == [contracts[0].contractID, contracts[1].contractID])
        #expect(planned.allSatisfy { $0.unitKind == .contractor && $0.owner == .sectionSecurityOfficer && $0.sectionCode == $0.unitCode })
        #expect(planned.first { $0.sourceID == contracts[0].contractID }?.title == "委託事業者等への一般教育（株式会社1 R8-1）")
    }
}
