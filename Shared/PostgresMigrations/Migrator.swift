import Foundation
public import Logging
public import Postgres

/// Applies a schema's migrations in one transaction under an advisory lock per schema, so
/// several replicas starting at once apply each migration exactly once, and a failing
/// migration leaves the schema as it was (PostgreSQL DDL is transactional).
public enum Migrator {
    /// Applies what is missing and returns the versions applied now.
    ///
    /// Throws ``MigrationError`` when an applied migration's SQL no longer matches its checksum
    /// or when the database holds a version this code does not know (a newer release ran).
    ///
    /// - Parameter role: when an administrator migrates on a service's behalf (`isms migrate`),
    ///   the role that owns the schema, so the objects created belong to it and not to the admin.
    @discardableResult
    public static func apply(_ set: MigrationSet, on pool: PostgresPool, as role: String? = nil, logger: Logger) async throws -> [Int] {
        let schema = set.schema
        let applied = try await pool.withTransaction { connection in
            if let role {
                try connection.execute("SET LOCAL ROLE \(quoted(role))")
            }
            // Transaction-scoped: released at commit or rollback even if this process dies.
            _ = try connection.query("SELECT pg_advisory_xact_lock(hashtext(\("isms.migrations." + schema)))")
            try connection.execute(
                """
                CREATE TABLE IF NOT EXISTS \(quoted(schema)).schema_migrations (
                    version integer PRIMARY KEY,
                    name text NOT NULL,
                    checksum text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """
            )
            var known: [Int: String] = [:]
            for row in try connection.query("SELECT version, checksum FROM \(unescaped: quoted(schema)).schema_migrations") {
                known[try row.decode("version", as: Int.self)] = try row.decode("checksum", as: String.self)
            }
            let byVersion = Dictionary(uniqueKeysWithValues: set.migrations.map { ($0.version, $0) })
            for (version, checksum) in known {
                guard let migration = byVersion[version] else {
                    throw MigrationError(schema: schema, version: version, message: "the database has migration \(version), which this build does not know")
                }
                guard migration.checksum == checksum else {
                    throw MigrationError(schema: schema, version: version, message: "migration \(version) (\(migration.name)) was edited after it was applied")
                }
            }
            var appliedNow: [Int] = []
            for migration in set.migrations where known[migration.version] == nil {
                try connection.execute(migration.sql)
                _ = try connection.query(
                    """
                    INSERT INTO \(unescaped: quoted(schema)).schema_migrations (version, name, checksum)
                    VALUES (\(migration.version), \(migration.name), \(migration.checksum))
                    """
                )
                appliedNow.append(migration.version)
            }
            return appliedNow
        }
        if !applied.isEmpty {
            logger.info("applied migrations", metadata: ["db.schema": "\(schema)", "migrations.versions": "\(applied)"])
        }
        return applied
    }

    /// A schema name as a quoted SQL identifier.
    public static func quoted(_ identifier: String) -> String {
        "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

/// A migration history that does not match the code.
public struct MigrationError: Error, CustomStringConvertible {
    public var schema: String
    public var version: Int
    public var message: String

    public var description: String { "schema \(schema): \(message)" }
}

