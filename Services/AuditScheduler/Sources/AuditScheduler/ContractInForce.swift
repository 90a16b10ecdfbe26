public import Foundation
public import WardCalendar

/// A contract of the contractor registry as the audit scheduler keeps it from
/// `contractor.contract-changed.v1` (issue #18 item 3): enough to plan the education of the
/// contractor's staff (Art. 23, 委託事業者等) for the contracts in force. No personal data.
public struct ContractInForce: Sendable, Hashable, Codable {
    public var contractID: UUID
    public var contractReference: String
    public var contractorID: UUID
    public var contractorName: String
    /// The responsible section, which owes the contractor's education (Art. 18(6)(2)).
    public var sectionCode: String
    public var departmentCode: String
    /// The first and the last day in force (inclusive).
    public var startDate: CivilDate
    public var endDate: CivilDate
    public var handlesMyNumber: Bool

    public init(
        contractID: UUID, contractReference: String, contractorID: UUID, contractorName: String, sectionCode: String, departmentCode: String,
        startDate: CivilDate, endDate: CivilDate, handlesMyNumber: Bool
    ) {
        self.contractID = contractID
        self.contractReference = contractReference
        self.contractorID = contractorID
        self.contractorName = contractorName
        self.sectionCode = sectionCode
        self.departmentCode = departmentCode
        self.startDate = startDate
        self.endDate = endDate
        self.handlesMyNumber = handlesMyNumber
    }

    enum CodingKeys: String, CodingKey {
        case contractID = "contractId", contractReference, contractorID = "contractorId", contractorName, sectionCode, departmentCode, startDate,
            endDate, handlesMyNumber
    }

    /// Whether the contract is in force on some day from `from` through `through`: an occurrence
    /// covers a contract that runs at any time between its date and its due date, so a contract
    /// starting after the occurrence date but before the due date is still educated that round.
    public func inForce(from: CivilDate, through: CivilDate) -> Bool {
        startDate <= through && endDate >= from
    }
}
