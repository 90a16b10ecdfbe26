public import Contracts
import Foundation

/// What a severity rule looks at: the report's facts as CSIRT knows them.
public struct SeverityInput: Sendable, Hashable, Codable {
    public var category: IncidentCategory
    /// The classifications of the affected assets that have one (Art. 9(2)).
    public var classifications: [AssetClassification]
    public var personalData: Verdict
    /// `yes` also when intake detected a My Number in the report.
    public var myNumber: Verdict
    public var sensitivePersonalData: Verdict
    public var wrongfulIntent: Verdict
    public var affectedPersons: AffectedPersons
    /// The assets the reports named, with what the reporter and the asset register said about
    /// each (issue #18 item 0); nil for sources that name none and for cases opened before.
    public var assets: [AssetCheck]?

    public init(
        category: IncidentCategory, classifications: [AssetClassification], personalData: Verdict, myNumber: Verdict,
        sensitivePersonalData: Verdict, wrongfulIntent: Verdict, affectedPersons: AffectedPersons, assets: [AssetCheck]? = nil
    ) {
        self.category = category
        self.classifications = classifications
        self.personalData = personalData
        self.myNumber = myNumber
        self.sensitivePersonalData = sensitivePersonalData
        self.wrongfulIntent = wrongfulIntent
        self.affectedPersons = affectedPersons
        self.assets = assets
    }
}

/// One asset a report named: the reporter's classification and, when the id is in the asset
/// register, the register's, which decides (Art. 9(2); issue #18 item 0).
public struct AssetCheck: Sendable, Hashable, Codable {
    public var id: String?
    public var name: String?
    /// What the reporter said, if anything.
    public var reported: AssetClassification?
    /// What the register says; nil when the id is not registered (or none was given).
    public var registered: AssetClassification?
    /// Whether both are known and disagree: the case shows it, so a wrong guess is seen.
    public var differs: Bool

    public init(id: String?, name: String?, reported: AssetClassification?, registered: AssetClassification? = nil) {
        self.id = id
        self.name = name
        self.reported = reported
        self.registered = registered
        self.differs = registered != nil && reported != nil && registered != reported
    }

    /// The classification severity uses: the register's, else the reporter's.
    public var effective: AssetClassification? { registered ?? reported }
}

extension SeverityInput {
    /// The facts with the register's classification for every named asset it holds; the
    /// reporter's stays for the others, so unregistered assets work as before.
    public func applying(register: [String: AssetClassification]) -> SeverityInput {
        guard let assets else { return self }
        var applied = self
        applied.assets = assets.map { check in
            AssetCheck(id: check.id, name: check.name, reported: check.reported, registered: check.id.flatMap { register[$0] })
        }
        applied.classifications = []
        for classification in applied.assets?.compactMap(\.effective) ?? [] where !applied.classifications.contains(classification) {
            applied.classifications.append(classification)
        }
        return applied
    }
}

/// The severity a case got, which rule decided and why (issue #4 item 3).
public struct SeverityDecision: Sendable, Hashable, Codable {
    /// 1 (critical) to 4 (low).
    public var severity: Int
    /// The deciding rule's id, or `default`.
    public var rule: String
    /// The deciding rule's reason.
    public var reason: String
    /// Every rule that matched, in file order.
    public var matched: [String]
    /// The rules file's `version`.
    public var rulesVersion: String
}

/// One condition of a rule; a rule holds when all its conditions hold.
public enum SeverityCondition: Sendable, Hashable {
    case category(Set<IncidentCategory>)
    /// Some affected asset is at least this confidential (scheme order, most sensitive first).
    case confidentialityAtLeast(ConfidentialityLevel)
    case integrityAtLeast(IntegrityLevel)
    case availabilityAtLeast(AvailabilityLevel)
    case personalData(Set<Verdict>)
    case myNumber(Set<Verdict>)
    case sensitivePersonalData(Set<Verdict>)
    case wrongfulIntent(Set<Verdict>)
    /// The count of affected persons is known and above this.
    case affectedPersonsOver(Int)
    /// Whether the count of affected persons is unknown.
    case affectedPersonsUnknown(Bool)
}

/// One rule of deploy/config/severity-rules.yaml.
public struct SeverityRule: Sendable, Hashable {
    public var id: String
    public var severity: Int
    public var reason: String
    public var conditions: [SeverityCondition]
}

