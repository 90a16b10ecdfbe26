import ArgumentParser
import Foundation
import Notifier
import Postgres

/// `isms notifications`: the notifier's delivery ledger (issue #5 item 9).
struct NotificationsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notifications",
        abstract: "The delivery ledger: one row per (event, recipient, channel); list, show with its log, retry.",
        subcommands: [List.self, Show.self, Retry.self, Verify.self]
    )

    static var who: String { "cli:\(ProcessInfo.processInfo.environment["USER"] ?? "operator")" }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The latest notifications, newest first.")
        @Option(help: "queued, sending, sent, failed, acknowledged, silenced, grouped or cancelled.") var state: String?
        @Option(help: "Only those of this event id.") var event: String?
        @Option(help: "Only this recipient (a person id).") var recipient: String?
        @Option(help: "At most this many.") var limit = 50
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let (state, event, recipient, limit) = (state, event, recipient, limit)
            let records = try await CLIEnvironment.withDatabase { pool in
                try await pool.withConnection { try NotifierOperations().notifications(state: state, eventID: event, recipient: recipient, limit: limit, on: $0) }
            }
            if json { return try CLIOutput.json(records) }
            CLIOutput.table(
                ["ID", "STATE", "EVENT", "RECIPIENT", "CHANNEL", "ADDRESS"],
                records.map { [String($0.id), $0.state, $0.eventType, $0.recipientName.isEmpty ? $0.recipient : $0.recipientName, $0.channelKind, $0.channelAddress] }
            )
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One notification with its delivery log (JSON).")
        @Argument var id: Int64

        struct Detail: Encodable {
            var notification: NotificationRecord
            var log: [DeliveryLogEntry]
        }

        func run() async throws {
            let id = id
            let found = try await CLIEnvironment.withDatabase { pool in
                try await pool.withConnection { try NotifierOperations().notification(id: id, on: $0) }
            }
            guard let found else {
                CLIEnvironment.printError("no notification \(id)")
                throw ExitCode(1)
            }
            try CLIOutput.json(Detail(notification: found.record, log: found.log))
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Send a failed, silenced or cancelled notification again.")
        @Argument var id: Int64

        func run() async throws {
            let id = id
            let record = try await CLIEnvironment.withDatabase { pool in
                try await pool.withTransaction { try NotifierOperations().retry(id: id, by: NotificationsCommand.who, on: $0) }
            }
            print("notification \(record.id): \(record.state)")
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check the hash chain of the delivery log.")

        func run() async throws {
            let result = try await CLIEnvironment.withDatabase { pool in
                try await pool.withConnection { try NotifierOperations().verifyDeliveryLog(on: $0) }
            }
            if let broken = result.firstBroken {
                print("BROKEN at delivery log row \(broken)")
                throw ExitCode(1)
            }
            print("intact: \(result.entries) entries")
        }
    }
}

/// `isms silences`: mute matching notifications for maintenance, on record (issue #5 item 5).
struct SilencesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "silences",
        abstract: "Silences: add (matchers, until, reason), list, expire. Severity-1 incidents need --include-severity1.",
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
            let matchers = try matchers.map { text in
                do { return try NotificationRouting.Matcher(parsing: text) } catch { throw ValidationError("\(text): \(error)") }
            }
            let (ends, reason, severity1) = (Date().addingTimeInterval(TimeInterval(minutes * 60)), reason, includeSeverity1)
            let silence = try await CLIEnvironment.withDatabase { pool in
                try await pool.withTransaction {
                    try NotifierOperations().addSilence(matchers: matchers, endsAt: ends, reason: reason, createdBy: NotificationsCommand.who, includeSeverity1: severity1, on: $0)
                }
            }
            print("silence \(silence.id.uuidString.lowercased()) until \(CLIOutput.date(ends))")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Active silences (JSON); --all includes expired ones.")
        @Flag(help: "Include expired silences.") var all = false

        func run() async throws {
            let all = all
            let silences = try await CLIEnvironment.withDatabase { pool in
                try await pool.withConnection { try NotifierOperations().silences(includeExpired: all, on: $0) }
            }
            try CLIOutput.json(silences)
        }
    }

    struct Expire: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "End a silence now.")
        @Argument var id: String

        func run() async throws {
            guard let id = UUID(uuidString: id) else { throw ValidationError("not a silence id: \(self.id)") }
            let silence = try await CLIEnvironment.withDatabase { pool in
                try await pool.withTransaction { try NotifierOperations().expireSilence(id: id, by: NotificationsCommand.who, on: $0) }
            }
            print("silence \(silence.id.uuidString.lowercased()) expired")
        }
    }
}
