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

    private func managementQueues() async throws -> [String: BrokerManagement.QueueFigures] {
        do {
            return try await BrokerManagement.queues(managementURL: CLIEnvironment.managementURL)
        } catch let error as BrokerManagement.Unavailable {
            throw ValidationError(error.description)
        }
    }

    private func readiness(_ base: String) async -> (Bool, String) {
        let (ready, detail) = await BrokerManagement.readiness(baseURL: base)
        return (ready, "\(base)  \(detail)")
    }

    private func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
        let padding = String(repeating: " ", count: max(1, width - text.count))
        return right ? padding + text + " " : text + padding
    }
}