/// The versioned severity rules (deploy/config/severity-rules.yaml): every rule whose conditions
/// all hold matches; the most severe match decides, ties going to the earlier rule; with no
/// match the default applies.
public struct SeverityRules: Sendable, Hashable {
    public var version: String
    /// The classification scheme's levels, most sensitive first (default: 2024 MIC guideline).
    public var confidentialityOrder: [ConfidentialityLevel]
    public var integrityOrder: [IntegrityLevel]
    public var availabilityOrder: [AvailabilityLevel]
    public var rules: [SeverityRule]
    public var defaultSeverity: Int
    public var defaultReason: String

    public init(
        version: String, rules: [SeverityRule], defaultSeverity: Int = 4, defaultReason: String = "no rule matched",
        confidentialityOrder: [ConfidentialityLevel] = [.level3A, .level3B, .level3C, .level2, .level1],
        integrityOrder: [IntegrityLevel] = [.level2, .level1],
        availabilityOrder: [AvailabilityLevel] = [.level2, .level1]
    ) {
        self.version = version
        self.rules = rules
        self.defaultSeverity = defaultSeverity
        self.defaultReason = defaultReason
        self.confidentialityOrder = confidentialityOrder
        self.integrityOrder = integrityOrder
        self.availabilityOrder = availabilityOrder
    }

    /// The severity of `input`.
    public func decide(_ input: SeverityInput) -> SeverityDecision {
        let matched = rules.filter { rule in rule.conditions.allSatisfy { holds($0, input) } }
        guard let best = matched.min(by: { $0.severity < $1.severity }) else {
            return SeverityDecision(severity: defaultSeverity, rule: "default", reason: defaultReason, matched: [], rulesVersion: version)
        }
        return SeverityDecision(severity: best.severity, rule: best.id, reason: best.reason, matched: matched.map(\.id), rulesVersion: version)
    }

    func holds(_ condition: SeverityCondition, _ input: SeverityInput) -> Bool {
        func rank<T: Equatable>(_ value: T, in order: [T]) -> Int { order.firstIndex(of: value) ?? order.count }
        switch condition {
        case .category(let categories): return categories.contains(input.category)
        case .confidentialityAtLeast(let level):
            return input.classifications.contains { rank($0.confidentiality, in: confidentialityOrder) <= rank(level, in: confidentialityOrder) }
        case .integrityAtLeast(let level):
            return input.classifications.contains { rank($0.integrity, in: integrityOrder) <= rank(level, in: integrityOrder) }
        case .availabilityAtLeast(let level):
            return input.classifications.contains { rank($0.availability, in: availabilityOrder) <= rank(level, in: availabilityOrder) }
        case .personalData(let verdicts): return verdicts.contains(input.personalData)
        case .myNumber(let verdicts): return verdicts.contains(input.myNumber)
        case .sensitivePersonalData(let verdicts): return verdicts.contains(input.sensitivePersonalData)
        case .wrongfulIntent(let verdicts): return verdicts.contains(input.wrongfulIntent)
        case .affectedPersonsOver(let threshold): return input.affectedPersons.exceeds(threshold) == true
        case .affectedPersonsUnknown(let unknown): return (input.affectedPersons == .unknown) == unknown
        }
    }
}

// MARK: - Loading

extension SeverityRules {
    /// Loads and validates deploy/config/severity-rules.yaml; errors name the line.
    public static func load(path: String) throws(TriageConfigurationError) -> SeverityRules {
        try parse(yaml: readConfigurationFile(path), file: path)
    }

