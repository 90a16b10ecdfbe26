import Directory
import Contracts
public import Foundation
import Postgres
public import ServiceRuntime

/// One row of the append-only, hash-chained case history (Art. 27: record and preserve).
public struct CaseHistoryEntry: Sendable, Hashable, Codable {
    /// Position in the chain, from 1 without gaps.
    public var seq: Int64
    public var caseID: UUID
    public var caseNumber: String
    /// `open`, an action of ``CaseAction``, `comment`, `severity`, `verdicts`, `filing`, `escalation`...
    public var action: String
    /// `person:<id>`, `token:<id>` or `system:csirt-triage`.
    public var actor: String
    public var role: String?
    public var at: Date
    public var reason: String?
    /// Canonical JSON of what changed, before and after.
    public var before: String
    public var after: String
    public var prevHash: String
    public var hash: String
}

/// The result of checking the whole chain.
public struct CaseHistoryVerification: Sendable, Hashable, Codable {
    /// The first row that does not fit the chain.
    public struct BrokenLink: Sendable, Hashable, Codable {
        public var seq: Int64
        public var caseNumber: String
        /// What is wrong: an edited row, a missing row, a row moved.
        public var problem: String
    }

    public var rowsChecked: Int
    public var brokenLink: BrokenLink?
    /// The hash of the last row: publish it elsewhere to anchor the chain.
    public var headHash: String
    public var isIntact: Bool { brokenLink == nil }
}

/// Appends to and verifies the hash chain of `case_history`.
public struct CaseHistory: Sendable {
    let schema: String
    /// When set, appends wait here and the batch writes them at its end (see ``Deferred``).
    var deferred: Deferred?

    /// History rows held back until the end of a batch (issue #16 item 3). The chain's lock is
    /// one for the whole table and is held to commit: appending as each case changes would make
    /// every triage process queue behind the first append of another. Appended last, the lock
    /// is held only for the batch's last statements.
    final class Deferred: @unchecked Sendable {
        // Used by one transaction on one thread at a time; the class only lets copies of the
        // engine share the list.
        private(set) var entries: [NewEntry] = []

        func add(_ new: [NewEntry]) { entries += new }
    }

    var table: String { ledger.qualifiedTable }

    /// The chain: every column but the chain's own is hashed.
    var ledger: HashChainLedger { Self.ledger(schema: schema) }

    /// The case history's chain in `schema` (`isms verify` checks it too).
    public static func ledger(schema: String) -> HashChainLedger {
        HashChainLedger(
            name: "case history", schema: schema, table: "case_history",
            columns: [
                .init("case_id", .uuid), .init("case_number", .text), .init("action", .text), .init("actor", .text), .init("role", .text),
                .init("at", .timestamp), .init("reason", .text), .init("before_json", .text), .init("after_json", .text),
            ])
    }

    /// A row to append: what changed, by whom, when.
    struct NewEntry {
        var caseID: UUID
        var caseNumber: String
        var action: String
        var actor: String
        var role: String?
        var at: Date
        var reason: String?
        var before: String
        var after: String

        init(
            caseID: UUID, caseNumber: String, action: String, actor: String, role: String?, at: Date, reason: String?,
            before: some Encodable, after: some Encodable
        ) throws {
            self.caseID = caseID
            self.caseNumber = caseNumber
            self.action = action
            self.actor = actor
            self.role = role
            self.at = ContractsJSON.wirePrecision(at)
            self.reason = reason
            self.before = try CaseHistory.canonicalJSON(before)
            self.after = try CaseHistory.canonicalJSON(after)
        }
    }

    /// Appends a row inside the caller's transaction.
    @discardableResult
    func append(
        caseID: UUID, caseNumber: String, action: String, actor: String, role: String?, at: Date, reason: String?,
        before: some Encodable, after: some Encodable, on connection: PostgresConnection
    ) throws -> CaseHistoryEntry? {
        try append([
            NewEntry(caseID: caseID, caseNumber: caseNumber, action: action, actor: actor, role: role, at: at, reason: reason, before: before, after: after)
        ], on: connection).first
    }

    /// Appends rows in order inside the caller's transaction, in one batch of the shared ledger;
    /// when deferred, they are held for the batch's end and the result is empty.
    @discardableResult
    func append(_ new: [NewEntry], on connection: PostgresConnection) throws -> [CaseHistoryEntry] {
        if let deferred {
            deferred.add(new)
            return []
        }
        guard !new.isEmpty else { return [] }
        let links = try ledger.append(
            new.map { row -> [String: JSONValue] in
                [
                    "case_id": .uuid(row.caseID), "case_number": .text(row.caseNumber), "action": .text(row.action), "actor": .text(row.actor),
                    "role": .text(row.role), "at": .timestamp(row.at), "reason": .text(row.reason), "before_json": .text(row.before),
                    "after_json": .text(row.after),
                ]
            }, on: connection)
        return zip(new, links).map { row, link in
            CaseHistoryEntry(
                seq: link.seq, caseID: row.caseID, caseNumber: row.caseNumber, action: row.action, actor: row.actor, role: row.role, at: row.at,
                reason: row.reason, before: row.before, after: row.after, prevHash: link.prevHash, hash: link.hash)
        }
    }

    static func canonicalJSON(_ value: some Encodable) throws -> String {
        try CanonicalJSON.text(of: value)
    }

    /// The history of one case, oldest first.
    func entries(caseID: UUID, on connection: PostgresConnection) throws -> [CaseHistoryEntry] {
        try connection.query("SELECT * FROM \(unescaped: table) WHERE case_id = \(caseID) ORDER BY seq").map(Self.entry(from:))
    }

    /// Checks the whole chain with the shared ledger and names the case of the first broken row.
    func verify(on connection: PostgresConnection) throws -> CaseHistoryVerification {
        let result = try ledger.verify(on: connection)
        var broken: CaseHistoryVerification.BrokenLink?
        if let row = result.brokenRow {
            let caseNumber = try connection.query("SELECT case_number FROM \(unescaped: table) WHERE seq = \(row.seq)").rows.first?.decode("case_number", as: String.self)
            broken = .init(seq: row.seq, caseNumber: caseNumber ?? "", problem: row.problem)
        }
        return CaseHistoryVerification(rowsChecked: result.rowsChecked, brokenLink: broken, headHash: result.headHash)
    }

    /// Whether every row of one case is unedited and linked to the row before it: what a case
    /// page can afford on each view (the whole chain is ``verify(on:)``'s).
    func verify(caseID: UUID, on connection: PostgresConnection) throws -> Bool {
        try ledger.verifyRows(where: "case_id", equals: caseID, on: connection) == nil
    }

    static func entry(from row: PostgresRow) throws -> CaseHistoryEntry {
        CaseHistoryEntry(
            seq: try row.decode("seq"), caseID: try row.decode("case_id"), caseNumber: try row.decode("case_number"),
            action: try row.decode("action"), actor: try row.decode("actor"), role: try row.decode("role"), at: try row.decode("at"),
            reason: try row.decode("reason"), before: try row.decode("before_json"), after: try row.decode("after_json"),
            prevHash: try row.decode("prev_hash"), hash: try row.decode("hash"))
    }
}
