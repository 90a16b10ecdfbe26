import Contracts
import Foundation

/// Where the test files and the repository are, found from this file's path so no resource
/// wiring is needed (symlinks resolved, for scratch packages that link the folders in).
enum Paths {
    static let tests = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath().deletingLastPathComponent()
    static let fixtures = tests.appendingPathComponent("Fixtures")
    static let repository = tests.deletingLastPathComponent().deletingLastPathComponent()

    static func fixture(_ type: MessageType) -> URL {
        fixtures.appendingPathComponent("\(type.routingKey).json")
    }

    static func bytes(_ url: URL) throws -> [UInt8] {
        Array(try Data(contentsOf: url))
    }

    /// Set `ISMS_UPDATE_GOLDEN=1` to rewrite golden files from the code instead of comparing.
    static var updateGolden: Bool { ProcessInfo.processInfo.environment["ISMS_UPDATE_GOLDEN"] == "1" }
}

func date(_ text: String) -> Date {
    ContractsJSON.parseTimestamp(text)!
}

func uuid(_ text: String) -> UUID {
    UUID(uuidString: text)!
}

/// One sample message of every type: the golden fixtures are these, encoded.
enum Samples {
    static let reportID = uuid("3f1c9a2e-5b7d-4c1e-9f0a-6d2b8e4c7a15")
    static let intakeID = uuid("b6e0d4a1-2c3f-4e5d-8a9b-0c1d2e3f4a5b")
    static let producer = "urn:isms:producer:koseki-jumin"
    static let trace = TraceParent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")!

    static let answers = IncidentAnswers(
        personalData: .yes,
        myNumber: .yes,
        sensitivePersonalData: .unknown,
        wrongfulIntent: .no,
        unspecifiedViewers: .no,
        dataEncrypted: .no
    )

    static let assets = [
        AffectedAsset(
            id: "KJ-0042",
            name: "住民記録システム 帳票出力",
            classification: AssetClassification(confidentiality: .level3A, integrity: .level2, availability: .level2)
        ),
        AffectedAsset(name: "窓口用ノートPC"),
    ]

