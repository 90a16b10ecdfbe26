import Foundation

/// Horizontal bars of a rate per unit (education completion by department, Art. 23): the bar's
/// length is the rate, the figures are written beside it ("85.7% (12/14)"). Each bar is a
/// `rect.point` with `data-department`, `data-value` (the rate, 0-1, three decimals) and the
/// numerator and denominator; a unit without a rate is shown as "—" with `data-value=""`.
struct BarChart: Sendable, Hashable {
    struct Bar: Sendable, Hashable {
        var key: String
        var label: String
        var numerator: Int
        var denominator: Int
        /// numerator / denominator; nil when the denominator is 0.
        var rate: Double? { denominator > 0 ? Double(numerator) / Double(denominator) : nil }
    }

    var kind: String
    var title: String
    var description: String
    var bars: [Bar]

    func svg(id: String) -> String {
        let (left, top, barHeight, gap, plotWidth) = (170.0, 24.0, 18.0, 8.0, 320.0)
        let height = top + Double(bars.count) * (barHeight + gap) + 24
        let width = left + plotWidth + 120
        var body = SVG.patterns(prefix: id, count: 1)
        body += SVG.element("line", [("x1", SVG.number(left)), ("y1", SVG.number(top - 6)), ("x2", SVG.number(left)), ("y2", SVG.number(height - 18)), ("stroke", "#000")])
        body += SVG.text("0%", x: left, y: height - 6, anchor: "middle", size: 9)
        body += SVG.text("100%", x: left + plotWidth, y: height - 6, anchor: "middle", size: 9)
        body += SVG.element("line", [("x1", SVG.number(left + plotWidth)), ("y1", SVG.number(top - 6)), ("x2", SVG.number(left + plotWidth)), ("y2", SVG.number(height - 18)), ("stroke", "#000"), ("stroke-dasharray", "3,3")])
        for (index, bar) in bars.enumerated() {
            let y = top + Double(index) * (barHeight + gap)
            body += SVG.text(bar.label, x: left - 6, y: y + barHeight - 5, anchor: "end", size: 11)
            let rate = bar.rate
            body += SVG.element(
                "rect",
                [
                    ("class", "point"), ("data-department", bar.key), ("data-value", rate.map { String(format: "%.3f", $0) } ?? ""),
                    ("data-numerator", String(bar.numerator)), ("data-denominator", String(bar.denominator)), ("x", SVG.number(left)), ("y", SVG.number(y)),
                    ("width", SVG.number((rate ?? 0) * plotWidth)), ("height", SVG.number(barHeight)), ("fill", SVG.fill(prefix: id, 0)), ("stroke", "#000"),
                    ("stroke-width", "0.5"),
                ], content: SVG.element("title", [], content: SVG.escape("\(bar.label): \(bar.numerator)/\(bar.denominator)")))
            let figure = rate.map { "\(SVG.percent($0)) (\(bar.numerator)/\(bar.denominator))" } ?? "—"
            body += SVG.text(figure, x: left + (rate ?? 0) * plotWidth + 6, y: y + barHeight - 5, size: 11)
        }
        return SVG.document(kind: kind, title: title, description: description, width: width, height: height, body: body)
    }
}
