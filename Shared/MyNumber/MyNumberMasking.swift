/// The last-line filter for anything that leaves the system (notifications, logs, events):
/// masks every twelve-digit number with a valid My Number check digit, context or not.
public enum MyNumberMasking {
    /// `text` with the digits of every My Number candidate (twelve contiguous digits or 4-4-4
    /// groups, full-width or not, with a valid check digit) replaced by "*", one per character,
    /// separators kept. Unlike ``MyNumberScreener/screen(_:reporterSaysInvolved:fieldLabel:)``
    /// it needs no context, so about one in ten unrelated twelve-digit numbers is masked too.
    public static func mask(_ text: String) -> String {
        guard MyNumberScanner.mayContainCandidate(text) else { return text }
        let normalised = NormalisedText(text)
        return MyNumberScanner.mask(text, normalised, MyNumberScanner.candidates(in: normalised))
    }

    /// Whether ``mask(_:)`` would change `text`.
    public static func containsCandidate(_ text: String) -> Bool {
        mask(text) != text
    }
}
