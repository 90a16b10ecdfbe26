import Contracts
import Foundation
import Testing
@testable import WebConsole

/// The management review pack: all nine items of Art. 11(5), each with its article; an item
/// with nothing to show says why; the figures and charts come from the services' answers.
@Suite struct ReviewPackTests {
    static func source(_ path: String, _ json: String?) -> ReviewPack.Source {
        var source = ReviewPack.Source(service: "audit-scheduler", path: path)
        if let json { source.data = try! JSONValue(parsing: json) } else { source.reasonCode = "not-offered" }
        return source
    }

    static let incidents = """
        {"from":"2026-04-01","to":"2027-03-31","total":5,"bySeverity":{"1":1,"2":1,"3":2,"4":1},
         "byMonth":[{"month":"2026-04","bySeverity":{"1":1,"2":0,"3":1,"4":0},"total":2},{"month":"2026-05","bySeverity":{"1":0,"2":1,"3":1,"4":1},"total":3}],
         "byCategory":[{"category":"malware","count":3},{"category":"loss-or-theft","count":2}],"byDepartment":[{"departmentCode":"kumin","count":5}],
         "notIncidents":1,"merged":2,"obligations":{"total":4,"metOnTime":1,"late":1,"open":1,"overdue":1}}
        """
    static let effectiveness = """
        {"fiscalYear":2026,"educationWard":{"unit":"ward","dutiesDue":2,"dutiesCompleted":2,"participants":17,"eligible":20,"participationRate":0.85},
         "educationByDepartment":[{"unit":"kumin","dutiesDue":2,"dutiesCompleted":2,"participants":17,"eligible":20,"participationRate":0.85}],
         "educationContractors":{"unit":"contractors","dutiesDue":0,"dutiesCompleted":0,"participants":0,"eligible":0},
         "selfInspection":{"rounds":[{"occurrenceDate":"2026-06-01","sectionsDue":3,"sectionsCompleted":3,"averageScorePercent":70},
                                     {"occurrenceDate":"2026-12-01","sectionsDue":3,"sectionsCompleted":2,"averageScorePercent":80}],"trendPercentPoints":10,
                          "byDepartment":[{"unit":"kumin","sectionsDue":6,"sectionsCompleted":5,"averageScorePercent":75.5,"trendPercentPoints":10}]},
         "audit":{"sections":3,"plannedThisYear":1,"completedThisYear":1,"coveredInCycle":2,"cycleYears":3,"cycleCoverage":0.6666666666666666},
         "findings":{"recorded":2,"open":1,"treated":0,"closed":1,"overdue":0,"bySeverity":{"high":2},"averageDaysToClose":12.5,"maximumDaysToClose":12.5},
         "duties":[{"kind":"education","total":2,"completed":2,"completedOnTime":2,"overdue":0}]}
        """
    static let previous = """
        {"fiscalYear":2025,"educationByDepartment":[{"unit":"kumin","participants":15,"eligible":20,"participationRate":0.75}],
         "audit":{"sections":3,"plannedThisYear":1,"completedThisYear":1,"coveredInCycle":1,"cycleYears":3}}
        """

    static func pack(withData: Bool = true) -> ReviewPack {
        let requests = ReviewPack.requests(fiscalYear: 2026, from: "2026-04-01", to: "2027-03-31", asOf: "2027-03-31")
        var sources: [String: ReviewPack.Source] = [:]
        for (key, request) in requests { sources[key] = source(request.1, nil) }
        if withData {
            sources["incidents"] = source("/v1/reports/incidents", incidents)
            sources["effectiveness"] = source("/v1/reports/effectiveness?fiscalYear=2026", effectiveness)
            sources["effectivenessPrevious"] = source("/v1/reports/effectiveness?fiscalYear=2025", previous)
            sources["effectivenessCycle1"] = source("/v1/reports/effectiveness?fiscalYear=2025", previous)
        }
        return ReviewPack.assemble(fiscalYear: 2026, from: "2026-04-01", to: "2027-03-31", assembledAt: "2027-04-10T01:00:00.000Z", sources: sources)
    }

