import Crypto
import HummingbirdAuth
public import Directory
import Foundation
public import Hummingbird
public import HTTPTypes
public import Logging
import NIOCore
public import Postgres
import ServiceClient

/// The outermost layer: every response gets the security headers, and every error becomes a
/// page in the person's language (a redirect, not found, a refused form, a service down).
public struct ConsolePageMiddleware: RouterMiddleware {
    public typealias Context = ConsoleRequestContext
    let renderer: ConsoleRenderer

    public init(renderer: ConsoleRenderer) {
        self.renderer = renderer
    }

    /// No inline script or style, nothing from elsewhere, never framed (clickjacking), and no
    /// referrer: enrolment and acknowledgement links carry tokens in their paths.
    public static let securityHeaders: [(HTTPField.Name, String)] = [
        (.contentSecurityPolicy, "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"),
        (.xContentTypeOptions, "nosniff"),
        (HTTPField.Name("Referrer-Policy")!, "no-referrer"),
        (HTTPField.Name("X-Frame-Options")!, "DENY"),
        (.cacheControl, "no-store"),
    ]

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let redirect as ConsoleRedirect {
            response = Self.redirect(redirect.location)
        } catch let error as ConsolePageError {
            response = errorPage(error, request: request, context: context)
        } catch let error as any HTTPResponseError where error.status == .notFound || error.status == .methodNotAllowed {
            response = errorPage(.notFound, request: request, context: context)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            response = errorPage(.forbidden, request: request, context: context)
        } catch let problem as ServiceProblem {
            context.logger.warning("a service refused", metadata: ["problem": "\(problem)", "path": "\(request.uri.path)"])
            response = errorPage(.serviceUnavailable, request: request, context: context)
        } catch {
            context.logger.error("page failed", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
            response = errorPage(.serviceUnavailable, request: request, context: context)
        }
        for (name, value) in Self.securityHeaders where response.headers[name] == nil {
            response.headers[name] = value
        }
        return response
    }

    public static func redirect(_ location: String) -> Response {
        // Only our own paths: a `next=` parameter must never send a person elsewhere.
        let safe = location.hasPrefix("/") && !location.hasPrefix("//") && !location.hasPrefix("/\\") ? location : "/"
        return Response(status: .seeOther, headers: [.location: safe])
    }

    func errorPage(_ error: ConsolePageError, request: Request, context: Context) -> Response {
        let language = ConsoleStateMiddleware.language(of: request)
        // The path is not echoed: a page that is not there, or not the person's, shows nothing of it.
        let frame = ConsoleRenderer.Frame(
            language: language, csrf: request.cookies[ConsoleStateMiddleware.csrfCookie]?.value.description ?? "", session: context.sessions.session,
            path: "/")
        let (status, template, title): (HTTPResponse.Status, String, String) = switch error {
        case .notFound: (.notFound, "not-found", Labels.text("notFoundTitle", language))
        case .csrf: (.forbidden, "csrf", Labels.text("csrfTitle", language))
        case .forbidden: (.forbidden, "error", Labels.text("errorTitle", language))
        case .serviceUnavailable: (.badGateway, "error", Labels.text("errorTitle", language))
        }
        let message = Labels.text(error == .forbidden ? "forbiddenText" : "serviceDown", language)
        return renderer.page(template, title: title, data: ["message": message], frame: frame, status: status)
    }
}

/// Per request: the language cookie, the CSRF double-submit check and the posted form, and the
/// idle time-out, which slides the session and its API token together.
public struct ConsoleStateMiddleware: RouterMiddleware {
    public typealias Context = ConsoleRequestContext
    public static let languageCookie = "isms_lang"
    public static let csrfCookie = "isms_csrf"

    let database: PostgresPool
    let tokens: DirectoryTokens
    let secureCookies: Bool
    let logger: Logger

    public init(database: PostgresPool, tokens: DirectoryTokens = DirectoryStore().tokens, secureCookies: Bool, logger: Logger) {
        self.database = database
        self.tokens = tokens
        self.secureCookies = secureCookies
        self.logger = logger
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        var request = request
        context.language = Self.language(of: request)
        let cookieToken = request.cookies[Self.csrfCookie]?.value.description
        context.csrfToken = cookieToken ?? Self.newToken()

        if request.method == .post {
            let body = try await request.collectBody(upTo: context.maxUploadSize)
            let form = FormData(encoded: String(buffer: body))
            // Double submit: a page of ours put the cookie's value in the form; another site
            // can neither read the cookie nor (SameSite=Strict) make the browser send it.
            guard let cookieToken, let sent = form["csrf"], Self.constantTimeEqual(sent, cookieToken) else {
                throw ConsolePageError.csrf
            }
            context.form = form
        }

        try await slideSession(context)
        var response = try await next(request, context)
        if cookieToken == nil {
            response.setCookie(
                Cookie(name: Self.csrfCookie, value: context.csrfToken, path: "/", secure: secureCookies, httpOnly: true, sameSite: .strict))
        }
        return response
    }

    /// Keeps a working session alive: when the last extension is more than a minute old, the
    /// session and its API token both get another 30 minutes. A token that no longer works
    /// (revoked by an operator) ends the session.
    func slideSession(_ context: Context) async throws {
        guard var session = context.sessions.session else { return }
        let now = Date()
        guard session.expiresAt.timeIntervalSince(now) < ConsoleSession.idleTimeout - ConsoleSession.refreshSlack else { return }
        let until = now.addingTimeInterval(ConsoleSession.idleTimeout)
        let (tokens, id) = (tokens, session.apiTokenID)
        let alive = try await database.withConnection { connection in try tokens.extend(id: id, until: until, on: connection) }
        guard alive else {
            context.sessions.clearSession()
            return
        }
        session.expiresAt = until
        _ = context.sessions.updateSession(session, expiresIn: .seconds(Int64(ConsoleSession.idleTimeout)))
    }

    static func language(of request: Request) -> ConsoleLanguage {
        request.cookies[languageCookie].flatMap { ConsoleLanguage(rawValue: $0.value.description) } ?? .ja
    }

    static func newToken() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let (x, y) = (Array(a.utf8), Array(b.utf8))
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
