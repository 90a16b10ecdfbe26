public import Foundation
import Postgres
import PostgresMigrations

/// One report of a case (issue #16), as the case page lists them.
public struct CaseReport: Sendable, Hashable, Codable {
    public var source: CaseSource
    /// `opened` (it opened the case), a correlation rule's id, `merge` or `split`.
    public var rule: String
    public var joinedAt: Date
    public var recordedAt: Date
    public var knownAt: Date
    /// Masked.
    public var title: String
}

/// The reports of each case and the correlation keys that find an open case for a new report.
/// Every call runs inside the caller's transaction; all SQL is parameterised.
struct CaseReports: Sendable {
    let schema: String

    private var reports: String { "\(Migrator.quoted(schema)).case_reports" }
    private var keys: String { "\(Migrator.quoted(schema)).case_correlation_keys" }
    private var cases: String { "\(Migrator.quoted(schema)).cases" }

    /// Records that each report is in its case under its rule; a report in a case already is
    /// left where it is (a redelivery: each report is in exactly one case).
    func insert(_ rows: [(report: NewCase, caseID: UUID, rule: String)], at now: Date, on connection: PostgresConnection) throws {
        guard !rows.isEmpty else { return }
        _ = try connection.query(
            """
            INSERT INTO \(unescaped: reports) (source_kind, source_id, case_id, rule, joined_at, recorded_at, known_at, title, report)
            SELECT kind, id, case_id, rule, \(now), recorded_at, known_at, title, report::jsonb
            FROM unnest(\(rows.map(\.report.source.kind))::text[], \(rows.map(\.report.source.id))::text[], \(rows.map(\.caseID))::uuid[],
                        \(rows.map(\.rule))::text[], \(rows.map(\.report.recordedAt))::timestamptz[], \(rows.map(\.report.knownAt))::timestamptz[],
                        \(rows.map(\.report.title))::text[], \(rows.map { PostgresJSON($0.report) })::text[])
                 AS r(kind, id, case_id, rule, recorded_at, known_at, title, report)
            ON CONFLICT DO NOTHING
            """
        )
    }

    /// The reports of a case, oldest first.
    func list(caseID: UUID, limit: Int = 1000, on connection: PostgresConnection) throws -> [CaseReport] {
        try connection.query(
            """
            SELECT source_kind, source_id, rule, joined_at, recorded_at, known_at, title FROM \(unescaped: reports)
            WHERE case_id = \(caseID) ORDER BY recorded_at, source_id LIMIT \(max(1, min(limit, 10_000)))
            """
        ).map { row in
            CaseReport(
                source: CaseSource(kind: try row.decode("source_kind"), id: try row.decode("source_id")), rule: try row.decode("rule"),
                joinedAt: try row.decode("joined_at"), recordedAt: try row.decode("recorded_at"), knownAt: try row.decode("known_at"),
                title: try row.decode("title"))
        }
    }

    /// A report of a case with its content as received, locked (splitting it out).
    func locked(source: CaseSource, on connection: PostgresConnection) throws -> (caseID: UUID, rule: String, report: NewCase?)? {
        guard let row = try connection.query(
            """
            SELECT case_id, rule, report::text AS report FROM \(unescaped: reports)
            WHERE source_kind = \(source.kind) AND source_id = \(source.id) FOR UPDATE
            """
        ).rows.first else { return nil }
        let report = try row.decode("report", as: String?.self).map { try PostgresJSON<NewCase>(postgresText: $0).value }
        return (try row.decode("case_id"), try row.decode("rule"), report)
    }

    /// Moves every report of `from` to `to` (a merge), each now joined by `merge`; returns how many moved.
    func moveAll(from: UUID, to: UUID, at now: Date, on connection: PostgresConnection) throws -> Int {
        let moved = try connection.query(
            "UPDATE \(unescaped: reports) SET case_id = \(to), rule = 'merge', joined_at = \(now) WHERE case_id = \(from)"
        ).affectedRows
        // The keys follow, so later related reports find the survivor; a key both had keeps the later sighting.
        _ = try connection.query(
            """
            INSERT INTO \(unescaped: keys) (key, case_id, rule, last_seen_at)
            SELECT key, \(to), rule, last_seen_at FROM \(unescaped: keys) WHERE case_id = \(from)
            ON CONFLICT (key, case_id) DO UPDATE SET last_seen_at = greatest(\(unescaped: keys).last_seen_at, excluded.last_seen_at)
            """
        )
        _ = try connection.query("DELETE FROM \(unescaped: keys) WHERE case_id = \(from)")
        return moved
    }

