import PostgresMigrations
import ServiceRuntime

/// The `triage` schema (versions 10 and up; 1-9 are the runtime's inbox, outbox and timers).
enum TriageMigrations {
    static func all(schema: String) -> [Migration] {
        let s = Migrator.quoted(schema)
        return [
            Migration(
                version: 10,
                name: "cases, counters, hash-chained history, obligations",
                sql: """
                    -- Issue #4 item 1: INC-<year>-<6 digits> without gaps within a year. The number is
                    -- taken from this row in the transaction that commits the case, so a rolled-back
                    -- case gives its number back (a sequence would leave a gap).
                    CREATE TABLE \(s).case_counters (
                        year integer PRIMARY KEY,
                        last_number integer NOT NULL CHECK (last_number BETWEEN 0 AND 999999)
                    );

                    CREATE TABLE \(s).cases (
                        id uuid PRIMARY KEY,
                        case_number text NOT NULL UNIQUE,
                        year integer NOT NULL,
                        number integer NOT NULL,
                        -- Exactly one case per report (or per contractor violation), however often
                        -- the event is delivered.
                        source_kind text NOT NULL,
                        source_id text NOT NULL,
                        section_code text NOT NULL,
                        department_code text NOT NULL,
                        category text NOT NULL,
                        -- Masked text only: the restricted original stays in intake (Art. 3(10)).
                        title text NOT NULL,
                        description text NOT NULL,
                        reporter jsonb,
                        my_number_detected boolean NOT NULL,
                        facts jsonb NOT NULL,
                        verdicts jsonb NOT NULL,
                        state text NOT NULL,
                        qualification text,
                        qualification_reason text,
                        severity integer NOT NULL CHECK (severity BETWEEN 1 AND 4),
                        severity_rule text NOT NULL,
                        severity_reason text NOT NULL,
                        severity_matched text[] NOT NULL DEFAULT '{}',
                        severity_rules_version text NOT NULL,
                        -- Issue #4 item 5: the time stamps are kept apart.
                        occurred_at timestamptz,
                        detected_at timestamptz,
                        known_at timestamptz NOT NULL,
                        reported_at timestamptz,
                        recorded_at timestamptz NOT NULL,
                        opened_at timestamptz NOT NULL,
                        triaged_at timestamptz,
                        acknowledged_at timestamptz,
                        contained_at timestamptz,
                        closed_at timestamptz,
                        escalation_level integer NOT NULL DEFAULT -1,
                        updated_at timestamptz NOT NULL,
                        UNIQUE (source_kind, source_id),
                        UNIQUE (year, number)
                    );
                    CREATE INDEX cases_by_unit ON \(s).cases (department_code, section_code, recorded_at DESC);
                    CREATE INDEX cases_by_state ON \(s).cases (state, recorded_at DESC);

                    -- "Record and preserve the history" (Art. 27; brief §6): append-only, each row
                    -- chained to the previous one by SHA-256 (see CaseHistory).
                    CREATE TABLE \(s).case_history (
                        seq bigint PRIMARY KEY,
                        case_id uuid NOT NULL,
                        case_number text NOT NULL,
                        action text NOT NULL,
                        actor text NOT NULL,
                        role text,
                        at timestamptz NOT NULL,
                        reason text,
                        -- Canonical JSON text (not jsonb, which would reformat what was hashed).
                        before_json text NOT NULL,
                        after_json text NOT NULL,
                        prev_hash text NOT NULL,
                        hash text NOT NULL
                    );
                    CREATE INDEX case_history_by_case ON \(s).case_history (case_id, seq);

                    -- The owner cannot revoke its own UPDATE/DELETE, so a trigger refuses them; a
                    -- superuser can still disable it, which the chain's verification then reveals.
                    CREATE FUNCTION \(s).case_history_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN
                        RAISE EXCEPTION 'case_history is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
                    END
                    $$;
                    CREATE TRIGGER case_history_no_update BEFORE UPDATE OR DELETE ON \(s).case_history
                        FOR EACH ROW EXECUTE FUNCTION \(s).case_history_append_only();
                    CREATE TRIGGER case_history_no_truncate BEFORE TRUNCATE ON \(s).case_history
                        FOR EACH STATEMENT EXECUTE FUNCTION \(s).case_history_append_only();

                    -- Issue #4 item 7: statutory obligations, with the legal terms copied at creation.
                    CREATE TABLE \(s).obligations (
                        id uuid PRIMARY KEY,
                        case_id uuid NOT NULL REFERENCES \(s).cases (id),
                        rule_id text NOT NULL,
                        regime text NOT NULL,
                        kind text NOT NULL,
                        recipient text NOT NULL,
                        -- required | to-decide | not-required | filed
                        status text NOT NULL,
                        law text NOT NULL,
                        quote text NOT NULL,
                        rules_version text NOT NULL,
                        period_days integer,
                        known_at timestamptz NOT NULL,
                        due_date date,
                        due_at timestamptz,
                        filed_at timestamptz,
                        filing_reference text,
                        filed_by text,
                        created_at timestamptz NOT NULL,
                        updated_at timestamptz NOT NULL,
                        UNIQUE (case_id, rule_id)
                    );
                    """
            ),
            Migration(
                version: 11,
                name: "case assignees, use restrictions",
                sql: """
                    -- Issue #4 item 9: who handles a case (`isms incidents assign`).
                    CREATE TABLE \(s).case_assignees (
                        case_id uuid NOT NULL REFERENCES \(s).cases (id),
                        person_id text NOT NULL,
                        assigned_by text NOT NULL,
                        assigned_at timestamptz NOT NULL,
                        PRIMARY KEY (case_id, person_id)
                    );

                    -- Issue #4 item 8, Art. 27(3): use restrictions, in force only once approved by the
                    -- CISO or the general security officer; a decision or the end of the period lifts them.
                    CREATE TABLE \(s).use_restrictions (
                        id uuid PRIMARY KEY,
                        case_id uuid NOT NULL REFERENCES \(s).cases (id),
                        targets jsonb NOT NULL,
                        reason text NOT NULL,
                        effective_from timestamptz NOT NULL,
                        effective_until timestamptz,
                        status text NOT NULL CHECK (status IN ('awaiting-approval', 'in-force', 'rejected', 'lifted')),
                        ordered_by text NOT NULL,
                        ordered_at timestamptz NOT NULL,
                        decided_by text,
                        decided_role text,
                        decided_at timestamptz,
                        decision_reason text,
                        lifted_by text,
                        lifted_at timestamptz,
                        lift_reason text,
                        CHECK (effective_until IS NULL OR effective_until > effective_from),
                        CHECK (status = 'awaiting-approval' OR decided_at IS NOT NULL),
                        CHECK (status <> 'lifted' OR lifted_at IS NOT NULL)
                    );
                    CREATE INDEX use_restrictions_by_case ON \(s).use_restrictions (case_id, ordered_at);
                    """
            ),
            // Issue #14 item 4: the case history is chained by the shared HashChainLedger.
            CaseHistory.ledger(schema: schema).hashVersionMigration(version: 12),
            Migration(
                version: 13,
                name: "a case's reports, correlation keys, merged cases",
                sql: """
                    -- Issue #16: related reports join one open case. The case counts them and knows
                    -- the first and the latest; a merged case points to its survivor.
                    ALTER TABLE \(s).cases
                        ADD COLUMN report_count integer NOT NULL DEFAULT 1 CHECK (report_count >= 1),
                        ADD COLUMN first_seen_at timestamptz,
                        ADD COLUMN last_seen_at timestamptz,
                        ADD COLUMN merged_into text;
                    UPDATE \(s).cases SET first_seen_at = recorded_at, last_seen_at = recorded_at;
                    ALTER TABLE \(s).cases ALTER COLUMN first_seen_at SET NOT NULL, ALTER COLUMN last_seen_at SET NOT NULL;

                    -- Every report of a case, the first included: each report is in exactly one case
                    -- (the primary key), whichever rule put it there (`opened`, a correlation rule,
                    -- `merge`, `split`). `report` is the report as triage received it (masked text),
                    -- which splitting it out into a case of its own needs; cases opened before this
                    -- migration have none for their first report, which is never split out.
                    CREATE TABLE \(s).case_reports (
                        source_kind text NOT NULL,
                        source_id text NOT NULL,
                        case_id uuid NOT NULL REFERENCES \(s).cases (id),
                        rule text NOT NULL,
                        joined_at timestamptz NOT NULL,
                        recorded_at timestamptz NOT NULL,
                        known_at timestamptz NOT NULL,
                        title text NOT NULL,
                        report jsonb,
                        PRIMARY KEY (source_kind, source_id)
                    );
                    CREATE INDEX case_reports_by_case ON \(s).case_reports (case_id, recorded_at);
                    INSERT INTO \(s).case_reports (source_kind, source_id, case_id, rule, joined_at, recorded_at, known_at, title)
                        SELECT source_kind, source_id, id, 'opened', opened_at, recorded_at, known_at, title FROM \(s).cases;

                    -- A case's correlation keys (rule and values, see CorrelationRules) with when each
                    -- was last seen: the window is measured from there.
                    CREATE TABLE \(s).case_correlation_keys (
                        key text NOT NULL,
                        case_id uuid NOT NULL REFERENCES \(s).cases (id),
                        rule text NOT NULL,
                        last_seen_at timestamptz NOT NULL,
                        PRIMARY KEY (key, case_id)
                    );
                    CREATE INDEX case_correlation_keys_by_case ON \(s).case_correlation_keys (case_id);
                    """
            ),
            Migration(
                version: 14,
                name: "the lessons of a closed case",
                sql: """
                    -- Issue #18 item 2: a case is closed with its lessons. Art. 27(1): the cause and the
                    -- recurrence-prevention measures (each with owner role, unit and due date);
                    -- Art. 27(2): whether the emergency response plan needs a change. A case reopened
                    -- and closed again has a row per closing; the latest is the one shown. Append-only,
                    -- like the history that also records them.
                    CREATE TABLE \(s).case_lessons (
                        id uuid PRIMARY KEY,
                        case_id uuid NOT NULL REFERENCES \(s).cases (id),
                        case_number text NOT NULL,
                        recorded_at timestamptz NOT NULL,
                        recorded_by text NOT NULL,
                        cause text NOT NULL CHECK (length(btrim(cause)) > 0),
                        -- [{id, description, ownerRole, ownerUnit, dueDate}], at least one.
                        measures jsonb NOT NULL CHECK (jsonb_typeof(measures) = 'array' AND jsonb_array_length(measures) >= 1),
                        erp_change_needed boolean NOT NULL,
                        erp_change_note text,
                        CHECK (NOT erp_change_needed OR length(btrim(coalesce(erp_change_note, ''))) > 0)
                    );
                    CREATE INDEX case_lessons_by_case ON \(s).case_lessons (case_id, recorded_at);
                    CREATE INDEX case_lessons_by_time ON \(s).case_lessons (recorded_at);
                    CREATE FUNCTION \(s).case_lessons_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN
                        RAISE EXCEPTION 'case_lessons is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
                    END
                    $$;
                    CREATE TRIGGER case_lessons_append_only BEFORE UPDATE OR DELETE ON \(s).case_lessons
                        FOR EACH ROW EXECUTE FUNCTION \(s).case_lessons_append_only();
                    """
            ),
        ]
    }
}
