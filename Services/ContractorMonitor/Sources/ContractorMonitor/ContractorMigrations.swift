public import PostgresMigrations
import ServiceRuntime

/// The contractor monitor's tables (versions 10 and up; 1-9 are the runtime's inbox, outbox and
/// timers). Parameterised by schema so tests can use a schema of their own.
public enum ContractorMigrations {
    public static func all(schema: String) -> [Migration] {
        let s = Migrator.quoted(schema)
        return [
            Migration(
                version: 10,
                name: "contractors, contracts, sub-contract chains, attestations, violations",
                sql: """
                    CREATE TABLE \(s).contractors (
                        id uuid PRIMARY KEY,
                        name text NOT NULL,
                        kind text NOT NULL CHECK (kind IN ('outsourced-contractor', 'designated-manager', 'staffing-agency', 'lessor')),
                        corporate_number text,
                        -- Art. 6(1)(3): the safeguard profile, control id -> level.
                        profile jsonb NOT NULL DEFAULT '{}',
                        profile_assessed_at timestamptz,
                        created_at timestamptz NOT NULL DEFAULT now(),
                        updated_at timestamptz NOT NULL DEFAULT now()
                    );
                    CREATE UNIQUE INDEX contractors_corporate_number ON \(s).contractors (corporate_number) WHERE corporate_number IS NOT NULL;

                    CREATE TABLE \(s).evidence (
                        id uuid PRIMARY KEY,
                        contract_id uuid,
                        contractor_id uuid REFERENCES \(s).contractors (id),
                        kind text NOT NULL,
                        file_name text NOT NULL,
                        sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
                        recorded_by text NOT NULL,
                        recorded_at timestamptz NOT NULL
                    );

                    CREATE TABLE \(s).certifications (
                        id uuid PRIMARY KEY,
                        contractor_id uuid NOT NULL REFERENCES \(s).contractors (id),
                        name text NOT NULL,
                        valid_until timestamptz NOT NULL,
                        evidence_id uuid REFERENCES \(s).evidence (id),
                        recorded_at timestamptz NOT NULL
                    );

                    CREATE TABLE \(s).contracts (
                        id uuid PRIMARY KEY,
                        reference text NOT NULL UNIQUE,
                        title text NOT NULL,
                        -- The responsible section (Art. 18); checked against the directory when registered.
                        section_code text NOT NULL,
                        department_code text NOT NULL,
                        kind text NOT NULL,
                        contractor_id uuid NOT NULL REFERENCES \(s).contractors (id),
                        starts_at timestamptz NOT NULL,
                        ends_at timestamptz NOT NULL CHECK (ends_at > starts_at),
                        handles_my_number boolean NOT NULL,
                        -- Art. 18(8)(6): the handling area; (4): the contractor's designated handlers.
                        handling_area text,
                        designated_handlers jsonb NOT NULL DEFAULT '[]',
                        attestation_interval_months integer NOT NULL CHECK (attestation_interval_months > 0),
                        grace_days integer NOT NULL CHECK (grace_days >= 0),
                        return_certificate_days integer NOT NULL CHECK (return_certificate_days >= 0),
                        return_certificate_at timestamptz,
                        return_certificate_evidence uuid REFERENCES \(s).evidence (id),
                        created_by text NOT NULL,
                        created_at timestamptz NOT NULL,
                        CHECK (NOT handles_my_number OR (handling_area IS NOT NULL AND jsonb_array_length(designated_handlers) > 0))
                    );
                    CREATE INDEX contracts_by_section ON \(s).contracts (section_code);
                    CREATE INDEX contracts_by_department ON \(s).contracts (department_code);
                    ALTER TABLE \(s).evidence ADD FOREIGN KEY (contract_id) REFERENCES \(s).contracts (id);

                    -- The current state of each link of a sub-contract chain (Art. 6(3)(4)).
                    CREATE TABLE \(s).subcontract_links (
                        id uuid PRIMARY KEY,
                        contract_id uuid NOT NULL REFERENCES \(s).contracts (id),
                        parent_link_id uuid REFERENCES \(s).subcontract_links (id),
                        subcontractor_id uuid NOT NULL REFERENCES \(s).contractors (id),
                        state text NOT NULL CHECK (state IN ('approved', 'refused')),
                        profile jsonb NOT NULL,
                        depth integer NOT NULL CHECK (depth >= 1),
                        decided_at timestamptz NOT NULL
                    );
                    CREATE UNIQUE INDEX subcontract_links_once ON \(s).subcontract_links
                        (contract_id, COALESCE(parent_link_id, '00000000-0000-0000-0000-000000000000'::uuid), subcontractor_id);

                    -- Every approval and refusal, append-only and hash-chained (brief §6: "record and preserve").
                    CREATE TABLE \(s).subcontract_decisions (
                        seq bigint PRIMARY KEY,
                        link_id uuid NOT NULL,
                        contract_id uuid NOT NULL,
                        parent_link_id uuid,
                        subcontractor_id uuid NOT NULL,
                        decision text NOT NULL CHECK (decision IN ('approved', 'refused')),
                        approver text NOT NULL,
                        offered_profile jsonb NOT NULL,
                        parent_profile jsonb NOT NULL,
                        shortfalls jsonb NOT NULL,
                        decided_at timestamptz NOT NULL,
                        prev_hash text NOT NULL,
                        hash text NOT NULL UNIQUE
                    );
                    CREATE FUNCTION \(s).subcontract_decisions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN
                        RAISE EXCEPTION 'subcontract_decisions is append-only' USING ERRCODE = 'insufficient_privilege';
                    END
                    $$;
                    CREATE TRIGGER subcontract_decisions_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON \(s).subcontract_decisions
                        FOR EACH STATEMENT EXECUTE FUNCTION \(s).subcontract_decisions_append_only();

                    CREATE TABLE \(s).attestations (
                        id uuid PRIMARY KEY,
                        contract_id uuid NOT NULL REFERENCES \(s).contracts (id),
                        period integer NOT NULL CHECK (period >= 1),
                        answers jsonb NOT NULL,
                        declared_subcontractors jsonb NOT NULL DEFAULT '[]',
                        evidence_id uuid REFERENCES \(s).evidence (id),
                        recorded_by text NOT NULL,
                        submitted_at timestamptz NOT NULL,
                        UNIQUE (contract_id, period)
                    );

                    CREATE TABLE \(s).violations (
                        id uuid PRIMARY KEY,
                        contract_id uuid NOT NULL REFERENCES \(s).contracts (id),
                        contractor_id uuid NOT NULL REFERENCES \(s).contractors (id),
                        section_code text NOT NULL,
                        department_code text NOT NULL,
                        kind text NOT NULL,
                        details text NOT NULL,
                        -- One violation per finding: a timer fired twice or a repeated report adds nothing.
                        dedup_key text NOT NULL UNIQUE,
                        detected_at timestamptz NOT NULL,
                        state text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'resolved')),
                        resolved_at timestamptz,
                        resolved_by text,
                        resolution text
                    );
                    CREATE INDEX violations_open ON \(s).violations (department_code) WHERE state = 'open';
                    """
            ),
            // Issue #14 item 4: the decisions are chained by the shared HashChainLedger.
            ContractorRegistry.decisionLedger(schema: schema).hashVersionMigration(version: 11),
            // Issue #18 item 0: a contract names the registered assets its contractor handles.
            Migration(version: 12, name: "contracts name registered assets", sql: """
                ALTER TABLE \(s).contracts ADD COLUMN asset_ids text[] NOT NULL DEFAULT '{}';
                """),
        ]
    }
}
