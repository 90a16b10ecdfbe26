import PostgresMigrations
import ServiceRuntime

/// The `notifier` schema (versions 10 and up; 1-9 are the runtime's inbox, outbox and timers).
enum NotifierMigrations {
    static func all(schema: String) -> [Migration] {
        let s = Migrator.quoted(schema)
        return [
            Migration(
                version: 10,
                name: "delivery ledger, groups, silences, hash-chained delivery log",
                sql: """
                    -- One row per notified event, as the notifier saw it: what templates render from.
                    -- `context` holds only what may be rendered (restricted events: masked fields
                    -- only, issue #5 item 7), never the event's full data.
                    CREATE TABLE \(s).events (
                        event_key text PRIMARY KEY,
                        event_source text NOT NULL,
                        event_id text NOT NULL,
                        event_type text NOT NULL,
                        event_time timestamptz NOT NULL,
                        classification text NOT NULL,
                        correlation_id text,
                        case_number text,
                        intake_id text,
                        severity integer,
                        section_code text,
                        attributes jsonb NOT NULL,
                        context jsonb NOT NULL,
                        received_at timestamptz NOT NULL DEFAULT now()
                    );
                    CREATE INDEX events_case_number ON \(s).events (case_number) WHERE case_number IS NOT NULL;
                    CREATE INDEX events_intake_id ON \(s).events (intake_id) WHERE intake_id IS NOT NULL;

                    -- Cases acknowledged (issue #5 item 8): reminders stop for every event of the case.
                    CREATE TABLE \(s).acknowledged_cases (
                        case_ref text PRIMARY KEY,
                        acknowledged_by text,
                        acknowledged_at timestamptz NOT NULL
                    );

                    -- Events of one group within a window go out as one message (issue #5 item 5).
                    CREATE TABLE \(s).groups (
                        id bigserial PRIMARY KEY,
                        group_key text NOT NULL UNIQUE,
                        waiting boolean NOT NULL DEFAULT true,
                        flush_at timestamptz,
                        last_flush_at timestamptz,
                        created_at timestamptz NOT NULL DEFAULT now()
                    );

                    -- Silences (issue #5 item 5): matchers, until, reason, who; never deleted.
                    CREATE TABLE \(s).silences (
                        id uuid PRIMARY KEY,
                        matchers jsonb NOT NULL,
                        starts_at timestamptz NOT NULL,
                        ends_at timestamptz NOT NULL,
                        reason text NOT NULL,
                        created_by text NOT NULL,
                        include_severity1 boolean NOT NULL DEFAULT false,
                        created_at timestamptz NOT NULL DEFAULT now(),
                        expired_at timestamptz,
                        expired_by text
                    );

                    -- The delivery ledger (issue #5 item 3): one row per (event, recipient,
                    -- channel, reminder sequence). The unique key is what makes a redelivered
                    -- event a no-op (item 4).
                    CREATE TABLE \(s).notifications (
                        id bigserial PRIMARY KEY,
                        event_key text NOT NULL REFERENCES \(s).events (event_key),
                        route text NOT NULL,
                        recipient text NOT NULL,
                        recipient_name text NOT NULL,
                        on_behalf_of text,
                        reason text NOT NULL,
                        channel_kind text NOT NULL CHECK (channel_kind IN ('email', 'webhook', 'file')),
                        channel_address text NOT NULL,
                        channel_format text,
                        channel_index integer NOT NULL DEFAULT 0,
                        language text NOT NULL,
                        sequence integer NOT NULL DEFAULT 0,
                        state text NOT NULL CHECK (state IN
                            ('queued', 'sending', 'sent', 'failed', 'acknowledged', 'silenced', 'grouped', 'cancelled')),
                        group_id bigint REFERENCES \(s).groups (id),
                        leader_id bigint REFERENCES \(s).notifications (id),
                        silence_id uuid REFERENCES \(s).silences (id),
                        repeat_interval_s integer,
                        repeats_left integer NOT NULL DEFAULT 0,
                        template text NOT NULL,
                        ack_link boolean NOT NULL DEFAULT false,
                        subject text NOT NULL,
                        body text NOT NULL,
                        attempts integer NOT NULL DEFAULT 0,
                        attempt_id uuid,
                        lease_until timestamptz,
                        last_error_code text,
                        last_error text,
                        created_at timestamptz NOT NULL,
                        updated_at timestamptz NOT NULL,
                        sent_at timestamptz,
                        acknowledged_at timestamptz,
                        UNIQUE (event_key, recipient, channel_kind, channel_address, sequence)
                    );
                    CREATE INDEX notifications_sending ON \(s).notifications (id) WHERE state = 'sending';
                    CREATE INDEX notifications_state ON \(s).notifications (state, id);
                    CREATE INDEX notifications_group ON \(s).notifications (group_id) WHERE group_id IS NOT NULL;

                    -- Brief §6: deliveries are recorded and preserved: every state change is
                    -- appended here, each row carrying the hash of the previous one.
                    CREATE TABLE \(s).delivery_log (
                        seq bigserial PRIMARY KEY,
                        notification_id bigint NOT NULL,
                        state text NOT NULL,
                        attempt integer NOT NULL,
                        detail text NOT NULL,
                        at timestamptz NOT NULL,
                        prev_hash text NOT NULL,
                        hash text NOT NULL
                    );
                    CREATE FUNCTION \(s).delivery_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN
                        RAISE EXCEPTION 'delivery_log is append-only';
                    END
                    $$;
                    CREATE TRIGGER delivery_log_append_only BEFORE UPDATE OR DELETE ON \(s).delivery_log
                        FOR EACH ROW EXECUTE FUNCTION \(s).delivery_log_append_only();
                    """
            ),
            // Issue #14 item 4: the delivery log is chained by the shared HashChainLedger.
            NotificationLedger.deliveryLog(schema: schema).hashVersionMigration(version: 11),
        ]
    }
}
