public import Contracts
public import Foundation
public import Postgres
import PostgresMigrations
import WardCalendar

/// Who may see which cases: a department or section sees only its own, ward-wide roles all
/// (issue #4 item 9).
public enum CaseVisibility: Sendable, Hashable {
    case all
    /// A section or department code.
    case unit(String)

    public func allows(sectionCode: String, departmentCode: String) -> Bool {
        switch self {
        case .all: true
        case .unit(let code): code == sectionCode || code == departmentCode
        }
    }
}

/// What the case list may be narrowed to; every member left nil means "any", and all given
/// ones must hold (the console's filter form, `GET /v1/cases`).
public struct CaseListFilter: Sendable, Hashable {
    public var state: CaseState?
    /// 1 (critical) to 4.
    public var severity: Int?
    public var sectionCode: String?
    public var departmentCode: String?
    public var category: IncidentCategory?
    /// A person id of the directory: cases that person is currently assigned to.
    public var assignee: String?
    /// Opened at or after this time.
    public var openedFrom: Date?
    /// Opened before this time.
    public var openedBefore: Date?
    /// A piece of the (masked) title, compared without regard to case.
    public var titleContains: String?
    /// true: acknowledged cases only; false: cases nobody acknowledged yet.
    public var acknowledged: Bool?
    /// The originating id (an intake id, a violation id): the case a report became.
    public var sourceID: String?

    public init(
        state: CaseState? = nil, severity: Int? = nil, sectionCode: String? = nil, departmentCode: String? = nil, category: IncidentCategory? = nil,
        assignee: String? = nil, openedFrom: Date? = nil, openedBefore: Date? = nil, titleContains: String? = nil, acknowledged: Bool? = nil,
        sourceID: String? = nil
    ) {
        self.state = state
        self.severity = severity
        self.sectionCode = sectionCode
        self.departmentCode = departmentCode
        self.category = category
        self.assignee = assignee
        self.openedFrom = openedFrom
        self.openedBefore = openedBefore
        self.titleContains = titleContains
        self.acknowledged = acknowledged
        self.sourceID = sourceID
    }
}

/// The triage schema: cases, their history, their obligations. Every call runs on a connection
/// the caller holds, inside the caller's transaction; all SQL is parameterised.
public struct TriageStore: Sendable {
    /// The schema the tables live in (`triage`; tests use their own).
    public let schema: String

    public init(schema: String = CSIRTTriageService.schema) {
        self.schema = schema
    }

    var cases: String { "\(Migrator.quoted(schema)).cases" }
    var counters: String { "\(Migrator.quoted(schema)).case_counters" }
    var history: CaseHistory { CaseHistory(schema: schema, deferred: deferredHistory) }
    /// Set on the copy of the engine a batch works with (``CaseHistory/Deferred``).
    var deferredHistory: CaseHistory.Deferred?

    // MARK: Numbering

    /// Takes `count` case numbers of `year` and returns the last: the numbers are `last -
    /// count + 1 ... last`, as `INC-<year>-<6 digits>`. Gapless because the counter row is
    /// updated (and locked) in the transaction that commits the cases: a rollback returns them.
    func reserveCaseNumbers(year: Int, count: Int, on connection: PostgresConnection) throws -> Int {
        let row = try connection.query(
            """
            INSERT INTO \(unescaped: counters) (year, last_number) VALUES (\(year), \(count))
            ON CONFLICT (year) DO UPDATE SET last_number = \(unescaped: counters).last_number + \(count)
            RETURNING last_number
            """
        ).rows.first
        guard let last = try row?.decode("last_number", as: Int.self) else {
            throw PostgresError(code: .server, message: "the case counter of \(year) returned nothing")
        }
        return last
    }

    /// `INC-2025-000042`.
    public static func caseNumber(year: Int, number: Int) -> String {
        let digits = String(number)
        return "INC-\(year)-" + String(repeating: "0", count: max(0, 6 - digits.count)) + digits
    }

