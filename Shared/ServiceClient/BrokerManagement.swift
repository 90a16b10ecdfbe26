import Foundation

/// RabbitMQ's management API, read for the operators' views (`isms status`, the console's
/// operations page): the figures of every queue of the default virtual host.
public enum BrokerManagement {
    public struct QueueFigures: Sendable, Equatable {
        public var ready: Int
        public var unacked: Int
        public var messages: Int
        public var consumers: Int
    }

    public struct Unavailable: Error, CustomStringConvertible {
        public var description: String
    }

    /// The queues by name. `url` carries the user and password (`http://user:pass@host:port`).
    public static func queues(managementURL: String) async throws -> [String: QueueFigures] {
        guard var components = URLComponents(string: managementURL) else { throw Unavailable(description: "ISMS_MANAGEMENT_URL is not a URL") }
        let user = components.user ?? "guest"
        let password = components.password ?? "guest"
        components.user = nil
        components.password = nil
        components.percentEncodedPath = "/api/queues/%2F"
        guard let url = components.url else { throw Unavailable(description: "ISMS_MANAGEMENT_URL is not a URL") }
        let authorization = "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
        let answer = try await HTTPFetch.send(url: url.absoluteString, headers: [("Authorization", authorization)], timeout: .seconds(5))
        guard answer.status == 200, let list = try JSONSerialization.jsonObject(with: answer.body) as? [[String: Any]] else {
            throw Unavailable(description: "the management API at \(url) did not answer with the queue list")
        }
        var figures: [String: QueueFigures] = [:]
        for queue in list {
            guard let name = queue["name"] as? String else { continue }
            figures[name] = QueueFigures(
                ready: queue["messages_ready"] as? Int ?? 0,
                unacked: queue["messages_unacknowledged"] as? Int ?? 0,
                messages: queue["messages"] as? Int ?? 0,
                consumers: queue["consumers"] as? Int ?? 0
            )
        }
        return figures
    }

    /// A service's `/readyz`: whether it is ready, and what it said.
    public static func readiness(baseURL: String) async -> (ready: Bool, detail: String) {
        do {
            let answer = try await HTTPFetch.send(url: baseURL + "/readyz", timeout: .seconds(3))
            return (answer.status == 200, answer.text)
        } catch {
            return (false, "unreachable")
        }
    }
}
