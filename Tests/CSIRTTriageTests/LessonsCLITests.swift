import Foundation
import ISMSTesting
import enum ISMSTesting.ISMSExecutable
import Testing
import WardCalendar

/// `isms incidents close | lessons` (issue #18 item 2): the built `isms` with a token and no
/// database URL against the triage routes served live, over the real database.
@Suite(.serialized, .tags(.integration), .needsTestServers) struct LessonsCLITests {
    @Test func csirtClosesWithLessonsFromTheCommandLine() async throws {
        try await CorrelationCLITests.withService { baseURL, _, _, single in
            let csirt = try await ISMSExecutable.issueToken(role: "csirt")
            func isms(_ arguments: [String]) async throws -> (status: Int32, output: String) {
                try await ISMSExecutable.run(["incidents"] + arguments, environment: ["ISMS_TOKEN": csirt, "ISMS_CSIRT_TRIAGE_URL": baseURL])
            }
            for step in [["qualify", single, "--incident"], ["ack", single], ["transition", single, "investigate"], ["transition", single, "contain"],
                         ["transition", single, "recover"]] {
                let result = try await isms(step)
                #expect(result.status == 0, "\(step): \(result.output)")
            }
            let today = CivilDate.inTokyo(Date())
            let section = CLIActsAsUserTests.section
            // The transition no longer closes; close asks for the lessons.
            let transition = try await isms(["transition", single, "close"])
            #expect(transition.status != 0 && transition.output.contains("isms incidents close"), "\(transition.output)")
            let noMeasure = try await isms(["close", single, "--cause", "手順の不徹底", "--no-erp-change"])
            #expect(noMeasure.status != 0 && noMeasure.output.contains("--measure"), "\(noMeasure.output)")
            let noAnswer = try await isms(["close", single, "--cause", "x", "--measure", "a|sectionSecurityOfficer|\(section)|\(today.iso)"])
            #expect(noAnswer.status != 0 && noAnswer.output.contains("--no-erp-change"), "\(noAnswer.output)")
            // Triage's refusal names the member: exit 2 with the pointer.
            let past = try await isms([
                "close", single, "--cause", "手順の不徹底", "--measure", "再周知|sectionSecurityOfficer|\(section)|\(today.adding(days: -1).iso)",
                "--erp-change-needed",
            ])
            #expect(past.status == 2, "\(past.output)")
            #expect(past.output.contains("/lessons/measures/0/dueDate") && past.output.contains("/lessons/erpChange/note"), "\(past.output)")
            let closed = try await isms([
                "close", single, "--cause", "手順の不徹底", "--measure", "再周知|sectionSecurityOfficer|\(section)|\(today.adding(days: 30).iso)",
                "--measure", "媒体の暗号化|departmentSecurityOfficer|residents-dept|\(today.adding(days: 60).iso)", "--erp-change-needed",
                "--erp-note", "連絡先に警察を加える",
            ])
            #expect(closed.status == 0 && closed.output.contains("\(single): closed with 2 recurrence-prevention measure(s)"), "\(closed.output)")
            let report = try await isms(["lessons", "--from", today.iso, "--to", today.iso])
            #expect(report.status == 0 && report.output.contains(single) && report.output.contains("媒体の暗号化"), "\(report.output)")
        }
    }
}
