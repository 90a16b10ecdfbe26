public import ConfigFiles
import Contracts
import Foundation
import Yams

/// The asset register file (`deploy/config/assets.yaml`, whose header documents the format):
/// a list `assets` of the ward's information assets (issue #18 item 0).
///
/// Like the organisation file, every problem is reported at once with its line and column. What
/// needs the stored directory (does the section exist, is each handler designated there) is
/// checked at import by ``RegisteredAsset/problems(in:on:)``, placed by ``AssetDocument/Parsed/problem(file:asset:field:message:)``.
public enum AssetDocument {
    /// The assets of a file and where each field was written.
    public struct Parsed: Sendable {
        public var assets: [RegisteredAsset]
        var marks: [String: SourcePosition]

        /// A problem found later (against the stored directory) about the asset's `field` (a
        /// path such as `myNumber.handlers`), placed where the field, or else the asset, was written.
        public func problem(file: String, asset id: String, field: String, message: String) -> FileProblem {
            let position = marks["\(id)/\(field)"] ?? marks[id]
            return FileProblem(file: file, line: position?.line ?? 0, column: position?.column ?? 0, message: message)
        }
    }

    /// Reads assets from YAML text; `fileName` is used in problem positions.
    public static func parse(yaml: String, fileName: String) throws(AssetImportError) -> Parsed {
        var reader = AssetReader(file: fileName)
        let assets = reader.read(yaml: yaml)
        guard reader.problems.isEmpty else {
            throw AssetImportError(problems: reader.problems.sorted { ($0.line, $0.column) < ($1.line, $1.column) })
        }
        return Parsed(assets: assets, marks: reader.marks)
    }

    /// Reads assets from a file; an unreadable file is a problem too.
    public static func load(path: String) throws(AssetImportError) -> Parsed {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw AssetImportError(problems: [.init(file: path, line: 0, column: 0, message: "cannot read the file: \(error)")])
        }
        return try parse(yaml: text, fileName: path)
    }
}

/// Everything wrong with an asset register file.
public struct AssetImportError: Error, Sendable, Hashable, CustomStringConvertible {
    public typealias Problem = FileProblem

    public var problems: [Problem]

    public init(problems: [Problem]) {
        self.problems = problems
    }

    public var description: String { FileProblem.report(problems, subject: "asset register") }
}

private struct AssetReader {
    static let keys = ["id", "name", "nameEn", "section", "classification", "myNumber", "systems", "contractors", "retired"]

    let file: String
    var problems: [FileProblem] = []
    var marks: [String: SourcePosition] = [:]

    init(file: String) {
        self.file = file
    }

    mutating func problem(_ message: String, at mark: Mark?) {
        problems.append(.init(file: file, line: mark?.line ?? 0, column: mark?.column ?? 0, message: message))
    }

