public import Contracts
public import Foundation
public import Postgres
import Crypto
import Directory
public import MyNumber

/// The one path every report takes, from the broker or from HTTP: validate, authorise,
/// de-duplicate, screen for My Numbers, store, announce. Runs inside the caller's transaction.
public struct IntakeProcessor: Sendable {
    public static let source = "/isms/incident-intake"

    public var validator: ReportValidator
    public var screener: MyNumberScreener
    private let directory = DirectoryStore()

    public init(validator: ReportValidator = ReportValidator(), screener: MyNumberScreener = MyNumberScreener()) {
        self.validator = validator
        self.screener = screener
    }

    /// A report that was accepted (now or earlier).
    public struct Accepted: Sendable, Hashable {
        public var reportID: UUID
        public var intakeID: UUID
        public var receivedAt: Date
        /// The same report was accepted before; nothing was stored or announced again.
        public var duplicate: Bool
        /// The `incident.reported` event, when the report is new.
        public var event: Envelope<IncidentReported>?
    }

    /// One report as it arrived: its JSON `data`, who sent it, when, and the command that carried it.
    public struct Submission: Sendable {
        public var data: [UInt8]
        public var producer: Producer
        /// When the producer sent it (the envelope's time; the HTTP request's arrival).
        public var reportedAt: Date
        /// The command that carried it, for correlation; nil over HTTP.
        public var cause: Causation?

        public init(data: [UInt8], producer: Producer, reportedAt: Date, cause: Causation?) {
            self.data = data
            self.producer = producer
            self.reportedAt = reportedAt
            self.cause = cause
        }
    }

    /// Processes one submission's JSON `data`.
    public func submit(
        data: [UInt8],
        producer: Producer,
        reportedAt: Date,
        now: Date,
        cause: Causation?,
        on connection: PostgresConnection
    ) throws -> Result<Accepted, Rejection> {
        try submit([Submission(data: data, producer: producer, reportedAt: reportedAt, cause: cause)], now: now, on: connection)[0]
    }

