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

    /// Processes a submission's JSON `data`.
    ///
    /// - Parameters:
    ///   - reportedAt: when the producer sent it (the envelope's time; the HTTP request's arrival).
    ///   - cause: the command that carried it, for correlation; nil over HTTP.
    public func submit(
        data: [UInt8],
        producer: Producer,
        reportedAt: Date,
        now: Date,
        cause: Causation?,
        on connection: PostgresConnection
    ) throws -> Result<Accepted, Rejection> {
        let report: SubmitIncidentReport
        switch validator.validate(data: data, now: now) {
        case .success(let valid): report = valid
        case .failure(let rejection): return .failure(try recordRejection(rejection, producer: producer, on: connection))
        }

        // Art. 18-19: a report belongs to a section of the ward; the producer must speak for it.
        guard let section = try directory.section(code: report.reporter.sectionCode, on: connection) else {
            let rejection = Rejection(reportID: report.reportID, errors: [
                .init(field: "/reporter/sectionCode", code: .unknownSection, message: "section \(report.reporter.sectionCode) is not in the ward's directory"),
            ])
            return .failure(try recordRejection(rejection, producer: producer, on: connection))
        }
        guard producer.mayReport(forSection: section.code, departmentCode: section.departmentCode) else {
            let rejection = Rejection(reportID: report.reportID, errors: [
                .init(field: "/reporter/sectionCode", code: .forbidden, message: "this producer may not report for section \(section.code)"),
            ])
            return .failure(try recordRejection(rejection, producer: producer, on: connection))
        }

        let fingerprint = try Self.fingerprint(report)
        if let existing = try ReportStore.find(producer: producer.key, reportID: report.reportID, on: connection) {
            guard existing.fingerprint == fingerprint else {
                let rejection = Rejection(reportID: report.reportID, errors: [
                    .init(field: "/reportId", code: .conflict, message: "reportId \(report.reportID.uuidString.lowercased()) was already used for a different report (intake id \(existing.intakeID.uuidString.lowercased()))"),
                ])
                return .failure(try recordRejection(rejection, producer: producer, on: connection))
            }
            return .success(Accepted(reportID: report.reportID, intakeID: existing.intakeID, receivedAt: existing.recordedAt, duplicate: true, event: nil))
        }

        let screened = screen(report)
        let intakeID = UUID()
        var masked = report
        masked.title = screened.title.masked
        masked.description = screened.description.masked
        for index in masked.affectedAssets.indices {
            masked.affectedAssets[index].name = screened.assetNames[index]?.masked
        }
        let stored = try ReportStore.insert(
            ReportStore.NewReport(
                intakeID: intakeID,
                producer: producer.key,
                fingerprint: fingerprint,
                section: section,
                masked: masked,
                original: screened.detected ? report : nil,
                reasons: screened.reasons,
                reportedAt: reportedAt,
                correlationID: cause?.correlationID
            ),
            on: connection
        )
        guard stored.inserted else {
            // A competing replica stored the same report between our look-up and our insert.
            return .success(Accepted(reportID: report.reportID, intakeID: stored.intakeID, receivedAt: stored.recordedAt, duplicate: true, event: nil))
        }
        let event = Envelope(
            source: Self.source,
            time: now,
            causedBy: cause,
            data: IncidentReported(
                intakeID: intakeID,
                reportID: report.reportID,
                producer: producer.key,
                reporter: .init(name: masked.reporter.name, contact: masked.reporter.contact),
                sectionCode: section.code,
                departmentCode: section.departmentCode,
                occurredAt: report.occurredAt,
                detectedAt: report.detectedAt,
                knownAt: report.knownAt,
                reportedAt: reportedAt,
                recordedAt: stored.recordedAt,
                category: report.category,
                affectedAssets: masked.affectedAssets,
                answers: report.answers,
                affectedPersons: report.affectedPersons,
                title: masked.title,
                description: masked.description,
                myNumberDetected: screened.detected,
                attachments: report.attachments
            )
        )
        return .success(Accepted(reportID: report.reportID, intakeID: intakeID, receivedAt: stored.recordedAt, duplicate: false, event: event))
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
        return SHA256.hash(data: canonical).map { String(format: "%02x", $0) }.joined()
    }

    private func recordRejection(_ rejection: Rejection, producer: Producer, on connection: PostgresConnection) throws -> Rejection {
        try ReportStore.recordRejection(rejection, producer: producer.key, on: connection)
        return rejection
    }
}
