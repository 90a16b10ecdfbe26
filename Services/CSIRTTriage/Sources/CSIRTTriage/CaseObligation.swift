public import Foundation
import Postgres
import PostgresMigrations

/// A statutory obligation of a case, with the legal terms copied at creation (issue #4 item 7).
public struct CaseObligation: Sendable, Hashable, Codable {
    /// `required` (trigger yes), `to-decide` (trigger unknown), `not-required` (decided no),
    /// `filed` (done, with a reference).
    public enum Status: String, Sendable, Hashable, Codable {
        case required
        case toDecide = "to-decide"
        case notRequired = "not-required"
        case filed
    }

    public var id: UUID
    public var caseID: UUID
    public var rule: String
    public var regime: String
    public var kind: String
    public var recipient: String
    public var status: Status
    public var law: String
    public var quote: String
    public var rulesVersion: String
    public var periodDays: Int?
    public var knownAt: Date
    /// The last day (JST), `YYYY-MM-DD`.
    public var dueDate: String?
    /// 00:00 JST after the last day.
    public var dueAt: Date?
    public var filedAt: Date?
    public var filingReference: String?
    public var filedBy: String?

    /// Whether reminders still go out.
    public var isOpen: Bool { status == .required || status == .toDecide }
}

/// The `obligations` table.
struct ObligationStore: Sendable {
    let schema: String

    var table: String { "\(Migrator.quoted(schema)).obligations" }

    /// Inserts new obligations in one statement.
    func insert(_ obligations: [CaseObligation], now: Date, on connection: PostgresConnection) throws {
        guard !obligations.isEmpty else { return }
        _ = try connection.query(
            """
            INSERT INTO \(unescaped: table) (id, case_id, rule_id, regime, kind, recipient, status, law, quote, rules_version,
                period_days, known_at, due_date, due_at, created_at, updated_at)
            SELECT id, case_id, rule_id, regime, kind, recipient, status, law, quote, rules_version, period_days, known_at, due_date::date,
                due_at, \(now), \(now)
            FROM unnest(\(obligations.map(\.id))::uuid[], \(obligations.map(\.caseID))::uuid[], \(obligations.map(\.rule))::text[],
                        \(obligations.map(\.regime))::text[], \(obligations.map(\.kind))::text[], \(obligations.map(\.recipient))::text[],
                        \(obligations.map(\.status.rawValue))::text[], \(obligations.map(\.law))::text[], \(obligations.map(\.quote))::text[],
                        \(obligations.map(\.rulesVersion))::text[], \(obligations.map(\.periodDays))::integer[],
                        \(obligations.map(\.knownAt))::timestamptz[], \(obligations.map(\.dueDate))::text[], \(obligations.map(\.dueAt))::timestamptz[])
                 AS o (id, case_id, rule_id, regime, kind, recipient, status, law, quote, rules_version, period_days, known_at, due_date, due_at)
            ON CONFLICT (case_id, rule_id) DO NOTHING
            """
        )
    }

    func update(_ obligation: CaseObligation, now: Date, on connection: PostgresConnection) throws {
        _ = try connection.query(
            """
            UPDATE \(unescaped: table) SET status = \(obligation.status.rawValue), period_days = \(obligation.periodDays),
                known_at = \(obligation.knownAt), due_date = \(obligation.dueDate)::date, due_at = \(obligation.dueAt), filed_at = \(obligation.filedAt),
                filing_reference = \(obligation.filingReference), filed_by = \(obligation.filedBy), updated_at = \(now)
            WHERE id = \(obligation.id)
            """
        )
    }

    /// Moves obligations to another case (a merge: the survivor carries them on).
    func move(_ ids: [UUID], to caseID: UUID, now: Date, on connection: PostgresConnection) throws {
        guard !ids.isEmpty else { return }
        _ = try connection.query("UPDATE \(unescaped: table) SET case_id = \(caseID), updated_at = \(now) WHERE id = ANY(\(ids)::uuid[])")
    }

    func obligations(caseID: UUID, on connection: PostgresConnection) throws -> [CaseObligation] {
        try connection.query("SELECT *, due_date::text AS due_text FROM \(unescaped: table) WHERE case_id = \(caseID) ORDER BY due_at NULLS LAST, rule_id")
            .map(Self.obligation(from:))
    }

    func obligation(id: UUID, forUpdate: Bool = false, on connection: PostgresConnection) throws -> CaseObligation? {
        try connection.query(
            "SELECT *, due_date::text AS due_text FROM \(unescaped: table) WHERE id = \(id) \(unescaped: forUpdate ? "FOR UPDATE" : "")"
        ).rows.first.map(Self.obligation(from:))
    }

    static func obligation(from row: PostgresRow) throws -> CaseObligation {
        CaseObligation(
            id: try row.decode("id"), caseID: try row.decode("case_id"), rule: try row.decode("rule_id"), regime: try row.decode("regime"),
            kind: try row.decode("kind"), recipient: try row.decode("recipient"),
            status: try TriageStore.decodeEnum(row, "status"), law: try row.decode("law"), quote: try row.decode("quote"),
            rulesVersion: try row.decode("rules_version"), periodDays: try row.decode("period_days"), knownAt: try row.decode("known_at"),
            dueDate: try row.decode("due_text"), dueAt: try row.decode("due_at"), filedAt: try row.decode("filed_at"),
            filingReference: try row.decode("filing_reference"), filedBy: try row.decode("filed_by"))
    }
}
