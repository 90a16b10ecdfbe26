import ArgumentParser
import Contracts
import Foundation
import ServiceClient

/// `isms dlq`: work the dead letters (issue #17 item 5) through the owning service's API with
/// the person's token, like the other commands that act: the service checks the operator role,
/// records the token as the one who replayed or discarded, and writes the discard record with
/// its own database role (the administrator's URL is not needed, nor the broker's).
struct DeadLettersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq",
        abstract: "Dead letters: list, show (headers and masked body), replay to where they were first sent, discard with a reason.",
        discussion: """
            Each work queue's dead letters (<queue>.dlq) are served by the service that consumes the \
            queue, at ISMS_<SERVICE>_URL (default http://127.0.0.1:8081 to 8085), with your token \
            (ISMS_TOKEN, or the one `isms login` saved); ward-wide operator roles only. Listing \
            and showing move nothing, but mark the messages they read as redelivered. \
            \(ServiceExit.help)
            """,
        subcommands: [List.self, Show.self, Replay.self, Discard.self]
    )

    /// The service that consumes `queue`, or a usage error naming the work queues.
    static func owner(of queue: String) throws -> ServiceName {
        guard let workQueue = BusLayout.workQueues.first(where: { $0.name == queue }) else {
            throw ValidationError("\(queue) is not a work queue; one of: \(BusLayout.workQueues.map(\.name).joined(separator: ", "))")
        }
        return workQueue.consumer
    }

    static func path(_ messageID: String, _ action: String? = nil) -> String {
        "/v1/dead-letters/\(ServiceAccess.segment(messageID))" + (action.map { "/\($0)" } ?? "")
    }

    static func integer(_ value: JSONValue?) -> Int64 {
        if case .integer(let number)? = value { return number }
        return 0
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The dead letters at the head of one work queue's DLQ, or of every work queue's.")
        @Option(help: "A work queue (default: every work queue).") var queue: String?
        @Option(help: "At most this many per queue (1-500).") var limit = 50
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let queues = queue.map { [$0] } ?? BusLayout.workQueues.map(\.name)
            var lists: [JSONValue] = []
            for queue in queues {
                let client = try ServiceAccess.client(try DeadLettersCommand.owner(of: queue))
                let data = try await ServiceAccess.call { try await client.get("/v1/dead-letters", query: [("queue", queue), ("limit", String(limit))]) }
                lists.append(try JSONValue(parsing: Array(data)))
            }
            if json { return print(JSONValue.array(lists).jsonString(pretty: true)) }
            var rows: [[String]] = []
            for list in lists {
                for letter in list["deadLetters"]?.arrayValue ?? [] {
                    let origin = letter["origin"].map { origin in
                        let exchange = origin["exchange"]?.stringValue ?? ""
                        return "\(exchange.isEmpty ? "(default)" : exchange) \(origin["routingKey"]?.stringValue ?? "")"
                    } ?? "-"
                    rows.append([
                        list["queue"]?.stringValue ?? "-", "\(DeadLettersCommand.integer(letter["position"]))",
                        letter["messageId"]?.stringValue ?? "-", letter["type"]?.stringValue ?? "-", letter["errorCode"]?.stringValue ?? "-",
                        CLIOutput.text(letter["deadLetteredAt"]?.stringValue), origin, "\(DeadLettersCommand.integer(letter["size"]))",
                    ])
                }
            }
            guard !rows.isEmpty else { return print("no dead letters") }
            CLIOutput.table(["QUEUE", "#", "MESSAGE-ID", "TYPE", "ERROR", "DEAD-LETTERED", "ORIGIN", "BYTES"], rows)
            for list in lists {
                let (depth, listed) = (DeadLettersCommand.integer(list["depth"]), Int64(list["deadLetters"]?.arrayValue?.count ?? 0))
                if depth > listed { print("\(list["queue"]?.stringValue ?? "?"): \(depth) dead letters, the first \(listed) listed") }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One dead letter: its headers (the reasons among them) and its body, My Numbers masked (JSON).")
        @Argument(help: "The message id.") var messageID: String
        @Option(help: "The work queue.") var queue: String

        func run() async throws {
            let client = try ServiceAccess.client(try DeadLettersCommand.owner(of: queue))
            try CLIOutput.json(answer: try await ServiceAccess.call { try await client.get(DeadLettersCommand.path(messageID), query: [("queue", queue)]) })
        }
    }

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send a dead letter again to the exchange and routing key it was first sent to, same message id; after the cause is fixed.")
        @Argument(help: "The message id.") var messageID: String
        @Option(help: "The work queue.") var queue: String

        func run() async throws {
            let client = try ServiceAccess.client(try DeadLettersCommand.owner(of: queue))
            let outcome = CLIOutput.object(
                try await ServiceAccess.call { try await client.send("POST", DeadLettersCommand.path(messageID, "replay"), query: [("queue", queue)], body: nil) })
            let destination = outcome["destination"] as? [String: Any] ?? [:]
            print("replayed \(messageID) to exchange '\(CLIOutput.text(destination["exchange"]))' routing key '\(CLIOutput.text(destination["routingKey"]))'")
        }
    }

    struct Discard: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a dead letter for good; the reason, your token and the time are recorded by the service.")
        @Argument(help: "The message id.") var messageID: String
        @Option(help: "The work queue.") var queue: String
        @Option(help: "Why it is discarded (recorded).") var reason: String

        func run() async throws {
            let client = try ServiceAccess.client(try DeadLettersCommand.owner(of: queue))
            let body = try ServiceAccess.body(["reason": reason])
            _ = try await ServiceAccess.call { try await client.send("POST", DeadLettersCommand.path(messageID, "discard"), query: [("queue", queue)], body: body) }
            print("discarded \(messageID) from \(BusLayout.deadLetterQueueName(for: queue))")
        }
    }
}
