/// The last-line filter for anything that leaves the system (notifications, logs, events):
/// masks every twelve-digit number with a valid My Number check digit, context or not.
public enum MyNumberMasking {
    /// `text` with the digits of every My Number candidate (twelve contiguous digits or 4-4-4
    /// groups, full-width or not, with a valid check digit) replaced by "*", one per character,
    /// separators kept. Unlike ``MyNumberScreener/screen(_:reporterSaysInvolved:fieldLabel:)``
    /// it needs no context, so about one in ten unrelated twelve-digit numbers is masked too.
    ///
    /// A value that is a whole UUID in its canonical form (`8-4-4-4-12` hex digits) is left as it
    /// is: it is an identifier the system issued (an intake id, a case id), and about one random
    /// UUID in 3,000 ends in twelve decimal digits with a valid check digit. Masking that group
    /// broke the link from a report to its notifications (found by the fault suite, issue #17).
    public static func mask(_ text: String) -> String {
        guard MyNumberScanner.mayContainCandidate(text), !isCanonicalUUID(text) else { return text }
        let normalised = NormalisedText(text)
        return MyNumberScanner.mask(text, normalised, MyNumberScanner.candidates(in: normalised))
    }

    static func isCanonicalUUID(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == 36 else { return false }
        for (index, byte) in bytes.enumerated() {
            if [8, 13, 18, 23].contains(index) {
                guard byte == UInt8(ascii: "-") else { return false }
            } else {
                guard (48...57).contains(byte) || (97...102).contains(byte) || (65...70).contains(byte) else { return false }
            }
        }
        return true
    }

    /// Whether ``mask(_:)`` would change `text`.
    public static func containsCandidate(_ text: String) -> Bool {
        mask(text) != text
    }
}
