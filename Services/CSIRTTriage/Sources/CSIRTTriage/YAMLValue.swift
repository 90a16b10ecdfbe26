import Foundation
import Yams

/// A YAML node with its file and line, for configuration loaders whose errors must name the line.
struct YAMLValue {
    let node: Node
    let file: String

    var line: Int? { node.mark?.line }

    static func parse(_ text: String, file: String) throws(TriageConfigurationError) -> YAMLValue {
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw TriageConfigurationError(code: .syntax, file: file, line: 1, detail: "the file is empty")
            }
            return YAMLValue(node: node, file: file)
        } catch let error as TriageConfigurationError {
            throw error
        } catch let error as YamlError {
            throw TriageConfigurationError(code: .syntax, file: file, line: Self.line(of: error), detail: "not valid YAML: \(error)")
        } catch {
            throw TriageConfigurationError(code: .syntax, file: file, line: nil, detail: "not valid YAML: \(error)")
        }
    }

    private static func line(of error: YamlError) -> Int? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): mark.line
        default: nil
        }
    }

    func fail(_ code: TriageConfigurationError.Code, _ detail: String) -> TriageConfigurationError {
        TriageConfigurationError(code: code, file: file, line: line, detail: detail)
    }

    /// The mapping's members, refusing keys outside `allowed`.
    func mapping(allowed: Set<String>, what: String) throws(TriageConfigurationError) -> [String: YAMLValue] {
        guard let mapping = node.mapping else { throw fail(.invalidValue, "\(what) must be a mapping") }
        var members: [String: YAMLValue] = [:]
        for (key, value) in mapping {
            guard let name = key.string else { throw YAMLValue(node: key, file: file).fail(.invalidValue, "keys of \(what) must be strings") }
            guard allowed.contains(name) else {
                throw YAMLValue(node: key, file: file).fail(.unknownKey, "\(what) has no key '\(name)' (known: \(allowed.sorted().joined(separator: ", ")))")
            }
            members[name] = YAMLValue(node: value, file: file)
        }
        return members
    }

    /// Every member of a mapping whose keys are free (e.g. severities by number).
    func entries(what: String) throws(TriageConfigurationError) -> [(key: String, value: YAMLValue, keyLine: Int?)] {
        guard let mapping = node.mapping else { throw fail(.invalidValue, "\(what) must be a mapping") }
        var result: [(String, YAMLValue, Int?)] = []
        for (key, value) in mapping {
            guard let name = key.string else { throw YAMLValue(node: key, file: file).fail(.invalidValue, "keys of \(what) must be strings") }
            result.append((name, YAMLValue(node: value, file: file), key.mark?.line))
        }
        return result
    }

    func sequence(what: String) throws(TriageConfigurationError) -> [YAMLValue] {
        guard let sequence = node.sequence else { throw fail(.invalidValue, "\(what) must be a list") }
        return sequence.map { YAMLValue(node: $0, file: file) }
    }

    /// A scalar, or a list of scalars, as strings.
    func strings(what: String) throws(TriageConfigurationError) -> [String] {
        if node.sequence != nil {
            var result: [String] = []
            for item in try sequence(what: what) { result.append(try item.string(what: what)) }
            return result
        }
        return [try string(what: what)]
    }

    func string(what: String) throws(TriageConfigurationError) -> String {
        guard let scalar = node.scalar else { throw fail(.invalidValue, "\(what) must be a text value") }
        return scalar.string
    }

    func int(what: String) throws(TriageConfigurationError) -> Int {
        guard let value = node.int else { throw fail(.invalidValue, "\(what) must be an integer, not '\(node.string ?? "?")'") }
        return value
    }

    func bool(what: String) throws(TriageConfigurationError) -> Bool {
        guard let value = node.bool else { throw fail(.invalidValue, "\(what) must be true or false") }
        return value
    }

    func `enum`<E: RawRepresentable>(_: E.Type, what: String) throws(TriageConfigurationError) -> E where E.RawValue == String {
        let text = try string(what: what)
        guard let value = E(rawValue: text) else { throw fail(.invalidValue, "\(what) '\(text)' is not known") }
        return value
    }
}

extension [String: YAMLValue] {
    func required(_ key: String, in parent: YAMLValue, what: String) throws(TriageConfigurationError) -> YAMLValue {
        guard let value = self[key] else { throw parent.fail(.missingKey, "\(what) needs '\(key)'") }
        return value
    }
}

/// Reads a configuration file's text, naming it in the error.
func readConfigurationFile(_ path: String) throws(TriageConfigurationError) -> String {
    do {
        return try String(contentsOfFile: path, encoding: .utf8)
    } catch {
        throw TriageConfigurationError(code: .unreadable, file: path, line: nil, detail: "cannot read the file: \(error.localizedDescription)")
    }
}
