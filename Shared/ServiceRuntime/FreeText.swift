public import Contracts
import MyNumber

/// Screening of free text for My Numbers wherever it enters, before it is stored or emitted.
///
/// Intake keeps a report's original apart for its designated handlers; nothing else may keep a
/// My Number at all (My Number Act Art. 20: no collection or storage beyond the permitted
/// affairs), and the case history, the duty ledger and the decision chain are append-only: a
/// number written into a comment could never be removed. So every text that reaches a service
/// through its API (comments, reasons, finding texts, attestation answers, restriction targets,
/// evidence notes, ...) is screened on the way in, by the API's body decoder, for every route.
public enum FreeText {
    private static let screener = MyNumberScreener()

    /// `text` with every My Number the screener finds masked (a valid check digit and context:
    /// a keyword nearby, or a `fieldLabel` such as "個人番号").
    public static func screened(_ text: String, fieldLabel: String? = nil) -> String {
        screener.screen(text, fieldLabel: fieldLabel).masked
    }

    /// Whether `document` holds a NUL character in a string or a member name: PostgreSQL cannot
    /// store one in text or JSON, and no text of ours needs one.
    public static func containsNUL(_ document: JSONValue) -> Bool {
        switch document {
        case .string(let text): text.utf8.contains(0)
        case .array(let elements): elements.contains(where: containsNUL)
        case .object(let members): members.contains { $0.key.utf8.contains(0) || containsNUL($0.value) }
        case .null, .bool, .integer, .number: false
        }
    }

    /// Every string in `document` screened, each with its member name as the field label.
    public static func screened(_ document: JSONValue, fieldLabel: String? = nil) -> JSONValue {
        switch document {
        case .string(let text): .string(screened(text, fieldLabel: fieldLabel))
        case .array(let elements): .array(elements.map { screened($0, fieldLabel: fieldLabel) })
        case .object(let members): .object(Dictionary(uniqueKeysWithValues: members.map { ($0.key, screened($0.value, fieldLabel: $0.key)) }))
        case .null, .bool, .integer, .number: document
        }
    }
}
