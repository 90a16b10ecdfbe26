public import Foundation

/// What kind of party a contractor is (委託事業者等, Art. 3(8)).
public enum ContractorKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// 委託事業者: a company the ward outsources work to.
    case outsourcedContractor = "outsourced-contractor"
    /// 指定管理者: a designated manager of a public facility (Art. 6(1)).
    case designatedManager = "designated-manager"
    /// 派遣元事業主: a staffing agency dispatching workers to the ward.
    case staffingAgency = "staffing-agency"
    /// リース事業者: a lessor of equipment (finance or maintenance lease).
    case lessor
}

/// The kind of contract, which decides the special-provision set that binds it (Art. 3(15), 6(2)).
public enum ContractKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// 委託契約: bound by 受託情報の保護および管理に関する特記事項.
    case outsourcing
    /// 指定管理: bound by 指定管理における情報の保護および管理に関する特記事項.
    case designatedManagement = "designated-management"
    /// 労働者派遣契約: bound by 労働者派遣契約における情報の保護および管理に関する特記事項.
    case workerDispatch = "worker-dispatch"
    /// ファイナンスリース: bound by ファイナンスリースにおける情報の保護および管理に関する特記事項.
    case financeLease = "finance-lease"
    /// メンテナンスリース: bound by メンテナンスリースにおける情報の保護および管理に関する特記事項.
    case maintenanceLease = "maintenance-lease"

    /// The contractor kinds that can hold a contract of this kind.
    public var contractorKinds: Set<ContractorKind> {
        switch self {
        case .outsourcing: [.outsourcedContractor]
        case .designatedManagement: [.designatedManager]
        case .workerDispatch: [.staffingAgency]
        case .financeLease, .maintenanceLease: [.lessor]
        }
    }

    /// The special-provision set this kind of contract is bound by (Art. 3(15)).
    public var specialProvisions: SpecialProvisionSet {
        switch self {
        case .outsourcing: .entrustedInformation
        case .designatedManagement: .designatedManagement
        case .workerDispatch: .workerDispatch
        case .financeLease: .financeLease
        case .maintenanceLease: .maintenanceLease
        }
    }
}

/// The six sets of special provisions of Art. 3(15) (特記事項), each a checklist that a
/// contract's attestations answer (Art. 28).
public enum SpecialProvisionSet: String, Sendable, Hashable, Codable, CodingKeyRepresentable, CaseIterable, Comparable {
    /// 受託情報の保護および管理に関する特記事項.
    case entrustedInformation = "entrusted-information"
    /// 指定管理における情報の保護および管理に関する特記事項.
    case designatedManagement = "designated-management"
    /// 労働者派遣契約における情報の保護および管理に関する特記事項.
    case workerDispatch = "worker-dispatch"
    /// ファイナンスリースにおける情報の保護および管理に関する特記事項.
    case financeLease = "finance-lease"
    /// メンテナンスリースにおける情報の保護および管理に関する特記事項.
    case maintenanceLease = "maintenance-lease"
    /// 特定個人情報等の保護および管理に関する特記事項: added wherever My Number data is handled.
    case specificPersonalInformation = "specific-personal-information"

    /// The sets a contract answers: its kind's set, plus the My Number set when it handles
    /// My Number data (Art. 3(10), 3(15)).
    public static func sets(for kind: ContractKind, handlesMyNumber: Bool) -> [SpecialProvisionSet] {
        handlesMyNumber ? [kind.specialProvisions, .specificPersonalInformation] : [kind.specialProvisions]
    }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// A safeguard profile: for each control of the baseline's checklist, the level a party reaches
/// (Art. 6(1)(3)). A control that is absent is not assessed, which meets no bar.
public struct SafeguardProfile: Sendable, Hashable, Codable {
    /// Level name by control id.
    public var levels: [String: String]

    public init(_ levels: [String: String] = [:]) {
        self.levels = levels
    }

