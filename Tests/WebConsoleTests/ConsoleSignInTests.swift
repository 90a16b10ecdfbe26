import Directory
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdOTP
import HummingbirdTesting
import ISMSTesting
import Logging
import Postgres
import PostgresMigrations
import Prometheus
import ServiceRuntime
import Testing
@testable import WebConsole

/// Enrolment, sign-in, lock-out, the form token and the session table, through the console's
/// own router against the test PostgreSQL (the services are not needed for these pages).
@Suite(.tags(.integration), .needsTestServers) struct ConsoleSignInTests {
    static var url: String {
        ProcessInfo.processInfo.environment["ISMS_TEST_DATABASE_URL"] ?? "postgresql://postgres@127.0.0.1:45432/isms_test"
    }
    static let logger = Logger(label: "console-tests") { _ in SwiftLogNoOpLogHandler() }
    static let wardFile = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../deploy/config/ward.yaml").path

    struct Fixture: Sendable {
        var console: WebConsole
        var pool: PostgresPool
        var consoleSchema: String
        var directory: DirectoryStore
    }

    /// A console over fresh schemas: the ward's directory and the console's tables.
    static func withConsole<T: Sendable>(_ body: @escaping @Sendable (Fixture, any TestClientProtocol) async throws -> T) async throws -> T {
        let suffix = UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(10).lowercased()
        let (directorySchema, consoleSchema) = ("dir_\(suffix)", "console_\(suffix)")
        let pool = PostgresPool(configuration: PostgresConfiguration(url: url, applicationName: "console-tests"), size: 4, logger: logger)
        let directory = DirectoryStore(schema: directorySchema)
        defer { Task { await pool.close() } }
        try await pool.withConnection { try $0.execute("CREATE SCHEMA \(directorySchema); CREATE SCHEMA \(consoleSchema)") }
        do {
            try await Migrator.apply(directory.migrations, on: pool, logger: logger)
            try await Migrator.apply(ConsoleMigrations.set(schema: consoleSchema), on: pool, logger: logger)
            let ward = try DirectoryDocument.load(path: wardFile)
            _ = try await pool.withTransaction { try directory.replace(with: ward, on: $0) }
            var configuration = ConsoleConfiguration(environment: [:])
            configuration.bcryptCost = 10
            let console = WebConsole(
                configuration: configuration, database: pool, renderer: try await ConsoleRenderer(), directory: directory, schema: consoleSchema, logger: logger)
            let sessions = SessionPersistDriver(database: pool, schema: consoleSchema, logger: logger)
            let router = WebConsoleService.router(console: console, sessions: sessions, readiness: Readiness(requires: [.database]), registry: PrometheusCollectorRegistry())
            let app = Application(router: router, logger: logger)
            let fixture = Fixture(console: console, pool: pool, consoleSchema: consoleSchema, directory: directory)
            let value = try await app.test(.router) { client in try await body(fixture, client) }
            try await pool.withConnection { try $0.execute("DROP SCHEMA \(directorySchema) CASCADE; DROP SCHEMA \(consoleSchema) CASCADE") }
            return value
        } catch {
            _ = try? await pool.withConnection { try $0.execute("DROP SCHEMA \(directorySchema) CASCADE; DROP SCHEMA \(consoleSchema) CASCADE") }
            throw error
        }
    }

    /// A browser of one: keeps cookies and reads the form token from the page.
    struct Browser {
        var cookies: [String: String] = [:]
        var csrf = ""

        mutating func get(_ client: some TestClientProtocol, _ path: String) async throws -> TestResponse {
            let response = try await client.execute(uri: path, method: .get, headers: headers(), body: nil)
            keep(response)
            if let token = response.body.getString(at: 0, length: response.body.readableBytes)?.firstMatch(of: /name="csrf" value="([^"]+)"/)?.output.1 {
                csrf = String(token)
            }
            return response
        }

        mutating func post(_ client: some TestClientProtocol, _ path: String, _ fields: [(String, String)], csrf sendToken: Bool = true) async throws -> TestResponse {
            let all = (sendToken ? [("csrf", csrf)] : []) + fields
            let body = all.map { "\($0.0)=\(FormData.encode($0.1))" }.joined(separator: "&")
            var headers = headers()
            headers[.contentType] = "application/x-www-form-urlencoded"
            let response = try await client.execute(uri: path, method: .post, headers: headers, body: ByteBuffer(string: body))
            keep(response)
            return response
        }

        func headers() -> HTTPFields {
            var fields = HTTPFields()
            if !cookies.isEmpty { fields[.cookie] = cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ") }
            return fields
        }

        mutating func keep(_ response: TestResponse) {
            for header in response.headers[values: .setCookie] {
                let pair = header.split(separator: ";")[0].split(separator: "=", maxSplits: 1)
                cookies[String(pair[0])] = pair.count > 1 ? String(pair[1]) : ""
            }
        }
    }

    static func text(_ response: TestResponse) -> String {
        response.body.getString(at: 0, length: response.body.readableBytes) ?? ""
    }

    static func enrol(_ fixture: Fixture, _ client: some TestClientProtocol, person: String, password: String) async throws -> String? {
        let token = try await fixture.pool.withConnection { try fixture.console.credentials.invite(personID: person, on: $0) }
        var browser = Browser()
        let page = try await browser.get(client, "/enrol/\(token)")
        #expect(page.status == .ok)
        let html = text(page)
        var fields = [("password", password), ("password2", password)]
        let secret = html.firstMatch(of: /name="totpSecret" value="([^"]+)"/).map { String($0.output.1) }
        if let secret {
            fields += [("totpSecret", secret), ("code", String(format: "%06d", TOTP(secret: secret).compute(date: Date())))]
        }
        let done = try await browser.post(client, "/enrol/\(token)", fields)
        #expect(done.status == .seeOther)
        #expect(done.headers[.location] == "/sign-in?notice=notice_enrolled")
        // The link works once.
        #expect(try await browser.get(client, "/enrol/\(token)").status == .notFound)
        return secret
    }

    @Test func aPageWithoutASessionSendsToSignInAndEveryResponseCarriesTheSecurityHeaders() async throws {
        try await Self.withConsole { _, client in
            var browser = Browser()
            let queue = try await browser.get(client, "/queue?x=1")
            #expect(queue.status == .seeOther)
            #expect(queue.headers[.location] == "/sign-in?next=%2Fqueue%3Fx%3D1")
            let page = try await browser.get(client, "/sign-in")
            #expect(page.headers[.contentSecurityPolicy]?.contains("frame-ancestors 'none'") == true)
            #expect(page.headers[.contentSecurityPolicy]?.contains("script-src 'self'") == true)
            #expect(page.headers[.xContentTypeOptions] == "nosniff")
            #expect(page.headers[HTTPField.Name("Referrer-Policy")!] == "no-referrer")
            let csrfCookie = try #require(page.headers[values: .setCookie].first { $0.hasPrefix("isms_csrf=") })
            #expect(csrfCookie.contains("HttpOnly") && csrfCookie.contains("SameSite=Strict"))
            #expect(Self.text(page).contains(#"<html lang="ja">"#))
            let missing = try await browser.get(client, "/no/such/page")
            #expect(missing.status == .notFound)
            #expect(Self.text(missing).contains(#"id="not-found""#))
        }
    }

    @Test func enrolThenSignInWithTOTPThenSignOutRevokesTheToken() async throws {
        try await Self.withConsole { fixture, client in
            let password = "correct horse battery"
            let secret = try #require(try await Self.enrol(fixture, client, person: "csirt-lead", password: password), "CSIRT is ward-wide: TOTP")
            var browser = Browser()
            _ = try await browser.get(client, "/sign-in")
            let withoutCode = try await browser.post(client, "/sign-in", [("person", "csirt-lead"), ("password", password)])
            #expect(withoutCode.status == .unauthorized)
            let code = String(format: "%06d", TOTP(secret: secret).compute(date: Date()))
            let signedIn = try await browser.post(client, "/sign-in", [("person", "csirt-lead"), ("password", password), ("code", code), ("next", "/cases")])
            #expect(signedIn.status == .seeOther)
            #expect(signedIn.headers[.location] == "/cases")
            let sessionCookie = try #require(signedIn.headers[values: .setCookie].first { $0.hasPrefix("isms_session=") })
            #expect(sessionCookie.contains("HttpOnly") && sessionCookie.contains("SameSite=Strict"))
            // The same code does not sign in twice.
            var other = Browser()
            _ = try await other.get(client, "/sign-in")
            #expect(try await other.post(client, "/sign-in", [("person", "csirt-lead"), ("password", password), ("code", code)]).status == .unauthorized)

            // The session table holds neither the cookie nor the API token.
            let cookie = try #require(browser.cookies["isms_session"])
            let rows = try await fixture.pool.withConnection { connection in
                try connection.query("SELECT key_sha256, encode(sealed, 'escape') AS sealed FROM \(unescaped: fixture.consoleSchema).sessions").rows.map {
                    (try $0.decode("key_sha256", as: String.self), try $0.decode("sealed", as: String.self))
                }
            }
            #expect(rows.count == 1)
            #expect(!rows[0].0.contains(cookie) && !rows[0].1.contains("isms_") && !rows[0].1.contains("csirt-lead"))
            let live = try await fixture.pool.withConnection { connection in
                try connection.query("""
                    SELECT count(*)::int AS n FROM \(unescaped: fixture.directory.schema).tokens
                    WHERE label = 'console:csirt-lead' AND revoked_at IS NULL AND expires_at > now()
                    """).rows[0].decode("n", as: Int.self)
            }
            #expect(live == 1)

            // A new form token came with the session; the next page carries it.
            #expect(try await browser.get(client, "/no/such/page").status == .notFound)
            let out = try await browser.post(client, "/sign-out", [])
            #expect(out.headers[.location] == "/sign-in?notice=notice_signedOut")
            let afterwards = try await fixture.pool.withConnection { connection in
                try connection.query("""
                    SELECT count(*)::int AS n FROM \(unescaped: fixture.directory.schema).tokens WHERE label = 'console:csirt-lead' AND revoked_at IS NULL
                    """).rows[0].decode("n", as: Int.self)
            }
            #expect(afterwards == 0)
            #expect(try await browser.get(client, "/queue").status == .seeOther)
            let log = try await fixture.pool.withConnection { try fixture.console.credentials.logEntries(limit: 10, beforeID: nil, on: $0) }.map(\.event)
            #expect(log.starts(with: ["signed-out", "failed", "signed-in", "failed", "enrolled"]))
        }
    }

    @Test func sixWrongPasswordsLockTheAccountAndAFormWithoutItsTokenIsRefused() async throws {
        try await Self.withConsole { fixture, client in
            let password = "correct horse battery"
            #expect(try await Self.enrol(fixture, client, person: "family-registry-staff", password: password) == nil, "a section role needs no TOTP")
            var browser = Browser()
            _ = try await browser.get(client, "/sign-in")
            for attempt in 1...6 {
                let answer = try await browser.post(client, "/sign-in", [("person", "family-registry-staff"), ("password", "wrong \(attempt)")])
                #expect(answer.status == .unauthorized)
                #expect(Self.text(answer).contains(attempt >= 5 ? "ロック" : "正しくありません"), "attempt \(attempt)")
            }
            let right = try await browser.post(client, "/sign-in", [("person", "family-registry-staff"), ("password", password)])
            #expect(right.status == .unauthorized, "locked: the right password is refused too")
            #expect(Self.text(right).contains("ロック"))

            let forged = try await browser.post(client, "/sign-in", [("person", "family-registry-staff"), ("password", password)], csrf: false)
            #expect(forged.status == .forbidden)
            #expect(Self.text(forged).contains(#"id="csrf-error""#))
            let log = try await fixture.pool.withConnection { try fixture.console.credentials.logEntries(limit: 20, beforeID: nil, on: $0) }.map(\.event)
            #expect(log.filter { $0 == "locked-out" }.count == 1)
            #expect(log.filter { $0 == "refused-locked" }.count == 2)
        }
    }

    @Test func theLanguageSwitchIsRemembered() async throws {
        try await Self.withConsole { _, client in
            var browser = Browser()
            _ = try await browser.get(client, "/sign-in")
            let switched = try await browser.post(client, "/language", [("lang", "en"), ("back", "/sign-in")])
            #expect(switched.headers[.location] == "/sign-in")
            let page = try await browser.get(client, "/sign-in")
            #expect(Self.text(page).contains(#"<html lang="en">"#))
            #expect(Self.text(page).contains("Person id"))
        }
    }
}
