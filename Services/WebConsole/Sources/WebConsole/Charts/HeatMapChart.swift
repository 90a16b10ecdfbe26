import Foundation

/// The risk heat map (Art. 26): likelihood (rows, high at the top) × impact (columns, low to
/// high), the number of risks written in every cell; the shade darkens with the cell's
/// severity rank (likelihood + impact), not with the count, so print shows where the high
/// risks sit. Each cell is a `rect.point` with `data-likelihood`, `data-impact` (the labels)
/// and `data-value`.
struct HeatMapChart: Sendable, Hashable {
    var kind: String
    var title: String
    var description: String
    /// Labels low → high.
    var likelihood: [String]
    var impact: [String]
    /// counts[likelihoodIndex][impactIndex].
    var counts: [[Int]]

    /// About how wide a label is drawn at font size 10: a CJK character takes about twice a Latin one.
    static func labelWidth(_ label: String) -> Double {
        label.unicodeScalars.reduce(0) { $0 + ($1.value > 0x2E80 ? 10 : 5.6) }
    }

    /// `label` in lines no wider than `width`: first at an opening bracket, then wherever a line is full.
    static func lines(_ label: String, width: Double) -> [String] {
        var pieces: [String] = []
        var rest = Substring(label)
        if labelWidth(label) > width, let bracket = rest.firstIndex(where: { $0 == "（" || $0 == "(" }), bracket > rest.startIndex {
            pieces.append(String(rest[..<bracket]).trimmingCharacters(in: .whitespaces))
            rest = rest[bracket...]
        }
        var line = ""
        for character in rest {
            if !line.isEmpty, labelWidth(line + String(character)) > width {
                pieces.append(line)
                line = ""
            }
            line.append(character)
        }
        if !line.isEmpty { pieces.append(line) }
        return pieces
    }

    func svg() -> String {
        // Wide enough for the scale's labels (the ward's file may give long ones), within reason.
        let left = min(320, max(110, (likelihood.map(Self.labelWidth).max() ?? 0) + 14))
        let cell = min(150, max(56, (impact.map(Self.labelWidth).max() ?? 0) + 8))
        let top = 20.0
        // An impact label longer than its column goes on more lines (at its bracket, then by width).
        let impactLines = impact.map { Self.lines($0, width: cell - 6) }
        let width = left + cell * Double(max(impact.count, 1)) + 20
        let height = top + cell * Double(max(likelihood.count, 1)) + 32 + 13 * Double(impactLines.map(\.count).max() ?? 1)
        let ranks = max(likelihood.count + impact.count - 2, 1)
        let greys = ["#ffffff", "#e6e6e6", "#c8c8c8", "#a0a0a0", "#787878", "#505050", "#303030"]
        var body = ""
        for (row, likelihoodLabel) in likelihood.enumerated() {
            let y = top + cell * Double(likelihood.count - 1 - row)
            body += SVG.text(likelihoodLabel, x: left - 6, y: y + cell / 2 + 4, anchor: "end", size: 10)
            for (column, impactLabel) in impact.enumerated() {
                let x = left + cell * Double(column)
                let count = row < counts.count && column < counts[row].count ? counts[row][column] : 0
                let rank = Double(row + column) / Double(ranks)
                let shade = greys[min(greys.count - 1, Int((rank * Double(greys.count - 1)).rounded()))]
                body += SVG.element(
                    "rect",
                    [
                        ("class", "point"), ("data-likelihood", likelihoodLabel), ("data-impact", impactLabel), ("data-value", String(count)),
                        ("x", SVG.number(x)), ("y", SVG.number(y)), ("width", SVG.number(cell)), ("height", SVG.number(cell)), ("fill", shade),
                        ("stroke", "#000"),
                    ], content: SVG.element("title", [], content: SVG.escape("\(likelihoodLabel) × \(impactLabel): \(count)")))
                // White text on the dark cells, black on the light ones, in a box for print.
                let dark = rank > 0.6
                body += SVG.element("rect", [("x", SVG.number(x + cell / 2 - 13)), ("y", SVG.number(y + cell / 2 - 10)), ("width", "26"), ("height", "18"), ("fill", dark ? "#000" : "#fff"), ("stroke", "#000"), ("stroke-width", "0.5")])
                body += SVG.element(
                    "text",
                    [("x", SVG.number(x + cell / 2)), ("y", SVG.number(y + cell / 2 + 4)), ("text-anchor", "middle"), ("font-size", "12"), ("font-weight", "bold"), ("fill", dark ? "#fff" : "#000")],
                    content: String(count))
            }
        }
        for (column, lines) in impactLines.enumerated() {
            for (index, line) in lines.enumerated() {
                body += SVG.text(
                    line, x: left + cell * (Double(column) + 0.5), y: top + cell * Double(likelihood.count) + 14 + 13 * Double(index), anchor: "middle",
                    size: 10)
            }
        }
        return SVG.document(kind: kind, title: title, description: description, width: width, height: height, body: body)
    }
}
