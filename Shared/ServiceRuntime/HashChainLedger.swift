public import Contracts
public import Foundation
public import Postgres
import Crypto
public import PostgresMigrations

/// One append-only, hash-chained table (brief §6: record and preserve): the case history, the
/// duty ledger, the sub-contract decisions and the notification delivery log all append and
/// verify through this type.
///
/// The table has, besides its content columns, `seq bigint` (1, 2, 3... without gaps),
/// `prev_hash text`, `hash text` and `hash_version smallint`. A row's hash is SHA-256, in
/// lowercase hex, over the canonical JSON (``CanonicalJSON``) of one object holding every
/// content column by name plus `seq`, `prev_hash` and `hash_version`; the first row's
/// `prev_hash` is 64 zeros. So a row's hash covers its place in the chain and every earlier row.
///
/// Column values are JSON values of one fixed form per ``ColumnKind``, the form the database
/// gives back when the chain is verified: text as is, UUIDs lowercase, times RFC 3339 in UTC
/// with milliseconds, `jsonb` as the parsed document. Appending writes exactly those values,
/// so what was hashed is what is stored.
///
/// The table's own trigger refuses UPDATE, DELETE and TRUNCATE; the chain is what reveals a
/// superuser who disabled it.
public struct HashChainLedger: Sendable, Hashable {
    /// How a content column is stored, and therefore how its value is written in the hashed form.
    public enum ColumnKind: Sendable, Hashable {
        /// `text`: a JSON string (or null).
        case text
        /// `integer` or `bigint`: a JSON integer.
        case integer
        /// `boolean`.
        case boolean
        /// `uuid`: a lowercase string.
        case uuid
        /// `timestamptz`: RFC 3339, UTC, milliseconds (`2026-04-01T09:30:00.000Z`).
        case timestamp
        /// `jsonb`: the document itself (jsonb reorders members, the canonical form sorts them).
        case json
    }

    /// A content column covered by the hash.
    public struct Column: Sendable, Hashable {
        public var name: String
        public var kind: ColumnKind

        public init(_ name: String, _ kind: ColumnKind) {
            self.name = name
            self.kind = kind
        }
    }

    /// Where the chain was cut: the row, what was expected and what is stored.
    public struct BrokenRow: Sendable, Hashable, Codable {
        /// The `seq` of the first row that does not fit the chain.
        public var seq: Int64
        /// What is wrong: an edited row, a missing row, a row written by another hash version.
        public var problem: String
        /// The hash the row should carry (or, for a broken link, the previous row's hash).
        public var expectedHash: String?
        /// The hash stored in the row (or, for a broken link, its `prev_hash`).
        public var storedHash: String?
    }

    /// The result of checking a whole chain.
    public struct Verification: Sendable, Hashable, Codable {
        /// The ledger's name (``HashChainLedger/name``).
        public var ledger: String
        /// Rows that fit the chain, from the first up to the broken one or the end.
        public var rowsChecked: Int
        /// The first row that does not fit; nil when the chain is intact.
        public var brokenRow: BrokenRow?
        /// The hash of the last row that fits: published elsewhere, it anchors the chain, which
        /// also reveals rows cut off at the end (they leave no trace in the table itself).
        public var headHash: String
        public var isIntact: Bool { brokenRow == nil }
    }

    /// The position and hashes a row was given.
    public struct Link: Sendable, Hashable {
        public var seq: Int64
        public var prevHash: String
        public var hash: String
    }

    /// What went wrong appending: a row that does not match the table's description.
    public struct AppendError: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// How the chain is computed; a row with another version is not verified by this code.
    /// Version 1 was each service's own chaining before this type (see `docs/architecture.md`).
    public static let hashVersion = 2
    /// The previous hash of the first row.
    public static let genesisHash = String(repeating: "0", count: 64)

    /// A name for reports (`case history`).
    public let name: String
    public let schema: String
    public let table: String
    /// The content columns, every one covered by the hash.
    public let columns: [Column]

    public init(name: String, schema: String, table: String, columns: [Column]) {
        self.name = name
        self.schema = schema
        self.table = table
        self.columns = columns
    }

    /// The schema-qualified, quoted table name.
    public var qualifiedTable: String { "\(Migrator.quoted(schema)).\(Migrator.quoted(table))" }

    // MARK: Appending