    // MARK: Cases

    /// The case that holds the report (or violation) `source`: the one it opened or joined.
    public func caseID(source: CaseSource, on connection: PostgresConnection) throws -> UUID? {
        try connection.query(
            "SELECT case_id FROM \(unescaped: Migrator.quoted(schema)).case_reports WHERE source_kind = \(source.kind) AND source_id = \(source.id)"
        ).rows.first?.decode("case_id")
    }

    /// The sources of `sources` that are in a case already (a batch's redeliveries).
    func sourcesInCases(_ sources: [CaseSource], on connection: PostgresConnection) throws -> Set<CaseSource> {
        guard !sources.isEmpty else { return [] }
        return Set(try connection.query(
            """
            SELECT r.source_kind, r.source_id FROM \(unescaped: Migrator.quoted(schema)).case_reports r
            JOIN unnest(\(sources.map(\.kind))::text[], \(sources.map(\.id))::text[]) AS s(kind, id) ON r.source_kind = s.kind AND r.source_id = s.id
            """
        ).map { CaseSource(kind: try $0.decode("source_kind"), id: try $0.decode("source_id")) })
    }

    /// The number of the case `source` opened, if it opened one (a report that joined a case did not).
    func caseNumber(source: CaseSource, on connection: PostgresConnection) throws -> String? {
        try connection.query(
            "SELECT case_number FROM \(unescaped: cases) WHERE source_kind = \(source.kind) AND source_id = \(source.id)"
        ).rows.first?.decode("case_number")
    }

    /// Inserts new cases (numbered, decided, escalated as far as they are told at once) in one
    /// statement; returns how many were inserted (fewer when a concurrent transaction opened one
    /// for the same source).
    func insert(_ rows: [(new: NewCase, record: CaseRecord)], year: Int, on connection: PostgresConnection) throws -> Int {
        guard !rows.isEmpty else { return 0 }
        let news = rows.map(\.new)
        let records = rows.map(\.record)
        return try connection.query(
            """
            INSERT INTO \(unescaped: cases) (
                id, case_number, year, number, source_kind, source_id, section_code, department_code, category, title, description,
                reporter, my_number_detected, facts, verdicts, state, severity, severity_rule, severity_reason, severity_matched,
                severity_rules_version, occurred_at, detected_at, known_at, reported_at, recorded_at, opened_at, updated_at, first_seen_at,
                last_seen_at, escalation_level
            )
            SELECT id, case_number, \(year), split_part(case_number, '-', 3)::integer, source_kind, source_id, section_code, department_code,
                   category, title, description, reporter::jsonb, my_number_detected, facts::jsonb, verdicts::jsonb, \(CaseState.reported.rawValue),
                   severity, severity_rule, severity_reason, ARRAY(SELECT jsonb_array_elements_text(matched::jsonb)), severity_rules_version,
                   occurred_at, detected_at, known_at, reported_at, recorded_at, opened_at, opened_at, recorded_at, recorded_at, escalation_level
            FROM unnest(
                \(records.map(\.id))::uuid[], \(records.map(\.caseNumber))::text[], \(news.map(\.source.kind))::text[], \(news.map(\.source.id))::text[],
                \(news.map(\.sectionCode))::text[], \(news.map(\.departmentCode))::text[], \(news.map(\.category.rawValue))::text[],
                \(news.map(\.title))::text[], \(news.map(\.description))::text[], \(news.map { $0.reporter.map { PostgresJSON($0).postgresText } ?? nil })::text[],
                \(news.map(\.myNumberDetected))::boolean[], \(news.map { PostgresJSON($0.facts).postgresText })::text[],
                \(news.map { PostgresJSON($0.verdicts).postgresText })::text[], \(records.map(\.severity.severity))::integer[],
                \(records.map(\.severity.rule))::text[], \(records.map(\.severity.reason))::text[],
                \(records.map { PostgresJSON($0.severity.matched).postgresText })::text[], \(records.map(\.severity.rulesVersion))::text[],
                \(news.map(\.occurredAt))::timestamptz[], \(news.map(\.detectedAt))::timestamptz[], \(news.map(\.knownAt))::timestamptz[],
                \(news.map(\.reportedAt))::timestamptz[], \(news.map(\.recordedAt))::timestamptz[], \(records.map(\.timestamps.openedAt))::timestamptz[],
                \(records.map(\.escalationLevel))::integer[]
            ) AS c (id, case_number, source_kind, source_id, section_code, department_code, category, title, description, reporter,
                    my_number_detected, facts, verdicts, severity, severity_rule, severity_reason, matched, severity_rules_version, occurred_at,
                    detected_at, known_at, reported_at, recorded_at, opened_at, escalation_level)
            ON CONFLICT (source_kind, source_id) DO NOTHING
            """
        ).affectedRows
    }