    /// Parses the rules file's text.
    public static func parse(yaml: String, file: String = "severity-rules.yaml") throws(TriageConfigurationError) -> SeverityRules {
        let root = try YAMLValue.parse(yaml, file: file)
        let top = try root.mapping(allowed: ["version", "source", "scheme", "default", "rules"], what: "the rules file")
        let version = try top.required("version", in: root, what: "the rules file").string(what: "version")
        var rules = SeverityRules(version: version, rules: [])
        if let scheme = top["scheme"] {
            let members = try scheme.mapping(allowed: ["name", "confidentiality", "integrity", "availability"], what: "scheme")
            if let list = members["confidentiality"] {
                rules.confidentialityOrder = try list.sequence(what: "scheme.confidentiality").map { item throws(TriageConfigurationError) in
                    try item.enum(ConfidentialityLevel.self, what: "confidentiality level")
                }
            }
            if let list = members["integrity"] {
                rules.integrityOrder = try list.sequence(what: "scheme.integrity").map { item throws(TriageConfigurationError) in
                    try item.enum(IntegrityLevel.self, what: "integrity level")
                }
            }
            if let list = members["availability"] {
                rules.availabilityOrder = try list.sequence(what: "scheme.availability").map { item throws(TriageConfigurationError) in
                    try item.enum(AvailabilityLevel.self, what: "availability level")
                }
            }
        }
        if let fallback = top["default"] {
            let members = try fallback.mapping(allowed: ["severity", "reason"], what: "default")
            rules.defaultSeverity = try severity(members.required("severity", in: fallback, what: "default"))
            rules.defaultReason = try members.required("reason", in: fallback, what: "default").string(what: "default.reason")
        }
        var seen: Set<String> = []
        for item in try top.required("rules", in: root, what: "the rules file").sequence(what: "rules") {
            let members = try item.mapping(allowed: ["id", "severity", "reason", "when", "source"], what: "a rule")
            let idValue = try members.required("id", in: item, what: "a rule")
            let id = try idValue.string(what: "id")
            guard seen.insert(id).inserted else { throw idValue.fail(.invalidValue, "rule id '\(id)' is used twice") }
            let when = try members.required("when", in: item, what: "rule \(id)")
            let conditions = try parseConditions(when, rule: id)
            guard !conditions.isEmpty else { throw when.fail(.invalidValue, "rule \(id) has no condition; use `default` instead") }
            rules.rules.append(SeverityRule(
                id: id,
                severity: try severity(members.required("severity", in: item, what: "rule \(id)")),
                reason: try members.required("reason", in: item, what: "rule \(id)").string(what: "reason"),
                conditions: conditions
            ))
        }
        return rules
    }

    private static func severity(_ value: YAMLValue) throws(TriageConfigurationError) -> Int {
        let number = try value.int(what: "severity")
        guard (1...4).contains(number) else { throw value.fail(.invalidValue, "severity must be 1 (critical) to 4 (low), not \(number)") }
        return number
    }

    private static func verdicts(_ value: YAMLValue, what: String) throws(TriageConfigurationError) -> Set<Verdict> {
        var result: Set<Verdict> = []
        for text in try value.strings(what: what) {
            guard let verdict = Verdict(rawValue: text) else { throw value.fail(.invalidValue, "\(what) takes yes, no or unknown, not '\(text)'") }
            result.insert(verdict)
        }
        return result
    }

    private static func parseConditions(_ when: YAMLValue, rule: String) throws(TriageConfigurationError) -> [SeverityCondition] {
        let keys: Set<String> = [
            "category", "confidentialityAtLeast", "integrityAtLeast", "availabilityAtLeast", "personalData", "myNumber",
            "sensitivePersonalData", "wrongfulIntent", "affectedPersonsOver", "affectedPersonsUnknown",
        ]
        let members = try when.mapping(allowed: keys, what: "the conditions of rule \(rule)")
        var conditions: [SeverityCondition] = []
        for key in keys.sorted() {
            guard let value = members[key] else { continue }
            switch key {
            case "category":
                var categories: Set<IncidentCategory> = []
                for text in try value.strings(what: "category") {
                    guard let category = IncidentCategory(rawValue: text) else {
                        throw value.fail(.invalidValue, "category '\(text)' is not known (known: \(IncidentCategory.allCases.map(\.rawValue).joined(separator: ", ")))")
                    }
                    categories.insert(category)
                }
                conditions.append(.category(categories))
            case "confidentialityAtLeast": conditions.append(.confidentialityAtLeast(try value.enum(ConfidentialityLevel.self, what: key)))
            case "integrityAtLeast": conditions.append(.integrityAtLeast(try value.enum(IntegrityLevel.self, what: key)))
            case "availabilityAtLeast": conditions.append(.availabilityAtLeast(try value.enum(AvailabilityLevel.self, what: key)))
            case "personalData": conditions.append(.personalData(try verdicts(value, what: key)))
            case "myNumber": conditions.append(.myNumber(try verdicts(value, what: key)))
            case "sensitivePersonalData": conditions.append(.sensitivePersonalData(try verdicts(value, what: key)))
            case "wrongfulIntent": conditions.append(.wrongfulIntent(try verdicts(value, what: key)))
            case "affectedPersonsOver":
                let threshold = try value.int(what: key)
                guard threshold >= 0 else { throw value.fail(.invalidValue, "affectedPersonsOver must not be negative") }
                conditions.append(.affectedPersonsOver(threshold))
            default: conditions.append(.affectedPersonsUnknown(try value.bool(what: key)))
            }
        }
        return conditions
    }
}
