import Contracts
import Foundation
import Testing
@testable import WebConsole

/// The review's charts are pure functions from figures to SVG: every data point is an element
/// with its value in data attributes (which the browser suite reads too), every value is also
/// written as text, nothing from data reaches the SVG unescaped, and no `style` attribute or
/// script is ever written (the console's CSP forbids both).
@Suite struct ReviewChartsTests {
    /// The `(attribute → value)` maps of every `class="point"` element of `svg`.
    static func points(_ svg: String) -> [[String: String]] {
        let element = try! Regex(#"<(rect|circle)[^>]*class="point"[^>]*>"#)
        let attribute = try! Regex(#"([a-z-]+)="([^"]*)""#)
        return svg.matches(of: element).map { match in
            var values: [String: String] = [:]
            for pair in String(svg[match.range]).matches(of: attribute) {
                if let name = pair.output[1].substring, let value = pair.output[2].substring { values[String(name)] = String(value) }
            }
            return values
        }
    }

    func assertClean(_ svg: String) {
        #expect(svg.hasPrefix("<svg"))
        #expect(!svg.contains("style="), "a style attribute would break the CSP")
        #expect(!svg.contains("<script"))
        #expect(svg.contains("<title>") && svg.contains("<desc>"))
    }

    @Test func incidentsPerMonthStackEachSeverityWithItsCountAndTotal() {
        let chart = StackedBarChart(
            title: "Incidents <per> month", description: "d", series: ["1", "2", "3", "4"].map { .init(key: $0, label: "S\($0)") },
            columns: [.init(month: "2026-04", values: [1, 0, 2, 3]), .init(month: "2026-05", values: [0, 0, 0, 0]), .init(month: "2026-06", values: [0, 4, 0, 1])])
        let svg = chart.svg()
        assertClean(svg)
        #expect(svg.contains(#"data-chart="incidents-by-month""#))
        #expect(svg.contains("Incidents &lt;per&gt; month"))
        let points = Self.points(svg)
        #expect(points.count == 12)
        #expect(points.first { $0["data-month"] == "2026-04" && $0["data-severity"] == "4" }?["data-value"] == "3")
        #expect(points.first { $0["data-month"] == "2026-06" && $0["data-severity"] == "2" }?["data-value"] == "4")
        #expect(svg.contains(#"class="total" data-month="2026-04" data-value="6""#))
        #expect(svg.contains(#"class="total" data-month="2026-05" data-value="0""#))
        // Each severity has its own pattern, so grey-scale print tells them apart.
        #expect(Set(points.compactMap { $0["fill"] }).count == 4)
    }

    @Test func educationBarsCarryTheRateAndItsFigures() {
        let svg = BarChart(
            kind: "education-by-department", title: "t", description: "d",
            bars: [.init(key: "kumin", label: "区民部", numerator: 17, denominator: 20), .init(key: "x\"><script>", label: "<b>", numerator: 0, denominator: 0)]
        ).svg(id: "education")
        assertClean(svg)
        let points = Self.points(svg)
        #expect(points.count == 2)
        #expect(points[0]["data-department"] == "kumin")
        #expect(points[0]["data-value"] == "0.850")
        #expect(points[0]["data-numerator"] == "17" && points[0]["data-denominator"] == "20")
        #expect(points[1]["data-value"] == "")
        #expect(svg.contains("85%"))
        #expect(svg.contains("&lt;b&gt;") && !svg.contains("<b>"))
        #expect(svg.contains("x&quot;&gt;&lt;script&gt;"))
    }

    @Test func selfInspectionTrendMarksEveryRoundAndSkipsTheUnscoredInTheLine() {
        let svg = TrendChart(
            kind: "self-inspection-trend", title: "t", description: "d",
            points: [.init(date: "2026-06-01", value: 70, note: "3/3"), .init(date: "2026-12-01", value: 82.5, note: "2/3"), .init(date: "2027-03-01", value: nil, note: "0/3")]
        ).svg()
        assertClean(svg)
        let points = Self.points(svg)
        #expect(points.map { $0["data-date"] } == ["2026-06-01", "2026-12-01", "2027-03-01"])
        #expect(points.map { $0["data-value"] } == ["70", "82.5", ""])
        #expect(svg.contains("<polyline"))
        #expect(svg.contains("82.5%"))
    }

    @Test func coverageShowsEachYearAndTheCycleAgainstAllSections() {
        let svg = CoverageChart(
            kind: "audit-coverage", title: "t", description: "d", years: [.init(fiscalYear: 2024, completed: 2), .init(fiscalYear: 2025, completed: nil), .init(fiscalYear: 2026, completed: 3)],
            covered: 5, sections: 7, cycleLabel: "cycle"
        ).svg()
        assertClean(svg)
        let points = Self.points(svg)
        #expect(points.map { $0["data-year"] } == ["2024", "2025", "2026", "cycle"])
        #expect(points.map { $0["data-value"] } == ["2", "", "3", "5"])
        #expect(points.last?["data-max"] == "7")
        #expect(svg.contains("5/7"))
    }

    @Test func theHeatMapHasACellPerLikelihoodAndImpactWithItsCount() {
        let svg = HeatMapChart(
            kind: "risk-heat-map-residual", title: "t", description: "d", likelihood: ["low", "medium", "high"], impact: ["minor", "major"],
            counts: [[1, 0], [2, 3], [0, 4]]
        ).svg()
        assertClean(svg)
        let points = Self.points(svg)
        #expect(points.count == 6)
        #expect(points.first { $0["data-likelihood"] == "medium" && $0["data-impact"] == "major" }?["data-value"] == "3")
        #expect(points.first { $0["data-likelihood"] == "high" && $0["data-impact"] == "major" }?["data-value"] == "4")
        #expect(points.map { Int($0["data-value"] ?? "") ?? -1 }.reduce(0, +) == 10)
    }

    @Test func scaleTopsAreReadable() {
        #expect(SVG.scaleTop(0) == 1)
        #expect(SVG.scaleTop(7) == 10)
        #expect(SVG.scaleTop(13) == 20)
        #expect(SVG.scaleTop(41) == 50)
        #expect(SVG.scaleTop(100) == 100)
    }

    @Test func aLongHeatMapLabelGoesOnMoreLinesNoneWiderThanItsColumn() {
        let label = "重大（区民への影響・個人情報の漏えい）"
        let lines = HeatMapChart.lines(label, width: 100)
        #expect(lines.first == "重大")
        #expect(lines.joined() == label.replacingOccurrences(of: " ", with: ""))
        #expect(lines.allSatisfy { HeatMapChart.labelWidth($0) <= 100 })
        #expect(HeatMapChart.lines("minor", width: 100) == ["minor"])
    }
}
