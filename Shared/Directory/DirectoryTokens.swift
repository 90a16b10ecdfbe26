import Crypto
public import Foundation
public import Postgres

/// What a valid bearer token grants: a role of the guideline at a unit (brief §7).
public struct TokenGrant: Sendable, Hashable {
    /// The token's id, for revoking it and for audit logs (never the token itself).
    public var id: UUID
    /// The role the bearer acts in.
    public var role: DirectoryRole
    /// The section or department the token acts for; `nil` for ward-wide roles.
    public var unitCode: String?
    /// Who or what the token was issued to, for operators.
    public var label: String
    /// When the token stops working; `nil` for never.
    public var expiresAt: Date?

    public init(id: UUID, role: DirectoryRole, unitCode: String?, label: String, expiresAt: Date? = nil) {
        self.id = id
        self.role = role
        self.unitCode = unitCode
        self.label = label
        self.expiresAt = expiresAt
    }
}

/// Bearer tokens for the HTTP APIs, each bound to a role and a unit.
///
/// A token is `isms_` followed by 32 random bytes in unpadded base64url. Only its SHA-256 is
/// stored, so a database dump gives no usable token; verifying looks the hash up, so no
/// constant-time comparison is needed.
public struct DirectoryTokens: Sendable {
    /// The text every token starts with, so leaked tokens are easy to scan for.
    public static let prefix = "isms_"

    let store: DirectoryStore

    /// Tokens in the schema of `store`.
    public init(store: DirectoryStore = DirectoryStore()) {
        self.store = store
    }

    /// Creates a token and returns it; this is the only time the token itself is seen.
    ///
    /// The unit must suit the role (``DirectoryRole/unitKind``): none for ward-wide roles, an
    /// existing department for department roles, an existing section for section roles.
    public func issue(
        role: DirectoryRole, unitCode: String?, label: String, expiresAt: Date? = nil, on connection: PostgresConnection
    ) throws -> (token: String, id: UUID) {
        try checkUnit(role: role, unitCode: unitCode, on: connection)
        let token = Self.prefix + Self.base64URL(SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) })
        let id = UUID()
        _ = try connection.query("""
            INSERT INTO \(unescaped: store.table("tokens")) (id, token_sha256, role, unit_code, label, expires_at)
            VALUES (\(id), \(Self.hash(token)), \(role.rawValue), \(unitCode), \(label), \(expiresAt))
            """)
        return (token, id)
    }

    /// What `token` grants, or `nil` when it is unknown, revoked, expired, or bound to a unit
    /// that is no longer in the directory.
    public func verify(token: String, on connection: PostgresConnection) throws -> TokenGrant? {
        guard token.hasPrefix(Self.prefix) else { return nil }
        let sections = store.table("sections")
        let departments = store.table("departments")
        let result = try connection.query("""
            SELECT t.id, t.role, t.unit_code, t.label, t.expires_at FROM \(unescaped: store.table("tokens")) t
            WHERE t.token_sha256 = \(Self.hash(token))
              AND t.revoked_at IS NULL
              AND (t.expires_at IS NULL OR t.expires_at > now())
              AND (t.unit_code IS NULL
                   OR EXISTS (SELECT 1 FROM \(unescaped: sections) s WHERE s.code = t.unit_code)
                   OR EXISTS (SELECT 1 FROM \(unescaped: departments) d WHERE d.code = t.unit_code))
            """)
        guard let row = result.rows.first else { return nil }
        return TokenGrant(
            id: try row.decode("id"), role: try DirectoryStore.role(row.decode("role")), unitCode: try row.decode("unit_code"),
            label: try row.decode("label"), expiresAt: try row.decode("expires_at"))
    }

    /// Moves a live token's expiry (the web console keeps a session's token alive while the
    /// person works); returns whether a live token with this id existed.
    @discardableResult
    public func extend(id: UUID, until expiresAt: Date, on connection: PostgresConnection) throws -> Bool {
        try connection.query("""
            UPDATE \(unescaped: store.table("tokens")) SET expires_at = \(expiresAt)
            WHERE id = \(id) AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())
            """).affectedRows > 0
    }

    /// The labels of these tokens (live or not), for showing who acted with them.
    public func labels(ids: [UUID], on connection: PostgresConnection) throws -> [UUID: String] {
        guard !ids.isEmpty else { return [:] }
        var labels: [UUID: String] = [:]
        for row in try connection.query("""
            SELECT id, label FROM \(unescaped: store.table("tokens")) WHERE id = ANY(\(ids)::uuid[])
            """).rows {
            labels[try row.decode("id")] = try row.decode("label")
        }
        return labels
    }

    /// Revokes a token; returns whether a live token with this id existed.
    @discardableResult
    public func revoke(id: UUID, on connection: PostgresConnection) throws -> Bool {
        try connection.query("""
            UPDATE \(unescaped: store.table("tokens")) SET revoked_at = now() WHERE id = \(id) AND revoked_at IS NULL
            """).affectedRows > 0
    }

    private func checkUnit(role: DirectoryRole, unitCode: String?, on connection: PostgresConnection) throws {
        switch (role.unitKind, unitCode) {
        case (.ward, nil):
            return
        case (.ward, let unit?):
            throw DirectoryError(code: .roleUnitMismatch, detail: "\(role.rawValue) is ward-wide and takes no unit, not '\(unit)'")
        case (let kind, nil):
            throw DirectoryError(code: .roleUnitMismatch, detail: "\(role.rawValue) is held at a \(kind.rawValue): name one")
        case (let kind, let unit?):
            let isSection = try store.section(code: unit, on: connection) != nil
            let isDepartment = try store.department(code: unit, on: connection) != nil
            switch (kind, isSection, isDepartment) {
            case (.section, true, _), (.department, _, true):
                return
            case (.section, false, true), (.department, true, false):
                throw DirectoryError(code: .roleUnitMismatch, detail: "\(role.rawValue) is held at a \(kind.rawValue), and '\(unit)' is not one")
            default:
                throw DirectoryError(code: .unknownUnit, detail: "no \(kind.rawValue) '\(unit)' in the directory")
            }
        }
    }

    /// Lowercase hex SHA-256 of the token's UTF-8 bytes: what the `tokens` table stores.
    public static func hash(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).hexString
    }

    static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
