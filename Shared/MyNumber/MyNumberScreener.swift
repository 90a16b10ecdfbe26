/// Screens free text (an incident description, a form field) for Japanese individual numbers
/// (個人番号, "My Number").
///
/// A My Number is twelve digits whose last digit is a check digit over the first eleven, so a
/// random twelve-digit string passes one time in ten. The screener therefore reports a number
/// only when, besides a valid check digit, there is context that it is a My Number:
/// - a keyword within ``contextWindow`` characters before or after it (``Reason/keyword``),
/// - a caller-given field label that contains a keyword (``Reason/fieldLabel``), or
/// - the reporter answered "yes" to "is My Number data involved?" (``Reason/reporterAnswer``).
///
/// Screening works on the NFKC-normalised text (full-width digits, spaces and hyphens become
/// ASCII; U+2010–U+2015, U+2212, U+30FC and U+FF0D count as hyphens) but every range and the
/// masked text refer to the original text. Candidates are written either as twelve contiguous
/// digits or grouped 4-4-4 with spaces or hyphens between the groups; see ``MyNumberMasking``
/// for masking every candidate regardless of context.
///
/// The work is one linear pass over the text plus a bounded look around each candidate.
public struct MyNumberScreener: Sendable {
    /// The context keywords used unless the caller gives others. Matching is case-insensitive
    /// and ignores spaces, hyphens, the prolonged sound mark "ー", "・" and "_", after NFKC
    /// (so half-width katakana and full-width Latin match too):
    /// - 個人番号 — the statutory term (My Number Act Art. 2(5)); also covers 個人番号カード.
    /// - マイナンバー, まいなんばー — the common name; also covers マイナンバーカード.
    /// - マイナカード — the card's everyday short name.
    /// - 番号カード — short for 個人番号カード.
    /// - 通知カード — the paper notification card that shows the number.
    /// - 特定個人情報 — personal information containing a My Number (My Number Act Art. 2(8)).
    /// - my number — also matches "mynumber", "My-Number", "MY NUMBER".
    /// - individual number — the term of the official English translation of the Act.
    ///
    /// A bare 番号 ("number") is deliberately absent: 電話番号, 口座番号 and 管理番号 are everywhere.
    public static let defaultKeywords: [String] = [
        "個人番号", "マイナンバー", "まいなんばー", "マイナカード", "番号カード", "通知カード", "特定個人情報",
        "my number", "individual number",
    ]

    /// How far, in characters (Unicode scalars) of the normalised text, a keyword may be from
    /// the number: the gap between the keyword and the first or last digit.
    public let contextWindow: Int
    /// The context keywords as given.
    public let keywords: [String]

    private let foldedKeywords: [[UInt32]]
    private let longestKeyword: Int
    private let keywordFirstScalars: Set<UInt32>

    /// Creates a screener.
    /// - Parameters:
    ///   - contextWindow: the largest gap, in characters of the normalised text, between a
    ///     keyword and the number for the keyword to count as context; at least 0.
    ///   - keywords: the context keywords; see ``defaultKeywords``.
    public init(contextWindow: Int = 30, keywords: [String] = MyNumberScreener.defaultKeywords) {
        precondition(contextWindow >= 0, "contextWindow must not be negative")
        self.contextWindow = contextWindow
        self.keywords = keywords
        var folded: [[UInt32]] = []
        for keyword in keywords {
            let scalars = FoldedText.fold(keyword)
            if !scalars.isEmpty, !folded.contains(scalars) { folded.append(scalars) }
        }
        self.foldedKeywords = folded
        self.longestKeyword = folded.map(\.count).max() ?? 0
        self.keywordFirstScalars = Set(folded.map { $0[0] })
    }

