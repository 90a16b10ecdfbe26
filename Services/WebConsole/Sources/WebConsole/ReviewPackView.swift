import Contracts
import Foundation

/// The pack as a page shows it: per item its number, article, title, charts (SVG from
/// `Charts/`), figures as label and value, and — when a source did not answer — why. Pure, so
/// the console page, the downloaded document and the tests render the same thing.
struct ReviewPackView {
    let pack: ReviewPack
    let language: ConsoleLanguage

    func t(_ key: String) -> String { Labels.text(key, language) }

    /// The items in order, as template data.
    func items() -> [[String: Any]] {
        pack.items.map { item in
            var figures: [[String: String]] = []
            var charts: [String] = []
            var notes: [String] = []
            switch item.number {
            case 1: planItem(&figures)
            case 2: educationItem(&figures, &charts)
            case 3: selfInspectionItem(&figures, &charts)
            case 4: auditItem(&figures, &charts)
            case 5: findingsItem(&figures)
            case 6: risksItem(&figures, &charts)
            case 7: incidentsItem(&figures, &charts)
            case 8: contractorsItem(&figures)
            default: overallItem(&figures, &notes)
            }
            let reasons = item.sources.compactMap { key -> String? in
                guard let source = pack.sources[key], source.data == nil else { return nil }
                return "\(source.path) — " + t("reviewReason_" + (source.reasonCode ?? "error")) + (source.detail.map { ": \($0)" } ?? "")
            }
            return [
                "number": item.number, "article": item.article, "title": t("reviewItem\(item.number)"), "hasData": item.hasData,
                "reasons": reasons, "hasReasons": !reasons.isEmpty, "charts": charts, "figures": figures, "hasFigures": !figures.isEmpty,
                "notes": notes, "hasNotes": !notes.isEmpty,
            ] as [String: Any]
        }
    }

    // MARK: The nine items

    private func planItem(_ figures: inout [[String: String]]) {
        guard let plan = pack.data("plan") else { return }
        figures.append(row(t("reviewPlanVersion"), "v\(int(plan["version"]) ?? 0) (\(t("reviewStatus_" + (plan["status"]?.stringValue ?? "draft"))))"))
        for line in plan["lines"]?.arrayValue ?? [] {
            let planned = int(line["plannedCount"]) ?? 0
            let done = int(line["done"]) ?? 0
            let unit = line["unitCode"]?.stringValue ?? t("reviewWard")
            let rate = double(line["completionRate"]).map { " (\(SVG.percent($0)))" } ?? ""
            figures.append(row(
                "\(line["kind"]?.stringValue ?? "") — \(unit)", "\(done) / \(planned)\(rate); \(t("reviewOverdue")) \(int(line["overdue"]) ?? 0)",
                attributes: ["kind": line["kind"]?.stringValue ?? "", "unit": unit]))
        }
        figures.append(row(t("reviewTotal"), "\(int(plan["doneTotal"]) ?? 0) / \(int(plan["plannedTotal"]) ?? 0)"))
    }

    private func educationItem(_ figures: inout [[String: String]], _ charts: inout [String]) {
        guard let report = pack.data("effectiveness") else { return }
        let previous = Dictionary(
            (pack.data("effectivenessPrevious")?["educationByDepartment"]?.arrayValue ?? []).compactMap { entry in
                entry["unit"]?.stringValue.map { ($0, double(entry["participationRate"])) }
            }, uniquingKeysWith: { first, _ in first })
        let departments = report["educationByDepartment"]?.arrayValue ?? []
        let bars = departments.map { entry in
            BarChart.Bar(
                key: entry["unit"]?.stringValue ?? "", label: entry["unit"]?.stringValue ?? "", numerator: int(entry["participants"]) ?? 0,
                denominator: int(entry["eligible"]) ?? 0)
        }
        charts.append(BarChart(kind: "education-by-department", title: t("reviewChartEducation"), description: t("reviewChartEducationDesc"), bars: bars).svg(id: "education"))
        for (label, key) in [(t("reviewWard"), "educationWard"), (t("reviewContractors"), "educationContractors")] {
            if let entry = report[key] { figures.append(row(label, rateText(entry["participationRate"], entry["participants"], entry["eligible"]))) }
        }
        for entry in departments {
            let unit = entry["unit"]?.stringValue ?? ""
            var text = rateText(entry["participationRate"], entry["participants"], entry["eligible"])
            if let now = double(entry["participationRate"]), let before = previous[unit] ?? nil {
                text += "; \(t("reviewPreviousYear")) \(SVG.percent(before)), \(points((now - before) * 100))"
            }
            figures.append(row(unit, text, attributes: ["department": unit]))
        }
    }