    static let attachments = [
        IncidentAttachment(name: "送付記録.pdf", size: 183_204, sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")
    ]

    static let submit = SubmitIncidentReport(
        reportID: reportID,
        reporter: IncidentReporter(sectionCode: "koseki-jumin", name: "山田 花子", contact: "内線 2345"),
        occurredAt: date("2025-04-01T09:10:00.000+09:00"),
        detectedAt: date("2025-04-01T10:05:00.000+09:00"),
        knownAt: date("2025-04-01T10:20:00.000+09:00"),
        category: .misdelivery,
        affectedAssets: assets,
        answers: answers,
        affectedPersons: .count(1),
        title: "住民票の写しの誤送付",
        description: "住民票の写し（個人番号 123456789018 記載）を別の世帯へ郵送した。\n回収済み。",
        attachments: attachments,
        correlationKey: "edr:campaign-2025-0401"
    )

    static let submitEnvelope = Envelope(
        id: "c2a7e5d0-8f1b-4a3c-9e6d-1b2c3d4e5f60",
        source: producer,
        time: date("2025-04-01T01:30:00.000Z"),
        traceParent: trace,
        data: submit
    )

    static let accepted = IncidentReportAccepted(
        reportID: reportID,
        intakeID: intakeID,
        receivedAt: date("2025-04-01T01:30:00.250Z"),
        duplicate: false
    )

    static let acceptedEnvelope = Envelope(
        id: "0d9c8b7a-6f5e-4d3c-8b2a-1f0e9d8c7b6a",
        source: ServiceName.incidentIntake.source,
        time: date("2025-04-01T01:30:00.312Z"),
        causedBy: submitEnvelope.causation,
        traceParent: TraceParent("00-4bf92f3577b34da6a3ce929d0e0e4736-a1b2c3d4e5f60718-01")!,
        data: accepted
    )

    static let rejected = IncidentReportRejected(
        reportID: reportID,
        errors: [
            .init(field: "/reporter/sectionCode", code: .required, message: "is required"),
            .init(field: "/category", code: .enum, message: "must be one of \"malware\", \"unauthorised-access\", \"loss-or-theft\", \"misdelivery\", \"data-leak\", \"system-outage\", \"policy-violation\", \"contractor-violation\", \"other\""),
            .init(field: "/knownAt", code: .future, message: "lies in the future"),
        ]
    )

    static let rejectedEnvelope = Envelope(
        id: "5e4d3c2b-1a09-4f8e-9d7c-6b5a49382716",
        source: ServiceName.incidentIntake.source,
        time: date("2025-04-01T01:30:00.298Z"),
        causedBy: submitEnvelope.causation,
        traceParent: TraceParent("00-4bf92f3577b34da6a3ce929d0e0e4736-0718a1b2c3d4e5f6-01")!,
        data: rejected
    )

    static let reported = IncidentReported(
        intakeID: intakeID,
        reportID: reportID,
        producer: producer,
        reporter: .init(name: "山田 花子", contact: "内線 2345"),
        sectionCode: "koseki-jumin",
        departmentCode: "kumin",
        occurredAt: submit.occurredAt,
        detectedAt: submit.detectedAt,
        knownAt: submit.knownAt,
        reportedAt: submitEnvelope.time,
        recordedAt: date("2025-04-01T01:30:00.250Z"),
        category: .misdelivery,
        affectedAssets: assets,
        answers: answers,
        affectedPersons: .count(1),
        title: "住民票の写しの誤送付",
        description: "住民票の写し（個人番号 ************ 記載）を別の世帯へ郵送した。\n回収済み。",
        myNumberDetected: true,
        attachments: attachments,
        correlationKey: "edr:campaign-2025-0401"
    )

    static let reportedEnvelope = Envelope(
        id: "7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5d",
        source: ServiceName.incidentIntake.source,
        time: date("2025-04-01T01:30:00.250Z"),
        causedBy: submitEnvelope.causation,
        traceParent: TraceParent("00-4bf92f3577b34da6a3ce929d0e0e4736-18a1b2c3d4e5f607-01")!,
        data: reported
    )

    static let directoryChanged = DirectoryChanged(
        version: 3,
        importedAt: date("2025-04-01T00:00:05.120Z"),
        counts: .init(departments: 13, sections: 61, people: 412, assignments: 530),
        checksum: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )

    static let directoryChangedEnvelope = Envelope(
        id: "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f",
        source: ServiceName.isms.source,
        time: date("2025-04-01T00:00:05.200Z"),
        traceParent: TraceParent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00")!,
        data: directoryChanged
    )

    static let originalViewed = IncidentReportOriginalViewed(
        intakeId: intakeID,
        tokenId: uuid("9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"),
        tokenLabel: "戸籍住民課 事務取扱担当者 山田",
        role: "designatedHandler",
        unitCode: "koseki-jumin",
        viewedAt: date("2025-04-01T03:12:45.000Z")
    )

    static let originalViewedEnvelope = Envelope(
        id: "4f5a6b7c-8d9e-4f0a-9b1c-2d3e4f5a6b7c",
        source: ServiceName.incidentIntake.source,
        time: date("2025-04-01T03:12:45.010Z"),
        traceParent: trace,
        data: originalViewed
    )

    /// Every sample as a raw envelope, keyed by its message type.
    static func all() throws -> [(type: MessageType, envelope: RawEnvelope)] {
        [
            (MessageTypes.submitIncidentReport, try submitEnvelope.raw()),
            (MessageTypes.incidentReportAccepted, try acceptedEnvelope.raw()),
            (MessageTypes.incidentReportRejected, try rejectedEnvelope.raw()),
            (MessageTypes.incidentReported, try reportedEnvelope.raw()),
            (MessageTypes.directoryChanged, try directoryChangedEnvelope.raw()),
            (MessageTypes.incidentReportOriginalViewed, try originalViewedEnvelope.raw()),
        ] + (try triageSamples()) + (try notifierSamples()) + (try auditSchedulerSamples()) + (try contractorMonitorSamples())
    }
}
