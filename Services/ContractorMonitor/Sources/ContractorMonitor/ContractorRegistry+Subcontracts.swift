import Contracts
import Directory
public import Foundation
public import Postgres
public import ServiceRuntime

/// Sub-contract chains (Art. 6(3)(4)): links, the gate, and the hash-chained decisions.
extension ContractorRegistry {
    /// One entry of the append-only, hash-chained ledger of sub-contract decisions.
    public struct SubcontractDecision: Sendable, Hashable, Codable {
        public var seq: Int64
        public var linkID: UUID
        public var contractID: UUID
        public var parentLinkID: UUID?
        public var subcontractorID: UUID
        public var decision: SubcontractChain.Link.State
        public var approver: String
        public var offeredProfile: SafeguardProfile
        public var parentProfile: SafeguardProfile
        public var shortfalls: [SubcontractShortfall]
        public var decidedAt: Date
        public var prevHash: String
        public var hash: String

        enum CodingKeys: String, CodingKey {
            case seq
            case linkID = "linkId"
            case contractID = "contractId"
            case parentLinkID = "parentLinkId"
            case subcontractorID = "subcontractorId"
            case decision, approver, offeredProfile, parentProfile, shortfalls, decidedAt, prevHash, hash
        }
    }

    /// The decisions' chain in `schema` (`isms verify` checks it too).
    public static func decisionLedger(schema: String = ContractorMonitorService.schema) -> HashChainLedger {
        HashChainLedger(
            name: "sub-contract decisions", schema: schema, table: "subcontract_decisions",
            columns: [
                .init("link_id", .uuid), .init("contract_id", .uuid), .init("parent_link_id", .uuid), .init("subcontractor_id", .uuid),
                .init("decision", .text), .init("approver", .text), .init("offered_profile", .json), .init("parent_profile", .json),
                .init("shortfalls", .json), .init("decided_at", .timestamp),
            ])
    }

    /// The hash before the first decision.
    public static let genesisHash = HashChainLedger.genesisHash

