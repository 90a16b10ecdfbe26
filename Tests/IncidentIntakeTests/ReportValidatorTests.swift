import Contracts
import Foundation
@testable import IncidentIntake
import MyNumber
import Testing

/// Validation without servers: every class of invalid input gets its precise error.
@Suite struct ReportValidatorTests {
    static let now = Date(timeIntervalSince1970: 1_790_000_000)

    static func report(_ edit: (inout [String: Any]) -> Void = { _ in }) -> [UInt8] {
        var object: [String: Any] = [
            "reportId": UUID().uuidString.lowercased(),
            "reporter": ["sectionCode": "family-registry", "name": "山田 太郎", "contact": "内線 1234"],
            "occurredAt": "2026-09-20T09:00:00Z",
            "detectedAt": "2026-09-20T10:00:00Z",
            "knownAt": "2026-09-20T10:30:00Z",
            "category": "loss-or-theft",
            "affectedAssets": [["name": "USB メモリ"]],
            "answers": [
                "personalData": "yes", "myNumber": "unknown", "sensitivePersonalData": "no",
                "wrongfulIntent": "no", "unspecifiedViewers": "unknown", "dataEncrypted": "no",
            ],
            "affectedPersons": 150,
            "title": "USB メモリの紛失",
            "description": "窓口で USB メモリを紛失した。",
            "attachments": [],
        ]
        edit(&object)
        return Array(try! JSONSerialization.data(withJSONObject: object))
    }

    private func errors(_ data: [UInt8]) -> [IncidentReportRejected.FieldError] {
        switch ReportValidator().validate(data: data, now: Self.now) {
        case .success: []
        case .failure(let rejection): rejection.errors
        }
    }

    @Test func aCompleteReportPasses() {
        #expect(errors(Self.report()) == [])
    }

    @Test func missingFieldsAreNamedEach() {
        let found = errors(Self.report { $0["title"] = nil; $0["reporter"] = ["name": "x", "contact": "y"] })
        #expect(Set(found.map(\.field)) == ["/title", "/reporter/sectionCode"])
        #expect(found.allSatisfy { $0.code == .required })
    }

    @Test func anUnknownCategoryIsAnEnumError() {
        let found = errors(Self.report { $0["category"] = "alien-invasion" })
        #expect(found.map(\.field) == ["/category"])
        #expect(found.first?.code == .enum)
    }

    @Test func anExtraPropertyIsRefused() {
        let found = errors(Self.report { $0["severity"] = 1 })
        #expect(found.contains { $0.code == .additionalProperties })
    }

    @Test func aReportFromTheFutureIsRefused() {
        let found = errors(Self.report { $0["knownAt"] = "2030-01-01T00:00:00Z" })
        #expect(found == [.init(field: "/knownAt", code: .future, message: found.first?.message ?? "")])
    }

    @Test func detectionBeforeOccurrenceIsRefused() {
        let found = errors(Self.report { $0["detectedAt"] = "2026-09-19T09:00:00Z"; $0["knownAt"] = "2026-09-20T10:30:00Z" })
        #expect(found.map(\.field) == ["/detectedAt"])
        #expect(found.first?.code == .order)
    }

    @Test func aDescriptionOver64KiBIsRefused() {
        let found = errors(Self.report { $0["description"] = String(repeating: "あ", count: 22_000) })
        #expect(found.contains { $0.field == "/description" && ($0.code == .maxLength || $0.code == .tooLarge) })
    }

    @Test func aBadUUIDIsAFormatError() {
        let found = errors(Self.report { $0["reportId"] = "not-a-uuid" })
        #expect(found.map(\.field) == ["/reportId"])
        #expect(found.first?.code == .format)
    }

    @Test func notJSONIsRefused() {
        #expect(!errors(Array("{oops".utf8)).isEmpty)
    }
}

@Suite struct ProducerTests {
    @Test func sectionTokensReportOnlyForTheirSection() {
        let producer = Producer(key: "token:x", scope: [.unit("family-registry")])
        #expect(producer.mayReport(forSection: "family-registry", departmentCode: "residents-dept"))
        #expect(!producer.mayReport(forSection: "personnel", departmentCode: "residents-dept"))
    }

    @Test func departmentTokensReportForTheirSections() {
        let producer = Producer(key: "token:x", scope: [.unit("residents-dept")])
        #expect(producer.mayReport(forSection: "family-registry", departmentCode: "residents-dept"))
        #expect(!producer.mayReport(forSection: "child-rearing-support", departmentCode: "children-families-dept"))
    }

    @Test func wardWideProducersReportForEverySection() {
        #expect(Producer(key: "amqp:isms", scope: [.ward]).mayReport(forSection: "any", departmentCode: "any"))
    }
}

@Suite struct ScreeningTests {
    private func screened(description: String, myNumber: Verdict = .unknown) throws -> IntakeProcessor.Screened {
        var report = try ContractsJSON.decoder().decode(SubmitIncidentReport.self, from: Data(ReportValidatorTests.report()))
        report.description = description
        report.answers.myNumber = myNumber
        return IntakeProcessor().screen(report)
    }

    @Test func aFullWidthMyNumberWithHyphensNextToTheKeywordIsFoundAndMasked() throws {
        let result = try screened(description: "住民の個人番号 １２３４－５６７８－９０１８ が記載された書類")
        #expect(result.detected)
        #expect(!result.description.masked.contains("１２３４"))
        #expect(!result.description.masked.contains("９０１８"))
        #expect(result.description.masked.contains("個人番号"))
    }

    @Test func aValidNumberWithoutContextIsNotFlagged() throws {
        let result = try screened(description: "問い合わせ番号 123456789018 の件")
        #expect(!result.detected)
        #expect(result.description.masked.contains("123456789018"))
    }

    @Test func aWrongCheckDigitIsNotFlaggedEvenWithTheKeyword() throws {
        #expect(try !screened(description: "個人番号 123456789017").detected)
    }

    @Test func theReportersAnswerIsContextEnough() throws {
        #expect(try screened(description: "番号 123456789018 の書類", myNumber: .yes).detected)
    }
}
