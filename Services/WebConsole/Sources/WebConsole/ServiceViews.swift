import Foundation

// The parts of the services' JSON the pages show, decoded leniently: a field a page does not
// need is not declared, and a field a service adds later does not break the console.

struct CaseSource: Decodable {
    var kind: String
    var id: String
}

struct CaseSummaryView: Decodable {
    var caseNumber: String
    var state: String
    var severity: Int
    var sectionCode: String
    var departmentCode: String
    var category: String
    var title: String
    var knownAt: String
    var openedAt: String
    var acknowledgedAt: String?
    var escalationLevel: Int?
    var nextEscalationAt: String?
    var source: CaseSource?
    /// How many reports the case holds (issue #16): a storm is one row with a high count.
    var reportCount: Int?
    var lastSeenAt: String?
}

struct CasePageView: Decodable {
    var cases: [CaseSummaryView]
    var nextCursor: String?
}

struct SeverityView: Decodable {
    var severity: Int
    var rule: String
    var reason: String
}

struct ClassificationView: Decodable {
    var confidentiality: String
    var integrity: String
    var availability: String
}

struct FactsView: Decodable {
    var classifications: [ClassificationView]?
    var affectedPersons: AffectedPersonsView?
    /// The named assets with the reporter's and the register's classification (issue #18 item 0).
    var assets: [AssetCheckView]?
}

struct AssetCheckView: Decodable {
    var id: String?
    var name: String?
    var reported: ClassificationView?
    var registered: ClassificationView?
    var differs: Bool?
}

extension ClassificationView {
    /// "3A/2/1": confidentiality, integrity, availability, as the guideline writes them.
    var text: String { "\(confidentiality)/\(integrity)/\(availability)" }
}

/// An integer, or `"unknown"`.
struct AffectedPersonsView: Decodable {
    var count: Int?

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        count = try? container.decode(Int.self)
    }
}

struct TimestampsView: Decodable {
    var occurredAt: String?
    var detectedAt: String?
    var knownAt: String?
    var reportedAt: String?
    var recordedAt: String?
    var openedAt: String?
    var acknowledgedAt: String?
    var closedAt: String?
}

struct CaseRecordView: Decodable {
    var id: String
    var caseNumber: String
    var source: CaseSource
    var sectionCode: String
    var departmentCode: String
    var category: String
    var title: String
    var description: String
    var myNumberDetected: Bool
    var state: String
    var qualification: String?
    var qualificationReason: String?
    var severity: SeverityView
    var facts: FactsView
    var verdicts: [String: String]
    var timestamps: TimestampsView
    var escalationLevel: Int
    var reportCount: Int?
    var firstSeenAt: String?
    var lastSeenAt: String?
    /// For a merged case, the case that holds its reports now.
    var mergedInto: String?
}

/// One report of a case (issue #16): `rule` is `opened`, `merge`, `split` or a correlation
/// rule's id.
struct CaseReportView: Decodable {
    var source: CaseSource
    var rule: String
    var joinedAt: String
    var recordedAt: String
    var knownAt: String?
    var title: String
}

struct AssigneeView: Decodable {
    var personID: String
    var assignedBy: String
    var assignedAt: String
}

struct RestrictionTargetView: Decodable {
    var kind: String
    var name: String
}

struct RestrictionView: Decodable {
    var id: String
    var caseID: String?
    var targets: [RestrictionTargetView]
    var reason: String
    var status: String
    var orderedBy: String
    var orderedAt: String
    var decidedBy: String?
    var decisionReason: String?
}

struct ObligationView: Decodable {
    var id: String
    var kind: String
    var recipient: String
    var status: String
    var law: String
    var dueAt: String?
    var dueDate: String?
    var filedAt: String?
    var filingReference: String?
}

struct HistoryEntryView: Decodable {
    var seq: Int
    var action: String
    var actor: String
    var role: String?
    var at: String
    var reason: String?
    var after: String?
    var hash: String

    /// A comment's text, kept in the row's `after` state.
    var commentText: String? {
        guard action == "comment", let after, let object = try? JSONSerialization.jsonObject(with: Data(after.utf8)) as? [String: Any] else { return nil }
        return object["text"] as? String
    }
}

struct CaseDetailView: Decodable {
    var `case`: CaseRecordView
    var assignees: [AssigneeView]
    var restrictions: [RestrictionView]
    var obligations: [ObligationView]
    var history: [HistoryEntryView]
    var allowedActions: [String]
    /// Triage checks the case's own rows in the chain; the whole chain (seconds with 10,000
    /// cases) is never verified per page view.
    var historyVerified: Bool
    /// The first 1000 reports, oldest first; `case.reportCount` is the total.
    var reports: [CaseReportView]?
}

struct NotificationView: Decodable {
    var id: Int64
    var eventType: String
    var recipient: String
    var recipientName: String?
    var channelKind: String
    var state: String
    var subject: String?
    var createdAt: String
    var sentAt: String?
}

struct NotificationPageView: Decodable {
    var notifications: [NotificationView]
    var nextCursor: String?
}

struct ReportSummaryView: Decodable {
    var intakeId: String
    var reportId: String?
    var sectionCode: String?
    var category: String?
    var title: String?
    var recordedAt: String?
    var myNumberDetected: Bool?
}

struct ReportPageView: Decodable {
    var reports: [ReportSummaryView]
    var nextCursor: String?
}

/// A restriction with its case, as `GET /v1/restrictions` lists them for the approvers.
struct CaseRestrictionView: Decodable {
    var caseNumber: String
    var caseTitle: String
    var severity: Int
    var restriction: RestrictionView
}

struct RestrictionPageView: Decodable {
    var restrictions: [CaseRestrictionView]
    var nextCursor: String?
}

struct FindingView: Decodable {
    var id: String
    var title: String
    var sectionCode: String
    var treatmentPlan: String?
    var status: String
    var dueDate: String?
}

struct FindingPageView: Decodable {
    var findings: [FindingView]
    var nextCursor: String?
}