    /// Asks to approve `subcontractorID` below `parentLinkID` (nil: directly below the
    /// contractor) and records the decision with its approver. The link is approved only when
    /// the sub-contractor's profile meets the baseline and its parent's profile, control by
    /// control (``SubcontractGate``); otherwise it is refused with every shortfall listed.
    public func requestSubcontract(
        contractID: UUID, parentLinkID: UUID?, subcontractorID: UUID, approver: String, now: Date, on connection: PostgresConnection
    ) throws -> SubcontractDecision {
        guard let contract = try contract(id: contractID, on: connection) else { throw ContractorMonitorError(.notFound, "no contract \(contractID)") }
        guard let prime = try contractor(id: contract.contractorID, on: connection) else { throw ContractorMonitorError(.corruptData, "the contract's contractor is missing") }
        guard let subcontractor = try contractor(id: subcontractorID, on: connection) else {
            throw ContractorMonitorError(.invalidRequest, "no contractor \(subcontractorID): register the sub-contractor first")
        }
        let chain = try subcontractChain(contractID: contractID, on: connection)
        let parentProfile: SafeguardProfile
        let depth: Int
        var ancestors: Set<String> = [prime.id.lowercasedString]
        if let parentLinkID {
            guard let parent = chain.links.first(where: { $0.id == parentLinkID.lowercasedString }) else {
                throw ContractorMonitorError(.invalidRequest, "link \(parentLinkID) is not part of contract \(contract.reference)")
            }
            guard parent.state == .approved else {
                throw ContractorMonitorError(.invalidRequest, "link \(parentLinkID) was refused: nothing may be sub-contracted below it (Art. 6(3))")
            }
            parentProfile = parent.profile
            depth = parent.depth + 1
            var cursor: SubcontractChain.Link? = parent
            while let link = cursor {
                ancestors.insert(link.subcontractorID)
                cursor = link.parentID.flatMap { id in chain.links.first { $0.id == id } }
            }
        } else {
            parentProfile = prime.profile
            depth = 1
        }
        guard !ancestors.contains(subcontractorID.lowercasedString) else {
            throw ContractorMonitorError(.invalidRequest, "\(subcontractor.name) is already above this link in the chain")
        }
        let verdict = SubcontractGate.evaluate(offered: subcontractor.profile, parent: parentProfile, baseline: baseline, handlesMyNumber: contract.handlesMyNumber)
        let state: SubcontractChain.Link.State = verdict.isApproved ? .approved : .refused
        let decidedAt = ContractsJSON.wirePrecision(now)
        let existing = chain.links.first { $0.subcontractorID == subcontractorID.lowercasedString && $0.parentID == parentLinkID?.lowercasedString }
        let linkID = existing.flatMap { UUID(uuidString: $0.id) } ?? UUID()
        _ = try connection.query("""
            INSERT INTO \(unescaped: table("subcontract_links")) (id, contract_id, parent_link_id, subcontractor_id, state, profile, depth, decided_at)
            VALUES (\(linkID), \(contractID), \(parentLinkID), \(subcontractorID), \(state.rawValue), \(PostgresJSON(subcontractor.profile)), \(depth), \(decidedAt))
            ON CONFLICT (id) DO UPDATE SET state = EXCLUDED.state, profile = EXCLUDED.profile, decided_at = EXCLUDED.decided_at
            """)
        // The shared ledger takes the chain's lock, so every entry names the one before it.
        let link = try Self.decisionLedger(schema: schema).append(
            [
                "link_id": .uuid(linkID), "contract_id": .uuid(contractID), "parent_link_id": .uuid(parentLinkID),
                "subcontractor_id": .uuid(subcontractorID), "decision": .text(state.rawValue), "approver": .text(approver),
                "offered_profile": .document(subcontractor.profile), "parent_profile": .document(parentProfile),
                "shortfalls": .document(verdict.shortfalls), "decided_at": .timestamp(decidedAt),
            ], on: connection)
        let decision = SubcontractDecision(
            seq: link.seq, linkID: linkID, contractID: contractID, parentLinkID: parentLinkID, subcontractorID: subcontractorID, decision: state,
            approver: approver, offeredProfile: subcontractor.profile, parentProfile: parentProfile, shortfalls: verdict.shortfalls,
            decidedAt: decidedAt, prevHash: link.prevHash, hash: link.hash)
        return decision
    }

    /// The sub-contract chain of a contract: every link, approved or refused, shallowest first.
    public func subcontractChain(contractID: UUID, on connection: PostgresConnection) throws -> SubcontractChain {
        let rows = try connection.query("""
            SELECT l.id, l.parent_link_id, l.subcontractor_id, c.name, l.state, l.profile::text AS profile, l.depth
            FROM \(unescaped: table("subcontract_links")) l JOIN \(unescaped: table("contractors")) c ON c.id = l.subcontractor_id
            WHERE l.contract_id = \(contractID) ORDER BY l.depth, c.name, l.id
            """)
        return SubcontractChain(links: try rows.rows.map { row in
            SubcontractChain.Link(
                id: (try row.decode("id", as: UUID.self)).lowercasedString,
                parentID: (try row.decode("parent_link_id", as: UUID?.self))?.lowercasedString,
                subcontractorID: (try row.decode("subcontractor_id", as: UUID.self)).lowercasedString,
                subcontractorName: try row.decode("name"),
                state: SubcontractChain.Link.State(rawValue: try row.decode("state")) ?? .refused,
                profile: try row.decode("profile", as: PostgresJSON<SafeguardProfile>.self).value,
                depth: try row.decode("depth"))
        })
    }

    /// The decisions of one contract (or all when nil), in ledger order.
    public func subcontractDecisions(contractID: UUID? = nil, on connection: PostgresConnection) throws -> [SubcontractDecision] {
        let rows: PostgresResult
        if let contractID {
            rows = try connection.query("SELECT \(unescaped: Self.decisionColumns) FROM \(unescaped: table("subcontract_decisions")) WHERE contract_id = \(contractID) ORDER BY seq")
        } else {
            rows = try connection.query("SELECT \(unescaped: Self.decisionColumns) FROM \(unescaped: table("subcontract_decisions")) ORDER BY seq")
        }
        return try rows.rows.map(Self.decision(from:))
    }

