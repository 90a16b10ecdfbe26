public import Directory
public import Hummingbird
public import Postgres
import HTTPTypes

/// A service's business routes: each is declared once with its method and whether it needs a
/// token, and everything else about HTTP is done here once for every service.
///
/// - Routes that need a token sit behind ``BearerTokenAuthenticator``; the grant is in the context.
/// - Whatever a route throws becomes problem+json (``ProblemMiddleware``).
/// - A declared path asked with an undeclared method answers 405 with `Allow` (RFC 9110 §15.5.6)
///   instead of Hummingbird's 404, so a client learns that the resource exists.
public final class APIRoutes {
    public typealias Handler = @Sendable (Request, APIRequestContext) async throws -> Response

    /// Whether a route needs a bearer token.
    public enum Access: Sendable {
        case bearer
        /// Open to anyone: probes, and links whose signature is the credential.
        case open
    }

    let router: Router<APIRequestContext>
    let secured: RouterGroup<APIRequestContext>
    private var declared: [(path: String, methods: [HTTPRequest.Method])] = []

    init(router: Router<APIRequestContext>, authenticator: BearerTokenAuthenticator) {
        self.router = router
        secured = router.group().add(middleware: authenticator)
    }

    /// A router with the problem middleware, the routes `declare` adds, and their 405 answers.
    /// The runtime builds each service's this way; tests build one around the routes they test.
    public static func router(
        database: PostgresPool,
        tokens: DirectoryTokens = DirectoryTokens(),
        declare: (APIRoutes) throws -> Void
    ) rethrows -> Router<APIRequestContext> {
        let router = Router(context: APIRequestContext.self)
        router.add(middleware: ProblemMiddleware())
        let routes = APIRoutes(router: router, authenticator: BearerTokenAuthenticator(tokens: tokens, database: database))
        try declare(routes)
        routes.finish()
        return router
    }

    /// Declares `method path`, answered by `handler`.
    public func on(_ path: String, method: HTTPRequest.Method, access: Access = .bearer, use handler: @escaping Handler) {
        switch access {
        case .bearer: secured.on(RouterPath(path), method: method, use: handler)
        case .open: router.on(RouterPath(path), method: method, use: handler)
        }
        if let index = declared.firstIndex(where: { $0.path == path }) {
            declared[index].methods.append(method)
        } else {
            declared.append((path, [method]))
        }
    }

    public func get(_ path: String, access: Access = .bearer, use handler: @escaping Handler) { on(path, method: .get, access: access, use: handler) }
    public func post(_ path: String, access: Access = .bearer, use handler: @escaping Handler) { on(path, method: .post, access: access, use: handler) }
    public func put(_ path: String, access: Access = .bearer, use handler: @escaping Handler) { on(path, method: .put, access: access, use: handler) }
    public func delete(_ path: String, access: Access = .bearer, use handler: @escaping Handler) { on(path, method: .delete, access: access, use: handler) }

    /// The methods a client may send that no route of a path declares (QUERY: the safe method
    /// with a body of draft-ietf-httpbis-safe-method-w-body, which clients and fuzzers try).
    static let probedMethods: [HTTPRequest.Method] = [.get, .head, .post, .put, .patch, .delete, .options, .trace, HTTPRequest.Method("QUERY")!]

    /// Adds the 405 answers; the runtime calls this after the service declared its routes.
    func finish() {
        for (path, methods) in declared {
            let allow = methods.map(\.rawValue).joined(separator: ", ")
            for method in Self.probedMethods where !methods.contains(method) {
                router.on(RouterPath(path), method: method) { request, _ -> Response in
                    var headers = HTTPFields()
                    headers[.allow] = allow
                    throw APIProblem(
                        .methodNotAllowed, title: "Method not allowed",
                        detail: "\(request.method.rawValue) is not defined on \(path); allowed: \(allow).", headers: headers)
                }
            }
        }
    }
}
