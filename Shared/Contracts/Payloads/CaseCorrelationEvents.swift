public import Foundation

/// `jp.ward.isms.incident.report-attached.v1`: reports joined an open case instead of opening
/// one (issue #16; Art. 27): a correlation rule named them related.
///
/// One event per case per transaction, not per report: a storm's batch of 200 related reports
/// for one case is one event saying how many joined (`reportsJoined`), while the case's history
/// keeps a row per report. The notifier tells the case's chain at most once per group interval
/// about these, never a new escalation. Masked text only; restricted when any report of the
/// case carried a My Number.
public struct IncidentReportAttached: MessagePayload {
    public static var messageType: MessageType { MessageTypes.incidentReportAttached }

    public var caseNumber: String
    public var caseId: UUID
    /// The report (or violation) that joined; the last of them when several did.
    public var source: IncidentCaseOpened.Source
    /// The id of the rule in deploy/config/correlation-rules.yaml that joined `source`.
    public var rule: String
    /// How many reports joined the case with this event, `source` the last of them.
    public var reportsJoined: Int
    /// How many reports the case holds now, the first included.
    public var reportCount: Int
    public var firstSeenAt: Date
    public var lastSeenAt: Date
    /// The case's severity after the reports were counted, 1 (critical) to 4.
    public var severity: Int
    /// The severity before; `severityRaised` is true when the reports made the case more severe.
    public var previousSeverity: Int
    public var severityRaised: Bool
    public var severityRule: String
    public var sectionCode: String
    public var departmentCode: String
    public var category: IncidentCategory
    /// The case's title, masked.
    public var title: String
    /// Whether any report of the case carried a My Number.
    public var myNumberDetected: Bool
    public var attachedAt: Date

    public init(
        caseNumber: String, caseId: UUID, source: IncidentCaseOpened.Source, rule: String, reportsJoined: Int, reportCount: Int,
        firstSeenAt: Date, lastSeenAt: Date, severity: Int, previousSeverity: Int, severityRule: String, sectionCode: String,
        departmentCode: String, category: IncidentCategory, title: String, myNumberDetected: Bool, attachedAt: Date
    ) {
        self.caseNumber = caseNumber
        self.caseId = caseId
        self.source = source
        self.rule = rule
        self.reportsJoined = reportsJoined
        self.reportCount = reportCount
        self.firstSeenAt = firstSeenAt
        self.lastSeenAt = lastSeenAt
        self.severity = severity
        self.previousSeverity = previousSeverity
        self.severityRaised = severity < previousSeverity
        self.severityRule = severityRule
        self.sectionCode = sectionCode
        self.departmentCode = departmentCode
        self.category = category
        self.title = title
        self.myNumberDetected = myNumberDetected
        self.attachedAt = attachedAt
    }

    public var subject: String? { caseNumber }
    public var dataClassification: DataClassification { myNumberDetected ? .restricted : .confidential }
}

/// `jp.ward.isms.incident.case-merged.v1`: CSIRT merged a case into another (issue #16). The
/// merged case keeps its number, is final, and points to the survivor, which now holds its
/// reports; whatever was still reminding about the merged case is about the survivor now.
public struct IncidentCaseMerged: MessagePayload {
    public static var messageType: MessageType { MessageTypes.incidentCaseMerged }

    /// The case that was merged away.
    public var caseNumber: String
    public var caseId: UUID
    /// The case that holds its reports now.
    public var survivorCaseNumber: String
    public var survivorCaseId: UUID
    /// How many reports moved.
    public var reportsMoved: Int
    /// The survivor's severity after the merge.
    public var severity: Int
    /// `person:<id>` or `token:<id>`.
    public var actor: String
    public var mergedAt: Date

    public init(
        caseNumber: String, caseId: UUID, survivorCaseNumber: String, survivorCaseId: UUID, reportsMoved: Int, severity: Int, actor: String,
        mergedAt: Date
    ) {
        self.caseNumber = caseNumber
        self.caseId = caseId
        self.survivorCaseNumber = survivorCaseNumber
        self.survivorCaseId = survivorCaseId
        self.reportsMoved = reportsMoved
        self.severity = severity
        self.actor = actor
        self.mergedAt = mergedAt
    }

    public var subject: String? { caseNumber }
}
