public import ConfigFiles
import Contracts
import Foundation
import Yams

/// Reads the risk scale file (`deploy/config/risk-scale.yaml`, whose header documents the
/// format). Like the duty calendar, every problem is reported at once with its line and column.
public enum RiskScaleDocument {
    /// The scale from YAML text; `fileName` is used in problem positions.
    public static func parse(yaml: String, fileName: String) throws(RiskScaleError) -> RiskScale {
        var reader = RiskScaleReader(file: fileName)
        let scale = reader.read(yaml: yaml)
        guard reader.problems.isEmpty, let scale else {
            throw RiskScaleError(problems: reader.problems.sorted { ($0.line, $0.column) < ($1.line, $1.column) })
        }
        return scale
    }

    /// The scale from a file; an unreadable file is a problem too.
    public static func load(path: String) throws(RiskScaleError) -> RiskScale {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw RiskScaleError(problems: [.init(file: path, line: 0, column: 0, message: "cannot read the file: \(error)")])
        }
        return try parse(yaml: text, fileName: path)
    }
}

/// Everything wrong with a risk scale file.
public struct RiskScaleError: Error, Sendable, Hashable, CustomStringConvertible {
    public var problems: [FileProblem]

    public init(problems: [FileProblem]) {
        self.problems = problems
    }

    public var description: String { FileProblem.report(problems, subject: "risk scale") }
}

private struct RiskScaleReader {
    let file: String
    var problems: [FileProblem] = []

    init(file: String) {
        self.file = file
    }

    mutating func problem(_ message: String, at mark: Mark?) {
        problems.append(.init(file: file, line: mark?.line ?? 0, column: mark?.column ?? 0, message: message))
    }

    mutating func read(yaml: String) -> RiskScale? {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            problem("cannot read YAML: \(error)", at: nil)
            return nil
        }
        let keys = ["likelihood", "impact", "levels", "matrix", "appetite", "classificationImpact"]
        guard let root, let top = fields(root, what: "the file", allowed: keys, required: keys) else {
            if root == nil { problem("the file is empty", at: nil) }
            return nil
        }
        let likelihood = steps(top["likelihood"]!, what: "likelihood")
        let impact = steps(top["impact"]!, what: "impact")
        let levels = readLevels(top["levels"]!)
        let ids = levels.map(\.id)

        // The matrix: one row per likelihood, one level per impact, never falling.
        var matrix: [[Int]] = []
        let rows = sequence(top["matrix"]!, what: "matrix")
        if !likelihood.isEmpty, rows.count != likelihood.count {
            problem("matrix has \(rows.count) rows; it needs one per likelihood (\(likelihood.count))", at: top["matrix"]!.mark)
        }
        for (r, rowNode) in rows.enumerated() {
            let cells = sequence(rowNode, what: "matrix row \(r + 1)")
            if !impact.isEmpty, cells.count != impact.count {
                problem("matrix row \(r + 1) has \(cells.count) levels; it needs one per impact (\(impact.count))", at: rowNode.mark)
            }
            var row: [Int] = []
            for cell in cells {
                guard let id = string(cell, what: "a matrix cell") else { continue }
                guard let index = ids.firstIndex(of: id) else {
                    problem("matrix row \(r + 1): unknown level '\(id)'; expected one of \(ids.joined(separator: ", "))", at: cell.mark)
                    continue
                }
                if let before = row.last, index < before {
                    problem("matrix row \(r + 1): level '\(id)' is lower than the one before it; a level may not fall as impact rises", at: cell.mark)
                }
                if let above = matrix.last, row.count < above.count, index < above[row.count] {
                    problem("matrix row \(r + 1): level '\(id)' is lower than the row before; a level may not fall as likelihood rises", at: cell.mark)
                }
                row.append(index)
            }
            matrix.append(row)
        }

        let appetiteText = string(top["appetite"], what: "appetite")
        let appetite = appetiteText.flatMap { ids.firstIndex(of: $0) }
        if let appetiteText, appetite == nil, !ids.isEmpty {
            problem("appetite '\(appetiteText)' is not a level; expected one of \(ids.joined(separator: ", "))", at: top["appetite"]!.mark)
        }
        let classification = readClassification(top["classificationImpact"]!, impactSteps: impact.count)

