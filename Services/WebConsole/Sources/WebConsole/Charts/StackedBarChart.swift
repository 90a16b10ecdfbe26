import Foundation

/// Incidents per month stacked by severity (Art. 11(5)(7)): one column per month, one segment
/// per severity, the month's total above it. Each segment is a `rect.point` with `data-month`,
/// `data-severity` and `data-value`; each total a `text.total` with `data-month` and `data-value`.
struct StackedBarChart: Sendable, Hashable {
    struct Column: Sendable, Hashable {
        /// The column's key, also its label (`2026-04`).
        var month: String
        /// Count per series, in the order of `series`.
        var values: [Int]
    }

    var title: String
    var description: String
    struct Series: Sendable, Hashable {
        var key: String
        var label: String
    }

    /// The series' keys (`1`…`4`) and their legend labels.
    var series: [Series]
    var columns: [Column]

    func svg(id: String = "incidents") -> String {
        let (left, top, plotHeight) = (40.0, 28.0, 180.0)
        let step = max(28.0, min(60.0, 560.0 / Double(max(columns.count, 1))))
        let width = left + step * Double(max(columns.count, 1)) + 20
        let legendY = top + plotHeight + 40
        let height = legendY + 22
        let maximum = SVG.scaleTop(Double(columns.map { $0.values.reduce(0, +) }.max() ?? 0))
        var body = SVG.patterns(prefix: id, count: series.count)
        // The axis and its scale, in words as well as lines.
        body += SVG.element("line", [("x1", SVG.number(left)), ("y1", SVG.number(top)), ("x2", SVG.number(left)), ("y2", SVG.number(top + plotHeight)), ("stroke", "#000")])
        body += SVG.element("line", [("x1", SVG.number(left)), ("y1", SVG.number(top + plotHeight)), ("x2", SVG.number(width - 10)), ("y2", SVG.number(top + plotHeight)), ("stroke", "#000")])
        body += SVG.text(SVG.number(maximum), x: left - 4, y: top + 4, anchor: "end", size: 10)
        body += SVG.text("0", x: left - 4, y: top + plotHeight + 4, anchor: "end", size: 10)
        for (index, column) in columns.enumerated() {
            let x = left + step * Double(index) + step * 0.15
            let barWidth = step * 0.7
            var y = top + plotHeight
            for (seriesIndex, value) in column.values.enumerated() where seriesIndex < series.count {
                let height = Double(value) / maximum * plotHeight
                y -= height
                body += SVG.element(
                    "rect",
                    [
                        ("class", "point"), ("data-month", column.month), ("data-severity", series[seriesIndex].key), ("data-value", String(value)),
                        ("x", SVG.number(x)), ("y", SVG.number(y)), ("width", SVG.number(barWidth)), ("height", SVG.number(height)),
                        ("fill", SVG.fill(prefix: id, seriesIndex)), ("stroke", "#000"), ("stroke-width", value > 0 ? "0.5" : "0"),
                    ], content: SVG.element("title", [], content: SVG.escape("\(column.month) \(series[seriesIndex].label): \(value)")))
            }
            let total = column.values.reduce(0, +)
            body += SVG.text(String(total), x: x + barWidth / 2, y: y - 4, anchor: "middle", size: 10, extra: [("class", "total"), ("data-month", column.month), ("data-value", String(total))])
            body += SVG.text(String(column.month.suffix(5)), x: x + barWidth / 2, y: top + plotHeight + 14, anchor: "middle", size: 9)
        }
        var legendX = left
        for (index, item) in series.enumerated() {
            body += SVG.element("rect", [("x", SVG.number(legendX)), ("y", SVG.number(legendY - 10)), ("width", "12"), ("height", "12"), ("fill", SVG.fill(prefix: id, index)), ("stroke", "#000")])
            body += SVG.text(item.label, x: legendX + 16, y: legendY, size: 11)
            legendX += 24 + Double(item.label.count) * 7
        }
        return SVG.document(kind: "incidents-by-month", title: title, description: description, width: width, height: height, body: body)
    }
}