    /// Processes submissions in order, with a handful of statements for all of them (a batch from
    /// the broker, or one from HTTP): the same outcome for each as if they came one by one. A
    /// report repeated within the batch is a duplicate (or a conflict) of its first copy.
    public func submit(_ submissions: [Submission], now: Date, on connection: PostgresConnection) throws -> [Result<Accepted, Rejection>] {
        // Validate everything first (no database), then look up every section named at once.
        let validated = submissions.map { validator.validate(data: $0.data, now: now) }
        let codes = Set(validated.compactMap { try? $0.get().reporter.sectionCode })
        let sections = try directory.sections(codes: Array(codes), on: connection)

        enum Step {
            case rejected(Rejection)
            /// A report to store, or a duplicate of one stored earlier or earlier in this batch.
            case candidate(SubmitIncidentReport, Organisation.Section, fingerprint: String)
        }
        var steps: [Step] = []
        steps.reserveCapacity(submissions.count)
        for (submission, result) in zip(submissions, validated) {
            let report: SubmitIncidentReport
            switch result {
            case .success(let valid): report = valid
            case .failure(let rejection):
                steps.append(.rejected(rejection))
                continue
            }
            // Art. 18-19: a report belongs to a section of the ward; the producer must speak for it.
            guard let section = sections[report.reporter.sectionCode] else {
                steps.append(.rejected(Rejection(reportID: report.reportID, errors: [
                    .init(field: "/reporter/sectionCode", code: .unknownSection, message: "section \(report.reporter.sectionCode) is not in the ward's directory"),
                ])))
                continue
            }
            guard submission.producer.mayReport(forSection: section.code, departmentCode: section.departmentCode) else {
                steps.append(.rejected(Rejection(reportID: report.reportID, errors: [
                    .init(field: "/reporter/sectionCode", code: .forbidden, message: "this producer may not report for section \(section.code)"),
                ])))
                continue
            }
            // A correlation key travels unmasked to triage and the notifier: it is an identifier,
            // and one that holds a My Number is refused, not masked (My Number Act Art. 20). An
            // identifier has no context to tell a My Number from another number, so any twelve
            // digits with a valid check digit count, as when a reporter says one is involved.
            if let key = report.correlationKey, screener.screen(key, reporterSaysInvolved: true, fieldLabel: "correlationKey").containsMyNumber {
                steps.append(.rejected(Rejection(reportID: report.reportID, errors: [
                    .init(field: "/correlationKey", code: .personalData, message: "correlationKey holds what looks like a My Number; use an identifier that is not personal data"),
                ])))
                continue
            }
            steps.append(.candidate(report, section, fingerprint: try Self.fingerprint(report)))
        }

        // De-duplicate per producer: against what is stored, then within the batch.
        var keys: [ReportStore.Key] = []
        for (submission, step) in zip(submissions, steps) {
            if case .candidate(let report, _, _) = step { keys.append(.init(producer: submission.producer.key, reportID: report.reportID)) }
        }
        let stored = try ReportStore.find(keys, on: connection)
        enum Decision {
            case rejected(Rejection)
            case earlier(ReportStore.Existing, reportID: UUID)
            /// A copy of the batch's report at this index.
            case copyOf(Int, reportID: UUID)
            case new(ReportStore.NewReport, Screened, SubmitIncidentReport)
        }
        var decisions: [Decision] = []
        var firstInBatch: [ReportStore.Key: (index: Int, fingerprint: String)] = [:]
        for (index, (submission, step)) in zip(submissions, steps).enumerated() {
            guard case .candidate(let report, let section, let fingerprint) = step else {
                if case .rejected(let rejection) = step { decisions.append(.rejected(rejection)) }
                continue
            }
            let key = ReportStore.Key(producer: submission.producer.key, reportID: report.reportID)
            let earlier: (intakeID: UUID?, fingerprint: String)? = stored[key].map { ($0.intakeID, $0.fingerprint) }
                ?? firstInBatch[key].map { (nil, $0.fingerprint) }
            if let earlier {
                guard earlier.fingerprint == fingerprint else {
                    let where_ = earlier.intakeID.map { " (intake id \($0.lowercasedString))" } ?? " earlier in this batch"
                    decisions.append(.rejected(Rejection(reportID: report.reportID, errors: [
                        .init(field: "/reportId", code: .conflict, message: "reportId \(report.reportID.lowercasedString) was already used for a different report\(where_)"),
                    ])))
                    continue
                }
                if let existing = stored[key] {
                    decisions.append(.earlier(existing, reportID: report.reportID))
                } else if let first = firstInBatch[key] {
                    decisions.append(.copyOf(first.index, reportID: report.reportID))
                }
                continue
            }
            firstInBatch[key] = (index, fingerprint)
            let screened = screen(report)
            var masked = report
            masked.title = screened.title.masked
            masked.description = screened.description.masked
            for index in masked.affectedAssets.indices {
                masked.affectedAssets[index].name = screened.assetNames[index]?.masked
            }
            // The reporter's own name and contact are not the incident: a My Number there is a
            // slip, masked and not kept (My Number Act Art. 20: no storage beyond the permitted affairs).
            masked.reporter.name = screener.screen(report.reporter.name, fieldLabel: "reporter.name").masked
            masked.reporter.contact = screener.screen(report.reporter.contact, fieldLabel: "reporter.contact").masked
            decisions.append(.new(
                ReportStore.NewReport(
                    intakeID: UUID(), producer: submission.producer.key, fingerprint: fingerprint, section: section, masked: masked,
                    original: screened.detected ? report : nil, reasons: screened.reasons, reportedAt: submission.reportedAt,
                    correlationID: submission.cause?.correlationID),
                screened, report))
        }

        // Store the new reports and the refusals, one statement each.
        var newReports: [ReportStore.NewReport] = []
        var rejections: [(rejection: Rejection, producer: String)] = []
        for (submission, decision) in zip(submissions, decisions) {
            switch decision {
            case .new(let report, _, _): newReports.append(report)
            case .rejected(let rejection): rejections.append((rejection, submission.producer.key))
            case .earlier, .copyOf: break
            }
        }
        let inserted = try ReportStore.insert(newReports, on: connection)
        try ReportStore.recordRejections(rejections, on: connection)
        // A competing replica stored some between our look-up and our insert: theirs stands.
        let lost = newReports.map { ReportStore.Key(producer: $0.producer, reportID: $0.masked.reportID) }.filter { inserted[$0] == nil }
        let theirs = try ReportStore.find(lost, on: connection)

        var results: [Result<Accepted, Rejection>] = []
        results.reserveCapacity(submissions.count)
        for (submission, decision) in zip(submissions, decisions) {
            switch decision {
            case .rejected(let rejection):
                results.append(.failure(rejection))
            case .earlier(let existing, let reportID):
                results.append(.success(Accepted(reportID: reportID, intakeID: existing.intakeID, receivedAt: existing.recordedAt, duplicate: true, event: nil)))
            case .copyOf(let index, let reportID):
                guard case .success(let first) = results[index] else { preconditionFailure("a batch copy refers to a rejected report") }
                results.append(.success(Accepted(reportID: reportID, intakeID: first.intakeID, receivedAt: first.receivedAt, duplicate: true, event: nil)))
            case .new(let new, let screened, let report):
                let key = ReportStore.Key(producer: new.producer, reportID: report.reportID)
                guard let recordedAt = inserted[key] else {
                    guard let existing = theirs[key] else {
                        throw PostgresError(code: .server, message: "report \(report.reportID) conflicted but cannot be found")
                    }
                    results.append(.success(Accepted(reportID: report.reportID, intakeID: existing.intakeID, receivedAt: existing.recordedAt, duplicate: true, event: nil)))
                    continue
                }
                results.append(.success(Accepted(
                    reportID: report.reportID, intakeID: new.intakeID, receivedAt: recordedAt, duplicate: false,
                    event: reportedEvent(new, report: report, screened: screened, submission: submission, recordedAt: recordedAt, now: now))))
            }
        }
        return results
    }

