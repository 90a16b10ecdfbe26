import ArgumentParser
import Contracts
import Foundation
import Notifier
import ServiceClient

/// `isms notifications`: the notifier's delivery ledger (issue #5 item 9), through the
/// notifier's API with the person's token.
struct NotificationsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notifications",
        abstract: "The delivery ledger: one row per (event, recipient, channel); list, show with its log, retry, verify.",
        discussion: NotificationsCommand.discussion,
        subcommands: [List.self, Show.self, Retry.self, Verify.self]
    )

    static let discussion = """
        Calls the notifier's HTTP API (ISMS_NOTIFIER_URL, default http://127.0.0.1:8085) with \
        your token (ISMS_TOKEN, or the one `isms login` saved); ward-wide operator roles only. \
        \(ServiceExit.help)
        """

    static func client() throws -> ServiceClient { try ServiceAccess.client(.notifier) }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The latest notifications, newest first.")
        @Option(help: "queued, sending, sent, failed, acknowledged, silenced, grouped or cancelled.") var state: String?
        @Option(help: "Only those of this event id.") var event: String?
        @Option(help: "Only this recipient (a person id).") var recipient: String?
        @Option(help: "At most this many.") var limit = 50
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let client = try NotificationsCommand.client()
            let query = [("state", state), ("eventId", event), ("recipient", recipient), ("limit", String(limit))]
            let data = try await ServiceAccess.call { try await client.get("/v1/notifications", query: query) }
            if json { return try CLIOutput.json(answer: data, key: "notifications") }
            CLIOutput.table(
                ["ID", "STATE", "EVENT", "RECIPIENT", "CHANNEL", "ADDRESS"],
                CLIOutput.objects(data, key: "notifications").map { record in
                    let name = record["recipientName"] as? String ?? ""
                    return [
                        CLIOutput.text(record["id"]), CLIOutput.text(record["state"]), CLIOutput.text(record["eventType"]),
                        name.isEmpty ? CLIOutput.text(record["recipient"]) : name, CLIOutput.text(record["channelKind"]), CLIOutput.text(record["channelAddress"]),
                    ]
                }
            )
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One notification with its delivery log (JSON).")
        @Argument var id: Int64

        func run() async throws {
            let client = try NotificationsCommand.client()
            try CLIOutput.json(answer: try await ServiceAccess.call { try await client.get("/v1/notifications/\(id)") })
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Send a failed, silenced or cancelled notification again.")
        @Argument var id: Int64

        func run() async throws {
            let client = try NotificationsCommand.client()
            let record = CLIOutput.object(try await ServiceAccess.call { try await client.send("POST", "/v1/notifications/\(id)/retry", body: nil) })
            print("notification \(CLIOutput.text(record["id"])): \(CLIOutput.text(record["state"]))")
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check the hash chain of the delivery log; names the first broken row (exit 1).")

        func run() async throws {
            let client = try NotificationsCommand.client()
            let result = try await ServiceAccess.call { try await client.exchange("GET", "/v1/delivery-log/verification") }
            let answer = CLIOutput.object(result.body)
            switch result.status {
            case 200: print("intact: \(CLIOutput.text(answer["entries"])) entries")
            case 409:
                print("BROKEN at delivery log row \(CLIOutput.text(answer["firstBroken"]))")
                throw ExitCode(ServiceExit.failure)
            default: try ServiceAccess.refuse(result)
            }
        }
    }
}

/// `isms silences`: mute matching notifications for maintenance, on record (issue #5 item 5).
struct SilencesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "silences",
        abstract: "Silences: add (matchers, until, reason), list, expire. Severity-1 incidents need --include-severity1.",
        discussion: NotificationsCommand.discussion,
        subcommands: [Add.self, List.self, Expire.self]
    )

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Mute notifications whose event matches every matcher, until a time.")
        @Option(name: .customLong("matcher"), help: "NAME=VALUE, NAME!=VALUE, NAME=~REGEX or NAME!~REGEX on event attributes (type, sectionCode, severity, ...), recipient, channel or route; repeatable.")
        var matchers: [String]
        @Option(help: "How long, in minutes.") var minutes: Int
        @Option(help: "Why (recorded).") var reason: String
        @Flag(help: "Also mute severity-1 incidents (never done without this flag).") var includeSeverity1 = false

        func run() async throws {
            // Checked here too, so a typo is named before anything is sent.
            for text in matchers {
                do { _ = try NotificationRouting.Matcher(parsing: text) } catch { throw ValidationError("\(text): \(error)") }
            }
            guard minutes > 0 else { throw ValidationError("--minutes must be positive") }
            let client = try NotificationsCommand.client()
            let body = try ServiceAccess.body(["matchers": matchers, "duration": "\(minutes)m", "reason": reason, "includeSeverity1": includeSeverity1])
            let silence = CLIOutput.object(try await ServiceAccess.call { try await client.send("POST", "/v1/silences", body: body) })
            print("silence \(CLIOutput.text(silence["id"]).lowercased()) until \(CLIOutput.text(silence["endsAt"]))")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Active silences (JSON); --all includes expired ones.")
        @Flag(help: "Include expired silences.") var all = false

        func run() async throws {
            let client = try NotificationsCommand.client()
            try CLIOutput.json(answer: try await ServiceAccess.allPages(client, "/v1/silences", query: [("all", all ? "true" : nil)], key: "silences"), key: "silences")
        }
    }

    struct Expire: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "End a silence now.")
        @Argument var id: String

        func run() async throws {
            guard let id = UUID(uuidString: id) else { throw ValidationError("not a silence id: \(self.id)") }
            let client = try NotificationsCommand.client()
            let silence = CLIOutput.object(try await ServiceAccess.call { try await client.send("POST", "/v1/silences/\(id.lowercasedString)/expire", body: nil) })
            print("silence \(CLIOutput.text(silence["id"]).lowercased()) expired")
        }
    }
}
