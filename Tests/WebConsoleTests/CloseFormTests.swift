import Foundation
import ServiceClient
import Testing
@testable import WebConsole

/// The close form as triage's close with lessons (issue #18), and triage's errors back at its inputs.
@Suite struct CloseFormTests {
    @Test func emptyRowsAreLeftOutAndErrorsLandAtTheRowTheyCameFrom() throws {
        let form = FormData(encoded: [
            "cause=%E6%89%8B%E9%A0%86%E3%81%AE%E4%B8%8D%E5%BE%B9%E5%BA%95", "m0Description=", "m0Role=sectionSecurityOfficer", "m0Unit=", "m0Due=",
            "m1Description=re-train", "m1Role=sectionSecurityOfficer", "m1Unit=family-registry", "m1Due=2026-12-24",
            "m2Description=encrypt", "m2Role=departmentSecurityOfficer", "m2Unit=citizens", "m2Due=2026-01-01", "erp=needed", "erpNote=",
        ].joined(separator: "&"))
        let (lessons, rows) = WebConsole.lessonsBody(form)
        #expect(rows == [1, 2])
        #expect(lessons["cause"] as? String == "手順の不徹底")
        let measures = try #require(lessons["measures"] as? [[String: Any]])
        #expect(measures.map { $0["ownerUnit"] as? String } == ["family-registry", "citizens"])
        #expect((lessons["erpChange"] as? [String: Any])?["needed"] as? Bool == true)
        #expect(try JSONSerialization.data(withJSONObject: lessons).count > 0)
        // No answer to the plan question: none is sent, and triage names it.
        #expect(WebConsole.lessonsBody(FormData(encoded: "cause=x")).lessons["erpChange"] == nil)

        let problem = ServiceProblem(status: 422, body: Data(#"""
            {"type":"x","title":"Refused by a rule","status":422,"detail":"closing a case needs its lessons","errors":[
              {"field":"/lessons/measures/1/dueDate","code":"date-in-past","message":"the due date 2026-01-01 is before today"},
              {"field":"/lessons/erpChange/note","code":"required","message":"what to change is required"},
              {"field":"/lessons/somethingElse","code":"required","message":"elsewhere"}]}
            """#.utf8))
        let (fields, rest) = WebConsole.lessonsErrors(problem, rows: rows, language: .en)
        #expect(fields == ["m2Due": "the due date 2026-01-01 is before today", "erpNote": "what to change is required"])
        #expect(rest == ["elsewhere"])
        let (japanese, _) = WebConsole.lessonsErrors(problem, rows: rows, language: .ja)
        #expect(japanese["m2Due"] == Labels.text("lessonsErr_date-in-past", .ja))
    }
}
