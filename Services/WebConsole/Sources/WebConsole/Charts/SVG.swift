import Foundation

/// The pieces every chart is made of: server-side SVG written as text, with no script and no
/// `style` attribute (the console's Content-Security-Policy forbids inline style; presentation
/// attributes such as `fill` are not style). Every text that comes from data is escaped here.
///
/// Charts are read on paper too (the management review is printed for the minutes): shades are
/// far apart in lightness and every series also has a pattern, so a grey-scale print still tells
/// them apart, and every value is written next to its mark as text.
enum SVG {
    /// Escapes `&`, `<`, `>`, `"` and `'` for text and attribute values.
    static func escape(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.count)
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            default: result.append(character)
            }
        }
        return result
    }

    /// A coordinate or length with at most one decimal, so output is stable for tests.
    static func number(_ value: Double) -> String {
        let rounded = (value * 10).rounded() / 10
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(format: "%.1f", rounded)
    }

    /// An element with its attributes in the given order (values escaped) and optional content.
    static func element(_ name: String, _ attributes: [(String, String)], content: String? = nil) -> String {
        let attributeText = attributes.map { " \($0.0)=\"\(escape($0.1))\"" }.joined()
        guard let content else { return "<\(name)\(attributeText)/>" }
        return "<\(name)\(attributeText)>\(content)</\(name)>"
    }

    /// A text element whose content is escaped.
    static func text(_ value: String, x: Double, y: Double, anchor: String = "start", size: Int = 11, extra: [(String, String)] = []) -> String {
        element(
            "text", [("x", number(x)), ("y", number(y)), ("text-anchor", anchor), ("font-size", String(size)), ("fill", "#000")] + extra,
            content: escape(value))
    }

    /// Grey-scale friendly fills, lightest to darkest, each with a pattern id of its own.
    static let shades = ["#1a1a1a", "#5c5c5c", "#9a9a9a", "#d0d0d0", "#7a7a7a", "#404040"]

    /// `<defs>` with one pattern per shade: solid, diagonal hatch, dots, cross-hatch, … so the
    /// series differ by more than lightness. `prefix` keeps ids unique when a page has several charts.
    static func patterns(prefix: String, count: Int) -> String {
        var defs = ""
        for index in 0..<count {
            let shade = shades[index % shades.count]
            let id = "\(prefix)-p\(index)"
            let mark: String
            switch index % 4 {
            case 0: mark = ""
            case 1: mark = element("path", [("d", "M0,6 L6,0"), ("stroke", "#fff"), ("stroke-width", "1.5")])
            case 2: mark = element("circle", [("cx", "3"), ("cy", "3"), ("r", "1.2"), ("fill", "#fff")])
            default: mark = element("path", [("d", "M0,0 L6,6 M0,6 L6,0"), ("stroke", "#000"), ("stroke-width", "0.8")])
            }
            defs += element(
                "pattern", [("id", id), ("width", "6"), ("height", "6"), ("patternUnits", "userSpaceOnUse")],
                content: element("rect", [("width", "6"), ("height", "6"), ("fill", shade)]) + mark)
        }
        return element("defs", [], content: defs)
    }

    /// The fill that refers to pattern `index` of `prefix`.
    static func fill(prefix: String, _ index: Int) -> String { "url(#\(prefix)-p\(index))" }

    /// The whole `<svg>`: accessible name and description, and the chart's kind for tests.
    static func document(kind: String, title: String, description: String, width: Double, height: Double, body: String) -> String {
        element(
            "svg",
            [
                ("xmlns", "http://www.w3.org/2000/svg"), ("class", "chart"), ("data-chart", kind), ("viewBox", "0 0 \(number(width)) \(number(height))"),
                ("width", number(width)), ("height", number(height)), ("role", "img"), ("font-family", "sans-serif"),
            ],
            content: element("title", [], content: escape(title)) + element("desc", [], content: escape(description)) + body)
    }

    /// The largest value rounded up to a readable scale top (1, 2, 5 × 10ⁿ), at least 1.
    static func scaleTop(_ maximum: Double) -> Double {
        guard maximum > 0 else { return 1 }
        let magnitude = pow(10, floor(log10(maximum)))
        for step in [1.0, 2.0, 5.0, 10.0] where step * magnitude >= maximum { return step * magnitude }
        return 10 * magnitude
    }

    /// A percentage as text, one decimal at most ("85.7%").
    static func percent(_ ratio: Double) -> String { number(ratio * 100) + "%" }
}