    private static let columns = """
        id, case_number, source_kind, source_id, section_code, department_code, category, title, description, my_number_detected,
        facts, verdicts, state, qualification, qualification_reason, severity, severity_rule, severity_reason, severity_matched,
        severity_rules_version, occurred_at, detected_at, known_at, reported_at, recorded_at, opened_at, triaged_at, acknowledged_at,
        contained_at, closed_at, escalation_level, report_count, first_seen_at, last_seen_at, merged_into
        """

    /// The case with this number (or id), optionally locked for update.
    public func find(caseNumber: String, forUpdate: Bool = false, on connection: PostgresConnection) throws -> CaseRecord? {
        try connection.query(
            "SELECT \(unescaped: Self.columns) FROM \(unescaped: cases) WHERE case_number = \(caseNumber) \(unescaped: forUpdate ? "FOR UPDATE" : "")"
        ).rows.first.map(Self.record(from:))
    }

    public func find(id: UUID, forUpdate: Bool = false, on connection: PostgresConnection) throws -> CaseRecord? {
        try connection.query(
            "SELECT \(unescaped: Self.columns) FROM \(unescaped: cases) WHERE id = \(id) \(unescaped: forUpdate ? "FOR UPDATE" : "")"
        ).rows.first.map(Self.record(from:))
    }