    public subscript(control: String) -> String? {
        get { levels[control] }
        set { levels[control] = newValue }
    }

    public init(from decoder: any Decoder) throws {
        levels = try decoder.singleValueContainer().decode([String: String].self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(levels)
    }
}

/// A contractor in the registry.
public struct Contractor: Sendable, Hashable, Codable {
    public var id: UUID
    /// The registered (company) name; not personal data.
    public var name: String
    public var kind: ContractorKind
    /// 法人番号 (13 digits) when known.
    public var corporateNumber: String?
    public var profile: SafeguardProfile
    /// When the profile was last assessed.
    public var profileAssessedAt: Date?
    public var createdAt: Date

    public init(id: UUID, name: String, kind: ContractorKind, corporateNumber: String?, profile: SafeguardProfile, profileAssessedAt: Date?, createdAt: Date) {
        self.id = id
        self.name = name
        self.kind = kind
        self.corporateNumber = corporateNumber
        self.profile = profile
        self.profileAssessedAt = profileAssessedAt
        self.createdAt = createdAt
    }
}

/// A security certification a contractor holds (ISMS, Privacy Mark, ...), with its expiry.
public struct ContractorCertification: Sendable, Hashable, Codable {
    public var id: UUID
    public var contractorID: UUID
    /// e.g. `ISO/IEC 27001`, `プライバシーマーク`.
    public var name: String
    public var validUntil: Date
    public var evidenceID: UUID?
    public var recordedAt: Date

    public init(id: UUID, contractorID: UUID, name: String, validUntil: Date, evidenceID: UUID?, recordedAt: Date) {
        self.id = id
        self.contractorID = contractorID
        self.name = name
        self.validUntil = validUntil
        self.evidenceID = evidenceID
        self.recordedAt = recordedAt
    }

    enum CodingKeys: String, CodingKey {
        case id
        case contractorID = "contractorId"
        case name, validUntil
        case evidenceID = "evidenceId"
        case recordedAt
    }
}

/// A person at the contractor named to handle My Number data (事務取扱担当者, Art. 3(9), 18(8)(4)).
/// Personal data: kept in the registry, never in events or logs.
public struct DesignatedHandler: Sendable, Hashable, Codable {
    public var name: String
    /// Their job at the contractor, e.g. `入力担当`.
    public var role: String?

    public init(name: String, role: String? = nil) {
        self.name = name
        self.role = role
    }
}

/// Where a contract stands on a given day.
public enum ContractState: String, Sendable, Hashable, Codable, CaseIterable {
    /// Before its start.
    case planned
    /// Between its start and its end.
    case active
    /// Ended; the certificate of data return or deletion has not arrived.
    case ended
    /// Ended, and the certificate of data return or deletion was received.
    case closed
}

/// A contract between the ward and a contractor.
public struct Contract: Sendable, Hashable, Codable {
    public var id: UUID
    /// The ward's reference number (契約番号); unique.
    public var reference: String
    public var title: String
    /// The section responsible for it (Art. 18(6)(8)).
    public var sectionCode: String
    public var departmentCode: String
    public var kind: ContractKind
    public var contractorID: UUID
    /// Start of the first day, Japan time.
    public var startsAt: Date
    /// End of the last day, Japan time (the start of the day after).
    public var endsAt: Date
    public var handlesMyNumber: Bool
    /// 取扱区域 (Art. 18(8)(6)); required when My Number data is handled.
    public var handlingArea: String?
    /// The contractor's named designated handlers (Art. 18(8)(4)); required when My Number data is handled.
    public var designatedHandlers: [DesignatedHandler]
    /// Months between attestations (Art. 28).
    public var attestationIntervalMonths: Int
    /// Days after a due date before a missing attestation is a violation.
    public var graceDays: Int
    /// Days after the end within which the certificate of data return or deletion is due.
    public var returnCertificateDays: Int
    /// When the certificate of data return or deletion was received.
    public var returnCertificateAt: Date?
    /// Who registered it (token label).
    public var createdBy: String
    public var createdAt: Date
    /// The registered information assets the contractor handles (issue #18 item 0).
    public var assetIDs: [String]

