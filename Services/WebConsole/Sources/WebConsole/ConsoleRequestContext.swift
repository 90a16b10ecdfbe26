public import Hummingbird
public import HummingbirdAuth
import NIOCore

/// One request to the console: its session (hummingbird-auth), language, CSRF token and the
/// form it posted (read once, by ``ConsoleStateMiddleware``).
public struct ConsoleRequestContext: SessionRequestContext, RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let sessions: SessionContext<ConsoleSession>
    public var language: ConsoleLanguage = .ja
    /// The double-submit token every form carries (the `isms_csrf` cookie's value).
    public var csrfToken: String = ""
    /// The posted form, CSRF-checked; empty for GET.
    public var form = FormData()
    /// The peer's address, for the sign-in log.
    public var remoteAddress: String?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        sessions = .init()
        remoteAddress = source.channel.remoteAddress?.ipAddress
    }

    /// Forms are small; a report's description is at most 64 KiB.
    public var maxUploadSize: Int { 256 * 1024 }

    /// The signed-in session, or a redirect to the sign-in page that comes back here.
    public func requireSession(_ request: Request) throws -> ConsoleSession {
        guard let session = sessions.session else {
            let next = request.uri.path + (request.uri.query.map { "?\($0)" } ?? "")
            throw ConsoleRedirect("/sign-in?next=\(FormData.encode(next))")
        }
        return session
    }
}

/// A 303 to another page, thrown from anywhere in a handler.
public struct ConsoleRedirect: Error, Sendable {
    public var location: String

    public init(_ location: String) {
        self.location = location
    }
}

/// A page the console answers instead of the one asked for.
public enum ConsolePageError: Error, Sendable, Equatable {
    /// Nothing here, or not for this session: the same answer for both (need-to-know).
    case notFound
    /// A POST without the form's CSRF token.
    case csrf
    /// The session's role may not do this.
    case forbidden
    /// A service did not answer.
    case serviceUnavailable
}
