public import Foundation

/// What happened to a contract, as `contractor.contract-changed.v1` says.
public enum ContractChange: String, Sendable, Hashable, Codable, CaseIterable {
    /// The contract was registered.
    case registered
    /// Its terms the audit scheduler reads (dates, section, My Number handling) changed.
    case changed
    /// Its last day passed: the contract is no longer in force.
    case ended
}

/// `jp.ward.isms.contractor.contract-changed.v1`: a contract was registered, changed or ended
/// (issue #18 item 3). The audit scheduler keeps the contracts in force from it, so that the
/// education of contractors' staff (Art. 23, 委託事業者等) follows the registry, not a list.
///
/// No personal data: the contract, the contractor's company name, the responsible section and
/// the dates; never the designated handlers.
public struct ContractorContractChanged: MessagePayload {
    public static var messageType: MessageType { MessageTypes.contractorContractChanged }

    public var contractID: UUID
    /// The contract's reference number at the ward (契約番号), for people.
    public var contractReference: String
    public var contractorID: UUID
    /// The contractor's registered (company) name.
    public var contractorName: String
    /// The section responsible for the contract (Art. 18(6)(2), (8)).
    public var sectionCode: String
    public var departmentCode: String
    public var change: ContractChange
    /// The first day in force, `YYYY-MM-DD` in Japan.
    public var startDate: String
    /// The last day in force (inclusive), `YYYY-MM-DD` in Japan.
    public var endDate: String
    /// Whether the contract handles My Number data (Art. 3(10), 18(8)).
    public var handlesMyNumber: Bool
    public var changedAt: Date

    public init(
        contractID: UUID, contractReference: String, contractorID: UUID, contractorName: String, sectionCode: String, departmentCode: String,
        change: ContractChange, startDate: String, endDate: String, handlesMyNumber: Bool, changedAt: Date
    ) {
        self.contractID = contractID
        self.contractReference = contractReference
        self.contractorID = contractorID
        self.contractorName = contractorName
        self.sectionCode = sectionCode
        self.departmentCode = departmentCode
        self.change = change
        self.startDate = startDate
        self.endDate = endDate
        self.handlesMyNumber = handlesMyNumber
        self.changedAt = changedAt
    }

    enum CodingKeys: String, CodingKey {
        case contractID = "contractId"
        case contractReference
        case contractorID = "contractorId"
        case contractorName, sectionCode, departmentCode, change, startDate, endDate, handlesMyNumber, changedAt
    }

    public var subject: String? { contractID.lowercasedString }
}
