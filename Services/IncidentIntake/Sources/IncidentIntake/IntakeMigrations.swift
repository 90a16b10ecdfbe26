import PostgresMigrations

/// The `intake` schema (versions 10 and up; 1-9 are the runtime's inbox, outbox and timers).
enum IntakeMigrations {
    static let all: [Migration] = [
        Migration(
            version: 10,
            name: "reports, restricted originals, rejections, producer grants",
            sql: """
                CREATE TABLE intake.reports (
                    intake_id uuid PRIMARY KEY,
                    -- Idempotency (issue: the same reportId from the same producer is accepted once).
                    producer text NOT NULL,
                    report_id uuid NOT NULL,
                    payload_sha256 text NOT NULL,
                    section_code text NOT NULL,
                    department_code text NOT NULL,
                    category text NOT NULL,
                    -- Masked text: a My Number never leaves the restricted table below.
                    title text NOT NULL,
                    description text NOT NULL,
                    occurred_at timestamptz NOT NULL,
                    detected_at timestamptz NOT NULL,
                    known_at timestamptz NOT NULL,
                    reported_at timestamptz NOT NULL,
                    recorded_at timestamptz NOT NULL DEFAULT now(),
                    my_number_detected boolean NOT NULL,
                    my_number_reasons text[] NOT NULL DEFAULT '{}',
                    -- The masked submission (reporter, assets, answers, attachments) as accepted.
                    submission jsonb NOT NULL,
                    correlation_id text,
                    UNIQUE (producer, report_id)
                );
                CREATE INDEX reports_by_section ON intake.reports (section_code, recorded_at DESC);

                -- The original text of reports in which a My Number was found (issue #3 item 4).
                -- Only the intake role can read it; nothing else in the system copies it.
                CREATE TABLE intake.report_originals (
                    intake_id uuid PRIMARY KEY REFERENCES intake.reports (intake_id),
                    title text NOT NULL,
                    description text NOT NULL,
                    asset_names text[] NOT NULL DEFAULT '{}',
                    recorded_at timestamptz NOT NULL DEFAULT now()
                );

                -- Every refusal with its reasons, for the operator and the producer's questions.
                CREATE TABLE intake.rejections (
                    id bigserial PRIMARY KEY,
                    producer text NOT NULL,
                    report_id uuid,
                    errors jsonb NOT NULL,
                    rejected_at timestamptz NOT NULL DEFAULT now()
                );

                -- Which broker users may report for which unit (a section, a department, or the
                -- whole ward when unit_code is NULL). RabbitMQ checks that a message's user_id is
                -- the user that published it, so this is the producer's authenticated identity.
                CREATE TABLE intake.producer_grants (
                    amqp_user text NOT NULL,
                    unit_code text,
                    note text NOT NULL DEFAULT '',
                    granted_at timestamptz NOT NULL DEFAULT now(),
                    UNIQUE NULLS NOT DISTINCT (amqp_user, unit_code)
                );
                """
        ),
        Migration(
            version: 11,
            name: "viewings of restricted originals",
            sql: """
                -- Issue #4 item 9: every reading of a restricted original, by whom (token) and when.
                -- The same fact goes to triage, which chains it into the case history.
                CREATE TABLE intake.original_views (
                    id bigserial PRIMARY KEY,
                    intake_id uuid NOT NULL REFERENCES intake.reports (intake_id),
                    token_id uuid NOT NULL,
                    token_label text NOT NULL,
                    role text NOT NULL,
                    unit_code text,
                    viewed_at timestamptz NOT NULL
                );
                CREATE INDEX original_views_by_report ON intake.original_views (intake_id, viewed_at);
                """
        ),
    ]
}
