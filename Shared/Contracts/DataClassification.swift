/// How carefully a message's data must be handled, carried in the `dataclassification`
/// extension attribute and the `cloudEvents:dataclassification` header so that brokers, logs and
/// relays can decide without reading the data. Ordered from least to most sensitive.
public enum DataClassification: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
    /// May be published.
    case `public`
    /// Staff of the ward only.
    case `internal`
    /// A need to know: personal data, incident details.
    case confidential
    /// The strictest handling: incidents that involve My Number data (Art. 3(10)).
    case restricted

    private var rank: Int {
        switch self {
        case .public: 0
        case .internal: 1
        case .confidential: 2
        case .restricted: 3
        }
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rank < rhs.rank }
}