    private func selfInspectionItem(_ figures: inout [[String: String]], _ charts: inout [String]) {
        if let report = pack.data("effectiveness") {
            let rounds = report["selfInspection"]?["rounds"]?.arrayValue ?? []
            let points = rounds.map { round in
                TrendChart.Point(
                    date: round["occurrenceDate"]?.stringValue ?? "", value: double(round["averageScorePercent"]),
                    note: "\(int(round["sectionsCompleted"]) ?? 0)/\(int(round["sectionsDue"]) ?? 0)")
            }
            charts.append(TrendChart(kind: "self-inspection-trend", title: t("reviewChartSelfInspection"), description: t("reviewChartSelfInspectionDesc"), points: points).svg())
            let due = rounds.compactMap { int($0["sectionsDue"]) }.reduce(0, +)
            let done = rounds.compactMap { int($0["sectionsCompleted"]) }.reduce(0, +)
            figures.append(row(t("reviewCompletion"), due > 0 ? "\(SVG.percent(Double(done) / Double(due))) (\(done)/\(due))" : "—"))
            figures.append(row(t("reviewTrend"), double(report["selfInspection"]?["trendPercentPoints"]).map { self.points($0) } ?? "—"))
            for entry in report["selfInspection"]?["byDepartment"]?.arrayValue ?? [] {
                let unit = entry["unit"]?.stringValue ?? ""
                let average = double(entry["averageScorePercent"]).map { SVG.number($0) + "%" } ?? "—"
                let trend = double(entry["trendPercentPoints"]).map { "; \(t("reviewTrend")) \(self.points($0))" } ?? ""
                figures.append(row(unit, "\(average) (\(int(entry["sectionsCompleted"]) ?? 0)/\(int(entry["sectionsDue"]) ?? 0))\(trend)", attributes: ["department": unit]))
            }
        }
        if let actions = pack.data("improvementActions")?["summary"] {
            figures.append(row(t("reviewImprovementActions"), summaryText(actions, ["opened", "done", "open", "overdue"])))
        }
    }

    private func auditItem(_ figures: inout [[String: String]], _ charts: inout [String]) {
        guard let report = pack.data("effectiveness"), let audit = report["audit"] else { return }
        let cycle = int(audit["cycleYears"]) ?? 3
        var years: [CoverageChart.Year] = []
        for back in stride(from: min(cycle, 3) - 1, through: 0, by: -1) {
            let source: JSONValue? = back == 0 ? report : pack.data("effectivenessCycle\(back)")
            years.append(.init(fiscalYear: pack.fiscalYear - back, completed: source.flatMap { int($0["audit"]?["completedThisYear"]) }))
        }
        let (covered, sections) = (int(audit["coveredInCycle"]) ?? 0, int(audit["sections"]) ?? 0)
        charts.append(CoverageChart(
            kind: "audit-coverage", title: t("reviewChartCoverage"), description: t("reviewChartCoverageDesc"), years: years, covered: covered,
            sections: sections, cycleLabel: t("reviewCycle")).svg())
        figures.append(row(t("reviewAuditsPlanned"), "\(int(audit["plannedThisYear"]) ?? 0)"))
        figures.append(row(t("reviewAuditsCompleted"), "\(int(audit["completedThisYear"]) ?? 0)"))
        figures.append(row(t("reviewCoverage"), "\(covered)/\(sections)" + (double(audit["cycleCoverage"]).map { " (\(SVG.percent($0)))" } ?? "")))
        if let findings = report["findings"] {
            figures.append(row(t("reviewFindingsRecorded"), "\(int(findings["recorded"]) ?? 0)"))
            let severities = ["critical", "high", "medium", "low"].map { "\($0) \(int(findings["bySeverity"]?[$0]) ?? 0)" }
            figures.append(row(t("reviewBySeverity"), severities.joined(separator: ", ")))
        }
    }

