import Foundation

/// Audit coverage over the cycle (Art. 25): one column per fiscal year of the cycle with the
/// audits completed that year, then a last column with the sections covered in the cycle
/// against all sections, the figures written on each. Each year is a `rect.point` with
/// `data-year` and `data-value`; the cycle's column has `data-year="cycle"`, `data-value` (the
/// sections covered) and `data-max` (the sections).
struct CoverageChart: Sendable, Hashable {
    struct Year: Sendable, Hashable {
        var fiscalYear: Int
        /// Audits completed in the year; nil when the year could not be read.
        var completed: Int?
    }

    var kind: String
    var title: String
    var description: String
    var years: [Year]
    var covered: Int
    var sections: Int
    /// The label of the cycle's column ("cycle").
    var cycleLabel: String

    func svg(id: String = "coverage") -> String {
        let (left, top, plotHeight, step) = (40.0, 24.0, 160.0, 80.0)
        let width = left + step * Double(years.count + 1) + 20
        let height = top + plotHeight + 34
        let maximum = SVG.scaleTop(Double(max(sections, years.compactMap(\.completed).max() ?? 0)))
        func bar(_ value: Int) -> Double { Double(value) / maximum * plotHeight }
        var body = SVG.patterns(prefix: id, count: 3)
        body += SVG.element("line", [("x1", SVG.number(left)), ("y1", SVG.number(top + plotHeight)), ("x2", SVG.number(width - 10)), ("y2", SVG.number(top + plotHeight)), ("stroke", "#000")])
        body += SVG.text(SVG.number(maximum), x: left - 4, y: top + 4, anchor: "end", size: 9)
        for (index, year) in years.enumerated() {
            let x = left + step * Double(index) + 16
            let value = year.completed ?? 0
            body += SVG.element(
                "rect",
                [
                    ("class", "point"), ("data-year", String(year.fiscalYear)), ("data-value", year.completed.map(String.init) ?? ""), ("x", SVG.number(x)),
                    ("y", SVG.number(top + plotHeight - bar(value))), ("width", SVG.number(step - 32)), ("height", SVG.number(bar(value))),
                    ("fill", SVG.fill(prefix: id, 1)), ("stroke", "#000"),
                ], content: SVG.element("title", [], content: SVG.escape("FY\(year.fiscalYear): \(year.completed.map(String.init) ?? "—")")))
            body += SVG.text(year.completed.map(String.init) ?? "—", x: x + (step - 32) / 2, y: top + plotHeight - bar(value) - 4, anchor: "middle", size: 10)
            body += SVG.text("FY\(year.fiscalYear)", x: x + (step - 32) / 2, y: top + plotHeight + 14, anchor: "middle", size: 9)
        }
        let x = left + step * Double(years.count) + 16
        // The cycle's column: all sections as an outline, the covered ones filled inside it.
        body += SVG.element("rect", [("x", SVG.number(x)), ("y", SVG.number(top + plotHeight - bar(sections))), ("width", SVG.number(step - 32)), ("height", SVG.number(bar(sections))), ("fill", "#fff"), ("stroke", "#000"), ("stroke-dasharray", "3,2")])
        body += SVG.element(
            "rect",
            [
                ("class", "point"), ("data-year", "cycle"), ("data-value", String(covered)), ("data-max", String(sections)), ("x", SVG.number(x)),
                ("y", SVG.number(top + plotHeight - bar(covered))), ("width", SVG.number(step - 32)), ("height", SVG.number(bar(covered))),
                ("fill", SVG.fill(prefix: id, 0)), ("stroke", "#000"),
            ], content: SVG.element("title", [], content: SVG.escape("\(cycleLabel): \(covered)/\(sections)")))
        body += SVG.text("\(covered)/\(sections)", x: x + (step - 32) / 2, y: top + plotHeight - bar(max(covered, sections)) - 4, anchor: "middle", size: 10)
        body += SVG.text(cycleLabel, x: x + (step - 32) / 2, y: top + plotHeight + 14, anchor: "middle", size: 9)
        return SVG.document(kind: kind, title: title, description: description, width: width, height: height, body: body)
    }
}