    /// Appends `rows` in order, inside the caller's transaction, in three statements however
    /// many rows: take the chain's lock, read the head, insert every row at once. The lock is
    /// held to the commit, so a caller appends last in its transaction.
    ///
    /// Each row maps content column names to their values; a column left out is null.
    ///
    /// The lock is `pg_advisory_xact_lock` keyed by the table, held to commit. `SELECT … FOR
    /// UPDATE` of the last row would not do: an empty table has no row to lock, so two first
    /// appends would both chain to the genesis hash; and a waiter woken by the commit of the
    /// row it locked would still chain to that row, not to the one just added after it. The
    /// advisory lock serialises appenders on the table itself; in READ COMMITTED (the only
    /// isolation the services use) the head read after it sees every committed row.
    @discardableResult
    public func append(_ rows: [[String: JSONValue]], on connection: PostgresConnection) throws -> [Link] {
        guard !rows.isEmpty else { return [] }
        let known = Set(columns.map(\.name))
        for row in rows {
            if let unknown = row.keys.first(where: { !known.contains($0) }) {
                throw AppendError(description: "\(qualifiedTable) has no hashed column \(unknown)")
            }
            for column in columns where !Self.isStoredAsHashed(row[column.name] ?? .null, kind: column.kind) {
                throw AppendError(description: "\(qualifiedTable).\(column.name): \(row[column.name] ?? .null) is not in the \(column.kind) form the database reads back")
            }
        }
        _ = try connection.query("SELECT pg_advisory_xact_lock(hashtext(\("isms.hash-chain." + qualifiedTable)))")
        let head = try connection.query("SELECT seq, hash FROM \(unescaped: qualifiedTable) ORDER BY seq DESC LIMIT 1").rows.first
        var seq: Int64 = try head?.decode("seq", as: Int64.self) ?? 0
        var prevHash: String = try head?.decode("hash", as: String.self) ?? Self.genesisHash
        var links: [Link] = []
        links.reserveCapacity(rows.count)
        // Each column's values as the text PostgreSQL reads into the column's type, one array per
        // column: an `unnest` of typed arrays costs the database a fraction of what
        // `json_populate_recordset` of the same rows does (the notifier appends ~8 rows per report).
        var values = [[String?]](repeating: [], count: columns.count)
        var seqs: [Int64] = []
        var prevHashes: [String] = []
        var hashes: [String] = []
        for row in rows {
            seq += 1
            var document = Dictionary(uniqueKeysWithValues: columns.map { ($0.name, row[$0.name] ?? .null) })
            document["seq"] = .integer(seq)
            document["prev_hash"] = .string(prevHash)
            document["hash_version"] = .integer(Int64(Self.hashVersion))
            let hash = Self.hash(of: document)
            links.append(Link(seq: seq, prevHash: prevHash, hash: hash))
            for (index, column) in columns.enumerated() { values[index].append(Self.storedText(row[column.name] ?? .null, kind: column.kind)) }
            seqs.append(seq)
            prevHashes.append(prevHash)
            hashes.append(hash)
            prevHash = hash
        }
        var query = PostgresQuery(stringLiteral: "")
        let names = (columns.map(\.name) + ["seq", "prev_hash", "hash", "hash_version"]).map(Migrator.quoted).joined(separator: ", ")
        query.append(unescaped: "INSERT INTO \(qualifiedTable) (\(names)) SELECT ")
        query.append(unescaped: columns.indices.map { "v.c\($0)\(Self.cast(columns[$0].kind))" }.joined(separator: ", "))
        query.append(unescaped: ", v.seq, v.prev_hash, v.hash, \(Self.hashVersion) FROM unnest(")
        for index in columns.indices {
            query.append(bind: values[index])
            query.append(unescaped: "::text[], ")
        }
        query.append(bind: seqs)
        query.append(unescaped: "::bigint[], ")
        query.append(bind: prevHashes)
        query.append(unescaped: "::text[], ")
        query.append(bind: hashes)
        query.append(unescaped: "::text[]) AS v (\(columns.indices.map { "c\($0)" }.joined(separator: ", ")), seq, prev_hash, hash)")
        _ = try connection.query(query)
        return links
    }

    /// Appends one row (see the batch form above).
    @discardableResult
    public func append(_ row: [String: JSONValue], on connection: PostgresConnection) throws -> Link {
        try append([row], on: connection)[0]
    }

    /// A hashed value as the text its column's type reads (the same input functions
    /// `json_populate_recordset` used): a `jsonb` column's document as its canonical text,
    /// other values as they are, null as NULL.
    static func storedText(_ value: JSONValue, kind: ColumnKind) -> String? {
        switch (kind, value) {
        case (_, .null): nil
        case (.json, _): value.canonicalText
        case (_, .string(let text)): text
        case (_, .integer(let number)): String(number)
        case (_, .bool(let flag)): flag ? "true" : "false"
        default: value.canonicalText
        }
    }

    /// The cast from text to a column of `kind`.
    static func cast(_ kind: ColumnKind) -> String {
        switch kind {
        case .text: ""
        case .integer: "::bigint"
        case .boolean: "::boolean"
        case .uuid: "::uuid"
        case .timestamp: "::timestamptz"
        case .json: "::jsonb"
        }
    }

