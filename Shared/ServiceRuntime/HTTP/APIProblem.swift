import Logging
public import Contracts
public import Hummingbird
import Foundation
import NIOCore

/// An RFC 9457 problem document: the one way every service's API says what went wrong.
///
/// Routes throw it (or a domain error that is ``APIProblemConvertible``); ``ProblemMiddleware``
/// turns whatever a route throws into one, so every error body has the same members and media
/// type whichever service answers.
public struct APIProblem: HTTPResponseError, Sendable {
    public var status: HTTPResponse.Status
    /// A short summary that does not change from occurrence to occurrence.
    public var title: String
    /// This occurrence, for a person.
    public var detail: String
    /// Members beyond the standard ones (`errors`, `reportId`, …), as the spec declares them.
    public var extensions: [String: JSONValue]
    /// Headers the answer carries besides the content type (`Allow` on a 405).
    public var headers: HTTPFields

    public init(_ status: HTTPResponse.Status, title: String, detail: String, extensions: [String: JSONValue] = [:], headers: HTTPFields = [:]) {
        self.status = status
        self.title = title
        self.detail = detail
        self.extensions = extensions
        self.headers = headers
    }

    /// The `type` member: one URI per status, since the title already names the occurrence's kind.
    public var type: String { "https://isms.ward.example/problems/\(status.code)" }

    public var body: JSONValue {
        var members = extensions
        members["type"] = .string(type)
        members["title"] = .string(title)
        members["status"] = .integer(Int64(status.code))
        members["detail"] = .string(detail)
        return .object(members)
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        response
    }

    public var response: Response {
        var headers = headers
        headers[.contentType] = "application/problem+json"
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer" }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body.jsonBytes())))
    }
}

extension APIProblem {
    /// 401: no bearer token, or one that is unknown, revoked or expired.
    public static func unauthorized(_ detail: String) -> APIProblem {
        APIProblem(.unauthorized, title: "Not authenticated", detail: detail)
    }

    /// 403: the token is valid but its role or unit may not do this.
    public static func forbidden(_ detail: String) -> APIProblem {
        APIProblem(.forbidden, title: "Not allowed for this role or unit", detail: detail)
    }

    /// 404: nothing with this name, or nothing this token may see (other units' records are
    /// answered like missing ones, so their existence is not disclosed).
    public static func notFound(_ detail: String) -> APIProblem {
        APIProblem(.notFound, title: "Not found", detail: detail)
    }

    /// 400: the request itself is malformed (body, query or path), before any rule is applied.
    public static func badRequest(_ detail: String) -> APIProblem {
        APIProblem(.badRequest, title: "The request is malformed", detail: detail)
    }

    /// 409: the request conflicts with the record's current state.
    public static func conflict(_ detail: String) -> APIProblem {
        APIProblem(.conflict, title: "Conflicts with the current state", detail: detail)
    }

    /// 422: well-formed, but a rule of the domain refuses it.
    public static func unprocessable(_ detail: String) -> APIProblem {
        APIProblem(.unprocessableContent, title: "Refused by a rule", detail: detail)
    }
}

/// A domain error that knows which problem it is on the HTTP API.
public protocol APIProblemConvertible: Error {
    var problem: APIProblem { get }
}

/// Turns anything a route throws into a problem document. A domain error maps through
/// ``APIProblemConvertible``; Hummingbird's own errors (body too large, no route) keep their
/// status; anything else is a 500 whose detail names no internals, logged with the request id.
public struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        // PostgreSQL cannot store U+0000 in text; no name or value of ours contains one, so a
        // request carrying one is malformed, wherever it hides (the path, the query).
        if request.uri.description.range(of: "%00") != nil {
            return APIProblem.unprocessable("The request's path or query holds a NUL character (%00), which no name or value contains.").response
        }
        do {
            return try await next(request, context)
        } catch let problem as APIProblem {
            return problem.response
        } catch let error as any APIProblemConvertible {
            return error.problem.response
        } catch let error as any HTTPResponseError {
            let title = error.status == .notFound ? "Not found" : error.status.reasonPhrase
            let detail = switch error.status {
            case .notFound: "No resource at \(request.method.rawValue) \(request.uri.path)."
            case .contentTooLarge: "The request body is larger than this endpoint accepts (\(context.maxUploadSize) bytes)."
            default: (error as? HTTPError)?.body ?? error.status.reasonPhrase
            }
            return APIProblem(error.status, title: title, detail: detail).response
        } catch {
            context.logger.error("request failed", metadata: ["error": "\(String(reflecting: error))", "http.path": "\(request.uri.path)"])
            return APIProblem(.internalServerError, title: "Internal error", detail: "The request failed inside the service; the operator's log has the details (request \(context.id)).").response
        }
    }
}
