import AMQP
import ClientSupport
import Contracts
import Foundation
import ServiceRuntime
import Logging

/// `isms-bench publish`: the load generator of the fault-injection suite (Tests/faults/run.sh).
///
///   isms-bench publish --amqp-url URL --count N [--rate R] [--window W] --log FILE
///   isms-bench publish --amqp-url URL --repeat-from FILE --log FILE     (the same reports again)
///   isms-bench publish --amqp-url URL --invalid schema|garbage|oversize --log FILE
///   ... --assets distinct     each report names an asset of its own (`FAULT-` and its id), so
///                            no two reports are related and each opens a case of its own
///                            (the pipeline scenarios of the fault suite)
///
/// Every report is written to FILE as `attempt <id>` before its window is published and as
/// `confirmed <id>` once the broker confirmed it. A lost connection is retried with back-off
/// (the window again, same ids: intake de-duplicates), which is what a real producer does.
/// The report's data depends only on its id and the day, so a repeat is byte-identical.
enum PublishCommand {
    static func run(_ arguments: [String], logger: Logger) async throws {
        var options: [String: String] = [:]
        var index = 0
        while index < arguments.count {
            let key = arguments[index]
            guard key.hasPrefix("--"), index + 1 < arguments.count else { throw BenchError("usage: isms-bench publish --amqp-url URL --count N --log FILE [--rate R]") }
            options[String(key.dropFirst(2))] = arguments[index + 1]
            index += 2
        }
        guard let url = options["amqp-url"] ?? ProcessInfo.processInfo.environment["ISMS_AMQP_URL"], let logPath = options["log"] else {
            throw BenchError("publish needs --amqp-url (or ISMS_AMQP_URL) and --log")
        }
        let configuration = try AMQPConfiguration(url: url, connectionName: "isms-bench/publish")
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        try log.seekToEnd()
        func note(_ lines: [String]) {
            log.write(Data(lines.map { $0 + "\n" }.joined().utf8))
        }

        var ids: [UUID]
        if let file = options["repeat-from"] {
            let text = try String(contentsOfFile: file, encoding: .utf8)
            ids = Array(Set(text.split(separator: "\n").compactMap { line -> UUID? in
                let parts = line.split(separator: " ")
                return parts.count == 2 && parts[0] == "confirmed" ? UUID(uuidString: String(parts[1])) : nil
            }))
            if let limit = options["count"].flatMap(Int.init) { ids = Array(ids.prefix(limit)) }
        } else {
            ids = (0..<(options["count"].flatMap(Int.init) ?? 1)).map { _ in UUID() }
        }
        let rate = options["rate"].flatMap(Double.init) ?? 0
        let window = max(1, options["window"].flatMap(Int.init) ?? 100)
        let user = configuration.user
        let day = (Date().timeIntervalSince1970 / 86_400).rounded(.down) * 86_400

        // No correlationKey ever; with `--assets distinct` no shared asset either, so correlation
        // (issue #16) has nothing to join on.
        let distinctAssets = options["assets"] == "distinct"
        func assets(_ reportID: String) -> String {
            guard distinctAssets else { return "[]" }
            // The report id with its digits spelt as letters (0 → g ... 9 → p): unique per report,
            // and never a run of 12 digits that intake's My Number scan would take for one.
            let id = String(reportID.unicodeScalars.map { $0.properties.numericType == nil ? Character($0) : Character(UnicodeScalar($0.value + 55)!) })
            return #"[{"id":"FAULT-\#(id)","name":"fault suite asset"}]"#
        }

        func message(_ id: UUID) throws -> AMQPOutgoingMessage {
            let reportID = id.lowercasedString
            let base = Date(timeIntervalSince1970: day - 3_600)
            var data = """
                {"reportId":"\(reportID)","reporter":{"sectionCode":"family-registry","name":"山田 太郎","contact":"内線 1234"},\
                "occurredAt":"\(ContractsJSON.formatTimestamp(base))","detectedAt":"\(ContractsJSON.formatTimestamp(base))",\
                "knownAt":"\(ContractsJSON.formatTimestamp(base))","category":"loss-or-theft","affectedAssets":\(assets(reportID)),\
                "answers":{"personalData":"no","myNumber":"no","sensitivePersonalData":"no","wrongfulIntent":"no","unspecifiedViewers":"no","dataEncrypted":"yes"},\
                "affectedPersons":0,"title":"fault suite","description":"fault-injection report","attachments":[]}
                """
            switch options["invalid"] {
            case "schema": data = #"{"reportId":"\#(reportID)","title":42}"#
            case "oversize": data = data.replacingOccurrences(of: "fault-injection report", with: String(repeating: "x", count: 300_000))
            default: break
            }
            let envelope = RawEnvelope(
                source: "urn:isms:producer:\(user)",
                type: MessageTypes.submitIncidentReport.wireName,
                subject: reportID,
                dataClassification: .confidential,
                data: Array(data.utf8)
            )
            var message = try envelope.amqpMessage(appID: "isms-bench")
            message.properties.userID = user
            if options["invalid"] == "garbage" { message.body = Array("not a cloud event \(reportID)".utf8) }
            return message
        }

        let backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(2))
        var connection: AMQPConnection?
        var next = 0
        var failures = 0
        let start = ContinuousClock.now
        while next < ids.count {
            if rate > 0 {
                let due = Duration.seconds(Double(next) / rate)
                let now = ContinuousClock.now - start
                if due > now { try await Task.sleep(for: due - now) }
            }
            let size = rate > 0 ? max(1, min(window, Int(Clock.elapsed(since: start) * rate) + 1 - next)) : window
            let batch = Array(ids[next..<min(ids.count, next + size)])
            do {
                if connection == nil {
                    let opened = try await AMQPConnection.connect(configuration, logger: logger)
                    try await opened.enableConfirms()
                    connection = opened
                }
                note(batch.map { "attempt \($0.lowercasedString)" })
                let outcomes = try await connection!.publish(try batch.map(message))
                if let failure = outcomes.compactMap({ $0 }).first {
                    // Refused or not confirmed (connection lost, reject-publish): retry the window.
                    throw failure
                }
                note(batch.map { "confirmed \($0.lowercasedString)" })
                next += batch.count
                failures = 0
            } catch {
                logger.warning("publish failed, retrying", metadata: ["error": "\(error)"])
                if let stale = connection { await stale.close() }
                connection = nil
                failures += 1
                try await Task.sleep(for: backoff.delay(attempt: min(failures, 10)))
                if Clock.elapsed(since: start) > 600 { throw BenchError("gave up after 600 s") }
            }
        }
        if let connection { await connection.close() }
        try log.close()
        print("published \(ids.count) in \(String(format: "%.1f", Clock.elapsed(since: start))) s")
    }
}
