public import Foundation

/// A JSON client of one service's HTTP API, acting with one bearer token.
///
/// Every call answers the body of a 2xx response, or throws the service's ``ServiceProblem``
/// (any other status) or an ``HTTPTransportError`` (no answer). Callers encode bodies
/// themselves, with the contracts' encoder for the services' own types, so this module needs
/// no knowledge of the wire policy.
public struct ServiceClient: Sendable {
    /// The service's base URL, e.g. `http://127.0.0.1:8082`.
    public var baseURL: String
    /// Sent as `Authorization: Bearer …` when set.
    public var token: String?
    public var timeout: Duration

    public init(baseURL: String, token: String? = nil, timeout: Duration = .seconds(15)) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.token = token
        self.timeout = timeout
    }

    /// The full URL of `path` with `query` (nil values left out), percent-encoded.
    public func url(_ path: String, query: [(String, String?)] = []) -> String {
        var components = URLComponents()
        components.percentEncodedPath = path
        let items = query.compactMap { name, value in value.map { URLQueryItem(name: name, value: $0) } }
        if !items.isEmpty { components.queryItems = items }
        return baseURL + (components.string ?? path)
    }

    /// `GET path?query`.
    public func get(_ path: String, query: [(String, String?)] = []) async throws -> Data {
        try await send("GET", path, query: query, body: nil)
    }

    /// `method path` with a raw body (JSON when given).
    public func send(_ method: String, _ path: String, query: [(String, String?)] = [], body: Data?) async throws -> Data {
        let result = try await exchange(method, path, query: query, body: body)
        guard (200..<300).contains(result.status) else { throw ServiceProblem(status: result.status, body: result.body) }
        return result.body
    }

    /// `method path`, answering whatever status came: for endpoints whose refusals carry a
    /// result rather than a problem (a broken hash chain, a refused sub-contract).
    public func exchange(_ method: String, _ path: String, query: [(String, String?)] = [], body: Data? = nil) async throws -> HTTPResult {
        var headers: [(name: String, value: String)] = [("Accept", "application/json, application/problem+json")]
        if let token { headers.append(("Authorization", "Bearer \(token)")) }
        if body != nil { headers.append(("Content-Type", "application/json")) }
        return try await HTTPFetch.send(method, url: url(path, query: query), headers: headers, body: body, timeout: timeout)
    }
}
