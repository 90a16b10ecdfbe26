public import PostgresMigrations

/// The console's own tables, in the schema `console` owned by the role `console`. They hold
/// how people sign in and their sessions, never business data: cases, reports and duties stay
/// with the services, which the console calls over HTTP.
public enum ConsoleMigrations {
    public static let schema = "console"

    /// For `isms migrate`: the set and the role that owns it.
    public static var migrationSets: [(set: MigrationSet, owner: String)] {
        [(set(schema: schema), "console")]
    }

    public static func set(schema: String) -> MigrationSet {
        let s = Migrator.quoted(schema)
        return MigrationSet(schema: schema, migrations: [
            Migration(version: 10, name: "credentials, invitations, sessions and the sign-in log", sql: """
                -- One row per person of the directory who has enrolled. The password is a bcrypt
                -- hash; the TOTP secret is kept as given to the authenticator app (it must be
                -- readable to check codes), so the table is readable by the console role only.
                CREATE TABLE \(s).credentials (
                    person_id text PRIMARY KEY,
                    password_bcrypt text NOT NULL,
                    totp_secret text,
                    failed_attempts integer NOT NULL DEFAULT 0,
                    locked_until timestamptz,
                    last_totp_step bigint,
                    enrolled_at timestamptz NOT NULL DEFAULT now(),
                    updated_at timestamptz NOT NULL DEFAULT now()
                );

                -- `isms user invite` writes these; only the SHA-256 of the link's token is kept.
                CREATE TABLE \(s).invitations (
                    token_sha256 text PRIMARY KEY,
                    person_id text NOT NULL,
                    created_at timestamptz NOT NULL DEFAULT now(),
                    expires_at timestamptz NOT NULL,
                    used_at timestamptz
                );
                CREATE INDEX invitations_person_idx ON \(s).invitations (person_id);

                -- Sessions through hummingbird-auth's PersistDriver: the key is stored as its
                -- SHA-256 and the value sealed with a key derived from the cookie, so a dump of
                -- this table gives neither a session nor the API token inside it.
                CREATE TABLE \(s).sessions (
                    key_sha256 text PRIMARY KEY,
                    sealed bytea NOT NULL,
                    expires_at timestamptz
                );
                CREATE INDEX sessions_expires_idx ON \(s).sessions (expires_at);

                -- Who signed in, failed, was locked out or signed out, when and from where.
                CREATE TABLE \(s).sign_in_log (
                    id bigserial PRIMARY KEY,
                    at timestamptz NOT NULL DEFAULT now(),
                    person_id text NOT NULL,
                    event text NOT NULL CHECK (event IN ('enrolled', 'signed-in', 'failed', 'locked-out', 'refused-locked', 'signed-out', 'expired')),
                    address text,
                    user_agent text,
                    role text
                );
                CREATE INDEX sign_in_log_at_idx ON \(s).sign_in_log (at DESC, id DESC);
                """),
        ])
    }
}
