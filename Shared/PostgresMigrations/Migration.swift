/// One versioned change to a schema, applied once and never edited afterwards.
public struct Migration: Sendable, Hashable {
    /// Position in the schema's history; applied in ascending order.
    public var version: Int
    /// A short name for logs and the `schema_migrations` table.
    public var name: String
    /// One or more SQL statements. Unqualified names are not resolved against the schema:
    /// qualify every object with the schema name.
    public var sql: String

    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }

    /// FNV-1a over the SQL text: detects a migration edited after it was applied.
    public var checksum: String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in sql.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}

/// The migrations of one schema.
public struct MigrationSet: Sendable, Hashable {
    public var schema: String
    public var migrations: [Migration]

    public init(schema: String, migrations: [Migration]) {
        self.schema = schema
        self.migrations = migrations.sorted { $0.version < $1.version }
    }

    /// The same schema with more migrations; versions must not collide.
    public func appending(_ more: [Migration]) -> MigrationSet {
        MigrationSet(schema: schema, migrations: migrations + more)
    }
}
