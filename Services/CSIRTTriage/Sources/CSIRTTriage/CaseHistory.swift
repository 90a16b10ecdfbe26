import Directory
import Contracts
import Crypto
public import Foundation
import Postgres
import PostgresMigrations

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

    /// The hash this row must carry: SHA-256 over its canonical fields and the previous hash.
    public var computedHash: String {
        CaseHistoryEntry.hash(
            seq: seq, caseID: caseID, caseNumber: caseNumber, action: action, actor: actor, role: role, at: at, reason: reason,
            before: before, after: after, prevHash: prevHash)
    }

    /// The canonical form is a JSON array of the fields as text (no separator ambiguity), time
    /// in milliseconds UTC, hashed with SHA-256 and written as lowercase hex.
    static func hash(
        seq: Int64, caseID: UUID, caseNumber: String, action: String, actor: String, role: String?, at: Date, reason: String?,
        before: String, after: String, prevHash: String
    ) -> String {
        let fields: [String?] = [
            String(seq), caseID.uuidString.lowercased(), caseNumber, action, actor, role, ContractsJSON.formatTimestamp(at), reason,
            before, after, prevHash,
        ]
        let canonical = (try? ContractsJSON.encoder().encode(fields)) ?? Data()
        return SHA256.hash(data: canonical).hexString
    }

    /// The previous hash of the first row.
    public static let genesisHash = String(repeating: "0", count: 64)
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
struct CaseHistory: Sendable {
    let schema: String

    var table: String { "\(Migrator.quoted(schema)).case_history" }

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
    ) throws -> CaseHistoryEntry {
        try append([
            NewEntry(caseID: caseID, caseNumber: caseNumber, action: action, actor: actor, role: role, at: at, reason: reason, before: before, after: after)
        ], on: connection)[0]
    }

    /// Appends rows in order inside the caller's transaction: three statements however many.
    /// Appends serialise on a transaction-level advisory lock so every row chains to the row
    /// committed before it.
    @discardableResult
    func append(_ new: [NewEntry], on connection: PostgresConnection) throws -> [CaseHistoryEntry] {
        guard !new.isEmpty else { return [] }
        _ = try connection.query("SELECT pg_advisory_xact_lock(hashtext(\(table)))")
        let last = try connection.query("SELECT seq, hash FROM \(unescaped: table) ORDER BY seq DESC LIMIT 1").rows.first
        var seq: Int64 = try last?.decode("seq", as: Int64.self) ?? 0
        var prevHash: String = try last?.decode("hash", as: String.self) ?? CaseHistoryEntry.genesisHash
        var entries: [CaseHistoryEntry] = []
        entries.reserveCapacity(new.count)
        for row in new {
            seq += 1
            var entry = CaseHistoryEntry(
                seq: seq, caseID: row.caseID, caseNumber: row.caseNumber, action: row.action, actor: row.actor, role: row.role, at: row.at,
                reason: row.reason, before: row.before, after: row.after, prevHash: prevHash, hash: "")
            entry.hash = entry.computedHash
            prevHash = entry.hash
            entries.append(entry)
        }
        _ = try connection.query(
            """
            INSERT INTO \(unescaped: table) (seq, case_id, case_number, action, actor, role, at, reason, before_json, after_json, prev_hash, hash)
            SELECT * FROM unnest(
                \(entries.map(\.seq))::bigint[], \(entries.map(\.caseID))::uuid[], \(entries.map(\.caseNumber))::text[], \(entries.map(\.action))::text[],
                \(entries.map(\.actor))::text[], \(entries.map(\.role))::text[], \(entries.map(\.at))::timestamptz[], \(entries.map(\.reason))::text[],
                \(entries.map(\.before))::text[], \(entries.map(\.after))::text[], \(entries.map(\.prevHash))::text[], \(entries.map(\.hash))::text[])
            """
        )
        return entries
    }

    static func canonicalJSON(_ value: some Encodable) throws -> String {
        String(decoding: try ContractsJSON.encoder().encode(value), as: UTF8.self)
    }

    /// The history of one case, oldest first.
    func entries(caseID: UUID, on connection: PostgresConnection) throws -> [CaseHistoryEntry] {
        try connection.query("SELECT * FROM \(unescaped: table) WHERE case_id = \(caseID) ORDER BY seq").map(Self.entry(from:))
    }

    /// Walks the whole chain in pages and names the first broken link.
    func verify(on connection: PostgresConnection, pageSize: Int = 2000) throws -> CaseHistoryVerification {
        var expectedSeq: Int64 = 1
        var prevHash = CaseHistoryEntry.genesisHash
        var checked = 0
        while true {
            let page = try connection.query(
                "SELECT * FROM \(unescaped: table) WHERE seq >= \(expectedSeq) ORDER BY seq LIMIT \(pageSize)"
            ).map(Self.entry(from:))
            for entry in page {
                func broken(_ problem: String) -> CaseHistoryVerification {
                    CaseHistoryVerification(
                        rowsChecked: checked, brokenLink: .init(seq: entry.seq, caseNumber: entry.caseNumber, problem: problem), headHash: prevHash)
                }
                if entry.seq != expectedSeq {
                    return broken("row \(expectedSeq)\(entry.seq - expectedSeq > 1 ? "-\(entry.seq - 1)" : "") is missing")
                }
                if entry.prevHash != prevHash {
                    return broken("prev_hash does not match the hash of row \(expectedSeq - 1): a row before it was changed or removed")
                }
                if entry.computedHash != entry.hash {
                    return broken("the row's content does not match its hash: it was edited")
                }
                prevHash = entry.hash
                expectedSeq += 1
                checked += 1
            }
            if page.count < pageSize { break }
        }
        // A missing row before the first one read (seq > 1 at the start) is caught above, as is
        // one in the middle; rows removed at the end leave no trace in the table itself, which is
        // what the head hash is for.
        return CaseHistoryVerification(rowsChecked: checked, brokenLink: nil, headHash: prevHash)
    }

    static func entry(from row: PostgresRow) throws -> CaseHistoryEntry {
        CaseHistoryEntry(
            seq: try row.decode("seq"), caseID: try row.decode("case_id"), caseNumber: try row.decode("case_number"),
            action: try row.decode("action"), actor: try row.decode("actor"), role: try row.decode("role"), at: try row.decode("at"),
            reason: try row.decode("reason"), before: try row.decode("before_json"), after: try row.decode("after_json"),
            prevHash: try row.decode("prev_hash"), hash: try row.decode("hash"))
    }
}
