public import Foundation

/// An RFC 9457 problem document a service answered with, as a Swift error.
///
/// The services answer every refusal with `application/problem+json` (`type`, `title`,
/// `status`, `detail`); a body that is not one still becomes a problem with the status and
/// the body's text, so a caller always has something to show.
public struct ServiceProblem: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: Int
    public var title: String
    public var detail: String?
    public var type: String?
    /// Field-level problems some services add (`errors`).
    public var errors: [String]
    /// The same, where a service names the field (intake's `{field, code, message}`, the field
    /// a JSON pointer into the request).
    public var fieldErrors: [FieldError] = []

    public struct FieldError: Sendable, Equatable {
        public var field: String
        public var code: String
        public var message: String
    }

    public init(status: Int, title: String, detail: String? = nil, type: String? = nil, errors: [String] = []) {
        self.status = status
        self.title = title
        self.detail = detail
        self.type = type
        self.errors = errors
    }

    /// Reads a problem document, or makes one of a status and any body.
    public init(status: Int, body: Data) {
        let object = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any]
        let text = String(decoding: body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        self.init(
            status: status,
            title: object?["title"] as? String ?? HTTPStatusText.reason(status),
            detail: object?["detail"] as? String ?? (object == nil && !text.isEmpty ? String(text.prefix(500)) : nil),
            type: object?["type"] as? String,
            errors: (object?["errors"] as? [Any])?.map { "\($0)" } ?? []
        )
        fieldErrors = (object?["errors"] as? [Any] ?? []).compactMap { entry in
            guard let entry = entry as? [String: Any], let field = entry["field"] as? String, let message = entry["message"] as? String else { return nil }
            return FieldError(field: field, code: entry["code"] as? String ?? "", message: message)
        }
    }

    /// The token was missing or not valid (401), or it may not do this (403).
    public var isAuthorisation: Bool { status == 401 || status == 403 }

    public var description: String {
        "\(title) (\(status))" + (detail.map { ": \($0)" } ?? "")
    }
}

/// Reason phrases for the statuses the services answer with.
enum HTTPStatusText {
    static func reason(_ status: Int) -> String {
        switch status {
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 409: "Conflict"
        case 413: "Content Too Large"
        case 422: "Unprocessable Content"
        case 429: "Too Many Requests"
        case 500: "Internal Server Error"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        default: "HTTP \(status)"
        }
    }
}
