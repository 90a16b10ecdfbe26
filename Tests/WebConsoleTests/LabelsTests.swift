import Directory
import Foundation
import Testing
@testable import WebConsole

/// Japanese first, English by a switch: every label in both, and every label a template or a
/// page asks for exists.
@Suite struct LabelsTests {
    @Test func everyLabelHasBothLanguages() {
        for (key, entry) in Labels.table {
            #expect(!entry.ja.isEmpty, "\(key) has no Japanese text")
            #expect(!entry.en.isEmpty, "\(key) has no English text")
        }
    }

    @Test func everyLabelATemplateUsesExists() throws {
        let folder = ConsoleRenderer.resources.appendingPathComponent("templates")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".mustache") }
        #expect(files.count >= 15)
        let pattern = try Regex(#"\{\{[#^/]?t\.([A-Za-z0-9_-]+)\}\}"#)
        var used: Set<String> = []
        for file in files {
            let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            for match in text.matches(of: pattern) {
                if let key = match.output[1].substring { used.insert(String(key)) }
            }
        }
        #expect(used.count > 100)
        for key in used.sorted() {
            #expect(Labels.table[key] != nil, "templates use t.\(key), which has no label")
        }
    }

    @Test func everyValueAPageLooksUpHasALabel() {
        let prefixed: [(String, [String])] = [
            ("state_", WebConsole.caseStates), ("cat_", WebConsole.categories), ("verdictName_", WebConsole.verdictNames),
            ("q_", WebConsole.answerNames), ("verdict_", ["yes", "no", "unknown"]),
            ("action_", ["confirm", "discard", "acknowledge", "investigate", "contain", "recover", "close", "reopen"]),
            ("restriction_", ["awaiting-approval", "in-force", "rejected", "lifted"]),
            ("obligation_", ["required", "to-decide", "not-required", "filed"]),
            ("reportRule_", WebConsole.reportRules), ("notice_", ["merged", "split"]),
            ("ob_", ["preliminary-report", "final-report", "notice-to-persons"]),
            ("event_", ["enrolled", "signed-in", "failed", "locked-out", "refused-locked", "signed-out"]),
            ("pw_", ["tooShort", "tooLong", "mismatch", "sameAsID"]),
            // Intake's violation codes a report form can meet (Shared/Contracts/ViolationCode.swift).
            ("err_", ["required", "type", "enum", "format", "maxLength", "minimum", "pattern", "anyOf", "oneOf", "future", "order", "unknownSection", "forbidden", "conflict", "tooLarge"]),
            // Triage's codes for a close without its lessons (issue #18, CaseLessons.swift).
            ("lessonsErr_", ["required", "too-long", "too-many", "unknown-role", "unknown-unit", "role-unit-mismatch", "invalid-date", "date-in-past"]),
        ]
        for (prefix, values) in prefixed {
            for value in values { #expect(Labels.table[prefix + value] != nil, "no label \(prefix)\(value)") }
        }
    }

    @Test func everyRoleHasANameInBothLanguages() {
        for role in DirectoryRole.allCases {
            #expect(!Labels.roleName(role, .ja).isEmpty)
            let english = Labels.roleName(role, .en)
            let ascii = english.unicodeScalars.allSatisfy { $0.isASCII }
            #expect(ascii)
        }
    }
}
