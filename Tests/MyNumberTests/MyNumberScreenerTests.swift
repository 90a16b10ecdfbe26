import Foundation
import MyNumber
import Testing

/// A valid My Number from its first eleven digits, the check digit computed by the formula.
private func valid(_ eleven: String) -> String {
    eleven + String(MyNumberScreener.checkDigit(forFirstEleven: eleven)!)
}

/// The same eleven digits with a wrong check digit.
private func invalid(_ eleven: String) -> String {
    eleven + String((MyNumberScreener.checkDigit(forFirstEleven: eleven)! + 1) % 10)
}

private func fullWidth(_ ascii: String) -> String {
    String(
        String.UnicodeScalarView(
            ascii.unicodeScalars.map { scalar in
                switch scalar.value {
                case 0x21...0x7E: Unicode.Scalar(scalar.value + 0xFEE0)!
                case 0x20: Unicode.Scalar(0x3000)!
                default: scalar
                }
            }
        )
    )
}

private func grouped(_ twelve: String, _ separator: String) -> String {
    let digits = Array(twelve)
    return String(digits[0..<4]) + separator + String(digits[4..<8]) + separator + String(digits[8..<12])
}

@Suite("My Number screening")
struct MyNumberScreenerTests {
    let screener = MyNumberScreener()
    let number = valid("12345678901")  // 123456789018
    let other = valid("98765432109")

    @Test func fullWidthDigitsAndHyphensNextToTheKeyword() throws {
        let written = fullWidth(grouped(number, "-"))  // "１２３４－５６７８－９０１８"
        let text = "申請書の個人番号欄に\(written)と記載"
        let result = screener.screen(text)
        #expect(result.containsMyNumber)
        let finding = try #require(result.findings.first)
        #expect(result.findings.count == 1)
        #expect(finding.reason == .keyword)
        #expect(finding.last4 == "9018")
        #expect(String(text[finding.range]) == written)
        #expect(result.masked == "申請書の個人番号欄に****－****－****と記載")
        #expect(result.masked.count == text.count)
    }

    @Test func validNumberWithoutContextIsNotFlaggedButIsMasked() {
        let text = "受付番号 \(number) の件で連絡がありました"
        let result = screener.screen(text)
        #expect(!result.containsMyNumber)
        #expect(result.findings.isEmpty)
        #expect(result.masked == text)
        #expect(result.unconfirmedCandidateCount == 1)
        #expect(MyNumberMasking.mask(text) == "受付番号 ************ の件で連絡がありました")
        #expect(MyNumberMasking.containsCandidate(text))
    }

    /// A system-issued UUID whose last group happens to be twelve digits with a valid check digit
    /// is an identifier, not a My Number; the same digits anywhere else are still masked.
    @Test func aUUIDEndingInAValidNumberIsLeftWhole() {
        let id = "3f2a9c1e-7b4d-4e8a-9c0b-\(number)"
        #expect(MyNumberMasking.mask(id) == id)
        #expect(MyNumberMasking.mask(id.uppercased()) == id.uppercased())
        #expect(MyNumberMasking.mask("id \(id)") != "id \(id)")
        #expect(MyNumberMasking.mask("3f2a9c1e-7b4d-4e8a-9c0b\(number)") != "3f2a9c1e-7b4d-4e8a-9c0b\(number)")
    }

    @Test func wrongCheckDigitIsNeverFlagged() {
        let wrong = invalid("12345678901")
        for text in ["個人番号 \(wrong)", "マイナンバー：\(grouped(wrong, "-"))", wrong] {
            let result = screener.screen(text, reporterSaysInvolved: true, fieldLabel: "個人番号")
            #expect(!result.containsMyNumber, "\(text)")
            #expect(result.masked == text)
            #expect(result.unconfirmedCandidateCount == 0)
            #expect(MyNumberMasking.mask(text) == text)
        }
    }

    @Test(arguments: [" ", "-", "　", "－", "‐", "−", "ー", "―", " - ", "  "])
    func groupedWithSeparators(separator: String) throws {
        let written = grouped(number, separator)
        let text = "マイナンバー \(written)"
        let result = screener.screen(text)
        let finding = try #require(result.findings.first)
        #expect(String(text[finding.range]) == written)
        let maskedGroup = String(repeating: "*", count: 4)
        #expect(result.masked == "マイナンバー " + [maskedGroup, maskedGroup, maskedGroup].joined(separator: separator))
    }