    public init(
        id: UUID, reference: String, title: String, sectionCode: String, departmentCode: String, kind: ContractKind, contractorID: UUID,
        startsAt: Date, endsAt: Date, handlesMyNumber: Bool, handlingArea: String?, designatedHandlers: [DesignatedHandler],
        attestationIntervalMonths: Int, graceDays: Int, returnCertificateDays: Int, returnCertificateAt: Date?, createdBy: String, createdAt: Date,
        assetIDs: [String] = []
    ) {
        self.id = id
        self.reference = reference
        self.title = title
        self.sectionCode = sectionCode
        self.departmentCode = departmentCode
        self.kind = kind
        self.contractorID = contractorID
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.handlesMyNumber = handlesMyNumber
        self.handlingArea = handlingArea
        self.designatedHandlers = designatedHandlers
        self.attestationIntervalMonths = attestationIntervalMonths
        self.graceDays = graceDays
        self.returnCertificateDays = returnCertificateDays
        self.returnCertificateAt = returnCertificateAt
        self.createdBy = createdBy
        self.createdAt = createdAt
        self.assetIDs = assetIDs
    }

    enum CodingKeys: String, CodingKey {
        case id, reference, title, sectionCode, departmentCode, kind
        case contractorID = "contractorId"
        case startsAt, endsAt, handlesMyNumber, handlingArea, designatedHandlers, attestationIntervalMonths, graceDays, returnCertificateDays,
            returnCertificateAt, createdBy, createdAt
        case assetIDs = "assetIds"
    }

    /// The special-provision sets the contract is bound by (Art. 3(15)).
    public var specialProvisions: [SpecialProvisionSet] {
        SpecialProvisionSet.sets(for: kind, handlesMyNumber: handlesMyNumber)
    }

    /// When the certificate of data return or deletion is due.
    public var returnCertificateDueAt: Date {
        endsAt.addingTimeInterval(TimeInterval(returnCertificateDays) * 86_400)
    }

    /// Where the contract stands at `now`.
    public func state(at now: Date) -> ContractState {
        if now < startsAt { return .planned }
        if now < endsAt { return .active }
        return returnCertificateAt == nil ? .ended : .closed
    }

    /// The attestation schedule of this contract.
    public var schedule: AttestationSchedule {
        AttestationSchedule(startsAt: startsAt, endsAt: endsAt, intervalMonths: attestationIntervalMonths, graceDays: graceDays)
    }
}

/// An answer to one checklist item.
public enum AttestationAnswer: String, Sendable, Hashable, Codable, CaseIterable {
    case yes
    case no
    /// The item does not apply to this contract (e.g. no sub-contractors).
    case notApplicable = "not-applicable"
}

/// A sub-contractor the contractor declares working on the contract.
public struct DeclaredSubcontractor: Sendable, Hashable, Codable {
    /// The registry id, when the sub-contractor is registered.
    public var contractorID: UUID?
    /// The company name as declared.
    public var name: String

    public init(contractorID: UUID? = nil, name: String) {
        self.contractorID = contractorID
        self.name = name
    }

    enum CodingKeys: String, CodingKey {
        case contractorID = "contractorId"
        case name
    }
}

/// A periodic compliance attestation (Art. 28): the contractor's answers to the contract's
/// special-provision checklists, recorded by the responsible section.
public struct Attestation: Sendable, Hashable, Codable {
    public var id: UUID
    public var contractID: UUID
    /// 1 for the contract's first attestation period.
    public var period: Int
    /// Answers by checklist, then by item id.
    public var answers: [SpecialProvisionSet: [String: AttestationAnswer]]
    /// The sub-contractors the contractor declares (Art. 6(4)).
    public var declaredSubcontractors: [DeclaredSubcontractor]
    public var evidenceID: UUID?
    public var recordedBy: String
    public var submittedAt: Date

