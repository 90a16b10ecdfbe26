public import PostgresMigrations

/// The tables the runtime keeps in each service's schema: the inbox (de-duplication), the
/// outbox (what the service emits, written in the same transaction as its state), durable
/// timers and the record of discarded dead letters. They take migration versions 1-9; a
/// service's own migrations start at 10.
public enum MessagingSchema {
    public static func migrations(schema: String) -> [Migration] {
        let s = Migrator.quoted(schema)
        return [
            Migration(
                version: 1,
                name: "inbox, outbox and timers",
                sql: """
                    -- Brief §5: (message id, consumer) identifies a handled message; the message id
                    -- is the CloudEvents source + id, unique across producers.
                    CREATE TABLE \(s).inbox (
                        consumer text NOT NULL,
                        message_key text NOT NULL,
                        received_at timestamptz NOT NULL DEFAULT now(),
                        PRIMARY KEY (consumer, message_key)
                    );
                    CREATE TABLE \(s).outbox (
                        id bigserial PRIMARY KEY,
                        message_id text NOT NULL,
                        exchange text NOT NULL,
                        routing_key text NOT NULL,
                        -- Off for replies: RabbitMQ 3.10 returns replies to direct reply-to
                        -- queues even when it delivered them (rabbitmq-server#6124).
                        mandatory boolean NOT NULL DEFAULT true,
                        properties jsonb NOT NULL,
                        body bytea NOT NULL,
                        created_at timestamptz NOT NULL DEFAULT now(),
                        -- A relay claims rows by moving available_at forward (a lease): a relay
                        -- that dies mid-batch leaves rows that another picks up when it expires.
                        available_at timestamptz NOT NULL DEFAULT now(),
                        attempts integer NOT NULL DEFAULT 0,
                        last_error text,
                        published_at timestamptz
                    );
                    CREATE INDEX outbox_pending ON \(s).outbox (id) WHERE published_at IS NULL;
                    CREATE TABLE \(s).timers (
                        id bigserial PRIMARY KEY,
                        kind text NOT NULL,
                        key text NOT NULL,
                        due_at timestamptz NOT NULL,
                        payload jsonb NOT NULL DEFAULT '{}',
                        attempts integer NOT NULL DEFAULT 0,
                        last_error text,
                        created_at timestamptz NOT NULL DEFAULT now(),
                        UNIQUE (kind, key)
                    );
                    CREATE INDEX timers_due ON \(s).timers (due_at);
                    """
            ),
            Migration(
                version: 2,
                name: "dead-letter discards",
                sql: """
                    -- A dead letter an operator discards is gone from the broker for good: who,
                    -- when, why and what stays here (`DeadLetters.discard`). Append-only by use.
                    CREATE TABLE \(s).dead_letter_discards (
                        id bigserial PRIMARY KEY,
                        queue text NOT NULL,
                        message_id text,
                        message_type text,
                        error_code text,
                        reason text NOT NULL,
                        discarded_by text NOT NULL,
                        discarded_at timestamptz NOT NULL DEFAULT now()
                    );
                    """
            ),
            Migration(
                version: 3,
                name: "outbox pages with room for updates",
                sql: """
                    -- Every outbox row is updated twice after its insert (the relay's lease, then
                    -- published_at). With full pages each update wrote the whole row (body
                    -- included) to a new page, the lease a new entry in both indexes, and the claim
                    -- scanned past them: the outbox was 43 % of the WAL in the issue #16 pipeline
                    -- bench. With room on the page the lease is a HOT update (no index entry) and
                    -- both updates log only the bytes that changed.
                    ALTER TABLE \(s).outbox SET (fillfactor = 40);
                    """
            ),
        ]
    }
}