    @Test func partOfALongerNumberIsNotACandidate() {
        let texts = [
            "個人番号 \(number)5",  // a 13-digit run
            "個人番号 5\(number)",
            "個人番号 \(fullWidth(number))０",
            "個人番号 \(grouped(number, "-"))-3456",  // a card number written 4-4-4-4
            "個人番号 03-\(grouped(number, "-"))",
            "個人番号 \(grouped(number, " ")) 3456",
            "個人番号 1234 \(grouped(number, " "))",
            "個人番号 \(number)-1",
            "個人番号 \(grouped(number, "--- "))",  // gap of four
        ]
        for text in texts {
            #expect(!screener.screen(text).containsMyNumber, "\(text)")
            #expect(MyNumberMasking.mask(text) == text, "\(text)")
        }
    }

    @Test func spaceSeparatedNeighboursDoNotDisqualify() {
        #expect(screener.screen("個人番号 \(number) 2件").containsMyNumber)
        #expect(screener.screen("個人番号 \(grouped(number, " ")) 2件").containsMyNumber)
        #expect(screener.screen("個人番号:\(number),電話:0312345678").containsMyNumber)
    }

    @Test func reporterAnswer() throws {
        let text = "共有フォルダに \(number) を含むファイルを誤って置いた"
        #expect(!screener.screen(text).containsMyNumber)
        let result = screener.screen(text, reporterSaysInvolved: true)
        let finding = try #require(result.findings.first)
        #expect(finding.reason == .reporterAnswer)
        #expect(result.masked == "共有フォルダに ************ を含むファイルを誤って置いた")
    }

    @Test func fieldLabel() throws {
        let result = screener.screen(number, fieldLabel: "個人番号（12桁）")
        #expect(try #require(result.findings.first).reason == .fieldLabel)
        #expect(screener.screen(number, fieldLabel: "My Number").containsMyNumber)
        #expect(!screener.screen(number, fieldLabel: "電話番号").containsMyNumber)
        // A keyword in the text is more specific than the label.
        #expect(screener.screen("個人番号 \(number)", fieldLabel: "個人番号").findings.first?.reason == .keyword)
        #expect(screener.screen("個人番号 \(number)", reporterSaysInvolved: true).findings.first?.reason == .keyword)
    }

    @Test func keywordAfterTheNumber() throws {
        let text = "\(number)（対象者のマイナンバー）"
        let result = screener.screen(text)
        #expect(try #require(result.findings.first).reason == .keyword)
        #expect(result.masked == "************（対象者のマイナンバー）")
    }

    @Test func keywordVariants() {
        for keyword in [
            "個人番号", "マイナンバー", "ﾏｲﾅﾝﾊﾞｰ", "まいなんばー", "マイナンバーカード", "個人番号カード", "通知カード",
            "特定個人情報", "My Number", "my-number", "MYNUMBER", "ｍｙ　ｎｕｍｂｅｒ", "Individual Number", "マイナカード",
        ] {
            #expect(screener.screen("\(keyword): \(number)").containsMyNumber, "\(keyword)")
        }
        for unrelated in ["電話番号", "口座番号", "番号", "number", "my", "管理番号"] {
            #expect(!screener.screen("\(unrelated): \(number)").containsMyNumber, "\(unrelated)")
        }
    }

    @Test func contextWindow() {
        let filler30 = String(repeating: "あ", count: 30)
        let filler31 = String(repeating: "あ", count: 31)
        #expect(screener.screen("個人番号\(filler30)\(number)").containsMyNumber)
        #expect(!screener.screen("個人番号\(filler31)\(number)").containsMyNumber)
        #expect(screener.screen("\(number)\(filler30)個人番号").containsMyNumber)
        #expect(!screener.screen("\(number)\(filler31)個人番号").containsMyNumber)
        let narrow = MyNumberScreener(contextWindow: 5)
        #expect(narrow.screen("個人番号は、\(number)").containsMyNumber)
        #expect(!narrow.screen("個人番号は次のとおり：\(number)").containsMyNumber)
        // With a single keyword nothing longer widens the look-back: the edge is exact.
        let single = MyNumberScreener(contextWindow: 3, keywords: ["個人番号"])
        #expect(single.screen("個人番号あいう\(number)").containsMyNumber)
        #expect(!single.screen("個人番号あいうえ\(number)").containsMyNumber)
        #expect(single.screen("\(number)あいう個人番号").containsMyNumber)
        #expect(!single.screen("\(number)あいうえ個人番号").containsMyNumber)
        let custom = MyNumberScreener(keywords: ["被保険者番号"])
        #expect(custom.screen("被保険者番号 \(number)").containsMyNumber)
        #expect(!custom.screen("個人番号 \(number)").containsMyNumber)
    }

