/// What kind of incident happened (Art. 3(13)).
public enum IncidentCategory: String, Sendable, Hashable, Codable, CaseIterable {
    case malware
    case unauthorisedAccess = "unauthorised-access"
    case lossOrTheft = "loss-or-theft"
    case misdelivery
    case dataLeak = "data-leak"
    case systemOutage = "system-outage"
    case policyViolation = "policy-violation"
    /// A contractor's breach of its contract or the special provisions (Art. 3(13)イ, Art. 6).
    case contractorViolation = "contractor-violation"
    case other
}

/// An answer that may not be known yet. `unknown` keeps the question open: statutory triggers
/// are often unclear when an incident is first reported (DOMAIN.md, "Law that shapes the data").
public enum Verdict: String, Sendable, Hashable, Codable, CaseIterable {
    case yes
    case no
    case unknown
}

/// The reporter's answers to the questions that decide statutory reporting (Art. 8; APPI Art. 68,
/// PPC Rule Art. 43; My Number Act Art. 29-4).
public struct IncidentAnswers: Sendable, Hashable, Codable {
    /// Personal data is involved.
    public var personalData: Verdict
    /// My Number data (特定個人情報) is involved.
    public var myNumber: Verdict
    /// Sensitive personal data (要配慮個人情報) is involved.
    public var sensitivePersonalData: Verdict
    /// The incident was caused with wrongful intent (extends the final-report deadline to 60 days).
    public var wrongfulIntent: Verdict
    /// The data was, or could be, viewed by an unspecified number of people.
    public var unspecifiedViewers: Verdict
    /// The data was protected by strong encryption.
    public var dataEncrypted: Verdict

    public init(
        personalData: Verdict,
        myNumber: Verdict,
        sensitivePersonalData: Verdict,
        wrongfulIntent: Verdict,
        unspecifiedViewers: Verdict,
        dataEncrypted: Verdict
    ) {
        self.personalData = personalData
        self.myNumber = myNumber
        self.sensitivePersonalData = sensitivePersonalData
        self.wrongfulIntent = wrongfulIntent
        self.unspecifiedViewers = unspecifiedViewers
        self.dataEncrypted = dataEncrypted
    }

    /// Every answer `unknown`.
    public static let allUnknown = IncidentAnswers(
        personalData: .unknown,
        myNumber: .unknown,
        sensitivePersonalData: .unknown,
        wrongfulIntent: .unknown,
        unspecifiedViewers: .unknown,
        dataEncrypted: .unknown
    )
}

/// How many people's data is affected: a count, or `"unknown"` on the wire.
public enum AffectedPersons: Sendable, Hashable, Codable {
    case count(Int)
    case unknown

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let count = try? container.decode(Int.self) {
            // The submit schema's bounds: a count of people, within a 32-bit integer.
            guard (0...2_147_483_647).contains(count) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "affectedPersons must be from 0 to 2147483647")
            }
            self = .count(count)
        } else if let text = try? container.decode(String.self), text == "unknown" {
            self = .unknown
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "affectedPersons is an integer >= 0 or \"unknown\"")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .count(let count): try container.encode(count)
        case .unknown: try container.encode("unknown")
        }
    }

    /// Whether the count is known to exceed `threshold` (`nil` when unknown): more than 100
    /// persons is a statutory trigger.
    public func exceeds(_ threshold: Int) -> Bool? {
        switch self {
        case .count(let count): count > threshold
        case .unknown: nil
        }
    }
}

/// Confidentiality class of an information asset (Art. 9(2)); 3A is the most sensitive.
public enum ConfidentialityLevel: String, Sendable, Hashable, Codable, CaseIterable {
    case level3A = "3A"
    case level3B = "3B"
    case level3C = "3C"
    case level2 = "2"
    case level1 = "1"
}

/// Integrity class of an information asset (Art. 9(2)); 2 is the higher.
public enum IntegrityLevel: String, Sendable, Hashable, Codable, CaseIterable {
    case level2 = "2"
    case level1 = "1"
}

/// Availability class of an information asset (Art. 9(2)); 2 is the higher.
public enum AvailabilityLevel: String, Sendable, Hashable, Codable, CaseIterable {
    case level2 = "2"
    case level1 = "1"
}

/// An asset's classification by confidentiality, integrity and availability (Art. 9(2)).
public struct AssetClassification: Sendable, Hashable, Codable {
    public var confidentiality: ConfidentialityLevel
    public var integrity: IntegrityLevel
    public var availability: AvailabilityLevel

    public init(confidentiality: ConfidentialityLevel, integrity: IntegrityLevel, availability: AvailabilityLevel) {
        self.confidentiality = confidentiality
        self.integrity = integrity
        self.availability = availability
    }
}

/// An information asset touched by the incident; at least one of `id` and `name` is given.
public struct AffectedAsset: Sendable, Hashable, Codable {
    /// The asset's id in the section's asset register, when known.
    public var id: String?
    /// The asset's name, when there is no id or to help the reader.
    public var name: String?
    /// The classification, when the reporter knows it.
    public var classification: AssetClassification?

    public init(id: String? = nil, name: String? = nil, classification: AssetClassification? = nil) {
        self.id = id
        self.name = name
        self.classification = classification
    }
}

/// A file that goes with a report, described but not carried: the bytes travel by another way.
public struct IncidentAttachment: Sendable, Hashable, Codable {
    /// The file name.
    public var name: String
    /// Its size in bytes.
    public var size: Int64
    /// The SHA-256 of its bytes, 64 lowercase hex digits.
    public var sha256: String

    public init(name: String, size: Int64, sha256: String) {
        self.name = name
        self.size = size
        self.sha256 = sha256
    }
}

/// Who reports, for which section.
public struct IncidentReporter: Sendable, Hashable, Codable {
    /// The code of the reporter's section in the organisation directory.
    public var sectionCode: String
    /// The reporter's name.
    public var name: String
    /// How to reach the reporter: extension number or mail address.
    public var contact: String

    public init(sectionCode: String, name: String, contact: String) {
        self.sectionCode = sectionCode
        self.name = name
        self.contact = contact
    }
}