    /// The result of checking the decision ledger.
    public struct ChainVerification: Sendable, Hashable, Codable {
        /// How many entries were checked.
        public var entries: Int
        /// The first entry whose hash or link to its predecessor is wrong; nil when all hold.
        public var firstBrokenSeq: Int64?
        public var isIntact: Bool { firstBrokenSeq == nil }
    }

    /// Checks the decision ledger with the shared ledger (`isms contractors verify`).
    public func verifyDecisionChain(on connection: PostgresConnection) throws -> ChainVerification {
        let result = try Self.decisionLedger(schema: schema).verify(on: connection)
        return ChainVerification(entries: result.rowsChecked, firstBrokenSeq: result.brokenRow?.seq)
    }

    /// An officer found a sub-contractor working on the contract without approval (Art. 6(3)):
    /// a violation, unless the sub-contractor holds an approved link.
    public func reportUnapprovedSubcontractor(
        contractID: UUID, subcontractor: DeclaredSubcontractor, reportedBy: String, now: Date, on connection: PostgresConnection
    ) throws -> ContractorViolation {
        guard let contract = try contract(id: contractID, on: connection) else { throw ContractorMonitorError(.notFound, "no contract \(contractID)") }
        let chain = try subcontractChain(contractID: contractID, on: connection)
        guard !isApproved(subcontractor, in: chain) else {
            throw ContractorMonitorError(.invalidRequest, "\(subcontractor.name) holds an approved link on contract \(contract.reference)")
        }
        let name = subcontractor.name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty, name.count <= 300 else { throw ContractorMonitorError(.invalidRequest, "name: 1 to 300 characters") }
        let key = "unapproved/\(contractID.lowercasedString)/\(subcontractor.contractorID?.lowercasedString ?? name.lowercased())"
        let details = "Sub-contractor \(name) was found working on contract \(contract.reference) without an approved sub-contract (Art. 6(3)); entered by an officer."
        guard let violation = try recordViolation(contract: contract, contractorID: contract.contractorID, kind: .unapprovedSubcontractor, details: details, dedupKey: key, now: now, on: connection) else {
            throw ContractorMonitorError(.conflict, "\(name) was reported on contract \(contract.reference) before")
        }
        return violation
    }

    func isApproved(_ declared: DeclaredSubcontractor, in chain: SubcontractChain) -> Bool {
        if let id = declared.contractorID { return chain.isApproved(contractorID: id.lowercasedString) }
        let name = declared.name.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        return chain.links.contains { $0.state == .approved && $0.subcontractorName.lowercased() == name }
    }


    static let decisionColumns = """
        seq, link_id, contract_id, parent_link_id, subcontractor_id, decision, approver, offered_profile::text AS offered_profile,
        parent_profile::text AS parent_profile, shortfalls::text AS shortfalls, decided_at, prev_hash, hash
        """


    static func decision(from row: PostgresRow) throws -> SubcontractDecision {
        SubcontractDecision(
            seq: try row.decode("seq"), linkID: try row.decode("link_id"), contractID: try row.decode("contract_id"),
            parentLinkID: try row.decode("parent_link_id"), subcontractorID: try row.decode("subcontractor_id"),
            decision: SubcontractChain.Link.State(rawValue: try row.decode("decision")) ?? .refused, approver: try row.decode("approver"),
            offeredProfile: try row.decode("offered_profile", as: PostgresJSON<SafeguardProfile>.self).value,
            parentProfile: try row.decode("parent_profile", as: PostgresJSON<SafeguardProfile>.self).value,
            shortfalls: try row.decode("shortfalls", as: PostgresJSON<[SubcontractShortfall]>.self).value,
            decidedAt: try row.decode("decided_at"), prevHash: try row.decode("prev_hash"), hash: try row.decode("hash"))
    }
}
