import Crypto
public import Directory
public import Foundation
import HummingbirdBcrypt
import HummingbirdOTP
import NIOPosix
public import Postgres

/// How people of the directory enrol and sign in: one-time invitations, bcrypt passwords, TOTP
/// for ward-wide roles, the lock-out rule and the sign-in log.
public struct Credentials: Sendable {
    let schema: String
    let directory: DirectoryStore
    let rule: LockoutRule
    let bcryptCost: UInt8

    public init(schema: String = ConsoleMigrations.schema, directory: DirectoryStore = DirectoryStore(), rule: LockoutRule = .standard, bcryptCost: UInt8 = 12) {
        self.schema = schema
        self.directory = directory
        self.rule = rule
        self.bcryptCost = bcryptCost
    }

    func table(_ name: String) -> String { "\"\(schema)\".\(name)" }

    // MARK: Invitations

    /// How long an enrolment link works.
    public static let invitationLifetime: TimeInterval = 24 * 60 * 60

    /// Makes a one-time enrolment token for a person of the directory; only its SHA-256 is kept.
    public func invite(personID: String, now: Date = Date(), on connection: PostgresConnection) throws -> String {
        guard try directory.person(id: personID, on: connection) != nil else {
            throw ConsoleError.unknownPerson(personID)
        }
        let token = Self.randomToken()
        _ = try connection.query("""
            INSERT INTO \(unescaped: table("invitations")) (token_sha256, person_id, created_at, expires_at)
            VALUES (\(Self.hash(token)), \(personID), \(now), \(now.addingTimeInterval(Self.invitationLifetime)))
            """)
        return token
    }

    /// The person a live, unused invitation is for.
    public func invitation(_ token: String, on connection: PostgresConnection) throws -> Organisation.Person? {
        guard let row = try connection.query("""
            SELECT person_id FROM \(unescaped: table("invitations"))
            WHERE token_sha256 = \(Self.hash(token)) AND used_at IS NULL AND expires_at > now()
            """).rows.first else { return nil }
        return try directory.person(id: row.decode("person_id"), on: connection)
    }

    /// Whether the person must enrol (and then always use) a TOTP second factor.
    public func needsSecondFactor(personID: String, on connection: PostgresConnection) throws -> Bool {
        SecondFactorRule.required(unitCodes: try directory.assignments(personID: personID, on: connection).map(\.unitCode))
    }

    /// Uses the invitation: sets the password (bcrypt) and the TOTP secret, clears any lock.
    /// Returns `false` when the invitation is no longer valid.
    public func enrol(
        token: String, passwordHash: String, totpSecret: String?, address: String?, userAgent: String?, database: PostgresPool
    ) async throws -> Bool {
        try await database.withTransaction { connection in
            guard let row = try connection.query("""
                UPDATE \(unescaped: table("invitations")) SET used_at = now()
                WHERE token_sha256 = \(Self.hash(token)) AND used_at IS NULL AND expires_at > now()
                RETURNING person_id
                """).rows.first else { return false }
            let personID: String = try row.decode("person_id")
            _ = try connection.query("""
                INSERT INTO \(unescaped: table("credentials")) (person_id, password_bcrypt, totp_secret)
                VALUES (\(personID), \(passwordHash), \(totpSecret))
                ON CONFLICT (person_id) DO UPDATE SET password_bcrypt = EXCLUDED.password_bcrypt, totp_secret = EXCLUDED.totp_secret,
                    failed_attempts = 0, locked_until = NULL, last_totp_step = NULL, updated_at = now()
                """)
            try log(.enrolled, personID: personID, address: address, userAgent: userAgent, role: nil, on: connection)
            return true
        }
    }

    // MARK: Sign-in

    public enum SignInResult: Sendable, Equatable {
        case signedIn
        case wrongCredentials
        /// The account is locked (now, or by this attempt).
        case locked
    }

    struct Stored {
        var passwordHash: String
        var totpSecret: String?
        var lastStep: Int64?
        var state: LockoutRule.State
    }

