/// Who set the bar a control fell short of.
public enum SubcontractBar: String, Sendable, Hashable, Codable {
    /// The ward's baseline (Art. 6(1)(3)).
    case baseline
    /// The parent in the chain: the contractor (or sub-contractor) that sub-contracts (Art. 6(3)).
    case parent
    /// Both require the same level.
    case both
}

/// One control where a sub-contractor's profile falls short.
public struct SubcontractShortfall: Sendable, Hashable, Codable {
    public var control: String
    /// The level needed: the higher of the baseline's and the parent's.
    public var requiredLevel: String
    /// The level offered; nil when the control was not assessed.
    public var offeredLevel: String?
    /// Whether the baseline or the parent set ``requiredLevel``.
    public var setBy: SubcontractBar

    public init(control: String, requiredLevel: String, offeredLevel: String?, setBy: SubcontractBar) {
        self.control = control
        self.requiredLevel = requiredLevel
        self.offeredLevel = offeredLevel
        self.setBy = setBy
    }
}

/// The verdict of the sub-contract gate.
public struct SubcontractVerdict: Sendable, Hashable, Codable {
    /// Every control that falls short, in the baseline's order; empty when approved.
    public var shortfalls: [SubcontractShortfall]

    public init(shortfalls: [SubcontractShortfall]) {
        self.shortfalls = shortfalls
    }

    public var isApproved: Bool { shortfalls.isEmpty }
}

/// The sub-contract chain gate (Art. 6(3)(4), 18(8)(3)).
///
/// A sub-contract — and every sub-contract below it, at any depth — may be approved only after
/// confirming that the sub-contractor's safeguards are equal to or better than the ward's. The
/// gate reads that control by control: the sub-contractor's level must reach the ward's
/// baseline for the control (the stricter My Number baseline where the contract handles My
/// Number data) AND the level its parent in the chain reaches, so no link is weaker than the
/// one above it. A refusal lists every control that falls short, not just the first.
public enum SubcontractGate {
    /// Checks `offered` against the baseline and against `parent`, control by control.
    ///
    /// - Parameters:
    ///   - offered: the new sub-contractor's profile.
    ///   - parent: the profile of the party that sub-contracts (the contractor for the first
    ///     level, the sub-contractor above for deeper levels).
    ///   - baseline: the ward's baseline.
    ///   - handlesMyNumber: whether the contract handles My Number data (Art. 18(8)).
    public static func evaluate(
        offered: SafeguardProfile,
        parent: SafeguardProfile,
        baseline: ContractorBaseline,
        handlesMyNumber: Bool
    ) -> SubcontractVerdict {
        var shortfalls: [SubcontractShortfall] = []
        for control in baseline.controls {
            let wardLevel = baseline.required(control, handlesMyNumber: handlesMyNumber)
            let wardRank = baseline.rank(of: wardLevel) ?? 0
            // A parent level the baseline does not know cannot be compared; the baseline alone counts then.
            let parentLevel = parent[control.id]
            let parentRank = parentLevel.flatMap(baseline.rank(of:)) ?? -1
            let requiredRank = max(wardRank, parentRank)
            let setBy: SubcontractBar = wardRank == parentRank ? .both : (parentRank > wardRank ? .parent : .baseline)
            let requiredLevel = baseline.levels[requiredRank]
            let offeredLevel = offered[control.id]
            let offeredRank = offeredLevel.flatMap(baseline.rank(of:)) ?? -1
            if offeredRank < requiredRank {
                shortfalls.append(SubcontractShortfall(control: control.id, requiredLevel: requiredLevel, offeredLevel: offeredLevel, setBy: setBy))
            }
        }
        return SubcontractVerdict(shortfalls: shortfalls)
    }

    /// Checks a contractor's own profile against the baseline alone (Art. 6(1): selection).
    public static func meetsBaseline(_ profile: SafeguardProfile, baseline: ContractorBaseline, handlesMyNumber: Bool) -> SubcontractVerdict {
        evaluate(offered: profile, parent: SafeguardProfile(), baseline: baseline, handlesMyNumber: handlesMyNumber)
    }
}

/// A sub-contract chain under one contract: a tree of any depth whose root is the contractor
/// (Art. 6(3): 再委託以降の委託行為についても同様とする).
public struct SubcontractChain: Sendable, Hashable, Codable {
    /// One link: a sub-contractor below a parent.
    public struct Link: Sendable, Hashable, Codable, Identifiable {
        public enum State: String, Sendable, Hashable, Codable {
            case approved, refused
        }

        public var id: UUIDString
        /// The link above; nil when the parent is the contractor itself.
        public var parentID: UUIDString?
        public var subcontractorID: UUIDString
        public var subcontractorName: String
        public var state: State
        /// The sub-contractor's profile as the gate judged it.
        public var profile: SafeguardProfile
        /// 1 below the contractor, 2 below that, ...
        public var depth: Int

        public init(id: UUIDString, parentID: UUIDString?, subcontractorID: UUIDString, subcontractorName: String, state: State, profile: SafeguardProfile, depth: Int) {
            self.id = id
            self.parentID = parentID
            self.subcontractorID = subcontractorID
            self.subcontractorName = subcontractorName
            self.state = state
            self.profile = profile
            self.depth = depth
        }

        enum CodingKeys: String, CodingKey {
            case id
            case parentID = "parentId"
            case subcontractorID = "subcontractorId"
            case subcontractorName, state, profile, depth
        }
    }

    public typealias UUIDString = String

    public var links: [Link]

    public init(links: [Link]) {
        self.links = links
    }

    /// The links directly below `parent` (nil: below the contractor).
    public func children(of parent: UUIDString?) -> [Link] {
        links.filter { $0.parentID == parent }
    }

    /// The deepest level in the chain (0 when nobody sub-contracts).
    public var depth: Int { links.map(\.depth).max() ?? 0 }

    /// Whether `contractorID` holds an approved link anywhere in the chain.
    public func isApproved(contractorID: UUIDString) -> Bool {
        links.contains { $0.subcontractorID == contractorID && $0.state == .approved }
    }
}
