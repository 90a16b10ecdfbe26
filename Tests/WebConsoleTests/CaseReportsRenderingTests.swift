import Foundation
import Testing
@testable import WebConsole

/// A case's reports on its page and in the lists (issue #16): the count, the rule that joined
/// each, a split form for every report but the opening one, the merge form, and a merged case's
/// banner — for handlers only, escaped, with the csrf field in every form.
@Suite struct CaseReportsRenderingTests {
    static func record(state: String = "acknowledged", mergedInto: String? = nil) throws -> CaseRecordView {
        let merged = mergedInto.map { #","mergedInto":"\#($0)""# } ?? ""
        let json = """
            {"id":"0b6e0b1e-3b7a-4c53-9b0c-000000000001","caseNumber":"INC-2026-000007","source":{"kind":"incident-report","id":"opener"},
             "sectionCode":"s","departmentCode":"d","category":"malware","title":"t","description":"d","myNumberDetected":false,"state":"\(state)",
             "severity":{"severity":3,"rule":"r","reason":"why"},"facts":{},"verdicts":{},"timestamps":{},"escalationLevel":0,
             "reportCount":3,"firstSeenAt":"2026-12-05T01:00:00.000Z","lastSeenAt":"2026-12-05T02:00:00.000Z"\(merged)}
            """
        return try JSONDecoder().decode(CaseRecordView.self, from: Data(json.utf8))
    }

    static func report(_ id: String, rule: String, title: String = "t") -> CaseReportView {
        CaseReportView(
            source: CaseSource(kind: "incident-report", id: id), rule: rule, joinedAt: "2026-12-05T01:00:00.000Z", recordedAt: "2026-12-05T01:00:00.000Z",
            knownAt: nil, title: title)
    }

    @Test func everyReportButTheOpeningOneCanBeSplitOutByAHandler() throws {
        let reports = [Self.report("opener", rule: "opened"), Self.report("r2", rule: "producer-key"), Self.report("r3", rule: "merge")]
        let rows = WebConsole.reportRows(try Self.record(), reports, isHandler: true, .ja)
        #expect(rows.map { $0["canSplit"] as? Bool } == [false, true, true])
        #expect(rows.map { $0["ruleLabel"] as? String } == ["最初の報告", "producer-key", "統合で移入"])
        #expect(rows.map { $0["isCorrelation"] as? Bool } == [false, true, false])
        #expect(WebConsole.reportRows(try Self.record(), reports, isHandler: true, .en).first?["ruleLabel"] as? String == "opened the case")
        // Not a handler, or a merged case: no split at all.
        #expect(WebConsole.reportRows(try Self.record(), reports, isHandler: false, .ja).allSatisfy { $0["canSplit"] as? Bool == false })
        #expect(WebConsole.reportRows(try Self.record(state: "merged"), reports, isHandler: true, .ja).allSatisfy { $0["canSplit"] as? Bool == false })
        // Bounded: a storm's case lists its first reports only.
        let storm = (0..<(WebConsole.reportsShown + 50)).map { Self.report("r\($0)", rule: "producer-key") }
        #expect(WebConsole.reportRows(try Self.record(), storm, isHandler: true, .ja).count == WebConsole.reportsShown)
    }

    @Test func thePageShowsTheReportsTheFormsAndAMergedCasesSurvivor() async throws {
        let h = RenderingTests.hostile
        let reports = WebConsole.reportRows(try Self.record(), [Self.report("opener", rule: "opened", title: h), Self.report(h, rule: h, title: h)], isHandler: true, .ja)
        func page(canMerge: Bool, mergedInto: String?) async throws -> String {
            try await RenderingTests.render("case", [
                "case": ["number": "INC-2026-000007", "title": h, "state": mergedInto == nil ? "acknowledged" : "merged", "reportCount": 3,
                         "firstSeenAt": "2026-12-05 10:00", "lastSeenAt": "2026-12-05 11:00", "mergedInto": mergedInto as Any] as [String: Any],
                "reports": reports, "reportsPartial": true, "reportsShown": 2, "canMerge": canMerge, "isHandler": canMerge,
            ])
        }
        let html = try await page(canMerge: true, mergedInto: nil)
        RenderingTests().assertEscaped(html)
        #expect(html.contains(#"id="report-count" data-count="3""#))
        #expect(html.components(separatedBy: #"<tr class="case-report""#).count == 3)
        // One split form: the opening report has none.
        #expect(html.components(separatedBy: #"class="split-form""#).count == 2)
        #expect(html.contains(#"name="sourceId" value="&lt;script&gt;"#))
        #expect(html.contains(#"id="merge-form""#) && html.contains(#"name="into""#))
        #expect(!html.contains(#"id="merged-into""#))
        // Every form of the section carries the csrf field.
        let section = try #require(html.range(of: #"<section id="case-reports">"#).map { String(html[$0.lowerBound...]) }?.components(separatedBy: "</section>").first)
        #expect(section.components(separatedBy: "<form").count - 1 == section.components(separatedBy: #"name="csrf""#).count - 1)
        #expect(section.contains("最初の報告"))

        let merged = try await page(canMerge: false, mergedInto: "INC-2026-000001")
        #expect(merged.contains(#"id="merged-into""#) && merged.contains(#"href="/cases/INC-2026-000001""#))
        #expect(!merged.contains(#"id="merge-form""#))
    }

    @Test func aCaseRowCountsItsReportsOnlyWhenThereAreSeveralAndTheCaseIsNotMerged() throws {
        func row(_ state: String, _ count: Int?) throws -> Any? {
            let json = """
                {"caseNumber":"INC-2026-000001","state":"\(state)","severity":2,"sectionCode":"s","departmentCode":"d","category":"malware",
                 "title":"t","knownAt":"2026-12-05T01:00:00.000Z","openedAt":"2026-12-05T01:00:00.000Z"\(count.map { ",\"reportCount\":\($0)" } ?? "")}
                """
            let summary = try JSONDecoder().decode(CaseSummaryView.self, from: Data(json.utf8))
            return WebConsole.caseRow(summary, .ja)["reportCount"]
        }
        #expect(try row("reported", 37) as? Int == 37)
        #expect(try row("reported", 1) is NSNull)
        #expect(try row("reported", nil) is NSNull)
        #expect(try row("merged", 37) is NSNull)
    }

    @Test func aStormIsOneRowWithItsCount() async throws {
        let row: [String: Any] = ["caseNumber": "INC-2026-000009", "severity": 2, "state": "reported", "stateLabel": "x", "title": "t", "reportCount": 37]
        let single: [String: Any] = ["caseNumber": "INC-2026-000010", "severity": 2, "state": "reported", "stateLabel": "x", "title": "t", "reportCount": NSNull()]
        for template in ["cases", "queue"] {
            let html = try await RenderingTests.render(template, ["rows": [row, single]])
            #expect(html.contains(#"data-count="37""#) && html.contains("×37"), "\(template)")
            #expect(html.components(separatedBy: #"class="report-count""#).count == 2, "\(template): the single report's row shows no count")
        }
    }
}