    /// Checks a sign-in attempt and records it. The bcrypt comparison runs on NIO's thread pool,
    /// off the cooperative threads, and an unknown person costs the same comparison.
    public func signIn(
        personID: String, password: String, code: String?, address: String?, userAgent: String?, now: Date = Date(), database: PostgresPool
    ) async throws -> SignInResult {
        let stored = try await database.withConnection { connection in try self.stored(personID: personID, on: connection) }
        let hash = stored?.passwordHash ?? Self.decoyHash
        let passwordMatches = try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: hash) }
        let logID = Self.loggable(personID)
        guard let stored else {
            try await database.withConnection { connection in
                try self.log(.failed, personID: logID, address: address, userAgent: userAgent, role: nil, on: connection)
            }
            return .wrongCredentials
        }
        let step = stored.totpSecret.flatMap { secret in Self.matchingStep(secret: secret, code: code, now: now, after: stored.lastStep) }
        let secondFactorOK = stored.totpSecret == nil || step != nil
        let rule = rule
        return try await database.withTransaction { connection in
                // Read again under a row lock: concurrent attempts count one by one.
                guard let current = try self.stored(personID: personID, forUpdate: true, on: connection) else { return .wrongCredentials }
                if rule.isLocked(current.state, now: now) {
                    try log(.refusedLocked, personID: personID, address: address, userAgent: userAgent, role: nil, on: connection)
                    return .locked
                }
                if passwordMatches && secondFactorOK {
                    _ = try connection.query("""
                        UPDATE \(unescaped: table("credentials"))
                        SET failed_attempts = 0, locked_until = NULL, last_totp_step = COALESCE(\(step), last_totp_step), updated_at = now()
                        WHERE person_id = \(personID)
                        """)
                    return .signedIn
                }
                let (state, lockedNow) = rule.failed(current.state, now: now)
                _ = try connection.query("""
                    UPDATE \(unescaped: table("credentials"))
                    SET failed_attempts = \(state.failures), locked_until = \(state.lockedUntil), updated_at = now()
                    WHERE person_id = \(personID)
                    """)
                try log(.failed, personID: personID, address: address, userAgent: userAgent, role: nil, on: connection)
                if lockedNow {
                    try log(.lockedOut, personID: personID, address: address, userAgent: userAgent, role: nil, on: connection)
                    return .locked
                }
                return .wrongCredentials
        }
    }

    func stored(personID: String, forUpdate: Bool = false, on connection: PostgresConnection) throws -> Stored? {
        let lock = forUpdate ? "FOR UPDATE" : ""
        guard let row = try connection.query("""
            SELECT password_bcrypt, totp_secret, last_totp_step, failed_attempts, locked_until
            FROM \(unescaped: table("credentials")) WHERE person_id = \(personID) \(unescaped: lock)
            """).rows.first else { return nil }
        return Stored(
            passwordHash: try row.decode("password_bcrypt"), totpSecret: try row.decode("totp_secret"), lastStep: try row.decode("last_totp_step"),
            state: LockoutRule.State(failures: try row.decode("failed_attempts"), lockedUntil: try row.decode("locked_until")))
    }

    // MARK: TOTP

    /// A new TOTP secret: the bytes the authenticator app and the console share are the UTF-8 of
    /// this text (HummingbirdOTP's convention); the app is given them in base32.
    public static func newTOTPSecret() -> String { randomToken() }

    /// The `otpauth://` address for the authenticator app, and the base32 secret in it.
    public static func authenticatorURL(secret: String, personID: String) -> (url: String, base32: String) {
        let url = TOTP(secret: secret).createAuthenticatorURL(label: "ISMS:\(personID)", issuer: "ISMS")
        let base32 = URLComponents(string: url)?.queryItems?.first { $0.name == "secret" }?.value ?? ""
        return (url, base32)
    }

    /// The time step whose code matches, within one step either side (clock drift), and later
    /// than the last step used, so a code works once.
    public static func matchingStep(secret: String, code: String?, now: Date, after lastStep: Int64?) -> Int64? {
        guard let code = code?.filter(\.isNumber), code.count == 6, let value = Int(code) else { return nil }
        let current = Int64(now.timeIntervalSince1970 / 30)
        for step in [current - 1, current, current + 1] where step > (lastStep ?? .min) {
            if TOTP(secret: secret).compute(date: Date(timeIntervalSince1970: Double(step) * 30)) == value { return step }
        }
        return nil
    }

    // MARK: The sign-in log

    public enum Event: String, Sendable {
        case enrolled, signedIn = "signed-in", failed, lockedOut = "locked-out", refusedLocked = "refused-locked", signedOut = "signed-out"
    }

    public func log(_ event: Event, personID: String, address: String?, userAgent: String?, role: String?, on connection: PostgresConnection) throws {
        _ = try connection.query("""
            INSERT INTO \(unescaped: table("sign_in_log")) (person_id, event, address, user_agent, role)
            VALUES (\(personID), \(event.rawValue), \(address.map { String($0.prefix(100)) }), \(userAgent.map { String($0.prefix(300)) }), \(role))
            """)
    }

    public struct LogEntry: Sendable {
        public var id: Int64
        public var at: Date
        public var personID: String
        public var event: String
        public var address: String?
        public var userAgent: String?
        public var role: String?
    }

    /// The sign-in log, newest first, `limit` rows before `beforeID`.
    public func logEntries(limit: Int, beforeID: Int64?, on connection: PostgresConnection) throws -> [LogEntry] {
        try connection.query("""
            SELECT id, at, person_id, event, address, user_agent, role FROM \(unescaped: table("sign_in_log"))
            WHERE (\(beforeID)::bigint IS NULL OR id < \(beforeID))
            ORDER BY id DESC LIMIT \(limit)
            """).rows.map { row in
            LogEntry(
                id: try row.decode("id"), at: try row.decode("at"), personID: try row.decode("person_id"), event: try row.decode("event"),
                address: try row.decode("address"), userAgent: try row.decode("user_agent"), role: try row.decode("role"))
        }
    }

    // MARK: Helpers

    /// A bcrypt hash of nothing anyone types, compared against for unknown people.
    static let decoyHash = Bcrypt.hash(randomToken(), cost: 12)

    /// A person id as typed, fit for the log: ids are short ASCII; anything else is not logged verbatim.
    static func loggable(_ personID: String) -> String {
        let allowed = personID.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }
        return allowed && !personID.isEmpty && personID.count <= 64 ? personID : "(not an id)"
    }

    static func randomToken() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    static func hash(_ token: String) -> String { SHA256.hash(data: Data(token.utf8)).hexString }
}

/// What the console refuses before any page is drawn.
public enum ConsoleError: Error, CustomStringConvertible {
    case unknownPerson(String)

    public var description: String {
        switch self {
        case .unknownPerson(let id): "no person '\(id)' in the directory"
        }
    }
}
