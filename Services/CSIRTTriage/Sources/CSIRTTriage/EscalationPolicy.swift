import Directory
import Foundation

/// Who is told at once, and after how long without acknowledgement the next level is told
/// (issue #4 item 6; deploy/config/escalation-policy.yaml).
///
/// Levels are positions in ``DirectoryRole/escalationChain``: 0 section staff, 1 section
/// officer, 2 department officer, 3 general security manager, 4 general security officer,
/// 5 CISO (Art. 14, 16-19). CSIRT is told with level 0 of every case (Art. 22).
public struct EscalationPolicy: Sendable, Hashable {
    /// The rule of one severity.
    public struct Step: Sendable, Hashable {
        /// Levels 0 through this one are told when the case opens.
        public var immediateThrough: Int
        /// Time without acknowledgement before the next level is told.
        public var delay: Duration
        /// The last level escalation reaches.
        public var stopAt: Int

        public init(immediateThrough: Int, delay: Duration, stopAt: Int) {
            self.immediateThrough = immediateThrough
            self.delay = delay
            self.stopAt = max(stopAt, immediateThrough)
        }
    }

    public var version: String
    /// Whether CSIRT is told of every case at once.
    public var csirtThroughout: Bool
    /// Severity 1...4 → step.
    public var steps: [Int: Step]

    public init(version: String, csirtThroughout: Bool = true, steps: [Int: Step]) {
        self.version = version
        self.csirtThroughout = csirtThroughout
        self.steps = steps
    }

    /// The default: severity 1 tells everyone up to the CISO at once; 2 tells up to the
    /// department officer at once, then one level every 30 minutes up to the CISO; 3 tells the
    /// section at once, then one level every 2 hours up to the general security officer; 4 tells
    /// the section at once, then one level every 8 hours up to the general security manager.
    public static let standard = EscalationPolicy(version: "builtin", steps: [
        1: Step(immediateThrough: 5, delay: .seconds(0), stopAt: 5),
        2: Step(immediateThrough: 2, delay: .seconds(30 * 60), stopAt: 5),
        3: Step(immediateThrough: 1, delay: .seconds(2 * 3600), stopAt: 4),
        4: Step(immediateThrough: 1, delay: .seconds(8 * 3600), stopAt: 3),
    ])

    /// The step for `severity` (the nearest defined one when missing).
    public func step(severity: Int) -> Step {
        steps[severity] ?? steps.min(by: { abs($0.key - severity) < abs($1.key - severity) })?.value
            ?? Step(immediateThrough: DirectoryRole.escalationChain.count - 1, delay: .zero, stopAt: DirectoryRole.escalationChain.count - 1)
    }

    /// Loads and validates deploy/config/escalation-policy.yaml; errors name the line.
    public static func load(path: String) throws(TriageConfigurationError) -> EscalationPolicy {
        try parse(yaml: readConfigurationFile(path), file: path)
    }

    public static func parse(yaml: String, file: String = "escalation-policy.yaml") throws(TriageConfigurationError) -> EscalationPolicy {
        let root = try YAMLValue.parse(yaml, file: file)
        let top = try root.mapping(allowed: ["version", "csirtThroughout", "severities"], what: "the policy file")
        var policy = EscalationPolicy(version: try top.required("version", in: root, what: "the policy file").string(what: "version"), steps: [:])
        if let csirt = top["csirtThroughout"] { policy.csirtThroughout = try csirt.bool(what: "csirtThroughout") }
        let chain = DirectoryRole.escalationChain
        func level(_ value: YAMLValue, what: String) throws(TriageConfigurationError) -> Int {
            let role = try value.string(what: what)
            guard let index = chain.firstIndex(where: { $0.rawValue == role }) else {
                throw value.fail(.invalidValue, "\(what) '\(role)' is not in the chain (\(chain.map(\.rawValue).joined(separator: ", ")))")
            }
            return index
        }
        let severities = try top.required("severities", in: root, what: "the policy file")
        for (key, value, _) in try severities.entries(what: "severities") {
            guard let severity = Int(key), (1...4).contains(severity) else {
                throw value.fail(.invalidValue, "severities are 1 to 4, not '\(key)'")
            }
            let members = try value.mapping(allowed: ["immediateThrough", "stepMinutes", "stopAt"], what: "severity \(key)")
            let immediate = try level(members.required("immediateThrough", in: value, what: "severity \(key)"), what: "immediateThrough")
            let stop = try members["stopAt"].map { v throws(TriageConfigurationError) in try level(v, what: "stopAt") } ?? chain.count - 1
            if stop < immediate {
                throw value.fail(.invalidValue, "severity \(key): stopAt is below immediateThrough")
            }
            var minutes = 0
            if let step = members["stepMinutes"] {
                minutes = try step.int(what: "stepMinutes")
                guard minutes > 0 else { throw step.fail(.invalidValue, "stepMinutes must be positive") }
            } else if stop > immediate {
                throw value.fail(.missingKey, "severity \(key) escalates beyond \(chain[immediate].rawValue) and needs stepMinutes")
            }
            policy.steps[severity] = Step(immediateThrough: immediate, delay: .seconds(minutes * 60), stopAt: stop)
        }
        for severity in 1...4 where policy.steps[severity] == nil {
            throw severities.fail(.missingKey, "severities needs an entry for severity \(severity)")
        }
        return policy
    }
}