    /// The latest cases visible to `visibility` that pass `filter`, newest first; `after` is
    /// the (opened, number) of the last case of the page before. Each summary carries when the
    /// next chain level will be told: the due time of the case's pending escalation timer (kind
    /// ``TriageEngine/escalationTimer``, keyed by the case id), which acknowledging deletes.
    public func list(
        visibility: CaseVisibility, filter: CaseListFilter = CaseListFilter(), limit: Int = 50, after: (openedAt: Date, caseNumber: String)? = nil,
        on connection: PostgresConnection
    ) throws -> [CaseSummary] {
        let unit: String? = if case .unit(let code) = visibility { code } else { nil }
        let timers = "\(Migrator.quoted(schema)).timers"
        let assignees = "\(Migrator.quoted(schema)).case_assignees"
        let reports = "\(Migrator.quoted(schema)).case_reports"
        // Bound the opening times to years PostgreSQL and the ward can hold: a schema-valid
        // `0001-01-01T00:00:00+05:00` would otherwise fall before year 1 and fail in the server.
        let from = filter.openedFrom.map(Self.clampedTime)
        let to = filter.openedBefore.map(Self.clampedTime)
        return try connection.query(
            """
            SELECT c.case_number, c.state, c.severity, c.section_code, c.department_code, c.category, c.title, c.known_at, c.opened_at,
                   c.acknowledged_at, c.escalation_level, t.due_at AS next_escalation_at, c.source_kind, c.source_id, c.report_count,
                   c.last_seen_at
            FROM \(unescaped: cases) c
            LEFT JOIN LATERAL (
                SELECT due_at FROM \(unescaped: timers) WHERE kind = \(TriageEngine.escalationTimer) AND key = c.id::text
            ) t ON true
            WHERE (\(unit)::text IS NULL OR c.section_code = \(unit) OR c.department_code = \(unit))
              AND (\(filter.state?.rawValue)::text IS NULL OR c.state = \(filter.state?.rawValue))
              AND (\(filter.severity)::integer IS NULL OR c.severity = \(filter.severity)::integer)
              AND (\(filter.sectionCode)::text IS NULL OR c.section_code = \(filter.sectionCode))
              AND (\(filter.departmentCode)::text IS NULL OR c.department_code = \(filter.departmentCode))
              AND (\(filter.category?.rawValue)::text IS NULL OR c.category = \(filter.category?.rawValue))
              AND (\(filter.assignee)::text IS NULL
                   OR EXISTS (SELECT 1 FROM \(unescaped: assignees) a WHERE a.case_id = c.id AND a.person_id = \(filter.assignee)))
              AND (\(from)::timestamptz IS NULL OR c.opened_at >= \(from)::timestamptz)
              AND (\(to)::timestamptz IS NULL OR c.opened_at < \(to)::timestamptz)
              -- strpos, not LIKE: the words typed are text, never a pattern with wildcards.
              AND (\(filter.titleContains)::text IS NULL OR strpos(lower(c.title), lower(\(filter.titleContains)::text)) > 0)
              AND (\(filter.acknowledged)::boolean IS NULL OR (c.acknowledged_at IS NOT NULL) = \(filter.acknowledged)::boolean)
              -- The case that holds the report, whether it opened the case or joined it (issue #16);
              -- both kinds named, so the (source_kind, source_id) key answers it.
              AND (\(filter.sourceID)::text IS NULL
                   OR c.id = (SELECT r.case_id FROM \(unescaped: reports) r
                              WHERE r.source_kind IN ('incident-report', 'contractor-violation') AND r.source_id = \(filter.sourceID) LIMIT 1))
              AND (\(after?.openedAt)::timestamptz IS NULL OR (c.opened_at, c.case_number) < (\(after?.openedAt)::timestamptz, \(after?.caseNumber)::text))
            ORDER BY c.opened_at DESC, c.case_number DESC
            LIMIT \(max(1, min(limit, 1001)))
            """
        ).map { row in
            CaseSummary(
                caseNumber: try row.decode("case_number"), state: try Self.decodeEnum(row, "state"), severity: try row.decode("severity"),
                sectionCode: try row.decode("section_code"), departmentCode: try row.decode("department_code"),
                category: try Self.decodeEnum(row, "category"), title: try row.decode("title"), knownAt: try row.decode("known_at"),
                openedAt: try row.decode("opened_at"), acknowledgedAt: try row.decode("acknowledged_at"),
                escalationLevel: try row.decode("escalation_level"), nextEscalationAt: try row.decode("next_escalation_at"),
                source: CaseSource(kind: try row.decode("source_kind"), id: try row.decode("source_id")),
                reportCount: try row.decode("report_count"), lastSeenAt: try row.decode("last_seen_at"))
        }
    }

    /// The earliest and latest opening times a filter is compared with (1970 to the end of 9999).
    static func clampedTime(_ date: Date) -> Date {
        min(max(date, Date(timeIntervalSince1970: 0)), Date(timeIntervalSince1970: 253_402_300_799))
    }