    /// Whether `value` reads back from a `kind` column exactly as it is (see ``ColumnKind``):
    /// a value that did not would be stored differently from how it was hashed, and the row
    /// would look edited at the next verification.
    static func isStoredAsHashed(_ value: JSONValue, kind: ColumnKind) -> Bool {
        switch (kind, value) {
        case (_, .null), (.text, .string), (.integer, .integer), (.boolean, .bool), (.json, _): true
        case (.uuid, .string(let text)): UUID(uuidString: text) != nil && text == text.lowercased()
        case (.timestamp, .string(let text)): ContractsJSON.parseTimestamp(text).map(ContractsJSON.formatTimestamp) == text
        default: false
        }
    }

    /// SHA-256 of the canonical JSON of a row's document, lowercase hex.
    static func hash(of document: [String: JSONValue]) -> String {
        SHA256.hash(data: JSONValue.object(document).canonicalData).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    // MARK: Verifying

    /// Walks the whole chain in `seq` order, a page at a time, recomputing every hash, and
    /// names the first row that does not fit: a gap in `seq`, a `prev_hash` that is not the
    /// previous row's hash (a row before it was changed or removed), a content that does not
    /// match its hash (the row was edited), or an unknown hash version.
    public func verify(on connection: PostgresConnection, pageSize: Int = 2000) throws -> Verification {
        let rendered = renderedColumns(table: nil)
        var expectedSeq: Int64 = 1
        var prevHash = Self.genesisHash
        var checked = 0
        while true {
            let page = try connection.query(
                """
                SELECT seq, prev_hash, hash, hash_version\(unescaped: rendered.isEmpty ? "" : ", " + rendered)
                FROM \(unescaped: qualifiedTable) WHERE seq >= \(expectedSeq) ORDER BY seq LIMIT \(pageSize)
                """
            ).rows
            for row in page {
                let seq: Int64 = try row.decode("seq")
                let storedPrevious: String = try row.decode("prev_hash")
                let storedHash: String = try row.decode("hash")
                let version: Int = try row.decode("hash_version")
                func broken(_ problem: String, expected: String?, stored: String?) -> Verification {
                    Verification(
                        ledger: name, rowsChecked: checked,
                        brokenRow: BrokenRow(seq: seq, problem: problem, expectedHash: expected, storedHash: stored), headHash: prevHash)
                }
                if seq != expectedSeq {
                    let missing = seq - expectedSeq > 1 ? "rows \(expectedSeq)-\(seq - 1) are" : "row \(expectedSeq) is"
                    return broken("\(missing) missing", expected: nil, stored: nil)
                }
                if version != Self.hashVersion {
                    return broken("written with hash version \(version); this build verifies version \(Self.hashVersion)", expected: nil, stored: storedHash)
                }
                if storedPrevious != prevHash {
                    return broken(
                        "prev_hash is not the hash of row \(seq - 1): a row before it was changed or removed", expected: prevHash, stored: storedPrevious)
                }
                let expected = try expectedHash(of: row, seq: seq, prevHash: storedPrevious, version: version)
                if expected != storedHash {
                    return broken("the row's content does not match its hash: it was edited", expected: expected, stored: storedHash)
                }
                prevHash = storedHash
                expectedSeq += 1
                checked += 1
            }
            if page.count < pageSize { break }
        }
        return Verification(ledger: name, rowsChecked: checked, brokenRow: nil, headHash: prevHash)
    }

    /// Checks only the rows whose `column` equals `value` (one case's history, say): each must
    /// be of this hash version, carry the hash of the row just before it in the chain (whoever
    /// that row belongs to) and match its own hash. One indexed query, so a page can afford it;
    /// it does not prove the rest of the chain, which ``verify(on:pageSize:)`` walks. Returns
    /// the first row that does not fit, or nil.
    public func verifyRows(where column: String, equals value: some PostgresEncodable, on connection: PostgresConnection) throws -> BrokenRow? {
        precondition(columns.contains { $0.name == column }, "\(column) is not a content column of \(qualifiedTable)")
        let rendered = renderedColumns(table: "r")
        let rows = try connection.query(
            """
            SELECT r.seq, r.prev_hash, r.hash, r.hash_version, p.hash AS previous_row_hash, \(unescaped: rendered)
            FROM \(unescaped: qualifiedTable) r LEFT JOIN \(unescaped: qualifiedTable) p ON p.seq = r.seq - 1
            WHERE r.\(unescaped: Migrator.quoted(column)) = \(value) ORDER BY r.seq
            """
        ).rows
        for row in rows {
            let seq: Int64 = try row.decode("seq")
            let storedPrevious: String = try row.decode("prev_hash")
            let storedHash: String = try row.decode("hash")
            let version: Int = try row.decode("hash_version")
            guard version == Self.hashVersion else {
                return BrokenRow(seq: seq, problem: "written with hash version \(version); this build verifies version \(Self.hashVersion)", expectedHash: nil, storedHash: storedHash)
            }
            let previous: String? = try seq == 1 ? Self.genesisHash : row.decode("previous_row_hash", as: String?.self)
            guard let previous else { return BrokenRow(seq: seq, problem: "row \(seq - 1) is missing", expectedHash: nil, storedHash: nil) }
            guard storedPrevious == previous else {
                return BrokenRow(
                    seq: seq, problem: "prev_hash is not the hash of row \(seq - 1): a row before it was changed or removed", expectedHash: previous,
                    storedHash: storedPrevious)
            }
            let expected = try expectedHash(of: row, seq: seq, prevHash: storedPrevious, version: version)
            guard expected == storedHash else {
                return BrokenRow(seq: seq, problem: "the row's content does not match its hash: it was edited", expectedHash: expected, storedHash: storedHash)
            }
        }
        return nil
    }

    /// The content columns as SQL renders them in the hashed form, named `c0`, `c1`...
    private func renderedColumns(table: String?) -> String {
        columns.enumerated().map { index, column in
            let name = (table.map { "\($0)." } ?? "") + Migrator.quoted(column.name)
            let expression = switch column.kind {
            case .text: name
            case .integer, .boolean, .uuid, .json: "\(name)::text"
            case .timestamp: "to_char(\(name) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
            }
            return "\(expression) AS c\(index)"
        }.joined(separator: ", ")
    }

    /// The hash a row read with ``renderedColumns(table:)`` should carry.
    private func expectedHash(of row: PostgresRow, seq: Int64, prevHash: String, version: Int) throws -> String {
        var document: [String: JSONValue] = ["seq": .integer(seq), "prev_hash": .string(prevHash), "hash_version": .integer(Int64(version))]
        for (index, column) in columns.enumerated() {
            document[column.name] = try Self.value(row["c\(index)"], kind: column.kind)
        }
        return Self.hash(of: document)
    }

    /// The hashed form of a column as the database renders it (see ``verify(on:pageSize:)``).
    static func value(_ text: String?, kind: ColumnKind) throws -> JSONValue {
        guard let text else { return .null }
        switch kind {
        case .text, .uuid, .timestamp: return .string(text)
        case .integer:
            guard let integer = Int64(text) else { throw PostgresError(code: .decoding, message: "not an integer: \(text)") }
            return .integer(integer)
        case .boolean: return .bool(text == "t" || text == "true")
        case .json: return try JSONValue(parsing: text)
        }
    }
}

extension JSONValue {
    /// A text column's value in a ledger row (null for nil).
    public static func text(_ value: String?) -> JSONValue { value.map { JSONValue.string($0) } ?? JSONValue.null }

