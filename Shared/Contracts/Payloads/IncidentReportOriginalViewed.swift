public import Foundation

/// `jp.ward.isms.incident-report.original-viewed.v1`: the restricted original of a report (the
/// text in which a My Number was found) was read through intake's API by a designated handler
/// of My Number data (事務取扱担当者, Art. 3(9)) of the reporting section (issue #4 item 9).
/// Triage writes it into the case's hash-chained history; the text itself never leaves intake.
public struct IncidentReportOriginalViewed: MessagePayload {
    public static var messageType: MessageType { MessageTypes.incidentReportOriginalViewed }

    public var intakeId: UUID
    /// The API token used (its id, never the token) and whom it was issued to.
    public var tokenId: UUID
    public var tokenLabel: String
    /// The token's role and unit.
    public var role: String
    public var unitCode: String?
    public var viewedAt: Date

    public init(intakeId: UUID, tokenId: UUID, tokenLabel: String, role: String, unitCode: String?, viewedAt: Date) {
        self.intakeId = intakeId
        self.tokenId = tokenId
        self.tokenLabel = tokenLabel
        self.role = role
        self.unitCode = unitCode
        self.viewedAt = viewedAt
    }

    public var subject: String? { intakeId.lowercasedString }
}
