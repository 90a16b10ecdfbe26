import Crypto
import Directory
import Foundation
public import Hummingbird
public import Logging
public import Postgres
import ServiceLifecycle

/// hummingbird-auth's session storage over the project's PostgreSQL module.
///
/// The session cookie is the only copy of the session's secret: the table keeps the SHA-256 of
/// the storage key and the value sealed (AES-GCM) with a key derived from it. A database dump
/// therefore yields neither a usable session nor the API token a session carries.
public struct SessionPersistDriver: PersistDriver {
    let database: PostgresPool
    let table: String
    let logger: Logger
    /// How often expired sessions are deleted.
    let sweepInterval: Duration

    public init(database: PostgresPool, schema: String = ConsoleMigrations.schema, logger: Logger, sweepInterval: Duration = .seconds(60)) {
        self.database = database
        self.table = "\"\(schema)\".sessions"
        self.logger = logger
        self.sweepInterval = sweepInterval
    }

    public func create<Object: Codable & Sendable>(key: String, value: Object, expires: Duration?) async throws {
        try await set(key: key, value: value, expires: expires)
    }

    public func set<Object: Codable & Sendable>(key: String, value: Object, expires: Duration?) async throws {
        let sealed = try Self.seal(JSONEncoder().encode(value), key: key)
        let expiresAt = expires.map { Date().addingTimeInterval(Double($0.components.seconds)) }
        let hashed = Self.hash(key)
        let table = table
        _ = try await database.withConnection { connection in
            try connection.query("""
                INSERT INTO \(unescaped: table) (key_sha256, sealed, expires_at) VALUES (\(hashed), \(sealed), \(expiresAt))
                ON CONFLICT (key_sha256) DO UPDATE
                SET sealed = EXCLUDED.sealed, expires_at = COALESCE(EXCLUDED.expires_at, \(unescaped: table).expires_at)
                """)
        }
    }

    public func get<Object: Codable & Sendable>(key: String, as type: Object.Type) async throws -> Object? {
        try await getWithTTL(key: key, as: type)?.object
    }

    public func getWithTTL<Object: Codable & Sendable>(key: String, as type: Object.Type) async throws -> (object: Object, ttl: Duration?)? {
        let hashed = Self.hash(key)
        let table = table
        let row = try await database.withConnection { connection -> (Data, Date?)? in
            guard let row = try connection.query("""
                SELECT sealed, expires_at FROM \(unescaped: table)
                WHERE key_sha256 = \(hashed) AND (expires_at IS NULL OR expires_at > now())
                """).rows.first else { return nil }
            return (try row.decode("sealed", as: Data.self), try row.decode("expires_at", as: Date?.self))
        }
        guard let (sealed, expiresAt) = row else { return nil }
        guard let plain = try? Self.open(sealed, key: key) else { throw PersistError.invalidConversion }
        do {
            let object = try JSONDecoder().decode(Object.self, from: plain)
            return (object, expiresAt.map { .seconds(max(0, $0.timeIntervalSinceNow)) })
        } catch {
            throw PersistError.invalidConversion
        }
    }

    public func remove(key: String) async throws {
        let hashed = Self.hash(key)
        let table = table
        _ = try await database.withConnection { connection in
            try connection.query("DELETE FROM \(unescaped: table) WHERE key_sha256 = \(hashed)")
        }
    }

    /// Deletes expired sessions until shutdown.
    public func run() async throws {
        let table = table
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: sweepInterval)
            } catch {
                return
            }
            do {
                _ = try await database.withConnection { connection in
                    try connection.query("DELETE FROM \(unescaped: table) WHERE expires_at <= now()")
                }
            } catch {
                logger.warning("could not sweep expired sessions", metadata: ["error": "\(error)"])
            }
        }
    }

    static func hash(_ key: String) -> String {
        SHA256.hash(data: Data(key.utf8)).hexString
    }

    static func sealingKey(_ key: String) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: Data(key.utf8)), salt: Data("isms-console-session".utf8), info: Data("seal".utf8),
            outputByteCount: 32)
    }

    static func seal(_ plain: Data, key: String) throws -> Data {
        guard let combined = try AES.GCM.seal(plain, using: sealingKey(key)).combined else { throw PersistError.invalidConversion }
        return combined
    }

    static func open(_ sealed: Data, key: String) throws -> Data {
        try AES.GCM.open(AES.GCM.SealedBox(combined: sealed), using: sealingKey(key))
    }
}