    @Test func multipleNumbers() throws {
        let wrong = invalid("55555555555")
        let text = """
            1件目 個人番号 \(number)
            2件目 マイナンバー \(fullWidth(grouped(other, " ")))
            3件目 個人番号 \(wrong)
            \(String(repeating: "－", count: 40))
            4件目 受付番号 \(valid("11122233344"))
            """
        let result = screener.screen(text)
        #expect(result.findings.count == 2)
        #expect(result.findings.map(\.last4) == [String(number.suffix(4)), String(other.suffix(4))])
        #expect(result.findings[0].range.upperBound <= result.findings[1].range.lowerBound)
        #expect(result.unconfirmedCandidateCount == 1)
        #expect(!result.masked.contains(number))
        #expect(result.masked.contains("個人番号 ************"))
        #expect(result.masked.contains("マイナンバー ****　****　****"))
        #expect(result.masked.contains(wrong))
        #expect(result.masked.contains(valid("11122233344")))
        #expect(result.masked.count == text.count)

        let all = MyNumberMasking.mask(text)
        #expect(!all.contains(valid("11122233344")))
        #expect(all.contains(wrong))
    }

    @Test func rangesSurviveMultiScalarCharacters() throws {
        // Emoji sequences, combining marks and half-width kana change the scalar count of each
        // Character under NFKC; ranges and masking must still land on the original digits.
        let text = "👨‍👩‍👧 ｶﾞｲﾄﾞ e\u{301} ﾏｲﾅﾝﾊﾞｰ：\(fullWidth(number)) ㍻ ①"
        let result = screener.screen(text)
        let finding = try #require(result.findings.first)
        #expect(String(text[finding.range]) == fullWidth(number))
        #expect(result.masked == "👨‍👩‍👧 ｶﾞｲﾄﾞ e\u{301} ﾏｲﾅﾝﾊﾞｰ：************ ㍻ ①")
    }

    @Test func emptyAndDigitFreeTexts() {
        #expect(screener.screen("").findings.isEmpty)
        #expect(screener.screen("", reporterSaysInvolved: true).masked == "")
        #expect(MyNumberMasking.mask("") == "")
        #expect(MyNumberMasking.mask("no digits here") == "no digits here")
        #expect(MyNumberMasking.mask("id=12345678901") == "id=12345678901")
    }

    @Test func maskingIsALastLineFilterForLogs() {
        let line = "notify user=42 body=\"個人番号 \(grouped(number, "-"))\" ref=\(other)"
        #expect(MyNumberMasking.mask(line) == "notify user=42 body=\"個人番号 ****-****-****\" ref=************")
    }
}

@Suite("My Number screening performance")
struct MyNumberScreenerPerformanceTests {
    static func measure(_ body: () -> Void) -> Duration {
        let clock = ContinuousClock()
        body()  // warm up
        var best = Duration.seconds(1_000)
        for _ in 0..<5 { best = min(best, clock.measure(body)) }
        return best
    }

    @Test func sixtyFourKiBDescription() {
        let number = valid("12345678901")
        let paragraph = "本日午後、窓口で受け付けた申請書（個人番号 \(number) を含む）を誤って別の区民に交付した。電話 03-1234-5678。"
        var text = ""
        while text.utf8.count < 64 * 1024 { text += paragraph + "\n" }
        let screener = MyNumberScreener()
        var result = MyNumberScreening(findings: [], masked: "")
        let elapsed = Self.measure { result = screener.screen(text) }
        #expect(result.findings.count == text.components(separatedBy: "\n").count - 1)
        // Optimised builds take about a millisecond; the bound leaves room for debug builds and
        // a busy machine while still catching quadratic behaviour.
        #expect(elapsed < .milliseconds(250), "screening 64 KiB took \(elapsed)")
        print("screen(64 KiB Japanese, \(result.findings.count) findings): \(elapsed)")
    }

