import AMQP
import ArgumentParser
import Contracts
import Foundation
import ServiceRuntime

/// `isms report`: a producer at a terminal files incident reports through the broker.
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "File an incident report (Art. 27) and wait for intake's answer.",
        discussion: """
            The report is published to incident intake with publisher confirms; the command waits \
            for the accepted or rejected reply and prints the intake id or every error. Give the \
            report with flags, as a JSON file (--file, the `data` of incident-report.submit.v1), or \
            as NDJSON on standard input (--ndjson, one report per line) for bulk filing. \
            Exits 0 when every report was accepted, 2 when one was rejected, 3 on time-out.
            """
    )

    @Option(help: "Section code of the reporter (deploy/config/ward.yaml lists them).")
    var section: String?
    @Option(help: "Reporter's name.")
    var name: String?
    @Option(help: "How to reach the reporter (extension, e-mail).")
    var contact: String?
    @Option(help: "Category: \(IncidentCategory.allCases.map(\.rawValue).joined(separator: ", ")).")
    var category: String?
    @Option(help: "Short title.")
    var title: String?
    @Option(help: "What happened (at most 64 KiB).")
    var description: String?
    @Option(help: "When it happened (ISO 8601); default now.")
    var occurredAt: String?
    @Option(help: "When it was detected (ISO 8601); default --occurred-at.")
    var detectedAt: String?
    @Option(help: "When the ward learned of it: the statutory clock starts here (ISO 8601); default --detected-at.")
    var knownAt: String?
    @Option(help: "An affected asset, as NAME or NAME=C/I/A (e.g. 住民記録システム=3A/2/2); repeatable.")
    var asset: [String] = []
    @Option(help: "Personal data involved: yes, no or unknown.") var personalData = "unknown"
    @Option(help: "My Number (individual numbers) involved: yes, no or unknown.") var myNumber = "unknown"
    @Option(help: "Sensitive personal data involved: yes, no or unknown.") var sensitive = "unknown"
    @Option(help: "Wrongful intent suspected: yes, no or unknown.") var wrongfulIntent = "unknown"
    @Option(help: "Visible to an unspecified number of people: yes, no or unknown.") var unspecifiedViewers = "unknown"
    @Option(help: "The data was (strongly) encrypted: yes, no or unknown.") var encrypted = "unknown"
    @Option(help: "Number of affected persons, or unknown.") var affectedPersons = "unknown"
    @Option(help: "The idempotency key; default a new UUID. Re-use it to retry safely.")
    var reportId: String?
    @Option(help: "Read the report from this JSON file.")
    var file: String?
    @Flag(help: "Read one report per line (JSON) from standard input.")
    var ndjson = false
    @Option(help: "Seconds to wait for intake's answers.")
    var timeout = 10

    func run() async throws {
        let reports = try collectReports()
        guard !reports.isEmpty else { throw ValidationError("no report given") }
        let outcome = try await ReportPublisher(timeout: .seconds(timeout)).submit(reports)
        var rejected = 0
        for (index, data) in reports.enumerated() {
            let key = Self.reportID(of: data)
            switch key.flatMap({ outcome.replies[$0] }) {
            case .accepted(let accepted)?:
                print("accepted \(accepted.reportID.lowercasedString) intake-id \(accepted.intakeID.lowercasedString)\(accepted.duplicate ? " (already filed)" : "")")
            case .rejected(let rejection)?:
                rejected += 1
                print("rejected \(rejection.reportID?.lowercasedString ?? "report #\(index + 1)")")
                for error in rejection.errors {
                    print("  \(error.field.isEmpty ? "(report)" : error.field): \(error.message) [\(error.code)]")
                }
            case nil:
                print("no answer for \(key?.lowercasedString ?? "report #\(index + 1)") within \(timeout) s")
            }
        }
        if outcome.replies.count < outcome.expected { throw ExitCode(3) }
        if rejected > 0 { throw ExitCode(2) }
    }

    /// The `data` documents to publish, exactly as given (intake validates them).
    private func collectReports() throws -> [[UInt8]] {
        if ndjson {
            var reports: [[UInt8]] = []
            while let line = readLine(strippingNewline: true) {
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                if !trimmed.isEmpty { reports.append(Array(trimmed.utf8)) }
            }
            return reports
        }
        if let file {
            return [Array(try Data(contentsOf: URL(fileURLWithPath: file)))]
        }
        return [try ContractsJSON.encoder().encode(try reportFromFlags())].map(Array.init)
    }

    private func reportFromFlags() throws -> SubmitIncidentReport {
        guard let section, let name, let contact, let category, let title else {
            throw ValidationError("give --section, --name, --contact, --category and --title (and usually --description), or --file / --ndjson")
        }
        guard let category = IncidentCategory(rawValue: category) else {
            throw ValidationError("unknown category '\(category)'; one of \(IncidentCategory.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let occurred = try occurredAt.map { try Self.date($0, "--occurred-at") } ?? Date()
        let detected = try detectedAt.map { try Self.date($0, "--detected-at") } ?? occurred
        let known = try knownAt.map { try Self.date($0, "--known-at") } ?? detected
        let persons: AffectedPersons
        if affectedPersons == "unknown" {
            persons = .unknown
        } else if let count = Int(affectedPersons), count >= 0 {
            persons = .count(count)
        } else {
            throw ValidationError("--affected-persons takes a number or 'unknown'")
        }
        return SubmitIncidentReport(
            reportID: try reportId.map { guard let id = UUID(uuidString: $0) else { throw ValidationError("--report-id must be a UUID") }; return id } ?? UUID(),
            reporter: IncidentReporter(sectionCode: section, name: name, contact: contact),
            occurredAt: occurred,
            detectedAt: detected,
            knownAt: known,
            category: category,
            affectedAssets: try asset.map(Self.asset),
            answers: IncidentAnswers(
                personalData: try Self.verdict(personalData, "--personal-data"),
                myNumber: try Self.verdict(myNumber, "--my-number"),
                sensitivePersonalData: try Self.verdict(sensitive, "--sensitive"),
                wrongfulIntent: try Self.verdict(wrongfulIntent, "--wrongful-intent"),
                unspecifiedViewers: try Self.verdict(unspecifiedViewers, "--unspecified-viewers"),
                dataEncrypted: try Self.verdict(encrypted, "--encrypted")
            ),
            affectedPersons: persons,
            title: title,
            description: description ?? "",
            attachments: []
        )
    }

    static func verdict(_ text: String, _ flag: String) throws -> Verdict {
        guard let verdict = Verdict(rawValue: text) else { throw ValidationError("\(flag) takes yes, no or unknown") }
        return verdict
    }

    static func date(_ text: String, _ flag: String) throws -> Date {
        guard let date = ContractsJSON.parseTimestamp(text) else { throw ValidationError("\(flag) takes an ISO 8601 time such as 2026-11-26T09:30:00+09:00") }
        return date
    }

    static func asset(_ text: String) throws -> AffectedAsset {
        let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { return AffectedAsset(name: text) }
        let levels = parts[1].split(separator: "/").map(String.init)
        guard levels.count == 3,
              let confidentiality = ConfidentialityLevel(rawValue: levels[0]),
              let integrity = IntegrityLevel(rawValue: levels[1]),
              let availability = AvailabilityLevel(rawValue: levels[2])
        else {
            throw ValidationError("--asset \(text): the classification is C/I/A, e.g. 3A/2/2 (confidentiality 3A, 3B, 3C, 2 or 1; integrity and availability 2 or 1)")
        }
        return AffectedAsset(name: parts[0], classification: AssetClassification(confidentiality: confidentiality, integrity: integrity, availability: availability))
    }

    static func reportID(of data: [UInt8]) -> UUID? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(data)) as? [String: Any], let id = object["reportId"] as? String else { return nil }
        return UUID(uuidString: id)
    }
}

/// Publishes reports with confirms to `isms.commands` and collects intake's replies on an
/// exclusive reply queue.
struct ReportPublisher {
    var timeout: Duration

    enum Reply {
        case accepted(IncidentReportAccepted)
        case rejected(IncidentReportRejected)
    }

    struct Outcome {
        var replies: [UUID: Reply] = [:]
        /// Distinct reports sent: the same reportId twice gets one answer each time, under one key.
        var expected = 0
    }

    func submit(_ reports: [[UInt8]]) async throws -> Outcome {
        let configuration = try CLIEnvironment.amqp()
        let connection = try await AMQPConnection.connect(configuration, logger: CLIEnvironment.logger)
        do {
            let outcome = try await submit(reports, on: connection, user: configuration.user)
            await connection.close()
            return outcome
        } catch {
            await connection.close()
            throw error
        }
    }

    private func submit(_ reports: [[UInt8]], on connection: AMQPConnection, user: String) async throws -> Outcome {
        // A server-named, exclusive queue: it lives as long as this connection.
        let replyQueue = try await connection.declare(AMQPQueue(name: "", durable: false, exclusive: true, autoDelete: true)).name
        _ = try await connection.consume(queue: replyQueue, prefetch: 500)
        try await connection.enableConfirms()

        var messages: [AMQPOutgoingMessage] = []
        for data in reports {
            let envelope = RawEnvelope(
                id: EnvelopeFormat.newID(),
                source: "urn:isms:producer:\(user)",
                type: MessageTypes.submitIncidentReport.wireName,
                time: Date(),
                subject: ReportCommand.reportID(of: data)?.lowercasedString,
                dataClassification: .confidential,
                traceParent: .random(),
                data: data
            )
            var message = try envelope.amqpMessage(appID: ServiceName.isms.rawValue, replyTo: replyQueue)
            // RabbitMQ verifies user_id against the connection's user: intake trusts it as the
            // producer's identity for its reporting grants.
            message.properties.userID = user
            messages.append(message)
        }
        for chunk in stride(from: 0, to: messages.count, by: 500) {
            let batch = Array(messages[chunk..<min(chunk + 500, messages.count)])
            for (index, error) in try await connection.publish(batch).enumerated() {
                if let error { throw ValidationError("report #\(chunk + index + 1) was not taken by the broker: \(error)") }
            }
        }

        var outcome = Outcome()
        outcome.expected = Set(reports.enumerated().map { index, data in ReportCommand.reportID(of: data)?.uuidString ?? "#\(index)" }).count
        let deadline = ContinuousClock.now + timeout
        var answers = 0
        while answers < reports.count && ContinuousClock.now < deadline {
            for delivery in try await connection.nextDeliveries(max: 500, timeout: .milliseconds(200)) {
                try await connection.ack(delivery.deliveryTag)
                answers += 1
                guard let raw = try? RawEnvelope(delivery: delivery) else { continue }
                if let accepted = try? raw.decode(as: IncidentReportAccepted.self).data {
                    outcome.replies[accepted.reportID] = .accepted(accepted)
                } else if let rejected = try? raw.decode(as: IncidentReportRejected.self).data {
                    // A rejection without a readable reportId answers the only report, if there is one.
                    let key = rejected.reportID ?? (reports.count == 1 ? ReportCommand.reportID(of: reports[0]) : nil)
                    if let key { outcome.replies[key] = .rejected(rejected) }
                }
            }
        }
        return outcome
    }
}
