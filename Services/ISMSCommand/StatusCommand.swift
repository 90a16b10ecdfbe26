import ArgumentParser
import Contracts
import Foundation
import ServiceClient

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Per work queue: ready, unacknowledged, consumers and dead-letter depth; per service: readiness.",
        discussion: """
            Queues come from the RabbitMQ management API (ISMS_MANAGEMENT_URL, with user and \
            password in the URL). Services are asked for /readyz at ISMS_<SERVICE>_URL \
            (for example ISMS_INCIDENT_INTAKE_URL), by default http://127.0.0.1:8081 to 8085.
            """
    )

    func run() async throws {
        var healthy = true
        let queues = try await managementQueues()
        print(pad("QUEUE", 30) + pad("READY", 8, right: true) + pad("UNACKED", 9, right: true) + pad("CONSUMERS", 11, right: true) + pad("DEAD-LETTERS", 14, right: true))
        for workQueue in BusLayout.workQueues {
            let queue = queues[workQueue.name]
            let dead = queues[BusLayout.deadLetterQueueName(for: workQueue.name)]?.messages ?? 0
            if queue == nil || dead > 0 || (queue?.consumers ?? 0) == 0 { healthy = false }
            print(
                pad(workQueue.name, 30)
                    + pad(queue.map { String($0.ready) } ?? "missing", 8, right: true)
                    + pad(queue.map { String($0.unacked) } ?? "-", 9, right: true)
                    + pad(queue.map { String($0.consumers) } ?? "-", 11, right: true)
                    + pad(String(dead), 14, right: true)
            )
        }
        print("")
        print(pad("SERVICE", 22) + pad("READY", 7) + "DETAIL")
        for service in ServiceName.allCases where service != .isms {
            let base = ServiceAccess.baseURL(service)
            let (ready, detail) = await readiness(base)
            if !ready { healthy = false }
            print(pad(service.rawValue, 22) + pad(ready ? "yes" : "no", 7) + detail)
        }
        if !healthy { throw ExitCode(1) }
    }

    struct QueueFigures {
        var ready: Int
        var unacked: Int
        var messages: Int
        var consumers: Int
    }

    private func managementQueues() async throws -> [String: QueueFigures] {
        guard var components = URLComponents(string: CLIEnvironment.managementURL) else {
            throw ValidationError("ISMS_MANAGEMENT_URL is not a URL")
        }
        let user = components.user ?? "guest"
        let password = components.password ?? "guest"
        components.user = nil
        components.password = nil
        components.path = "/api/queues/%2F"
        components.percentEncodedPath = "/api/queues/%2F"
        guard let url = components.url else { throw ValidationError("ISMS_MANAGEMENT_URL is not a URL") }
        let authorization = "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
        let answer = try await HTTPFetch.send(url: url.absoluteString, headers: [("Authorization", authorization)], timeout: .seconds(5))
        guard answer.status == 200, let list = try JSONSerialization.jsonObject(with: answer.body) as? [[String: Any]]
        else {
            throw ValidationError("the management API at \(url) did not answer with the queue list")
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

    private func readiness(_ base: String) async -> (Bool, String) {
        do {
            let answer = try await HTTPFetch.send(url: base + "/readyz", timeout: .seconds(3))
            return (answer.status == 200, "\(base)  \(answer.text)")
        } catch {
            return (false, "\(base)  unreachable")
        }
    }

    private func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
        let padding = String(repeating: " ", count: max(1, width - text.count))
        return right ? padding + text + " " : text + padding
    }
}