    static let adversarial: [String: String] = [
        "4-digit groups joined by spaces": String(repeating: "1234 ", count: 13_000),
        "4-digit groups joined by hyphens": String(repeating: "1234-", count: 13_000),
        "one 65 000-digit run": String(repeating: "1", count: 65_000),
        "5 000 valid numbers": String(repeating: "123456789018 ", count: 5_000),
        "full-width groups": String(repeating: "１２３４－", count: 4_000),
        "half-width voiced kana": String(repeating: "ｱﾞ", count: 10_000),
    ]

    @Test(arguments: adversarial.keys.sorted())
    func adversarialInputStaysLinear(name: String) throws {
        let text = try #require(Self.adversarial[name])
        let screener = MyNumberScreener()
        let elapsed = Self.measure {
            _ = screener.screen(text, reporterSaysInvolved: true)
            _ = MyNumberMasking.mask(text)
        }
        #expect(elapsed < .milliseconds(500), "took \(elapsed)")
    }
}

@Suite("My Number screening: normalisation edge cases")
struct MyNumberNormalisationTests {
    let screener = MyNumberScreener()
    let number = valid("12345678901")

    @Test func decomposedKanaKeyword() {
        // macOS file names and some PDFs carry NFD: バ as ハ + U+3099.
        #expect(screener.screen("マイナンハ\u{3099}ー \(number)").containsMyNumber)
    }

    @Test func oneCharacterYieldingTwoDigitsIsMaskedOnce() throws {
        // "⑫" is NFKC "12": the number reads 123456789018 and the circled twelve is one "*".
        let text = "個人番号 ⑫34567890１８ です"
        let result = screener.screen(text)
        let finding = try #require(result.findings.first)
        #expect(String(text[finding.range]) == "⑫34567890１８")
        #expect(result.masked == "個人番号 *********** です")
        #expect(result.masked.count == text.count)
    }

    @Test func emojiAndLineBreaksAroundTheNumber() throws {
        let text = "個人番号\r\n😀\(number)😀\r\n"
        let result = screener.screen(text)
        let finding = try #require(result.findings.first)
        #expect(String(text[finding.range]) == number)
        #expect(result.masked == "個人番号\r\n😀************😀\r\n")
    }

    @Test func digitWithCombiningMarkStillReadsAsADigit() {
        // "8\u{20E3}" (keycap 8) is one Character that NFKC keeps as 8 + U+20E3: it reads as
        // the digit and is masked whole.
        let text = "個人番号 12345678901" + "8\u{20E3}"
        #expect(screener.screen(text).masked == "個人番号 ************")
    }

    @Test func randomTextsKeepTheirShape() {
        let alphabet: [String] = [
            "1", "2", "8", "0", "１", "８", "０", " ", "-", "－", "ー", "　", "\u{2010}", "あ", "個人番号", "ﾊﾞ", "e\u{301}",
            "⑫", "①", "😀", "\r\n", "x", "マイナンバー",
        ]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            var text = ""
            for _ in 0..<Int.random(in: 0...60, using: &generator) {
                text +=
                    Bool.random(using: &generator)
                    ? alphabet.randomElement(using: &generator)!
                    : valid("1234567890\(Int.random(in: 0...9, using: &generator))")
            }
            let masked = MyNumberMasking.mask(text)
            #expect(masked.count == text.count, "\(text)")
            // With the reporter's "yes" every candidate is a finding, so both maskings agree.
            let screened = screener.screen(text, reporterSaysInvolved: true)
            #expect(screened.masked == masked, "\(text)")
            #expect(screened.unconfirmedCandidateCount == 0)
            for finding in screened.findings {
                let digits = String(text[finding.range]).precomposedStringWithCompatibilityMapping.filter(\.isASCII)
                    .filter(\.isNumber)
                #expect(digits.count == 12, "\(text)")
                #expect(String(digits.suffix(4)) == finding.last4)
                #expect(MyNumberScreener.isValidCheckDigit(digits))
            }
        }
    }
}
