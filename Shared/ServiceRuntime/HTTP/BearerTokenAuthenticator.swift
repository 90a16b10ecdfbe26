import Foundation
import Logging
public import Directory
public import Hummingbird
public import Postgres

/// Authenticates `Authorization: Bearer <token>` against the directory's hashed tokens and puts
/// the grant into the request context; without a valid token the request ends here with 401.
///
/// Tokens are bound to a role and an org unit (brief §7), so every route behind this middleware
/// can decide need-to-know from ``APIRequestContext/grant`` alone.
public struct BearerTokenAuthenticator: RouterMiddleware {
    public typealias Context = APIRequestContext

    let tokens: DirectoryTokens
    let database: PostgresPool

    public init(tokens: DirectoryTokens = DirectoryTokens(), database: PostgresPool) {
        self.tokens = tokens
        self.database = database
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else {
            throw APIProblem.unauthorized("Send Authorization: Bearer <token>; `isms token issue` makes one.")
        }
        let token = String(header.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces)
        let tokens = tokens
        guard let grant = try await database.withConnection({ connection in try tokens.verify(token: token, on: connection) }) else {
            throw APIProblem.unauthorized("The token is unknown, revoked or expired.")
        }
        var context = context
        context.grant = grant
        context.logger[metadataKey: "token.id"] = "\(grant.id)"
        return try await next(request, context)
    }
}