    @Test func allNineItemsArePresentEachWithItsArticle() {
        let pack = Self.pack()
        #expect(pack.items.map(\.number) == Array(1...9))
        for item in pack.items { #expect(item.article.hasPrefix("Art. 11(5)(\(item.number))")) }
        #expect(pack.itemsWithoutReason.isEmpty)
    }

    @Test func anItemWithoutDataSaysWhy() {
        let pack = Self.pack(withData: false)
        #expect(pack.items.allSatisfy { !$0.hasData })
        #expect(pack.itemsWithoutReason.isEmpty, "items \(pack.itemsWithoutReason) are empty without a reason")
        let risks = pack.items[5]
        #expect(risks.reason?.contains("/v1/risks/summary") == true)
        #expect(risks.reason?.contains("not-offered") == true)
        // The check itself fails an item that is empty without a reason.
        var broken = pack
        broken.items[0].reason = nil
        #expect(broken.itemsWithoutReason == [1])
    }

    @Test func thePackSurvivesItsOwnJSON() throws {
        let pack = Self.pack()
        let stored = try CanonicalJSON.text(of: pack)
        let back = try JSONDecoder().decode(ReviewPack.self, from: Data(stored.utf8))
        #expect(back == pack)
    }

    @Test func theViewShowsTheFiguresAndChartsOfTheAnswers() {
        let items = ReviewPackView(pack: Self.pack(), language: .en).items()
        #expect(items.count == 9)
        func figures(_ number: Int) -> [String: String] {
            Dictionary(((items[number - 1]["figures"] as? [[String: String]]) ?? []).map { ($0["label"] ?? "", $0["value"] ?? "") }, uniquingKeysWith: { a, _ in a })
        }
        func charts(_ number: Int) -> [String] { items[number - 1]["charts"] as? [String] ?? [] }
        // (2) education: the rate, its figures and the change from last year.
        #expect(figures(2)["whole ward"] == "85% (17/20)")
        #expect(figures(2)["kumin"] == "85% (17/20); previous year 75%, +10 pt")
        #expect(charts(2).first?.contains(#"data-department="kumin" data-value="0.850""#) == true)
        // (3) self-inspection: 5 of 6 sections, +10 points.
        #expect(figures(3)["completion"] == "83.3% (5/6)")
        #expect(figures(3)["change from the previous round"] == "+10 pt")
        #expect(figures(3)["kumin"] == "75.5% (5/6); change from the previous round +10 pt")
        #expect(charts(3).first?.contains(#"data-date="2026-12-01" data-value="80""#) == true)
        // (4) coverage: 2 of 3 sections in the cycle; the years of the cycle.
        #expect(figures(4)["sections audited in the cycle"] == "2/3 (66.7%)")
        #expect(charts(4).first?.contains(#"data-year="2025" data-value="1""#) == true)
        #expect(charts(4).first?.contains(#"data-year="2024" data-value="""#) == true)
        // (7) incidents: totals, obligations, the stacked chart.
        #expect(figures(7)["incidents"] == "5")
        #expect(figures(7)["statutory reports and notices"] == "total 4, on time 1, late 1, open 1, overdue 1")
        #expect(figures(7)["not incidents / merged"] == "1 / 2")
        #expect(charts(7).first?.contains(#"data-month="2026-05" data-severity="4" data-value="1""#) == true)
        // (6) no risk register yet: no chart, and the reason.
        #expect(charts(6).isEmpty)
        #expect((items[5]["reasons"] as? [String])?.first?.contains("not available yet") == true)
    }

    @Test func thePageAndTheDocumentRenderEveryItem() async throws {
        let renderer = try await ConsoleRenderer()
        let items = ReviewPackView(pack: Self.pack(), language: .ja).items()
        let data: [String: Any] = [
            "t": Labels.all(.ja), "lang": "ja", "fiscalYear": 2026, "from": "2026-04-01", "to": "2027-03-31", "assembledAt": "x", "items": items,
        ]
        let document = renderer.fragment("review-document", data: data)
        for number in 1...9 { #expect(document.contains(#"id="review-item-\#(number)""#)) }
        #expect(document.contains("@page { size: A4"))
        #expect(document.contains(#"<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="incidents-by-month""#))
        // Self-contained: nothing is fetched from anywhere.
        #expect(!document.contains("<link") && !document.contains("<script") && !document.contains("src="))
    }
}