    mutating func read(yaml: String) -> [RegisteredAsset] {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            problems.append(DocumentReader.problem(for: error, file: file))
            return []
        } catch {
            problem("cannot read YAML: \(error)", at: nil)
            return []
        }
        guard let root, let fields = fields(root, what: "the asset register", allowed: ["assets"], required: ["assets"]) else { return [] }
        guard case .sequence(let list)? = fields["assets"] else {
            problem("'assets' must be a list", at: fields["assets"]?.mark)
            return []
        }
        var assets: [RegisteredAsset] = []
        var seen: [String: Int] = [:]
        for node in list {
            guard let asset = readAsset(node) else { continue }
            if let line = seen[asset.id] {
                problem("asset id '\(asset.id)' is used twice (first on line \(line))", at: node.mark)
                continue
            }
            seen[asset.id] = node.mark?.line ?? 0
            assets.append(asset)
        }
        return assets
    }

    private mutating func readAsset(_ node: Node) -> RegisteredAsset? {
        let required = ["id", "name", "section", "classification"]
        guard let fields = fields(node, what: "an asset", allowed: Self.keys, required: required),
            let id = text(fields["id"], "id")
        else { return nil }
        guard RegisteredAsset.isValidID(id) else {
            problem("asset id '\(id)' must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit", at: fields["id"]?.mark)
            return nil
        }
        if let mark = node.mark { marks[id] = SourcePosition(line: mark.line, column: mark.column) }
        for (key, field) in [("section", "sectionCode"), ("myNumber", "myNumber.handlers"), ("contractors", "contractors")] {
            if let mark = fields[key]?.mark { marks["\(id)/\(field)"] = SourcePosition(line: mark.line, column: mark.column) }
        }
        let name = text(fields["name"], "name")
        let section = text(fields["section"], "section")
        let classification = readClassification(fields["classification"], of: id)
        let myNumber = fields["myNumber"].flatMap { readMyNumber($0, of: id) }
        let retired: Bool
        if let node = fields["retired"] {
            guard let value = node.bool else {
                problem("'retired' of asset '\(id)' must be true or false", at: node.mark)
                return nil
            }
            retired = value
        } else {
            retired = false
        }
        guard let name, !name.isEmpty, let section, let classification else {
            if name?.isEmpty == true { problem("'name' of asset '\(id)' is empty", at: fields["name"]?.mark) }
            return nil
        }
        return RegisteredAsset(
            id: id, name: name, nameEn: text(fields["nameEn"], "nameEn"), sectionCode: section, classification: classification,
            myNumber: myNumber, systems: texts(fields["systems"], "systems", of: id),
            contractors: texts(fields["contractors"], "contractors", of: id), retired: retired)
    }

    /// `{confidentiality, integrity, availability}` on the MIC levels (Art. 9(2)).
    private mutating func readClassification(_ node: Node?, of id: String) -> AssetClassification? {
        guard let node,
            let fields = fields(
                node, what: "the classification of asset '\(id)'", allowed: ["confidentiality", "integrity", "availability"],
                required: ["confidentiality", "integrity", "availability"])
        else { return nil }
        let c = level(fields["confidentiality"], ConfidentialityLevel.self, "confidentiality")
        let i = level(fields["integrity"], IntegrityLevel.self, "integrity")
        let a = level(fields["availability"], AvailabilityLevel.self, "availability")
        guard let c, let i, let a else { return nil }
        return AssetClassification(confidentiality: c, integrity: i, availability: a)
    }

    /// Designated handlers and the handling area, both required (Art. 18(8)(1)-(2)).
    private mutating func readMyNumber(_ node: Node, of id: String) -> RegisteredAsset.MyNumberHandling? {
        guard let fields = fields(node, what: "myNumber of asset '\(id)'", allowed: ["handlers", "area"], required: ["handlers", "area"]),
            let area = text(fields["area"], "area")
        else { return nil }
        let handlers = texts(fields["handlers"], "handlers", of: id)
        guard !handlers.isEmpty else {
            problem("asset '\(id)' holds My Number data, so it needs at least one designated handler (Art. 18(8)(1))", at: fields["handlers"]?.mark)
            return nil
        }
        return .init(handlers: handlers, area: area)
    }

    private mutating func level<Level: RawRepresentable<String> & CaseIterable>(_ node: Node?, _ type: Level.Type, _ key: String) -> Level? {
        guard let value = text(node, key) else { return nil }
        guard let level = Level(rawValue: value) else {
            problem("'\(value)' is not a \(key) level; expected one of \(Level.allCases.map(\.rawValue).joined(separator: ", "))", at: node?.mark)
            return nil
        }
        return level
    }

    private mutating func fields(_ node: Node, what: String, allowed: [String], required: [String]) -> [String: Node]? {
        guard case .mapping(let mapping) = node else {
            problem("expected \(what) as a mapping of \(allowed.joined(separator: ", "))", at: node.mark)
            return nil
        }
        var fields: [String: Node] = [:]
        for (key, value) in mapping {
            guard let name = key.scalar?.string, allowed.contains(name) else {
                problem("unknown key '\(key.scalar?.string ?? "?")' in \(what); expected one of \(allowed.joined(separator: ", "))", at: key.mark)
                continue
            }
            fields[name] = value
        }
        let missing = required.filter { fields[$0] == nil }
        for name in missing {
            problem("\(what) is missing required key '\(name)'", at: mapping.mark)
        }
        return missing.isEmpty ? fields : nil
    }

    private mutating func text(_ node: Node?, _ key: String) -> String? {
        guard let node else { return nil }
        guard case .scalar(let scalar) = node else {
            problem("'\(key)' must be text", at: node.mark)
            return nil
        }
        return scalar.string
    }

    private mutating func texts(_ node: Node?, _ key: String, of id: String) -> [String] {
        guard let node else { return [] }
        guard case .sequence(let list) = node else {
            problem("'\(key)' of asset '\(id)' must be a list", at: node.mark)
            return []
        }
        return list.compactMap { text($0, key) }
    }
}