    /// Screens `text` for My Numbers.
    /// - Parameters:
    ///   - text: the text to screen.
    ///   - reporterSaysInvolved: the reporter answered "yes" to "is My Number data involved?";
    ///     then every twelve-digit candidate with a valid check digit is a finding.
    ///   - fieldLabel: the label of the field `text` came from ("個人番号", "My Number"); when it
    ///     contains a keyword, every candidate with a valid check digit is a finding.
    /// - Returns: the findings, in text order, and the text with their digits masked. When
    ///   several kinds of context hold, the reason is the most specific one: keyword, then
    ///   field label, then the reporter's answer.
    public func screen(_ text: String, reporterSaysInvolved: Bool = false, fieldLabel: String? = nil)
        -> MyNumberScreening
    {
        guard MyNumberScanner.mayContainCandidate(text) else {
            return MyNumberScreening(findings: [], masked: text, unconfirmedCandidateCount: 0)
        }
        let normalised = NormalisedText(text)
        let candidates = MyNumberScanner.candidates(in: normalised)
        guard !candidates.isEmpty else {
            return MyNumberScreening(findings: [], masked: text, unconfirmedCandidateCount: 0)
        }
        let folded = FoldedText(normalised)
        let labelHasKeyword = fieldLabel.map { FoldedText(NormalisedText($0)).containsAny(of: foldedKeywords) } ?? false

        var findings: [MyNumberFinding] = []
        var confirmed: [MyNumberCandidate] = []
        for candidate in candidates {
            let reason: MyNumberFinding.Reason
            if hasKeyword(near: candidate, in: folded) {
                reason = .keyword
            } else if labelHasKeyword {
                reason = .fieldLabel
            } else if reporterSaysInvolved {
                reason = .reporterAnswer
            } else {
                continue
            }
            confirmed.append(candidate)
            findings.append(
                MyNumberFinding(
                    range: MyNumberScanner.originalRange(of: candidate, in: text, normalised),
                    reason: reason,
                    last4: String(decoding: candidate.digits[8...].map { $0 + 0x30 }, as: UTF8.self)
                )
            )
        }
        return MyNumberScreening(
            findings: findings,
            masked: MyNumberScanner.mask(text, normalised, confirmed),
            unconfirmedCandidateCount: candidates.count - confirmed.count
        )
    }

    /// Whether a keyword occurs with at most `contextWindow` normalised characters between it
    /// and the candidate's digits, before or after.
    private func hasKeyword(near candidate: MyNumberCandidate, in folded: FoldedText) -> Bool {
        guard longestKeyword > 0, !folded.scalars.isEmpty else { return false }
        let earliestEnd = candidate.start - contextWindow
        let latestStart = candidate.end + contextWindow
        // A keyword that ends in time has its last scalar at earliestEnd - 1 or later.
        var start = max(0, folded.firstIndex(atOrAfter: earliestEnd - 1) - longestKeyword + 1)
        while start < folded.scalars.count, folded.position[start] <= latestStart {
            guard keywordFirstScalars.contains(folded.scalars[start]) else {
                start += 1
                continue
            }
            for keyword in foldedKeywords where folded.matches(keyword, at: start) {
                let keywordEnd = folded.position[start + keyword.count - 1] + 1
                if keywordEnd >= earliestEnd { return true }
            }
            start += 1
        }
        return false
    }
}

/// The result of screening a text for My Numbers.
public struct MyNumberScreening: Sendable, Hashable {
    /// The My Numbers found, in text order; empty when none.
    public var findings: [MyNumberFinding]
    /// The original text with every finding's digits replaced by "*", one per character,
    /// separators kept: "個人番号１２３４－５６７８－９０１８" → "個人番号****－****－****".
    public var masked: String
    /// How many twelve-digit numbers with a valid check digit were left out for lack of
    /// context. Non-zero is a reason to ask the reporter whether My Number data is involved.
    public var unconfirmedCandidateCount: Int

    /// Whether any My Number was found.
    public var containsMyNumber: Bool { !findings.isEmpty }

    /// Creates a screening result.
    public init(findings: [MyNumberFinding], masked: String, unconfirmedCandidateCount: Int = 0) {
        self.findings = findings
        self.masked = masked
        self.unconfirmedCandidateCount = unconfirmedCandidateCount
    }
}

/// One My Number found in a text. It never holds the number itself.
public struct MyNumberFinding: Sendable, Hashable {
    /// Why a valid twelve-digit number was taken for a My Number.
    public enum Reason: String, Sendable, Hashable, CaseIterable {
        /// A context keyword was near it.
        case keyword
        /// The field label named it.
        case fieldLabel
        /// The reporter said My Number data is involved.
        case reporterAnswer
    }

    /// From the first to the last digit, in the original (not normalised) text.
    public var range: Range<String.Index>
    /// Why it counts as a My Number.
    public var reason: Reason
    /// The last four digits in ASCII, which may be shown to identify the number.
    public var last4: String

    /// Creates a finding.
    public init(range: Range<String.Index>, reason: Reason, last4: String) {
        self.range = range
        self.reason = reason
        self.last4 = last4
    }
}