    public init(
        id: UUID, contractID: UUID, period: Int, answers: [SpecialProvisionSet: [String: AttestationAnswer]],
        declaredSubcontractors: [DeclaredSubcontractor], evidenceID: UUID?, recordedBy: String, submittedAt: Date
    ) {
        self.id = id
        self.contractID = contractID
        self.period = period
        self.answers = answers
        self.declaredSubcontractors = declaredSubcontractors
        self.evidenceID = evidenceID
        self.recordedBy = recordedBy
        self.submittedAt = submittedAt
    }

    enum CodingKeys: String, CodingKey {
        case id
        case contractID = "contractId"
        case period, answers, declaredSubcontractors
        case evidenceID = "evidenceId"
        case recordedBy, submittedAt
    }

    /// Every item answered "no", as `set/item`, sorted.
    public var noAnswers: [String] {
        answers.flatMap { set, items in items.filter { $0.value == .no }.map { "\(set.rawValue)/\($0.key)" } }.sorted()
    }
}

/// A file kept as evidence: only its name and SHA-256 are stored; the file stays in the
/// ward's document store.
public struct ContractorEvidence: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        case profileAssessment = "profile-assessment"
        case attestation
        case certification
        case returnCertificate = "return-certificate"
        case contract
        case other
    }

    public var id: UUID
    public var contractID: UUID?
    public var contractorID: UUID?
    public var kind: Kind
    public var fileName: String
    /// 64 lowercase hex digits.
    public var sha256: String
    public var recordedBy: String
    public var recordedAt: Date

    public init(id: UUID, contractID: UUID?, contractorID: UUID?, kind: Kind, fileName: String, sha256: String, recordedBy: String, recordedAt: Date) {
        self.id = id
        self.contractID = contractID
        self.contractorID = contractorID
        self.kind = kind
        self.fileName = fileName
        self.sha256 = sha256
        self.recordedBy = recordedBy
        self.recordedAt = recordedAt
    }

    enum CodingKeys: String, CodingKey {
        case id
        case contractID = "contractId"
        case contractorID = "contractorId"
        case kind, fileName, sha256, recordedBy, recordedAt
    }
}

/// A recorded contractor violation (Art. 3(13)(イ)).
public struct ContractorViolation: Sendable, Hashable, Codable {
    public enum State: String, Sendable, Hashable, Codable, CaseIterable {
        case open, resolved
    }

    public var id: UUID
    public var contractID: UUID
    public var contractorID: UUID
    public var sectionCode: String
    public var departmentCode: String
    /// A ``Contracts/ContractorViolationKind`` raw value.
    public var kind: String
    public var details: String
    public var detectedAt: Date
    public var state: State
    public var resolvedAt: Date?
    public var resolvedBy: String?
    public var resolution: String?

    public init(
        id: UUID, contractID: UUID, contractorID: UUID, sectionCode: String, departmentCode: String, kind: String, details: String,
        detectedAt: Date, state: State, resolvedAt: Date?, resolvedBy: String?, resolution: String?
    ) {
        self.id = id
        self.contractID = contractID
        self.contractorID = contractorID
        self.sectionCode = sectionCode
        self.departmentCode = departmentCode
        self.kind = kind
        self.details = details
        self.detectedAt = detectedAt
        self.state = state
        self.resolvedAt = resolvedAt
        self.resolvedBy = resolvedBy
        self.resolution = resolution
    }

    enum CodingKeys: String, CodingKey {
        case id
        case contractID = "contractId"
        case contractorID = "contractorId"
        case sectionCode, departmentCode, kind, details, detectedAt, state, resolvedAt, resolvedBy, resolution
    }
}