        guard problems.isEmpty, let appetite, let classification, !likelihood.isEmpty, !impact.isEmpty, !levels.isEmpty else { return nil }
        return RiskScale(likelihood: likelihood, impact: impact, levels: levels, matrix: matrix, appetite: appetite, classificationImpact: classification)
    }

    mutating func steps(_ node: Node, what: String) -> [RiskScale.Step] {
        let items = sequence(node, what: what)
        if items.isEmpty || items.count > 9 { problem("\(what) needs 1 to 9 steps, lowest first", at: node.mark) }
        return items.enumerated().compactMap { index, item in
            guard let map = fields(item, what: "\(what) \(index + 1)", allowed: ["ja", "en"], required: ["ja", "en"]),
                let ja = label(map["ja"], what: "ja of \(what) \(index + 1)"), let en = label(map["en"], what: "en of \(what) \(index + 1)")
            else { return nil }
            return RiskScale.Step(value: index + 1, ja: ja, en: en)
        }
    }

    mutating func readLevels(_ node: Node) -> [RiskScale.Level] {
        let items = sequence(node, what: "levels")
        if items.isEmpty || items.count > 9 { problem("levels needs 1 to 9 levels, lowest first", at: node.mark) }
        var levels: [RiskScale.Level] = []
        for (index, item) in items.enumerated() {
            guard let map = fields(item, what: "level \(index + 1)", allowed: ["id", "ja", "en", "reviewIntervalDays"], required: ["id", "ja", "en", "reviewIntervalDays"]),
                let id = string(map["id"], what: "id of level \(index + 1)")
            else { continue }
            if id.isEmpty || id.count > 32 || !id.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }) {
                problem("level id '\(id)' may hold only lowercase ASCII letters, digits and '-' (at most 32)", at: map["id"]!.mark)
            }
            if levels.contains(where: { $0.id == id }) {
                problem("level id '\(id)' is used twice", at: map["id"]!.mark)
                continue
            }
            let ja = label(map["ja"], what: "ja of level '\(id)'")
            let en = label(map["en"], what: "en of level '\(id)'")
            let days = integer(map["reviewIntervalDays"], what: "reviewIntervalDays of level '\(id)'", in: 1...1830)
            if let ja, let en, let days { levels.append(.init(id: id, ja: ja, en: en, reviewIntervalDays: days)) }
        }
        return levels
    }

    mutating func readClassification(_ node: Node, impactSteps: Int) -> RiskScale.ClassificationImpact? {
        guard let map = fields(node, what: "classificationImpact", allowed: ["confidentiality", "integrity", "availability"], required: ["confidentiality", "integrity", "availability"])
        else { return nil }
        let range = 1...max(1, impactSteps)
        func classes<Class: RawRepresentable & CaseIterable & Hashable>(_ key: String, _: Class.Type) -> [Class: Int]? where Class.RawValue == String {
            guard let node = map[key], let steps = fields(node, what: "classificationImpact.\(key)", allowed: Class.allCases.map(\.rawValue), required: Class.allCases.map(\.rawValue))
            else { return nil }
            var result: [Class: Int] = [:]
            for level in Class.allCases {
                if let value = integer(steps[level.rawValue], what: "classificationImpact.\(key).\(level.rawValue) (an impact step)", in: range) { result[level] = value }
            }
            return result.count == Class.allCases.count ? result : nil
        }
        // All three are read before any is judged, so every problem is reported at once.
        let (c, i, a) = (classes("confidentiality", ConfidentialityLevel.self), classes("integrity", IntegrityLevel.self), classes("availability", AvailabilityLevel.self))
        guard let c, let i, let a else { return nil }
        return .init(confidentiality: c, integrity: i, availability: a)
    }

    // MARK: Nodes

    mutating func fields(_ node: Node, what: String, allowed: [String], required: [String]) -> [String: Node]? {
        guard case .mapping(let mapping) = node else {
            problem("\(what) must be a mapping", at: node.mark)
            return nil
        }
        var result: [String: Node] = [:]
        for (key, value) in mapping {
            guard let name = key.scalar?.string else {
                problem("keys in \(what) must be plain text", at: key.mark)
                continue
            }
            if !allowed.contains(name) {
                problem("unknown key '\(name)' in \(what); allowed: \(allowed.joined(separator: ", "))", at: key.mark)
            } else if result[name] != nil {
                problem("key '\(name)' appears twice in \(what)", at: key.mark)
            }
            result[name] = value
        }
        let missing = required.filter { result[$0] == nil }
        for name in missing { problem("\(what) lacks the required key '\(name)'", at: node.mark) }
        return missing.isEmpty ? result : nil
    }

    mutating func string(_ node: Node?, what: String) -> String? {
        guard let node else { return nil }
        guard let scalar = node.scalar else {
            problem("\(what) must be text", at: node.mark)
            return nil
        }
        return scalar.string
    }

    mutating func label(_ node: Node?, what: String) -> String? {
        guard let text = string(node, what: what) else { return nil }
        guard !text.trimmingCharacters(in: .whitespaces).isEmpty, text.unicodeScalars.count <= 200 else {
            problem("\(what) must be 1 to 200 characters", at: node?.mark)
            return nil
        }
        return text
    }

    mutating func integer(_ node: Node?, what: String, in range: ClosedRange<Int>) -> Int? {
        guard let node else { return nil }
        guard let text = node.scalar?.string, let value = Int(text), range.contains(value) else {
            problem("\(what) must be a whole number in \(range.lowerBound)…\(range.upperBound)", at: node.mark)
            return nil
        }
        return value
    }

    mutating func sequence(_ node: Node, what: String) -> [Node] {
        guard case .sequence(let items) = node else {
            problem("\(what) must be a list", at: node.mark)
            return []
        }
        return Array(items)
    }
}
