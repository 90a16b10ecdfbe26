/// A 12-digit sequence that looks like a My Number and carries a valid check digit.
struct MyNumberCandidate: Sendable {
    /// Positions of the twelve digits in the normalised text, left to right.
    var digitPositions: [Int]
    /// The twelve digit values, 0-9.
    var digits: [UInt8]

    /// Position of the first digit in the normalised text.
    var start: Int { digitPositions[0] }
    /// One past the position of the last digit in the normalised text.
    var end: Int { digitPositions[11] + 1 }
}

/// Finds My Number candidates in a normalised text in one linear pass (no regular expressions,
/// so no backtracking however adversarial the input).
///
/// A candidate is either
/// - twelve contiguous digits forming a whole digit run (not part of 13 or more digits), or
/// - three runs of exactly four digits joined by gaps of one to three spaces or hyphens
///   ("1234 5678 9012", "1234-5678-9012", "1234 - 5678 - 9012").
///
/// Digits joined to more digits by a hyphen belong to a longer compound number (a telephone
/// number, "1234-5678-9012-3456") and are not a candidate; neither is a 4-4-4 group continued
/// by another four-digit group across a space, which is how card numbers are written. Other
/// digits merely separated by a space ("123456789018 2件") do not disqualify a candidate.
enum MyNumberScanner {
    private enum Join {
        case none, space, hyphen
    }

    /// False when `text` certainly holds no candidate, found from its scalars without
    /// normalising it: no stretch of twelve digits, with at most three separators in a row,
    /// exists. A scalar whose NFKC image is not known here counts as three digits (the most any
    /// scalar yields, "⅒" → "1⁄10"), so the answer errs towards true. Most texts have no such
    /// stretch and are done in one cheap pass.
    static func mayContainCandidate(_ text: String) -> Bool {
        var digits = 0
        var separators = 0
        for scalar in text.unicodeScalars {
            guard let mapped = NormalisedText.fastMap(scalar.value) else {
                digits += 3
                separators = 0
                if digits >= 12 { return true }
                continue
            }
            if NormalisedText.isDigit(mapped) {
                digits += 1
                separators = 0
                if digits >= 12 { return true }
            } else if NormalisedText.isGroupSeparator(mapped) {
                separators += 1
                if separators > 3 { digits = 0 }
            } else {
                digits = 0
                separators = 0
            }
        }
        return false
    }

    static func candidates(in text: NormalisedText) -> [MyNumberCandidate] {
        let scalars = text.scalars
        var runs: [Range<Int>] = []
        var index = 0
        while index < scalars.count {
            guard NormalisedText.isDigit(scalars[index]) else {
                index += 1
                continue
            }
            let start = index
            while index < scalars.count, NormalisedText.isDigit(scalars[index]) { index += 1 }
            runs.append(start..<index)
        }
        guard !runs.isEmpty else { return [] }

        func join(_ left: Int, _ right: Int) -> Join {
            guard left >= 0, right < runs.count else { return .none }
            let gapStart = runs[left].upperBound
            let gapEnd = runs[right].lowerBound
            guard (1...3).contains(gapEnd - gapStart) else { return .none }
            var sawHyphen = false
            for position in gapStart..<gapEnd {
                switch scalars[position] {
                case 0x2D: sawHyphen = true
                case 0x20: continue
                default: return .none
                }
            }
            return sawHyphen ? .hyphen : .space
        }

        func digits(_ ranges: [Range<Int>]) -> MyNumberCandidate {
            var positions: [Int] = []
            positions.reserveCapacity(12)
            for range in ranges { positions.append(contentsOf: range) }
            return MyNumberCandidate(digitPositions: positions, digits: positions.map { UInt8(scalars[$0] - 0x30) })
        }

        var found: [MyNumberCandidate] = []
        for run in runs.indices {
            switch runs[run].count {
            case 12:
                guard join(run - 1, run) != .hyphen, join(run, run + 1) != .hyphen else { continue }
                let candidate = digits([runs[run]])
                if MyNumberScreener.isValidCheckDigit(candidate.digits) { found.append(candidate) }
            case 4:
                guard run + 2 < runs.count, runs[run + 1].count == 4, runs[run + 2].count == 4,
                    join(run, run + 1) != .none, join(run + 1, run + 2) != .none
                else { continue }
                let before = join(run - 1, run)
                let after = join(run + 2, run + 3)
                if before == .hyphen || after == .hyphen { continue }
                if before == .space, runs[run - 1].count == 4 { continue }
                if after == .space, runs[run + 3].count == 4 { continue }
                let candidate = digits([runs[run], runs[run + 1], runs[run + 2]])
                if MyNumberScreener.isValidCheckDigit(candidate.digits) { found.append(candidate) }
            default:
                continue
            }
        }
        return found
    }

    /// `text` with every digit of `candidates` replaced by one "*" per original Character;
    /// separators and everything else are kept as written.
    static func mask(_ text: String, _ normalised: NormalisedText, _ candidates: [MyNumberCandidate]) -> String {
        guard !candidates.isEmpty else { return text }
        var ordinals: [Int] = []
        ordinals.reserveCapacity(candidates.count * 12)
        for candidate in candidates {
            for position in candidate.digitPositions {
                let ordinal = normalised.origin[position]
                // One Character can yield several digits ("⑫" → "12"): mask it once.
                if ordinals.last != ordinal { ordinals.append(ordinal) }
            }
        }
        ordinals.sort()
        var masked = ""
        masked.reserveCapacity(text.utf8.count)
        var copied = 0
        for (offset, ordinal) in ordinals.enumerated() where offset == 0 || ordinals[offset - 1] != ordinal {
            let start = normalised.characterStarts[ordinal]
            masked += text[utf8Offset(copied, in: text)..<utf8Offset(start, in: text)]
            masked += "*"
            copied = normalised.characterStarts[ordinal + 1]
        }
        masked += text[utf8Offset(copied, in: text)...]
        return masked
    }

    /// The range in the original text from the Character of the first digit to the end of the
    /// Character of the last.
    static func originalRange(of candidate: MyNumberCandidate, in text: String, _ normalised: NormalisedText)
        -> Range<String.Index>
    {
        let first = normalised.origin[candidate.digitPositions[0]]
        let last = normalised.origin[candidate.digitPositions[11]]
        let start = utf8Offset(normalised.characterStarts[first], in: text)
        let end = utf8Offset(normalised.characterStarts[last + 1], in: text)
        return start..<end
    }

    @inline(__always)
    static func utf8Offset(_ offset: Int, in text: String) -> String.Index {
        text.utf8.index(text.utf8.startIndex, offsetBy: offset)
    }
}
