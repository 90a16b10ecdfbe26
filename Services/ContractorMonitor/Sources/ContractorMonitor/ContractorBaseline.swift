import Foundation
import Yams

/// The ward's baseline safeguard profile and the six special-provision checklists, loaded from
/// `deploy/config/contractor-baseline.yaml` (the file documents its format).
///
/// Art. 6(1)(3): contractors, and every sub-contractor below them, must keep safeguards equal
/// to or better than the ward's; the baseline is the ward's level for each control.
public struct ContractorBaseline: Sendable, Hashable, Codable {
    /// One control of the checklist.
    public struct Control: Sendable, Hashable, Codable {
        public var id: String
        public var name: String
        public var nameEn: String?
        /// The ward's own level (Art. 6(1)).
        public var baseline: String
        /// A stricter level where My Number data is handled (Art. 18(8)); nil means ``baseline``.
        public var myNumberBaseline: String?

        public init(id: String, name: String, nameEn: String? = nil, baseline: String, myNumberBaseline: String? = nil) {
            self.id = id
            self.name = name
            self.nameEn = nameEn
            self.baseline = baseline
            self.myNumberBaseline = myNumberBaseline
        }
    }

    /// One special-provision checklist (Art. 3(15)).
    public struct Checklist: Sendable, Hashable, Codable {
        public struct Item: Sendable, Hashable, Codable {
            public var id: String
            public var text: String
            public var textEn: String?

            public init(id: String, text: String, textEn: String? = nil) {
                self.id = id
                self.text = text
                self.textEn = textEn
            }
        }

        public var name: String
        public var items: [Item]

        public init(name: String, items: [Item]) {
            self.name = name
            self.items = items
        }
    }

    /// Level names, weakest first.
    public var levels: [String]
    public var controls: [Control]
    public var checklists: [SpecialProvisionSet: Checklist]

    public init(levels: [String], controls: [Control], checklists: [SpecialProvisionSet: Checklist]) {
        self.levels = levels
        self.controls = controls
        self.checklists = checklists
    }

    /// The rank of a level (0 = weakest), or nil for a name the baseline does not define.
    public func rank(of level: String) -> Int? {
        levels.firstIndex(of: level)
    }

    /// The level the ward requires for `control` (Art. 6(1)); the My Number level where it applies (Art. 18(8)).
    public func required(_ control: Control, handlesMyNumber: Bool) -> String {
        handlesMyNumber ? control.myNumberBaseline ?? control.baseline : control.baseline
    }

    /// Every problem with `profile`: unknown controls, unknown levels. Missing controls are
    /// allowed (not assessed) and fail the gate instead.
    public func problems(in profile: SafeguardProfile) -> [String] {
        let known = Set(controls.map(\.id))
        var problems: [String] = []
        for (control, level) in profile.levels.sorted(by: { $0.key < $1.key }) {
            if !known.contains(control) { problems.append("unknown control '\(control)'") }
            if rank(of: level) == nil { problems.append("control '\(control)': unknown level '\(level)' (levels: \(levels.joined(separator: ", ")))") }
        }
        return problems
    }

    // MARK: Loading

    struct File: Decodable {
        var levels: [String]
        var controls: [Control]
        var checklists: [String: Checklist]
    }

    /// Parses and checks the YAML text of a baseline file.
    public static func parse(yaml: String) throws(ContractorMonitorError) -> ContractorBaseline {
        let file: File
        do {
            file = try YAMLDecoder().decode(File.self, from: yaml)
        } catch {
            throw ContractorMonitorError(.invalidConfiguration, "the contractor baseline is not valid: \(error)")
        }
        var checklists: [SpecialProvisionSet: Checklist] = [:]
        for (key, checklist) in file.checklists {
            guard let set = SpecialProvisionSet(rawValue: key) else {
                throw ContractorMonitorError(.invalidConfiguration, "unknown checklist '\(key)'; the six sets are \(SpecialProvisionSet.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            checklists[set] = checklist
        }
        let baseline = ContractorBaseline(levels: file.levels, controls: file.controls, checklists: checklists)
        try baseline.validate()
        return baseline
    }

    /// Reads a baseline file.
    public static func load(path: String) throws(ContractorMonitorError) -> ContractorBaseline {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ContractorMonitorError(.invalidConfiguration, "cannot read the contractor baseline \(path): \(error)")
        }
        return try parse(yaml: text)
    }

    /// Checks that levels and ids are unique, every baseline names a level, and all six checklists are present.
    public func validate() throws(ContractorMonitorError) {
        var problems: [String] = []
        if levels.isEmpty { problems.append("no levels") }
        if Set(levels).count != levels.count { problems.append("duplicate levels") }
        if Set(controls.map(\.id)).count != controls.count { problems.append("duplicate control ids") }
        for control in controls {
            if rank(of: control.baseline) == nil { problems.append("control '\(control.id)': unknown baseline level '\(control.baseline)'") }
            if let strict = control.myNumberBaseline {
                if let strictRank = rank(of: strict), let rank = rank(of: control.baseline) {
                    if strictRank < rank { problems.append("control '\(control.id)': myNumberBaseline is weaker than baseline") }
                } else if rank(of: strict) == nil {
                    problems.append("control '\(control.id)': unknown myNumberBaseline level '\(strict)'")
                }
            }
        }
        for set in SpecialProvisionSet.allCases {
            guard let checklist = checklists[set] else {
                problems.append("checklist '\(set.rawValue)' is missing (Art. 3(15) names six)")
                continue
            }
            if checklist.items.isEmpty { problems.append("checklist '\(set.rawValue)' has no items") }
            if Set(checklist.items.map(\.id)).count != checklist.items.count { problems.append("checklist '\(set.rawValue)' has duplicate item ids") }
        }
        if !problems.isEmpty {
            throw ContractorMonitorError(.invalidConfiguration, "the contractor baseline is not valid: " + problems.joined(separator: "; "))
        }
    }
}
