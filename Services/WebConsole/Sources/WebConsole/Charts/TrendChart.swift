import Foundation

/// A percentage over time (the self-inspection rounds' average score, Art. 24): a line through
/// one marked point per round, the value written above each. Each point is a `circle.point`
/// with `data-date` and `data-value`; a round without a score is left out of the line and
/// listed as "—" under its date with `data-value=""` on a hollow marker.
struct TrendChart: Sendable, Hashable {
    struct Point: Sendable, Hashable {
        var date: String
        /// 0-100, nil when the round has no score yet.
        var value: Double?
        /// Extra figures written under the date ("3/3").
        var note: String?
    }

    var kind: String
    var title: String
    var description: String
    var points: [Point]

    func svg() -> String {
        let (left, top, plotHeight) = (40.0, 24.0, 160.0)
        let step = max(60.0, min(110.0, 560.0 / Double(max(points.count, 1))))
        let width = left + step * Double(max(points.count, 1)) + 20
        let height = top + plotHeight + 46
        func y(_ value: Double) -> Double { top + plotHeight - value / 100 * plotHeight }
        var body = SVG.element("line", [("x1", SVG.number(left)), ("y1", SVG.number(top)), ("x2", SVG.number(left)), ("y2", SVG.number(top + plotHeight)), ("stroke", "#000")])
        body += SVG.element("line", [("x1", SVG.number(left)), ("y1", SVG.number(top + plotHeight)), ("x2", SVG.number(width - 10)), ("y2", SVG.number(top + plotHeight)), ("stroke", "#000")])
        for mark in [0.0, 50.0, 100.0] {
            body += SVG.text("\(Int(mark))%", x: left - 4, y: y(mark) + 4, anchor: "end", size: 9)
            if mark > 0 { body += SVG.element("line", [("x1", SVG.number(left)), ("y1", SVG.number(y(mark))), ("x2", SVG.number(width - 10)), ("y2", SVG.number(y(mark))), ("stroke", "#999"), ("stroke-dasharray", "2,3")]) }
        }
        let placed = points.enumerated().map { (index, point) in (x: left + step * (Double(index) + 0.5), point: point) }
        let line = placed.compactMap { item in item.point.value.map { "\(SVG.number(item.x)),\(SVG.number(y($0)))" } }
        if line.count >= 2 {
            body += SVG.element("polyline", [("points", line.joined(separator: " ")), ("fill", "none"), ("stroke", "#000"), ("stroke-width", "2")])
        }
        for item in placed {
            let value = item.point.value
            body += SVG.element(
                "circle",
                [
                    ("class", "point"), ("data-date", item.point.date), ("data-value", value.map { SVG.number($0) } ?? ""), ("cx", SVG.number(item.x)),
                    ("cy", SVG.number(y(value ?? 0))), ("r", "4"), ("fill", value == nil ? "#fff" : "#000"), ("stroke", "#000"),
                ], content: SVG.element("title", [], content: SVG.escape("\(item.point.date): \(value.map { SVG.number($0) + "%" } ?? "—")")))
            body += SVG.text(value.map { SVG.number($0) + "%" } ?? "—", x: item.x, y: y(value ?? 0) - 8, anchor: "middle", size: 10)
            body += SVG.text(item.point.date, x: item.x, y: top + plotHeight + 14, anchor: "middle", size: 9)
            if let note = item.point.note { body += SVG.text(note, x: item.x, y: top + plotHeight + 28, anchor: "middle", size: 9) }
        }
        return SVG.document(kind: kind, title: title, description: description, width: width, height: height, body: body)
    }
}
