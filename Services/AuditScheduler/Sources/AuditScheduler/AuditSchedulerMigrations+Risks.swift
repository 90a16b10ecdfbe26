import PostgresMigrations

extension AuditSchedulerMigrations {
    /// The risk register (Art. 26, issue #18 item 1): one row per risk with its current state;
    /// every change is also an entry of the hash-chained duty ledger (subject = the risk), which
    /// is the risk's history. Review and treatment duties carry the risk's id, so the unique key
    /// of an occurrence now includes it (two risks of one section may share a review date).
    static func riskRegister(schema: String, version: Int) -> Migration {
        let s = Migrator.quoted(schema)
        return Migration(
            version: version,
            name: "risk register",
            sql: """
                CREATE TABLE \(s).risks (
                    id uuid PRIMARY KEY,
                    -- A registered information asset (directory.assets, Arts. 4, 9).
                    asset_id text NOT NULL,
                    section_code text NOT NULL,
                    department_code text NOT NULL,
                    title text NOT NULL,
                    threat text NOT NULL,
                    vulnerability text NOT NULL,
                    inherent_likelihood integer NOT NULL,
                    inherent_impact integer NOT NULL,
                    inherent_level text NOT NULL,
                    treatment text CHECK (treatment IN ('reduce', 'accept', 'transfer', 'avoid')),
                    measures text NOT NULL DEFAULT '',
                    treatment_owner_role text,
                    treatment_owner_unit text,
                    treatment_due date,
                    transfer_to text,
                    residual_likelihood integer,
                    residual_impact integer,
                    residual_level text,
                    accepted_by_role text,
                    accepted_reason text,
                    accepted_at timestamptz,
                    review_date date NOT NULL,
                    -- Findings, cases and self-inspection duties that raised or updated the risk.
                    sources jsonb NOT NULL DEFAULT '[]',
                    review_duty_id uuid REFERENCES \(s).duties (id),
                    treatment_duty_id uuid REFERENCES \(s).duties (id),
                    created_at timestamptz NOT NULL,
                    updated_at timestamptz NOT NULL
                );
                CREATE INDEX risks_by_section ON \(s).risks (section_code, created_at);
                CREATE INDEX risks_by_review ON \(s).risks (review_date);

                ALTER TABLE \(s).duties ADD COLUMN risk_id uuid REFERENCES \(s).risks (id);
                -- (After migrations 13 and 14, which put a recurrence measure and a source into the key.)
                ALTER TABLE \(s).duties DROP CONSTRAINT duties_occurrence_key;
                ALTER TABLE \(s).duties ADD CONSTRAINT duties_occurrence_key
                    UNIQUE NULLS NOT DISTINCT (template_id, unit_code, occurrence_date, finding_id, measure_id, source_id, risk_id);
                """
        )
    }
}