    private func findingsItem(_ figures: inout [[String: String]]) {
        guard let report = pack.data("effectiveness"), let findings = report["findings"] else { return }
        figures.append(row(t("reviewFindings"), summaryText(findings, ["recorded", "open", "treated", "closed", "overdue"])))
        let average = double(findings["averageDaysToClose"]).map { SVG.number($0) } ?? "—"
        let maximum = double(findings["maximumDaysToClose"]).map { SVG.number($0) } ?? "—"
        figures.append(row(t("reviewDaysToClose"), "\(average) / \(maximum)"))
        if let treatment = (report["duties"]?.arrayValue ?? []).first(where: { $0["kind"]?.stringValue == "risk-treatment" }) {
            figures.append(row(t("reviewTreatmentDuties"), summaryText(treatment, ["total", "completed", "completedOnTime", "overdue"])))
        }
    }

    private func risksItem(_ figures: inout [[String: String]], _ charts: inout [String]) {
        guard let risks = pack.data("risks") else { return }
        // The scale's labels in the page's language (the register gives both).
        let suffix = language == .ja ? "Ja" : ""
        if let map = risks["heatMap"],
            let likelihood = (map["likelihood" + suffix] ?? map["likelihood"])?.arrayValue?.compactMap(\.stringValue),
            let impact = (map["impact" + suffix] ?? map["impact"])?.arrayValue?.compactMap(\.stringValue)
        {
            for (key, title) in [("inherent", "reviewChartHeatInherent"), ("residual", "reviewChartHeatResidual")] {
                let counts = (map[key]?.arrayValue ?? []).map { row in (row.arrayValue ?? []).map { int($0) ?? 0 } }
                charts.append(HeatMapChart(kind: "risk-heat-map-\(key)", title: t(title), description: t("reviewChartHeatDesc"), likelihood: likelihood, impact: impact, counts: counts).svg())
            }
        }
        figures.append(row(t("reviewRisks"), "\(int(risks["total"]) ?? 0)"))
        if let treatment = risks["byTreatment"] { figures.append(row(t("reviewByTreatment"), summaryText(treatment, ["reduce", "accept", "transfer", "avoid", "untreated"]))) }
        figures.append(row(t("reviewRiskState"), summaryText(risks, ["aboveAppetite", "acceptedByCISO", "reviewsDue", "reviewsOverdue"])))
    }

    private func incidentsItem(_ figures: inout [[String: String]], _ charts: inout [String]) {
        if let incidents = pack.data("incidents") {
            let severities = ["1", "2", "3", "4"]
            let columns = (incidents["byMonth"]?.arrayValue ?? []).map { month in
                StackedBarChart.Column(month: month["month"]?.stringValue ?? "", values: severities.map { int(month["bySeverity"]?[$0]) ?? 0 })
            }
            charts.append(StackedBarChart(
                title: t("reviewChartIncidents"), description: t("reviewChartIncidentsDesc"),
                series: severities.map { .init(key: $0, label: t("reviewSeverity") + " " + $0) }, columns: columns
            ).svg())
            figures.append(row(t("reviewIncidents"), "\(int(incidents["total"]) ?? 0)"))
            figures.append(row(t("reviewBySeverity"), severities.map { "\($0): \(int(incidents["bySeverity"]?[$0]) ?? 0)" }.joined(separator: ", ")))
            figures.append(row(t("reviewByCategory"), (incidents["byCategory"]?.arrayValue ?? []).map { "\($0["category"]?.stringValue ?? "") \(int($0["count"]) ?? 0)" }.joined(separator: ", ")))
            figures.append(row(t("reviewByDepartment"), (incidents["byDepartment"]?.arrayValue ?? []).map { "\($0["departmentCode"]?.stringValue ?? "") \(int($0["count"]) ?? 0)" }.joined(separator: ", ")))
            figures.append(row(t("reviewNotIncidentsMerged"), "\(int(incidents["notIncidents"]) ?? 0) / \(int(incidents["merged"]) ?? 0)"))
            if let obligations = incidents["obligations"] {
                figures.append(row(t("reviewObligations"), summaryText(obligations, ["total", "metOnTime", "late", "open", "overdue"])))
            }
        }
        if let lessons = pack.data("lessons")?["summary"] { figures.append(row(t("reviewLessons"), summaryText(lessons, ["closed", "withMeasures", "erpChangesProposed"]))) }
        if let measures = pack.data("recurrenceMeasures")?["summary"] {
            figures.append(row(t("reviewRecurrenceMeasures"), summaryText(measures, ["total", "done", "doneOnTime", "open", "overdue"])))
        }
    }

