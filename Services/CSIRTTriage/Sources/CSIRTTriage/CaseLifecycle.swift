public import Directory

/// Where a case stands (issue #4 item 4).
public enum CaseState: String, Sendable, Hashable, Codable, CaseIterable {
    case reported, triaged, acknowledged, investigating, contained, recovered, closed, discarded, reopened
    /// Merged into another case by CSIRT (issue #16): final for good, it points to the survivor.
    case merged

    /// Whether nothing more happens unless the case is reopened (a merged case never is).
    public var isFinal: Bool { self == .closed || self == .discarded || self == .merged }
}

/// CSIRT's qualification of a case (issue #4 item 2).
public enum CaseQualification: String, Sendable, Hashable, Codable {
    /// Confirmed as a security incident (Art. 3(13)).
    case incident
    /// Discarded as not an incident; always with a reason.
    case notIncident = "not-incident"
}

/// What someone does to a case.
public enum CaseAction: String, Sendable, Hashable, Codable, CaseIterable {
    /// Confirm as an incident: reported → triaged (in acknowledged or reopened the state stays).
    case confirm
    /// Discard as "not an incident" (reason required).
    case discard
    /// Take responsibility; stops escalation.
    case acknowledge
    case investigate
    case contain
    case recover
    case close
    /// Reopen a closed or discarded case (reason required).
    case reopen
}

/// Why an action is refused.
public struct CaseLifecycleError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let rawValue: String
        /// The action is not possible from the current state.
        public static let invalidTransition = Code(rawValue: "invalid-transition")
        /// The role may not take this action.
        public static let forbidden = Code(rawValue: "forbidden")
        /// The action needs a reason.
        public static let reasonRequired = Code(rawValue: "reason-required")
        /// Investigation starts only on a confirmed incident.
        public static let notQualified = Code(rawValue: "not-qualified")
        public var description: String { rawValue }
    }

    public var code: Code
    public var detail: String

    public var description: String { "\(code): \(detail)" }
}

/// The case life cycle as a pure function of state, qualification, action and role: no I/O.
///
/// ```
/// reported ─confirm→ triaged ─acknowledge→ acknowledged ─investigate→ investigating
///    └─acknowledge→ acknowledged (confirm later)       ─contain→ contained ─recover→ recovered ─close→ closed
/// reported | triaged | acknowledged | reopened ─discard→ discarded
/// closed | discarded ─reopen→ reopened ─investigate→ investigating
/// ```
/// Acknowledging is allowed before CSIRT's qualification because the chain is told at once
/// (severity 1) and whoever takes responsibility stops the escalation; investigation needs a
/// confirmed incident.
public enum CaseLifecycle {
    /// The result of an allowed action.
    public struct Outcome: Sendable, Hashable {
        public var state: CaseState
        public var qualification: CaseQualification?

        public init(state: CaseState, qualification: CaseQualification?) {
            self.state = state
            self.qualification = qualification
        }
    }

    /// Roles that handle incidents for the whole ward: CSIRT (Art. 22), the general security
    /// manager (Art. 16), the general system administrator (Art. 15), the general security
    /// officer (Art. 14) and the CISO (Art. 11).
    public static let handlers: Set<DirectoryRole> = [.csirt, .generalSecurityManager, .generalSystemAdministrator, .generalSecurityOfficer, .ciso]

    /// Roles that may acknowledge: the handlers and the chain above the section staff
    /// (Art. 17-18: the officers answer for their units).
    public static let acknowledgers: Set<DirectoryRole> = handlers.union([.sectionSecurityOfficer, .departmentSecurityOfficer])

    /// Who may take `action`.
    public static func allowedRoles(_ action: CaseAction) -> Set<DirectoryRole> {
        switch action {
        case .acknowledge: acknowledgers
        case .reopen, .discard, .close: handlers.subtracting([.generalSystemAdministrator])
        case .confirm, .investigate, .contain, .recover: handlers
        }
    }

    /// The states `action` may be taken from.
    public static func sources(_ action: CaseAction) -> Set<CaseState> {
        switch action {
        case .confirm: [.reported, .acknowledged, .reopened]
        case .discard: [.reported, .triaged, .acknowledged, .reopened]
        case .acknowledge: [.reported, .triaged]
        case .investigate: [.acknowledged, .reopened]
        case .contain: [.investigating]
        case .recover: [.contained]
        case .close: [.recovered]
        case .reopen: [.closed, .discarded]
        }
    }

    /// The actions `role` may take on a case in `state` (with `qualification`), in
    /// ``CaseAction`` order: what a form may offer. A reason is assumed to be given, since the
    /// form asks for it; every other rule of ``apply(_:state:qualification:role:reason:)`` holds.
    public static func allowedActions(state: CaseState, qualification: CaseQualification?, role: DirectoryRole) -> [CaseAction] {
        CaseAction.allCases.filter { action in
            if case .success = apply(action, state: state, qualification: qualification, role: role, reason: "given") { true } else { false }
        }
    }

    /// Applies `action` or says why not.
    public static func apply(
        _ action: CaseAction, state: CaseState, qualification: CaseQualification?, role: DirectoryRole, reason: String?
    ) -> Result<Outcome, CaseLifecycleError> {
        guard allowedRoles(action).contains(role) else {
            return .failure(.init(code: .forbidden, detail: "\(role.rawValue) may not \(action.rawValue) a case"))
        }
        guard sources(action).contains(state) else {
            return .failure(.init(code: .invalidTransition, detail: "a case in state \(state.rawValue) cannot be \(action.rawValue)ed; allowed from \(sources(action).map(\.rawValue).sorted().joined(separator: ", "))"))
        }
        let hasReason = !(reason ?? "").trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
        switch action {
        case .confirm:
            return .success(Outcome(state: state == .reported ? .triaged : state, qualification: .incident))
        case .discard:
            // Issue #4 item 2: "not an incident" always carries its reason.
            guard hasReason else { return .failure(.init(code: .reasonRequired, detail: "discarding as not an incident needs a reason")) }
            return .success(Outcome(state: .discarded, qualification: .notIncident))
        case .acknowledge:
            return .success(Outcome(state: .acknowledged, qualification: qualification))
        case .investigate:
            guard qualification == .incident else {
                return .failure(.init(code: .notQualified, detail: "confirm the case as an incident before investigating"))
            }
            return .success(Outcome(state: .investigating, qualification: qualification))
        case .contain: return .success(Outcome(state: .contained, qualification: qualification))
        case .recover: return .success(Outcome(state: .recovered, qualification: qualification))
        case .close: return .success(Outcome(state: .closed, qualification: qualification))
        case .reopen:
            guard hasReason else { return .failure(.init(code: .reasonRequired, detail: "reopening needs a reason")) }
            return .success(Outcome(state: .reopened, qualification: nil))
        }
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: Set<Character>) -> Substring {
        var text = Substring(self)
        while let first = text.first, set.contains(first) { text = text.dropFirst() }
        while let last = text.last, set.contains(last) { text = text.dropLast() }
        return text
    }
}

extension Set<Character> {
    fileprivate static let whitespacesAndNewlines: Set<Character> = [" ", "\t", "\n", "\r", "\u{3000}"]
}
