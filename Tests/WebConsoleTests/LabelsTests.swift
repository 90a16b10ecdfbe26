import Testing
@testable import WebConsole

@Suite struct LabelsTests {
    @Test func everyLabelHasBothLanguages() {
        for (key, entry) in Labels.table {
            #expect(!entry.ja.isEmpty, "\(key) has no Japanese text")
            #expect(!entry.en.isEmpty, "\(key) has no English text")
        }
    }
}