    private func contractorsItem(_ figures: inout [[String: String]]) {
        guard let measures = pack.data("contractors") else { return }
        for entry in (measures["departments"]?.arrayValue ?? []) + [measures["total"]].compactMap({ $0 }) {
            let code = entry["departmentCode"]?.stringValue ?? ""
            let label = code == "*" ? t("reviewTotal") : code
            let rate = double(entry["complianceRate"]).map { SVG.percent($0) } ?? "—"
            figures.append(row(label, "\(t("reviewCompliance")) \(rate); " + summaryText(entry, ["attestationsDue", "attestedOnTime", "attestedLate", "attestationsMissing", "openViolations"])))
        }
    }

    private func overallItem(_ figures: inout [[String: String]], _ notes: inout [String]) {
        for duty in pack.data("effectiveness")?["duties"]?.arrayValue ?? [] {
            figures.append(row(duty["kind"]?.stringValue ?? "", summaryText(duty, ["total", "completed", "completedOnTime", "overdue"])))
        }
        if let onDemand = pack.data("onDemandDuties")?["summary"] { figures.append(row(t("reviewOnDemand"), summaryText(onDemand, ["ordered", "done", "open", "overdue"]))) }
        // Art. 29: what the cases' lessons say the emergency response plan needs (Art. 27(2)).
        for lesson in pack.data("lessons")?["cases"]?.arrayValue ?? [] where lesson["erpChange"]?["needed"] == .bool(true) {
            notes.append("\(lesson["caseNumber"]?.stringValue ?? ""): \(lesson["erpChange"]?["note"]?.stringValue ?? "")")
        }
        if let findings = pack.data("effectiveness")?["findings"], (int(findings["open"]) ?? 0) + (int(findings["overdue"]) ?? 0) > 0 {
            notes.append(t("reviewOpenFindingsNote") + ": " + summaryText(findings, ["open", "overdue"]))
        }
    }

    // MARK: Helpers

    private func row(_ label: String, _ value: String, attributes: [String: String] = [:]) -> [String: String] {
        ["label": label, "value": value].merging(attributes) { first, _ in first }
    }

    private func rateText(_ rate: JSONValue?, _ numerator: JSONValue?, _ denominator: JSONValue?) -> String {
        let figures = "(\(int(numerator) ?? 0)/\(int(denominator) ?? 0))"
        return double(rate).map { "\(SVG.percent($0)) \(figures)" } ?? "— \(figures)"
    }

    /// "key n, key n" for the listed members, labelled.
    private func summaryText(_ value: JSONValue, _ keys: [String]) -> String {
        keys.map { "\(t("reviewKey_" + $0)) \(int(value[$0]).map(String.init) ?? "—")" }.joined(separator: ", ")
    }

    private func points(_ value: Double) -> String { (value >= 0 ? "+" : "") + SVG.number(value) + " pt" }

    func int(_ value: JSONValue?) -> Int? {
        switch value {
        case .integer(let number)?: Int(number)
        case .number(let number)? where number.isFinite: Int(number)
        default: nil
        }
    }

    func double(_ value: JSONValue?) -> Double? {
        switch value {
        case .integer(let number)?: Double(number)
        case .number(let number)?: number
        default: nil
        }
    }
}