    /// A `uuid` column's value in a ledger row: lowercase, as PostgreSQL writes it.
    public static func uuid(_ value: UUID?) -> JSONValue { value.map { JSONValue.string($0.lowercasedString) } ?? JSONValue.null }

    /// A `timestamptz` column's value in a ledger row: RFC 3339, UTC, milliseconds (the time
    /// is stored at that precision, so it reads back as it was hashed).
    public static func timestamp(_ value: Date?) -> JSONValue { value.map { JSONValue.string(ContractsJSON.formatTimestamp($0)) } ?? JSONValue.null }

    /// An integer column's value in a ledger row.
    public static func int(_ value: (some BinaryInteger)?) -> JSONValue { value.map { JSONValue.integer(Int64($0)) } ?? JSONValue.null }

    /// A `jsonb` column's value in a ledger row: the value under the contracts' JSON policy.
    public static func document(_ value: some Encodable) throws -> JSONValue { try CanonicalJSON.value(of: value) }
}

extension HashChainLedger {
    /// The migration that moves a table chained by its service's own code (hash version 1) to
    /// this type: it adds `hash_version`, 1 on every row already there (adding a column with a
    /// constant default rewrites no row and fires no trigger), and no default afterwards, so
    /// every append must say its version. Rows of version 1 are reported, not verified: the
    /// system was not in production when the chains were unified (`docs/architecture.md`).
    public func hashVersionMigration(version: Int) -> Migration {
        Migration(
            version: version,
            name: "\(table): hash_version for the shared hash-chained ledger",
            sql: """
                ALTER TABLE \(qualifiedTable) ADD COLUMN hash_version smallint NOT NULL DEFAULT 1;
                ALTER TABLE \(qualifiedTable) ALTER COLUMN hash_version DROP DEFAULT;
                """
        )
    }
}