    /// The `incident.reported` event of a newly stored report: masked text only.
    private func reportedEvent(
        _ new: ReportStore.NewReport, report: SubmitIncidentReport, screened: Screened, submission: Submission, recordedAt: Date, now: Date
    ) -> Envelope<IncidentReported> {
        let masked = new.masked
        return Envelope(
            source: Self.source,
            time: now,
            causedBy: submission.cause,
            data: IncidentReported(
                intakeID: new.intakeID,
                reportID: report.reportID,
                producer: new.producer,
                reporter: .init(name: masked.reporter.name, contact: masked.reporter.contact),
                sectionCode: new.section.code,
                departmentCode: new.section.departmentCode,
                occurredAt: report.occurredAt,
                detectedAt: report.detectedAt,
                knownAt: report.knownAt,
                reportedAt: submission.reportedAt,
                recordedAt: recordedAt,
                category: report.category,
                affectedAssets: masked.affectedAssets,
                answers: report.answers,
                affectedPersons: report.affectedPersons,
                title: masked.title,
                description: masked.description,
                myNumberDetected: screened.detected,
                attachments: report.attachments,
                correlationKey: report.correlationKey
            )
        )
    }

    /// What the screener found in the free-text fields.
    struct Screened {
        var title: MyNumberScreening
        var description: MyNumberScreening
        var assetNames: [Int: MyNumberScreening]

        var all: [MyNumberScreening] { [title, description] + assetNames.values }
        var detected: Bool { all.contains { $0.containsMyNumber } }
        var reasons: [String] { Array(Set(all.flatMap { $0.findings.map(\.reason.rawValue) })).sorted() }
    }

    /// Issue #3 item 4: a candidate counts with context, or when the reporter said a My Number
    /// is involved.
    func screen(_ report: SubmitIncidentReport) -> Screened {
        let involved = report.answers.myNumber == .yes
        var assetNames: [Int: MyNumberScreening] = [:]
        for (index, asset) in report.affectedAssets.enumerated() {
            if let name = asset.name {
                assetNames[index] = screener.screen(name, reporterSaysInvolved: involved, fieldLabel: "affectedAssets.name")
            }
        }
        return Screened(
            title: screener.screen(report.title, reporterSaysInvolved: involved, fieldLabel: "title"),
            description: screener.screen(report.description, reporterSaysInvolved: involved, fieldLabel: "description"),
            assetNames: assetNames
        )
    }

    /// The SHA-256 of the report's canonical JSON: tells a retry from a different report.
    static func fingerprint(_ report: SubmitIncidentReport) throws -> String {
        let canonical = try ContractsJSON.encoder().encode(report)
        return SHA256.hash(data: canonical).hexString
    }
}
