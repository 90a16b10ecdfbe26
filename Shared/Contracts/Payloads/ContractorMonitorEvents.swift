public import Foundation

/// What a contractor violation is about (Art. 3(13)(イ), 6, 28). The set is open: a consumer
/// must treat an unknown kind like a generic violation.
public struct ContractorViolationKind: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible, ExpressibleByStringLiteral {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }
    public var description: String { rawValue }

    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    /// An attestation answered "no" to a special-provision item (Art. 28).
    public static let attestationAnswerNo: Self = "attestation-answer-no"
    /// No attestation arrived by the end of the grace period (Art. 28).
    public static let attestationMissing: Self = "attestation-missing"
    /// A security certification the contractor relies on has expired (Art. 6(1)).
    public static let certificateExpired: Self = "certificate-expired"
    /// A sub-contractor works on the contract without an approved link (Art. 6(3)).
    public static let unapprovedSubcontractor: Self = "unapproved-subcontractor"
    /// The certificate of data return or deletion was not received in time after the contract ended.
    public static let returnCertificateOverdue: Self = "return-certificate-overdue"

    /// Every kind this version emits.
    public static let known: [Self] = [
        attestationAnswerNo, attestationMissing, certificateExpired, unapprovedSubcontractor, returnCertificateOverdue,
    ]
}

/// `jp.ward.isms.contractor.violation.detected.v1`: a contractor (or a sub-contractor below
/// it) violated the policy or the special provisions, which is a security incident
/// (Art. 3(13)(イ)). CSIRT triage turns it into a case; the notifier tells the section's chain.
///
/// `details` never holds personal data or a My Number: it names controls, checklist items,
/// certificate names and dates.
public struct ContractorViolationDetected: MessagePayload {
    public static var messageType: MessageType { MessageTypes.contractorViolationDetected }

    /// The violation's id at the contractor monitor; the same for every redelivery.
    public var violationID: UUID
    public var contractID: UUID
    /// The contract's reference number at the ward (契約番号), for people.
    public var contractReference: String
    /// The contractor the violation is attributed to (the prime contractor, or the sub-contractor).
    public var contractorID: UUID
    /// The contractor's registered (company) name.
    public var contractorName: String
    /// The code of the section responsible for the contract (Art. 18(6)(8)).
    public var sectionCode: String
    /// The code of the department the section belongs to.
    public var departmentCode: String
    public var kind: ContractorViolationKind
    /// Whether the contract handles My Number data (Art. 3(10), 18(8)).
    public var handlesMyNumber: Bool
    /// What was found, without personal data.
    public var details: String
    public var detectedAt: Date

    public init(
        violationID: UUID,
        contractID: UUID,
        contractReference: String,
        contractorID: UUID,
        contractorName: String,
        sectionCode: String,
        departmentCode: String,
        kind: ContractorViolationKind,
        handlesMyNumber: Bool,
        details: String,
        detectedAt: Date
    ) {
        self.violationID = violationID
        self.contractID = contractID
        self.contractReference = contractReference
        self.contractorID = contractorID
        self.contractorName = contractorName
        self.sectionCode = sectionCode
        self.departmentCode = departmentCode
        self.kind = kind
        self.handlesMyNumber = handlesMyNumber
        self.details = details
        self.detectedAt = detectedAt
    }

    enum CodingKeys: String, CodingKey {
        case violationID = "violationId"
        case contractID = "contractId"
        case contractReference
        case contractorID = "contractorId"
        case contractorName, sectionCode, departmentCode, kind, handlesMyNumber, details, detectedAt
    }

    public var subject: String? { violationID.lowercasedString }
}

/// One attestation period of a contract, as the reminders name it.
public struct ContractorAttestationReminder: Sendable, Hashable, Codable {
    public var contractID: UUID
    public var contractReference: String
    public var contractorID: UUID
    public var contractorName: String
    public var sectionCode: String
    public var departmentCode: String
    /// 1 for the first attestation of the contract, then 2, 3, ...
    public var period: Int
    /// When the attestation is due.
    public var dueAt: Date
    /// When a missing attestation becomes a violation (due date plus the grace period).
    public var graceEndsAt: Date
    /// The special-provision sets the attestation answers (Art. 3(15)).
    public var checklists: [String]

    public init(
        contractID: UUID, contractReference: String, contractorID: UUID, contractorName: String, sectionCode: String,
        departmentCode: String, period: Int, dueAt: Date, graceEndsAt: Date, checklists: [String]
    ) {
        self.contractID = contractID
        self.contractReference = contractReference
        self.contractorID = contractorID
        self.contractorName = contractorName
        self.sectionCode = sectionCode
        self.departmentCode = departmentCode
        self.period = period
        self.dueAt = dueAt
        self.graceEndsAt = graceEndsAt
        self.checklists = checklists
    }

    enum CodingKeys: String, CodingKey {
        case contractID = "contractId"
        case contractReference
        case contractorID = "contractorId"
        case contractorName, sectionCode, departmentCode, period, dueAt, graceEndsAt, checklists
    }
}

/// `jp.ward.isms.contractor.attestation-due.v1`: a contract's periodic attestation (Art. 28)
/// falls due; the notifier reminds the responsible section.
public struct ContractorAttestationDue: MessagePayload {
    public static var messageType: MessageType { MessageTypes.contractorAttestationDue }

    public var attestation: ContractorAttestationReminder

    public init(attestation: ContractorAttestationReminder) {
        self.attestation = attestation
    }

    public var subject: String? { attestation.contractID.lowercasedString }
}

/// `jp.ward.isms.contractor.attestation-overdue.v1`: the attestation was not received by the
/// end of its grace period; a `contractor.violation.detected` follows.
public struct ContractorAttestationOverdue: MessagePayload {
    public static var messageType: MessageType { MessageTypes.contractorAttestationOverdue }

    public var attestation: ContractorAttestationReminder

    public init(attestation: ContractorAttestationReminder) {
        self.attestation = attestation
    }

    public var subject: String? { attestation.contractID.lowercasedString }
}
