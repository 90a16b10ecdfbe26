public import Directory
import Foundation
public import Hummingbird
import HummingbirdAuth
public import Logging
public import Postgres

/// The web console's pages, over the services' HTTP APIs (issue #15). It owns no business
/// data: every case, report and decision is read and changed through the service that keeps
/// it, with the signed-in person's own token.
public struct WebConsole: Sendable {
    public let configuration: ConsoleConfiguration
    public let database: PostgresPool
    public let renderer: ConsoleRenderer
    public let credentials: Credentials
    let directory: DirectoryStore
    let logger: Logger

    public init(configuration: ConsoleConfiguration, database: PostgresPool, renderer: ConsoleRenderer, directory: DirectoryStore = DirectoryStore(), schema: String = ConsoleMigrations.schema, logger: Logger) {
        self.configuration = configuration
        self.database = database
        self.renderer = renderer
        self.directory = directory
        self.credentials = Credentials(schema: schema, directory: directory, bcryptCost: configuration.bcryptCost)
        self.logger = logger
    }

    /// Every page and form of the console.
    public func addRoutes(to router: some RouterMethods<ConsoleRequestContext>) {
        addSignInRoutes(to: router)
        addCaseRoutes(to: router)
        addReportRoutes(to: router)
        addOfficerRoutes(to: router)
        addAssetRoutes(to: router)
        addDutyRoutes(to: router)
        addRiskRoutes(to: router)
        addReviewRoutes(to: router)
        router.get("/") { request, context in
            guard let session = context.sessions.session else { return ConsolePageMiddleware.redirect("/sign-in") }
            _ = request
            return ConsolePageMiddleware.redirect(ConsoleAccess.home(for: session.current.role))
        }
        router.get("/static/:file") { _, context in try Self.staticFile(context.parameters.require("file")) }
        // Anything else is the console's own not-found page, in the person's language.
        router.get("/**") { _, _ -> Response in throw ConsolePageError.notFound }
    }

    // MARK: Helpers for the pages

    func api(_ session: ConsoleSession?) -> ConsoleAPI {
        ConsoleAPI(urls: configuration.serviceURLs, token: session?.apiToken)
    }

    func frame(_ request: Request, _ context: ConsoleRequestContext) -> ConsoleRenderer.Frame {
        ConsoleRenderer.Frame(
            language: context.language, csrf: context.csrfToken, session: context.sessions.session, path: request.uri.path,
            notice: request.uri.queryParameters.get("notice"))
    }

    func page(_ template: String, title: String, _ request: Request, _ context: ConsoleRequestContext, data: [String: Any] = [:], status: HTTPResponse.Status = .ok) -> Response {
        renderer.page(template, title: Labels.text(title, context.language), data: data, frame: frame(request, context), status: status)
    }

    /// The session, if its role is one of `roles`; otherwise the not-found page.
    func session(_ request: Request, _ context: ConsoleRequestContext, roles: Set<DirectoryRole>) throws -> ConsoleSession {
        let session = try context.requireSession(request)
        guard roles.contains(session.current.role) else { throw ConsolePageError.notFound }
        return session
    }

    static func staticFile(_ name: String) throws -> Response {
        let types = ["console.css": "text/css; charset=utf-8", "console.js": "text/javascript; charset=utf-8"]
        guard let type = types[name], let data = FileManager.default.contents(atPath: ConsoleRenderer.resources.appendingPathComponent("static/\(name)").path)
        else { throw ConsolePageError.notFound }
        var response = Response(status: .ok, headers: [.contentType: type], body: .init(byteBuffer: .init(bytes: data)))
        response.headers[.cacheControl] = "public, max-age=300"
        return response
    }
}