    /// Writes the mutable fields of `record` back.
    func update(_ record: CaseRecord, now: Date, on connection: PostgresConnection) throws {
        _ = try connection.query(
            """
            UPDATE \(unescaped: cases) SET
                state = \(record.state.rawValue), qualification = \(record.qualification?.rawValue),
                qualification_reason = \(record.qualificationReason), severity = \(record.severity.severity),
                severity_rule = \(record.severity.rule), severity_reason = \(record.severity.reason),
                severity_matched = \(record.severity.matched), severity_rules_version = \(record.severity.rulesVersion),
                facts = \(PostgresJSON(record.facts)), verdicts = \(PostgresJSON(record.verdicts)),
                triaged_at = \(record.timestamps.triagedAt), acknowledged_at = \(record.timestamps.acknowledgedAt),
                contained_at = \(record.timestamps.containedAt), closed_at = \(record.timestamps.closedAt),
                escalation_level = \(record.escalationLevel), my_number_detected = \(record.myNumberDetected),
                report_count = \(record.reportCount), first_seen_at = \(record.firstSeenAt), last_seen_at = \(record.lastSeenAt),
                merged_into = \(record.mergedInto), updated_at = \(now)
            WHERE id = \(record.id)
            """
        )
    }

    // MARK: History

    /// The history of a case, oldest first.
    public func history(caseID: UUID, on connection: PostgresConnection) throws -> [CaseHistoryEntry] {
        try history.entries(caseID: caseID, on: connection)
    }

    /// Checks the whole hash chain of the case history and names the first broken link
    /// (`isms incidents verify`).
    public func verifyChain(on connection: PostgresConnection) throws -> CaseHistoryVerification {
        try history.verify(on: connection)
    }

    /// Whether one case's history rows fit the hash chain (see ``CaseHistory``).
    public func verifyHistory(caseID: UUID, on connection: PostgresConnection) throws -> Bool {
        try history.verify(caseID: caseID, on: connection)
    }

    // MARK: Rows

    static func decodeEnum<E: RawRepresentable>(_ row: PostgresRow, _ column: String) throws -> E where E.RawValue == String {
        let text: String = try row.decode(column)
        guard let value = E(rawValue: text) else {
            throw PostgresError(code: .decoding, message: "column \"\(column)\": '\(text)' is not a known \(E.self)")
        }
        return value
    }

    static func record(from row: PostgresRow) throws -> CaseRecord {
        CaseRecord(
            id: try row.decode("id"),
            caseNumber: try row.decode("case_number"),
            source: CaseSource(kind: try row.decode("source_kind"), id: try row.decode("source_id")),
            sectionCode: try row.decode("section_code"),
            departmentCode: try row.decode("department_code"),
            category: try decodeEnum(row, "category"),
            title: try row.decode("title"),
            description: try row.decode("description"),
            myNumberDetected: try row.decode("my_number_detected"),
            state: try decodeEnum(row, "state"),
            qualification: try row.decode("qualification", as: String?.self).flatMap(CaseQualification.init(rawValue:)),
            qualificationReason: try row.decode("qualification_reason"),
            severity: SeverityDecision(
                severity: try row.decode("severity"), rule: try row.decode("severity_rule"), reason: try row.decode("severity_reason"),
                matched: try row.decode("severity_matched"), rulesVersion: try row.decode("severity_rules_version")),
            facts: try row.decode("facts", as: PostgresJSON<SeverityInput>.self).value,
            verdicts: try row.decode("verdicts", as: PostgresJSON<StatutoryVerdicts>.self).value,
            timestamps: CaseTimestamps(
                occurredAt: try row.decode("occurred_at"), detectedAt: try row.decode("detected_at"), knownAt: try row.decode("known_at"),
                reportedAt: try row.decode("reported_at"), recordedAt: try row.decode("recorded_at"), openedAt: try row.decode("opened_at"),
                triagedAt: try row.decode("triaged_at"), acknowledgedAt: try row.decode("acknowledged_at"),
                containedAt: try row.decode("contained_at"), closedAt: try row.decode("closed_at")),
            escalationLevel: try row.decode("escalation_level"),
            reportCount: try row.decode("report_count"),
            firstSeenAt: try row.decode("first_seen_at"),
            lastSeenAt: try row.decode("last_seen_at"),
            mergedInto: try row.decode("merged_into")
        )
    }
}
