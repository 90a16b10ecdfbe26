import Foundation

/// Text prepared for screening: every Character NFKC-normalised on its own, hyphen-like marks
/// mapped to "-", and a map from each normalised scalar back to the Character it came from, so
/// that what is found in the normalised text can be located (and masked) in the original.
///
/// Iterating Characters costs about ten times as much as iterating scalars, so a scalar whose
/// image is known and whose neighbours are such scalars too is taken as a Character of its own;
/// only the stretches around other scalars (combining marks, half-width kana, emoji) are split
/// into real Characters. The one pair this merges differently is CR LF, which maps to two units
/// instead of one; neither is ever masked or part of a range.
struct NormalisedText {
    /// The normalised text as Unicode scalar values.
    var scalars: [UInt32] = []
    /// For each normalised scalar, the ordinal of the original Character (unit) it came from.
    var origin: [Int] = []
    /// UTF-8 offset of each original Character's start, plus the text's UTF-8 length at the end.
    var characterStarts: [Int] = []

    init(_ text: String) {
        // Local arrays, moved into the stored properties at the end, let the optimiser drop
        // most uniqueness checks on append.
        var scalars: [UInt32] = []
        var origin: [Int] = []
        var characterStarts: [Int] = []
        let capacity = text.utf8.count + 1
        scalars.reserveCapacity(capacity)
        origin.reserveCapacity(capacity)
        characterStarts.reserveCapacity(capacity)

        func appendStretch(from start: Int, to end: Int) {
            let utf8 = text.utf8
            var offset = start
            let stretch = utf8.index(utf8.startIndex, offsetBy: start)..<utf8.index(utf8.startIndex, offsetBy: end)
            for character in text[stretch] {
                Self.appendCharacter(character, at: offset, &scalars, &origin, &characterStarts)
                offset += character.utf8.count
            }
        }

        var iterator = text.unicodeScalars.makeIterator()
        var current = iterator.next()
        var currentMapped = current.flatMap { Self.fastMap($0.value) }
        var previousIsFast = true
        var offset = 0
        var stretchStart: Int? = nil
        while let scalar = current {
            let next = iterator.next()
            let nextMapped = next.flatMap { Self.fastMap($0.value) }
            if let mapped = currentMapped, previousIsFast, next == nil || nextMapped != nil {
                if let start = stretchStart {
                    // A stretch of unknown or combining scalars starts and ends next to known
                    // scalars, so on Character boundaries: split it into real Characters.
                    appendStretch(from: start, to: offset)
                    stretchStart = nil
                }
                origin.append(characterStarts.count)
                characterStarts.append(offset)
                scalars.append(mapped)
            } else if stretchStart == nil {
                stretchStart = offset
            }
            offset += UTF8.width(scalar)
            previousIsFast = currentMapped != nil
            current = next
            currentMapped = nextMapped
        }
        if let start = stretchStart { appendStretch(from: start, to: offset) }
        characterStarts.append(offset)
        self.scalars = scalars
        self.origin = origin
        self.characterStarts = characterStarts
    }

    private static func appendCharacter(
        _ character: Character,
        at offset: Int,
        _ scalars: inout [UInt32],
        _ origin: inout [Int],
        _ characterStarts: inout [Int]
    ) {
        let ordinal = characterStarts.count
        characterStarts.append(offset)
        var iterator = character.unicodeScalars.makeIterator()
        if let first = iterator.next(), iterator.next() == nil, let mapped = fastMap(first.value) {
            scalars.append(mapped)
            origin.append(ordinal)
            return
        }
        // Multi-scalar Characters (half-width kana with voicing marks, combining marks) and
        // scalars outside the known-stable ranges go through Foundation's NFKC. On Linux it
        // leaves "ﾊﾞ" as ハ + U+3099 instead of バ, so compose canonically once more.
        let nfkc = String(character).precomposedStringWithCompatibilityMapping
            .precomposedStringWithCanonicalMapping
        for scalar in nfkc.unicodeScalars {
            scalars.append(mapHyphen(scalar.value))
            origin.append(ordinal)
        }
    }

