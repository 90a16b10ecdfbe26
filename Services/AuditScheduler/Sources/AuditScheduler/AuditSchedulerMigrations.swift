public import PostgresMigrations
import ServiceRuntime

/// The audit scheduler's tables (versions 10 and up; 1-9 are the runtime's inbox, outbox and timers).
public enum AuditSchedulerMigrations {
    /// The migrations for `schema` (`audit` in production; tests use a schema of their own).
    public static func all(schema: String) -> [Migration] {
        let s = Migrator.quoted(schema)
        return [
            Migration(
                version: 10,
                name: "duties, audit plan, findings, append-only ledger",
                sql: """
                    -- One row per occurrence of a duty. Issue #6 item 3: unique per template, unit and
                    -- date (and finding, for risk treatment), so replicas materialising at once
                    -- insert each occurrence exactly once (INSERT ... ON CONFLICT DO NOTHING).
                    CREATE TABLE \(s).duties (
                        id uuid PRIMARY KEY,
                        template_id text NOT NULL,
                        kind text NOT NULL,
                        title text NOT NULL,
                        article text NOT NULL,
                        unit_kind text NOT NULL CHECK (unit_kind IN ('ward', 'department', 'section', 'contractor')),
                        -- '' for the ward, so the unique key needs no NULL handling for it.
                        unit_code text NOT NULL,
                        department_code text,
                        occurrence_date date NOT NULL,
                        finding_id uuid,
                        fiscal_year integer NOT NULL,
                        owner_role text NOT NULL,
                        due_date date NOT NULL,
                        original_due_date date NOT NULL,
                        reminder_days integer[] NOT NULL,
                        escalate_after_days integer NOT NULL,
                        -- Index of the last notice sent in the duty's timeline (-1: none yet).
                        last_stage integer NOT NULL DEFAULT -1,
                        escalation_level integer NOT NULL DEFAULT 0,
                        status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'completed', 'cancelled')),
                        auditor_person_id text,
                        created_at timestamptz NOT NULL DEFAULT now(),
                        completed_at timestamptz,
                        UNIQUE NULLS NOT DISTINCT (template_id, unit_code, occurrence_date, finding_id)
                    );
                    CREATE INDEX duties_by_year ON \(s).duties (fiscal_year, due_date);
                    CREATE INDEX duties_open ON \(s).duties (due_date) WHERE status = 'open';

                    -- Art. 13(3)(1), 25: the sections planned for audit in each fiscal year.
                    CREATE TABLE \(s).audit_plan (
                        fiscal_year integer NOT NULL,
                        section_code text NOT NULL,
                        planned_at timestamptz NOT NULL DEFAULT now(),
                        PRIMARY KEY (fiscal_year, section_code)
                    );

                    -- Art. 26: findings of an audit and their treatment; the department security
                    -- officer approves the result (Art. 17(6)(6)).
                    CREATE TABLE \(s).findings (
                        id uuid PRIMARY KEY,
                        audit_duty_id uuid NOT NULL REFERENCES \(s).duties (id),
                        section_code text NOT NULL,
                        department_code text NOT NULL,
                        severity text NOT NULL CHECK (severity IN ('critical', 'high', 'medium', 'low')),
                        title text NOT NULL,
                        treatment_plan text NOT NULL DEFAULT '',
                        due_date date NOT NULL,
                        status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'treated', 'closed')),
                        treatment_duty_id uuid REFERENCES \(s).duties (id),
                        result_notes text,
                        recorded_at timestamptz NOT NULL,
                        treated_at timestamptz,
                        closed_at timestamptz
                    );
                    CREATE INDEX findings_by_section ON \(s).findings (section_code, status);

                    -- Brief §6: audit evidence is recorded and preserved. Every completion,
                    -- reschedule, auditor assignment and finding step is appended here; each row
                    -- carries the hash of the previous one, so `isms` can verify the chain.
                    CREATE TABLE \(s).ledger (
                        seq bigserial PRIMARY KEY,
                        recorded_at timestamptz NOT NULL,
                        entry_type text NOT NULL,
                        subject_id uuid NOT NULL,
                        actor_role text NOT NULL,
                        actor_unit text,
                        actor_token uuid,
                        -- The exact JSON text that was hashed (jsonb would reorder it).
                        body text NOT NULL,
                        prev_hash text NOT NULL,
                        hash text NOT NULL UNIQUE
                    );
                    CREATE INDEX ledger_by_subject ON \(s).ledger (subject_id, seq);

                    -- Completions with their evidence; append-only like the ledger.
                    CREATE TABLE \(s).duty_completions (
                        duty_id uuid PRIMARY KEY REFERENCES \(s).duties (id),
                        completed_at timestamptz NOT NULL,
                        on_time boolean NOT NULL,
                        actor_role text NOT NULL,
                        actor_unit text,
                        notes text NOT NULL,
                        evidence jsonb NOT NULL,
                        participants integer,
                        eligible integer,
                        checklist_score double precision,
                        checklist_max double precision,
                        ledger_seq bigint NOT NULL REFERENCES \(s).ledger (seq)
                    );

                    CREATE TABLE \(s).duty_reschedules (
                        id bigserial PRIMARY KEY,
                        duty_id uuid NOT NULL REFERENCES \(s).duties (id),
                        from_due date NOT NULL,
                        to_due date NOT NULL,
                        reason text NOT NULL CHECK (length(btrim(reason)) > 0),
                        actor_role text NOT NULL,
                        actor_unit text,
                        rescheduled_at timestamptz NOT NULL,
                        ledger_seq bigint NOT NULL REFERENCES \(s).ledger (seq)
                    );

                    CREATE FUNCTION \(s).refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN
                        RAISE EXCEPTION '%.% is append-only', TG_TABLE_SCHEMA, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
                    END
                    $$;
                    CREATE TRIGGER ledger_append_only BEFORE UPDATE OR DELETE ON \(s).ledger
                        FOR EACH ROW EXECUTE FUNCTION \(s).refuse_change();
                    CREATE TRIGGER ledger_no_truncate BEFORE TRUNCATE ON \(s).ledger
                        FOR EACH STATEMENT EXECUTE FUNCTION \(s).refuse_change();
                    CREATE TRIGGER completions_append_only BEFORE UPDATE OR DELETE ON \(s).duty_completions
                        FOR EACH ROW EXECUTE FUNCTION \(s).refuse_change();
                    CREATE TRIGGER reschedules_append_only BEFORE UPDATE OR DELETE ON \(s).duty_reschedules
                        FOR EACH ROW EXECUTE FUNCTION \(s).refuse_change();
                    """
            ),
            // Issue #14 item 4: the ledger is chained by the shared HashChainLedger.
            AuditSchedulerStore.ledger(schema: schema).hashVersionMigration(version: 11),
            // Issue #18 item 0: a finding may name the registered asset it is about.
            Migration(version: 12, name: "findings name registered assets", sql: """
                ALTER TABLE \(s).findings ADD COLUMN asset_id text;
                """),
            Migration(
                version: 13,
                name: "recurrence-prevention measure duties",
                sql: """
                    -- Issue #18, Art. 27(1): a duty per recurrence-prevention measure of a closed case,
                    -- keyed by the measure's id so a redelivered event makes none again; the case
                    -- number it follows up. Two measures of one case may be owed by the same unit on
                    -- the same day, so the occurrence key takes the measure too.
                    ALTER TABLE \(s).duties ADD COLUMN measure_id uuid, ADD COLUMN case_number text;
                    ALTER TABLE \(s).duties DROP CONSTRAINT duties_template_id_unit_code_occurrence_date_finding_id_key;
                    ALTER TABLE \(s).duties ADD CONSTRAINT duties_occurrence_key
                        UNIQUE NULLS NOT DISTINCT (template_id, unit_code, occurrence_date, finding_id, measure_id);
                    CREATE UNIQUE INDEX duties_by_measure ON \(s).duties (measure_id) WHERE measure_id IS NOT NULL;
                    """
            ),
            // Issue #18 item 3: duties on demand, contracts in force, improvement actions.
            onDemand(schema: schema, version: 14),
            // Issue #18 item 1: the risk register (AuditSchedulerMigrations+Risks.swift).
            riskRegister(schema: schema, version: 15),
            // Issue #18: the annual operation plan and the management review.
            PlanAndReviewMigrations.migration(schema: schema, version: 16),
        ]
    }
}
