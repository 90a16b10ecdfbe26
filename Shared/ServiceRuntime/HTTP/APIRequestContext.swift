public import Directory
public import Hummingbird
public import Foundation

/// The request context of every service's API: Hummingbird's core storage plus the grant that
/// ``BearerTokenAuthenticator`` found for the request's token.
public struct APIRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The authenticated token's role and unit; nil on the routes that need no token.
    public var grant: TokenGrant?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        grant = nil
    }

    /// A report is at most 64 KiB of description plus its other fields; every other body is
    /// smaller. Anything larger is refused (413) before it is parsed.
    public var maxUploadSize: Int { 256 * 1024 }

    public var requestDecoder: APIRequestDecoder { APIRequestDecoder() }
    public var responseEncoder: APIResponseEncoder { APIResponseEncoder() }

    /// The grant of an authenticated route. Only a route registered without authentication can
    /// reach the throw, which would be a programming error answered as 401 rather than a crash.
    public func requireGrant() throws(APIProblem) -> TokenGrant {
        guard let grant else { throw .unauthorized("Send Authorization: Bearer <token>; `isms token issue` makes one.") }
        return grant
    }

    /// A path parameter that must be a UUID; anything else names nothing (404).
    public func uuid(_ name: String, _ what: String) throws(APIProblem) -> UUID {
        guard let text = parameters.get(name), let id = UUID(uuidString: text) else {
            throw .notFound("No \(what) \(parameters.get(name) ?? "") is visible to this token.")
        }
        return id
    }

    /// A path parameter as text.
    public func text(_ name: String) -> String {
        parameters.get(name) ?? ""
    }
}
