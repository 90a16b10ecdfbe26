import PostgresMigrations

extension AuditSchedulerMigrations {
    /// Issue #18 item 3: duties on demand (Arts. 23-25), contractor staff education from the
    /// contracts in force, and improvement actions after low self-inspection scores (Art. 24).
    static func onDemand(schema: String, version: Int) -> Migration {
        let s = Migrator.quoted(schema)
        return Migration(
            version: version,
            name: "duties on demand, contracts in force, improvement actions",
            sql: """
                -- What an occurrence is for besides its template, unit and date: the contract of a
                -- contractor's education, the order of an on-demand duty, the self-inspection an
                -- improvement follows. It joins the unique key, so two contracts of one section (or
                -- two orders on one day) are two duties.
                ALTER TABLE \(s).duties ADD COLUMN source_id uuid;
                -- (After migration 13, which put a recurrence measure into the key.)
                ALTER TABLE \(s).duties DROP CONSTRAINT duties_occurrence_key;
                ALTER TABLE \(s).duties ADD CONSTRAINT duties_occurrence_key
                    UNIQUE NULLS NOT DISTINCT (template_id, unit_code, occurrence_date, finding_id, measure_id, source_id);

                -- Arts. 23-25 "as needed" (必要に応じて): who ordered an extra duty, why, and from
                -- which case. Append-only like the ledger that also records it.
                CREATE TABLE \(s).duty_orders (
                    duty_id uuid PRIMARY KEY REFERENCES \(s).duties (id),
                    kind text NOT NULL CHECK (kind IN ('education', 'self-inspection', 'audit')),
                    reason text NOT NULL CHECK (length(btrim(reason)) > 0),
                    case_number text,
                    ordered_by_role text NOT NULL,
                    ordered_by_unit text,
                    ordered_at timestamptz NOT NULL,
                    ledger_seq bigint NOT NULL REFERENCES \(s).ledger (seq)
                );
                CREATE INDEX duty_orders_by_time ON \(s).duty_orders (ordered_at);
                CREATE TRIGGER duty_orders_append_only BEFORE UPDATE OR DELETE ON \(s).duty_orders
                    FOR EACH ROW EXECUTE FUNCTION \(s).refuse_change();

                -- Art. 24: the improvement a self-inspection below the mark opened; one per
                -- self-inspection (the unique key makes a redelivered completion harmless).
                CREATE TABLE \(s).improvement_actions (
                    duty_id uuid PRIMARY KEY REFERENCES \(s).duties (id),
                    self_inspection_duty_id uuid NOT NULL UNIQUE REFERENCES \(s).duties (id),
                    score_percent double precision NOT NULL,
                    mark_percent double precision NOT NULL,
                    opened_at timestamptz NOT NULL
                );

                -- The contractor registry's contracts, from contractor.contract-changed.v1 (a
                -- service never reads another's schema). changed_at orders redeliveries: an older
                -- event never overwrites a newer one.
                CREATE TABLE \(s).contracts (
                    contract_id uuid PRIMARY KEY,
                    contract_reference text NOT NULL,
                    contractor_id uuid NOT NULL,
                    contractor_name text NOT NULL,
                    section_code text NOT NULL,
                    department_code text NOT NULL,
                    start_date date NOT NULL,
                    end_date date NOT NULL,
                    handles_my_number boolean NOT NULL,
                    last_change text NOT NULL,
                    changed_at timestamptz NOT NULL
                );
                """
        )
    }
}
