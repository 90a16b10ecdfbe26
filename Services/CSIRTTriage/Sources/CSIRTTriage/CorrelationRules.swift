public import Contracts
import Foundation

/// What a report offers to correlation: who sent it, where, what, about which assets, and the
/// producer's own grouping key (issue #16). Contractor violations have none and never correlate.
public struct CorrelationAttributes: Sendable, Hashable, Codable {
    /// The CloudEvents `source` of the producer that filed the report (its system).
    public var producer: String
    public var sectionCode: String
    public var departmentCode: String
    public var category: IncidentCategory
    /// Each affected asset by its register id, or by its (masked) name when it has no id.
    public var assets: [String]
    public var correlationKey: String?

    public init(
        producer: String, sectionCode: String, departmentCode: String, category: IncidentCategory, assets: [String], correlationKey: String?
    ) {
        self.producer = producer
        self.sectionCode = sectionCode
        self.departmentCode = departmentCode
        self.category = category
        self.assets = assets
        self.correlationKey = correlationKey
    }

    public init(reported report: IncidentReported) {
        self.init(
            producer: report.producer, sectionCode: report.sectionCode, departmentCode: report.departmentCode, category: report.category,
            assets: report.affectedAssets.compactMap { asset in asset.id.map { "id:\($0)" } ?? asset.name.map { "name:\($0)" } },
            correlationKey: report.correlationKey)
    }
}

/// Which reports are one incident (Art. 27; issue #16), from deploy/config/correlation-rules.yaml.
///
/// A rule names attributes that must be equal and a window: a report whose attributes equal
/// those of a report of an OPEN case seen within the window joins that case instead of opening
/// one. Rules are tried in file order; the first that finds a case decides. Each (rule, values)
/// pair is a *key*; a case keeps the keys of all its reports with the time each was last seen.
public struct CorrelationRules: Sendable, Hashable {
    /// The attributes a rule can compare.
    public enum Attribute: String, Sendable, Hashable, CaseIterable {
        case producer, sectionCode, departmentCode, category, asset, correlationKey
    }

    public struct Rule: Sendable, Hashable {
        public var id: String
        public var description: String
        /// All must be present in the report and equal.
        public var attributes: [Attribute]
        /// How long after a case last saw the key a report may still join it.
        public var window: Duration

        public init(id: String, description: String, attributes: [Attribute], window: Duration) {
            self.id = id
            self.description = description
            self.attributes = attributes
            self.window = window
        }
    }

    /// One key a report carries: the rule, its position in the file, and the values joined.
    public struct Key: Sendable, Hashable {
        public var rule: String
        public var position: Int
        public var text: String
        public var window: Duration
    }

    public var version: String
    public var rules: [Rule]

    public init(version: String, rules: [Rule]) {
        self.version = version
        self.rules = rules
    }

    /// No correlation: every report opens its own case (what tests of other features use).
    public static let none = CorrelationRules(version: "none", rules: [])

    /// The keys `attributes` carries, rule by rule; a rule whose attribute is missing (no
    /// `correlationKey`, no asset) gives none. A report with several assets gives one key per asset.
    public func keys(for attributes: CorrelationAttributes) -> [Key] {
        var keys: [Key] = []
        for (position, rule) in rules.enumerated() {
            var texts = ["\(rule.id)"]
            for attribute in rule.attributes {
                let values: [String] = switch attribute {
                case .producer: [attributes.producer]
                case .sectionCode: [attributes.sectionCode]
                case .departmentCode: [attributes.departmentCode]
                case .category: [attributes.category.rawValue]
                case .asset: Array(Set(attributes.assets)).sorted()
                case .correlationKey: attributes.correlationKey.map { [$0] } ?? []
                }
                // U+001F (unit separator) cannot occur in any value: codes, URNs, a schema-bound key.
                texts = texts.flatMap { prefix in values.map { "\(prefix)\u{1F}\(attribute.rawValue)=\($0)" } }
            }
            keys += texts.map { Key(rule: rule.id, position: position, text: $0, window: rule.window) }
        }
        return keys
    }

    // MARK: Loading

    /// Loads and validates deploy/config/correlation-rules.yaml; errors name the line.
    public static func load(path: String) throws(TriageConfigurationError) -> CorrelationRules {
        try parse(yaml: readConfigurationFile(path), file: path)
    }

    public static func parse(yaml: String, file: String = "correlation-rules.yaml") throws(TriageConfigurationError) -> CorrelationRules {
        let root = try YAMLValue.parse(yaml, file: file)
        let top = try root.mapping(allowed: ["version", "rules"], what: "the correlation rules file")
        let version = try top.required("version", in: root, what: "the correlation rules file").string(what: "version")
        var rules: [Rule] = []
        for item in try top.required("rules", in: root, what: "the correlation rules file").sequence(what: "rules") {
            let members = try item.mapping(allowed: ["id", "description", "sameAs", "window"], what: "a rule")
            let id = try members.required("id", in: item, what: "a rule").string(what: "id")
            guard !id.isEmpty, id.count <= 100, id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }), !Self.reserved.contains(id) else {
                throw item.fail(.invalidValue, "rule id '\(id)' must be 1 to 100 letters, digits and '-', and not one of \(Self.reserved.sorted().joined(separator: ", "))")
            }
            guard !rules.contains(where: { $0.id == id }) else { throw item.fail(.invalidValue, "rule id '\(id)' is used twice") }
            let sameAs = try members.required("sameAs", in: item, what: "rule \(id)")
            var attributes: [Attribute] = []
            for name in try sameAs.strings(what: "sameAs of rule \(id)") {
                guard let attribute = Attribute(rawValue: name) else {
                    throw sameAs.fail(.invalidValue, "rule \(id): '\(name)' is not an attribute (\(Attribute.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                guard !attributes.contains(attribute) else { throw sameAs.fail(.invalidValue, "rule \(id) names '\(name)' twice") }
                attributes.append(attribute)
            }
            // A rule on the section or category alone would join every report of a busy section
            // into one case: a rule must name the system, an asset or the producer's own key.
            guard !Set(attributes).isDisjoint(with: [.producer, .asset, .correlationKey]) else {
                throw sameAs.fail(.invalidValue, "rule \(id) must compare producer, asset or correlationKey, not only the section or category")
            }
            let windowNode = try members.required("window", in: item, what: "rule \(id)")
            let windowText = try windowNode.string(what: "window of rule \(id)")
            guard let window = Self.duration(windowText), window > .zero, window <= .seconds(30 * 86_400) else {
                throw windowNode.fail(.invalidValue, "rule \(id): window '\(windowText)' must be a duration such as 30m, 2h or 7d, at most 30d")
            }
            rules.append(Rule(id: id, description: try members["description"]?.string(what: "description") ?? "", attributes: attributes, window: window))
        }
        return CorrelationRules(version: version, rules: rules)
    }

    /// What a case's report list says of a report put there otherwise than by a rule.
    static let reserved: Set<String> = ["opened", "merge", "split"]

    /// `90s`, `30m`, `2h`, `7d`.
    static func duration(_ text: String) -> Duration? {
        guard let unit = text.last, let value = Int(text.dropLast()), value >= 0 else { return nil }
        switch unit {
        case "s": return .seconds(value)
        case "m": return .seconds(value * 60)
        case "h": return .seconds(value * 3600)
        case "d": return .seconds(value * 86_400)
        default: return nil
        }
    }
}
