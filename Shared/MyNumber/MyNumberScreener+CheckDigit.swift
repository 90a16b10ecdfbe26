extension MyNumberScreener {
    // MIC Ordinance No. 85 of 2014 (総務省令第85号), Art. 5: with Pn the n-th of the first
    // eleven digits counted from the right and Qn = n + 1 (1 ≤ n ≤ 6) or n − 5 (7 ≤ n ≤ 11),
    // the check digit is 11 − (Σ Pn × Qn mod 11), or 0 when that remainder is 0 or 1.
    // Read left to right the weights are 6,5,4,3,2,7,6,5,4,3,2.
    private static let checkDigitWeights = [6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2]

    /// The check digit (0-9) for the first eleven digits of a My Number, or nil unless
    /// `digits` is exactly eleven ASCII digits.
    public static func checkDigit(forFirstEleven digits: some StringProtocol) -> Int? {
        var values: [UInt8] = []
        values.reserveCapacity(11)
        for byte in digits.utf8 {
            guard byte &- 0x30 < 10, values.count < 11 else { return nil }
            values.append(byte - 0x30)
        }
        guard values.count == 11 else { return nil }
        return checkDigit(values)
    }

    /// Whether `twelveDigits` is exactly twelve ASCII digits whose last is the check digit of
    /// the first eleven. Context is not considered; see ``screen(_:reporterSaysInvolved:fieldLabel:)``.
    public static func isValidCheckDigit(_ twelveDigits: some StringProtocol) -> Bool {
        var values: [UInt8] = []
        values.reserveCapacity(12)
        for byte in twelveDigits.utf8 {
            guard byte &- 0x30 < 10, values.count < 12 else { return false }
            values.append(byte - 0x30)
        }
        return isValidCheckDigit(values)
    }

    /// `digits`: eleven values 0-9.
    static func checkDigit(_ digits: some Collection<UInt8>) -> Int {
        var sum = 0
        for (weight, digit) in zip(checkDigitWeights, digits) { sum += weight * Int(digit) }
        let remainder = sum % 11
        return remainder <= 1 ? 0 : 11 - remainder
    }

    /// `digits`: values 0-9.
    static func isValidCheckDigit(_ digits: [UInt8]) -> Bool {
        digits.count == 12 && checkDigit(digits.prefix(11)) == Int(digits[11])
    }
}
