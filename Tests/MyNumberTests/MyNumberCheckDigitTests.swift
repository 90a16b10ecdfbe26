import MyNumber
import Testing

@Suite("My Number check digit (MIC Ordinance No. 85, Art. 5)")
struct MyNumberCheckDigitTests {
    /// The ordinance's own wording, independent of the implementation: Pn is the n-th digit
    /// from the right of the first eleven, Qn = n + 1 for n ≤ 6 and n − 5 for n ≥ 7.
    static func ordinanceCheckDigit(_ eleven: String) -> Int {
        let digits = eleven.compactMap(\.wholeNumberValue)
        var sum = 0
        for n in 1...11 {
            let p = digits[11 - n]
            let q = n <= 6 ? n + 1 : n - 5
            sum += p * q
        }
        let remainder = sum % 11
        return remainder <= 1 ? 0 : 11 - remainder
    }

    @Test func knownVector() {
        // 1·6 + 2·5 + 3·4 + 4·3 + 5·2 + 6·7 + 7·6 + 8·5 + 9·4 + 0·3 + 1·2 = 212; 212 mod 11 = 3; 11 − 3 = 8.
        #expect(MyNumberScreener.checkDigit(forFirstEleven: "12345678901") == 8)
        #expect(MyNumberScreener.isValidCheckDigit("123456789018"))
        for wrong in 0...9 where wrong != 8 {
            #expect(!MyNumberScreener.isValidCheckDigit("12345678901\(wrong)"))
        }
    }

    @Test func remainderZeroAndOneGiveZero() {
        // 00000000000 → sum 0, remainder 0 → 0.
        #expect(MyNumberScreener.checkDigit(forFirstEleven: "00000000000") == 0)
        // 00000000006 → 6·2 = 12, remainder 1 → 0.
        #expect(MyNumberScreener.checkDigit(forFirstEleven: "00000000006") == 0)
        // 00000000001 → 2, remainder 2 → 9.
        #expect(MyNumberScreener.checkDigit(forFirstEleven: "00000000001") == 9)
        #expect(MyNumberScreener.isValidCheckDigit("000000000060"))
    }

    @Test(arguments: [
        "12345678901", "98765432109", "31415926535", "27182818284", "11111111111", "55555555555", "90000000001",
    ])
    func agreesWithTheOrdinanceWording(eleven: String) throws {
        let expected = Self.ordinanceCheckDigit(eleven)
        #expect(MyNumberScreener.checkDigit(forFirstEleven: eleven) == expected)
        #expect(MyNumberScreener.isValidCheckDigit(eleven + String(expected)))
        #expect(!MyNumberScreener.isValidCheckDigit(eleven + String((expected + 1) % 10)))
    }

    @Test func agreesOnManyPrefixes() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            let eleven = String((0..<11).map { _ in Character(String(Int.random(in: 0...9, using: &generator))) })
            #expect(MyNumberScreener.checkDigit(forFirstEleven: eleven) == Self.ordinanceCheckDigit(eleven))
        }
    }

    @Test func rejectsAnythingButASCIIDigitsOfTheRightLength() {
        #expect(MyNumberScreener.checkDigit(forFirstEleven: "1234567890") == nil)
        #expect(MyNumberScreener.checkDigit(forFirstEleven: "123456789012") == nil)
        #expect(MyNumberScreener.checkDigit(forFirstEleven: "1234567890a") == nil)
        #expect(MyNumberScreener.checkDigit(forFirstEleven: "") == nil)
        #expect(!MyNumberScreener.isValidCheckDigit("12345678901"))
        #expect(!MyNumberScreener.isValidCheckDigit("1234567890180"))
        #expect(!MyNumberScreener.isValidCheckDigit("1234-5678-9018"))
        #expect(!MyNumberScreener.isValidCheckDigit("１２３４５６７８９０１８"))
        // Substrings work too.
        let text = "No. 123456789018!"
        #expect(MyNumberScreener.isValidCheckDigit(text.dropFirst(4).dropLast()))
    }
}
