import PostgresMigrations

/// Issue #18: the annual operation plan (Art. 11(5)(1)) and the management review (Art. 11(5),
/// Art. 29), each versioned per fiscal year. A row may change while it is a draft; once
/// approved a trigger refuses every UPDATE and DELETE (even by the owning role), and the
/// approval's ledger entry holds the document's hash, so a superuser's edit is found by
/// `GET /v1/management-reviews/{fiscalYear}/verification`.
enum PlanAndReviewMigrations {
    static func migration(schema: String, version: Int) -> Migration {
        let s = Migrator.quoted(schema)
        return Migration(
            version: version,
            name: "operation plans and management reviews, versioned, immutable once approved",
            sql: """
                CREATE TABLE \(s).operation_plans (
                    id uuid PRIMARY KEY,
                    fiscal_year integer NOT NULL,
                    version integer NOT NULL CHECK (version >= 1),
                    status text NOT NULL CHECK (status IN ('draft', 'approved')),
                    -- The plan's canonical JSON text, exactly as hashed.
                    document text NOT NULL,
                    document_hash text NOT NULL,
                    drafted_at timestamptz NOT NULL,
                    drafted_by_role text NOT NULL,
                    updated_at timestamptz NOT NULL,
                    approved_at timestamptz,
                    approval_seq bigint REFERENCES \(s).ledger (seq),
                    UNIQUE (fiscal_year, version),
                    CHECK (status = 'draft' OR (approved_at IS NOT NULL AND approval_seq IS NOT NULL))
                );
                -- At most one draft per year: a change of an approved plan is the next version.
                CREATE UNIQUE INDEX operation_plans_one_draft ON \(s).operation_plans (fiscal_year) WHERE status = 'draft';

                CREATE TABLE \(s).management_reviews (
                    id uuid PRIMARY KEY,
                    fiscal_year integer NOT NULL,
                    version integer NOT NULL CHECK (version >= 1),
                    status text NOT NULL CHECK (status IN ('draft', 'approved')),
                    period_from date NOT NULL,
                    period_to date NOT NULL,
                    -- The pack the console assembled, canonical JSON text.
                    pack text NOT NULL,
                    proposals text NOT NULL DEFAULT '',
                    decisions text NOT NULL DEFAULT '',
                    -- SHA-256 of the canonical JSON of the whole version (see ManagementReviewVersion).
                    document_hash text NOT NULL,
                    drafted_at timestamptz NOT NULL,
                    drafted_by_role text NOT NULL,
                    updated_at timestamptz NOT NULL,
                    approved_at timestamptz,
                    approval_seq bigint REFERENCES \(s).ledger (seq),
                    UNIQUE (fiscal_year, version),
                    CHECK (status = 'draft' OR (approved_at IS NOT NULL AND approval_seq IS NOT NULL))
                );
                CREATE UNIQUE INDEX management_reviews_one_draft ON \(s).management_reviews (fiscal_year) WHERE status = 'draft';

                CREATE FUNCTION \(s).refuse_approved_change() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF OLD.status = 'approved' THEN
                        RAISE EXCEPTION 'an approved %.% version is immutable', TG_TABLE_SCHEMA, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
                    END IF;
                    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
                    RETURN NEW;
                END
                $$;
                CREATE TRIGGER operation_plans_approved_immutable BEFORE UPDATE OR DELETE ON \(s).operation_plans
                    FOR EACH ROW EXECUTE FUNCTION \(s).refuse_approved_change();
                CREATE TRIGGER management_reviews_approved_immutable BEFORE UPDATE OR DELETE ON \(s).management_reviews
                    FOR EACH ROW EXECUTE FUNCTION \(s).refuse_approved_change();
                CREATE TRIGGER operation_plans_no_truncate BEFORE TRUNCATE ON \(s).operation_plans
                    FOR EACH STATEMENT EXECUTE FUNCTION \(s).refuse_change();
                CREATE TRIGGER management_reviews_no_truncate BEFORE TRUNCATE ON \(s).management_reviews
                    FOR EACH STATEMENT EXECUTE FUNCTION \(s).refuse_change();
                """
        )
    }
}
