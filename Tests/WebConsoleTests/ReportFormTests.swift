import Foundation
import ServiceClient
import Testing
@testable import WebConsole

/// The report form as intake's submit contract, and intake's field errors back at the inputs.
@Suite struct ReportFormTests {
    static let form = FormData(encoded: [
        "reportId=7f0c9a52-8d1e-4c7a-9d42-0b6f3e1a2c55", "title=USB+%E3%83%A1%E3%83%A2%E3%83%AA", "category=loss-or-theft",
        "description=line+one%0D%0Aline+two", "occurredAt=2026-12-05T09:00", "detectedAt=2026-12-05T09:30", "knownAt=2026-12-05T10:00",
        "reporterName=%E5%B1%B1%E7%94%B0", "reporterContact=1234", "affectedPersons=150", "personalData=yes", "myNumber=unknown",
        "asset0Name=", "asset1Name=%E4%BD%8F%E6%B0%91%E8%A8%98%E9%8C%B2", "asset1C=3A", "asset1I=2", "asset1A=2", "asset2Id=X-9",
    ].joined(separator: "&"))

    @Test func theFormBecomesTheSubmitContract() throws {
        let (body, indexes) = WebConsole.submission(Self.form, sectionCode: "family-registry")
        #expect(body["reportId"] as? String == "7f0c9a52-8d1e-4c7a-9d42-0b6f3e1a2c55")
        #expect(body["title"] as? String == "USB メモリ")
        #expect(body["description"] as? String == "line one\r\nline two")
        // The ward's local time, sent as UTC.
        #expect(body["occurredAt"] as? String == "2026-12-05T00:00:00.000Z")
        #expect(body["affectedPersons"] as? Int == 150)
        #expect((body["reporter"] as? [String: String])?["sectionCode"] == "family-registry")
        let answers = try #require(body["answers"] as? [String: String])
        #expect(answers["personalData"] == "yes" && answers["dataEncrypted"] == "unknown" && answers.count == 6)
        let assets = try #require(body["affectedAssets"] as? [[String: Any]])
        #expect(assets.count == 2)
        #expect(indexes == [1, 2])
        #expect((assets[0]["classification"] as? [String: String])?["confidentiality"] == "3A")
        #expect(assets[1]["classification"] == nil && assets[1]["id"] as? String == "X-9")
        let json = try JSONSerialization.data(withJSONObject: body)
        #expect(!json.isEmpty)
    }

    @Test func emptyAffectedPersonsIsUnknown() {
        let (body, _) = WebConsole.submission(FormData(encoded: "title=x"), sectionCode: "s")
        #expect(body["affectedPersons"] as? String == "unknown")
        #expect(body["occurredAt"] as? String == "")
    }

    @Test func intakeErrorsLandAtTheirInputs() {
        let problem = ServiceProblem(status: 422, body: Data(#"""
            {"type":"x","title":"Unprocessable","status":422,"detail":"2 problems","errors":[
              {"field":"/detectedAt","code":"order","message":"detectedAt is before occurredAt"},
              {"field":"/answers/myNumber","code":"enum","message":"must be yes, no or unknown"},
              {"field":"/affectedAssets/0/classification/confidentiality","code":"enum","message":"bad level"},
              {"field":"/reporter/sectionCode","code":"unknownSection","message":"no such section"}]}
            """#.utf8))
        let (fields, rest) = WebConsole.fieldErrors(problem, assetIndexes: [1, 2])
        #expect(fields["detectedAt"] == "detectedAt is before occurredAt")
        #expect(fields["myNumber"] == "must be yes, no or unknown")
        #expect(fields["asset1C"] == "bad level")
        #expect(rest == ["no such section"])
        // In Japanese each problem reads as its code's label.
        let (japanese, japaneseRest) = WebConsole.fieldErrors(problem, assetIndexes: [1, 2], language: .ja)
        #expect(japanese["detectedAt"] == Labels.text("err_order", .ja))
        #expect(japanese["myNumber"] == Labels.text("err_enum", .ja))
        #expect(japaneseRest == [Labels.text("err_unknownSection", .ja)])
    }

    @Test func formsDecodePlusAndRepeatedNames() {
        let form = FormData(encoded: "a=1+2&case=X&case=Y&empty=&pw=+sp+")
        #expect(form["a"] == "1 2")
        #expect(form.all("case") == ["X", "Y"])
        #expect(form["empty"] == nil)
        #expect(form.raw("pw") == " sp ")
        #expect(form["missing"] == nil)
    }

    @Test func wardTimeRoundTrips() throws {
        let date = try #require(ConsoleFormat.parseInput("2026-12-05T09:00"))
        #expect(ConsoleFormat.wire(date) == "2026-12-05T00:00:00.000Z")
        #expect(ConsoleFormat.inputValue(date) == "2026-12-05T09:00")
        #expect(ConsoleFormat.date("2026-12-05T00:00:00.000Z") == "2026-12-05 09:00")
        #expect(ConsoleFormat.date("2026-12-31T15:30:59Z") == "2027-01-01 00:30")
        #expect(ConsoleFormat.parseInput("2026-02-30T09:00") == nil)
        #expect(ConsoleFormat.parseInput("2026-12-05T24:00") == nil)
        #expect(ConsoleFormat.parseInput("2026-12-05T09:00:30").map(ConsoleFormat.wire) == "2026-12-05T00:00:30.000Z")
        #expect(ConsoleFormat.duration(3 * 86_400 + 7_200, .ja) == "3日 2時間")
        #expect(ConsoleFormat.duration(45 * 60, .en) == "45 min")
    }
}
