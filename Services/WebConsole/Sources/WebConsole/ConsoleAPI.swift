import Foundation
import ServiceClient

/// The services' HTTP APIs as one session calls them: with its own bearer token, so each
/// service applies its need-to-know rules to the person, not to the console.
struct ConsoleAPI: Sendable {
    let urls: [ConsoleService: String]
    let token: String?

    init(urls: [ConsoleService: String], token: String?) {
        self.urls = urls
        self.token = token
    }

    func client(_ service: ConsoleService) -> ServiceClient {
        ServiceClient(baseURL: urls[service] ?? service.localDefault, token: token, timeout: .seconds(10))
    }

    /// `GET` decoded as `T`. A 404 is the console's not-found page (what the person may not
    /// see looks the same as what does not exist), 401/403 its forbidden page, and no answer
    /// its service-unavailable page.
    func get<T: Decodable>(_ service: ConsoleService, _ path: String, query: [(String, String?)] = [], as type: T.Type = T.self) async throws -> T {
        let result = try await exchange(service, "GET", path, query: query)
        switch result.status {
        case 200..<300:
            do {
                return try JSONDecoder().decode(T.self, from: result.body)
            } catch {
                throw ConsolePageError.serviceUnavailable
            }
        case 404: throw ConsolePageError.notFound
        case 401, 403: throw ConsolePageError.forbidden
        default: throw ServiceProblem(status: result.status, body: result.body)
        }
    }

    /// A change: the response body on success, the service's problem otherwise (for the page
    /// to show next to the form); 404 is still the not-found page.
    func send(_ service: ConsoleService, _ method: String, _ path: String, json: [String: Any]) async throws -> Result<Data, ServiceProblem> {
        let body = try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])
        let result = try await exchange(service, method, path, body: body)
        if (200..<300).contains(result.status) { return .success(result.body) }
        if result.status == 404 { throw ConsolePageError.notFound }
        return .failure(ServiceProblem(status: result.status, body: result.body))
    }

    func exchange(_ service: ConsoleService, _ method: String, _ path: String, query: [(String, String?)] = [], body: Data? = nil) async throws -> HTTPResult {
        do {
            return try await client(service).exchange(method, path, query: query, body: body)
        } catch is HTTPTransportError {
            throw ConsolePageError.serviceUnavailable
        }
    }

    /// A path segment from user input, percent-encoded so it stays one segment.
    static func segment(_ value: String) -> String {
        FormData.encode(value)
    }
}