    /// When the first and the latest report of a case were recorded (after a split).
    func seen(caseID: UUID, on connection: PostgresConnection) throws -> (first: Date, last: Date)? {
        guard let row = try connection.query(
            "SELECT min(recorded_at) AS first, max(recorded_at) AS last FROM \(unescaped: reports) WHERE case_id = \(caseID)"
        ).rows.first, let first = try row.decode("first", as: Date?.self), let last = try row.decode("last", as: Date?.self) else { return nil }
        return (first, last)
    }

    /// Moves one report to another case under `rule` (a split).
    func move(source: CaseSource, to caseID: UUID, rule: String, at now: Date, on connection: PostgresConnection) throws {
        _ = try connection.query(
            """
            UPDATE \(unescaped: reports) SET case_id = \(caseID), rule = \(rule), joined_at = \(now)
            WHERE source_kind = \(source.kind) AND source_id = \(source.id)
            """
        )
    }

    // MARK: Correlation keys

    /// Serialises everyone who handles a report with any of these keys, until commit: two
    /// triage processes with related reports in hand must not both find no case and open two.
    /// Taken in one sorted pass, so two transactions never wait for each other in a circle.
    func lock(_ keyTexts: [String], on connection: PostgresConnection) throws {
        let sorted = Array(Set(keyTexts)).sorted()
        guard !sorted.isEmpty else { return }
        _ = try connection.query(
            """
            SELECT count(pg_advisory_xact_lock(hashtextextended(k, 0)))
            FROM (SELECT k FROM unnest(\(sorted)::text[]) AS k ORDER BY k) AS sorted
            """
        )
    }

    /// For each report (by its index), the open case that holds one of its keys seen within the
    /// key's window of the report's `seenAt`: the earliest rule in the file wins, then the case
    /// that saw the key last. One statement for the whole batch.
    func findOpenCases(
        _ wanted: [(index: Int, keys: [CorrelationRules.Key], seenAt: Date)], on connection: PostgresConnection
    ) throws -> [Int: (caseID: UUID, rule: String)] {
        let flat = wanted.flatMap { item in item.keys.map { (index: item.index, key: $0, earliest: item.seenAt.addingTimeInterval(-Double($0.window.components.seconds))) } }
        guard !flat.isEmpty else { return [:] }
        let final = CaseState.allCases.filter(\.isFinal).map(\.rawValue)
        var best: [Int: (caseID: UUID, rule: String, position: Int, seen: Date)] = [:]
        for row in try connection.query(
            """
            SELECT wanted.index, wanted.position, k.case_id, k.rule, k.last_seen_at
            FROM unnest(\(flat.map(\.index))::integer[], \(flat.map(\.key.text))::text[], \(flat.map(\.key.position))::integer[],
                        \(flat.map(\.earliest))::timestamptz[]) AS wanted(index, key, position, earliest)
            JOIN \(unescaped: keys) k ON k.key = wanted.key AND k.last_seen_at >= wanted.earliest
            JOIN \(unescaped: cases) c ON c.id = k.case_id AND c.state <> ALL(\(final)::text[])
            """
        ).rows {
            let index: Int = try row.decode("index")
            let candidate = (caseID: try row.decode("case_id", as: UUID.self), rule: try row.decode("rule", as: String.self),
                             position: try row.decode("position", as: Int.self), seen: try row.decode("last_seen_at", as: Date.self))
            // As the single lookup orders: the earliest rule in the file, then the latest sighting.
            if let current = best[index], current.position < candidate.position || (current.position == candidate.position && current.seen >= candidate.seen) {
                continue
            }
            best[index] = candidate
        }
        return best.mapValues { (caseID: $0.caseID, rule: $0.rule) }
    }

    /// Records that each case saw each key at its time (a later sighting moves the window on).
    func touch(_ rows: [(key: CorrelationRules.Key, caseID: UUID, seenAt: Date)], on connection: PostgresConnection) throws {
        guard !rows.isEmpty else { return }
        // One row per (key, case) in a statement: ON CONFLICT cannot touch a row twice.
        var latest: [String: (key: CorrelationRules.Key, caseID: UUID, seenAt: Date)] = [:]
        for row in rows {
            let id = "\(row.key.text)\u{0}\(row.caseID)"
            if let seen = latest[id], seen.seenAt >= row.seenAt { continue }
            latest[id] = row
        }
        let unique = Array(latest.values)
        _ = try connection.query(
            """
            INSERT INTO \(unescaped: keys) (key, case_id, rule, last_seen_at)
            SELECT * FROM unnest(\(unique.map(\.key.text))::text[], \(unique.map(\.caseID))::uuid[], \(unique.map(\.key.rule))::text[],
                                 \(unique.map(\.seenAt))::timestamptz[])
            ON CONFLICT (key, case_id) DO UPDATE SET last_seen_at = greatest(\(unescaped: keys).last_seen_at, excluded.last_seen_at)
            """
        )
    }
}