    /// The NFKC image of a single scalar when it is known without asking Foundation, already
    /// hyphen-mapped; nil when Foundation must decide. Screening mostly sees ASCII, full-width
    /// ASCII, kana and kanji: with this a 64 KiB text takes about 0.1 ms (release build) when it
    /// holds no digit stretch and 0.5 ms when it holds a few My Numbers.
    @inline(__always)
    static func fastMap(_ value: UInt32) -> UInt32? {
        switch value {
        case 0x00...0x7F:
            return value
        case 0xFF01...0xFF5E:
            // Full-width ASCII: NFKC maps each to the ASCII character 0xFEE0 below it (U+FF0D → "-").
            return value - 0xFEE0
        case 0x3000:
            return 0x20
        case 0x2010...0x2015, 0x2212, 0x30FC:
            return 0x2D
        case 0x3001...0x3029, 0x3041...0x3096, 0x30A1...0x30FB, 0x4E00...0x9FFF, 0xAC00...0xD7A3,
            0x2018...0x2023, 0x203B, 0x2190...0x21FF, 0x2500...0x26FF:
            // CJK punctuation, kana, CJK unified ideographs, Hangul syllables, quotes, "※",
            // arrows, box drawing and shapes have no compatibility decomposition and are
            // NFC-stable on their own (checked against Foundation for every scalar listed).
            return value
        case 0x1100...0x11FF, 0xA960...0xA97F, 0xD7B0...0xD7FF:
            // Hangul jamo compose with their neighbours.
            return nil
        default:
            return stableScalar(value)
        }
    }

    private static func stableScalar(_ value: UInt32) -> UInt32? {
        switch value {
        default:
            // Any other scalar that NFKC (even with case folding) leaves alone and that does not
            // combine with a neighbour stands for itself: "〜", "※", "→", "○" and the like.
            guard let scalar = Unicode.Scalar(value) else { return nil }
            let properties = scalar.properties
            guard !properties.changesWhenNFKCCaseFolded, properties.canonicalCombiningClass == .notReordered else {
                return nil
            }
            switch properties.generalCategory {
            case .nonspacingMark, .spacingMark, .enclosingMark, .format, .control, .surrogate, .unassigned:
                return nil
            default:
                return value
            }
        }
    }

    /// Hyphen-like marks that people (and input methods) put between digit groups become "-":
    /// U+2010–U+2015 (hyphens and dashes), U+2212 (minus sign), U+30FC (katakana prolonged sound
    /// mark, which Japanese IMEs often produce for "-") and U+FF0D (full-width hyphen-minus).
    @inline(__always)
    static func mapHyphen(_ value: UInt32) -> UInt32 {
        switch value {
        case 0x2010...0x2015, 0x2212, 0x30FC, 0xFF0D: return 0x2D
        default: return value
        }
    }

    @inline(__always)
    static func isDigit(_ value: UInt32) -> Bool { value &- 0x30 < 10 }

    @inline(__always)
    static func isGroupSeparator(_ value: UInt32) -> Bool { value == 0x20 || value == 0x2D }
}

/// A normalised text folded further for keyword matching: ASCII lower-cased, and spaces, line
/// breaks, hyphens (incl. the prolonged sound mark), "・" and "_" dropped, so "My Number",
/// "my-number", "ＭｙＮｕｍｂｅｒ" and "マイ・ナンバー" all read "mynumber" / "マイナンバ".
struct FoldedText {
    var scalars: [UInt32] = []
    /// For each folded scalar, its position in the normalised text.
    var position: [Int] = []

    init(_ normalised: NormalisedText) {
        scalars.reserveCapacity(normalised.scalars.count)
        position.reserveCapacity(normalised.scalars.count)
        for (index, value) in normalised.scalars.enumerated() {
            guard let folded = Self.fold(value) else { continue }
            scalars.append(folded)
            position.append(index)
        }
    }

    static func fold(_ value: UInt32) -> UInt32? {
        switch value {
        case 0x20, 0x09, 0x0A, 0x0D, 0x2D, 0x5F, 0x30FB:
            return nil
        case 0x41...0x5A:
            return value + 0x20
        default:
            return value
        }
    }

    static func fold(_ text: String) -> [UInt32] {
        FoldedText(NormalisedText(text)).scalars
    }

    /// Whether `keyword` occurs at folded index `start`.
    @inline(__always)
    func matches(_ keyword: [UInt32], at start: Int) -> Bool {
        guard start + keyword.count <= scalars.count else { return false }
        for offset in 0..<keyword.count where scalars[start + offset] != keyword[offset] {
            return false
        }
        return true
    }

    /// Whether any of `keywords` occurs anywhere.
    func containsAny(of keywords: [[UInt32]]) -> Bool {
        for start in scalars.indices {
            for keyword in keywords where matches(keyword, at: start) {
                return true
            }
        }
        return false
    }

    /// The first folded index whose normalised position is at least `normalisedPosition`.
    func firstIndex(atOrAfter normalisedPosition: Int) -> Int {
        var low = 0
        var high = position.count
        while low < high {
            let middle = (low + high) / 2
            if position[middle] < normalisedPosition { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
