public import Contracts
public import Foundation

/// What a case was opened from: an incident report today, a contractor violation later.
public struct CaseSource: Sendable, Hashable, Codable {
    /// `incident-report` or `contractor-violation`.
    public var kind: String
    /// The originating id (intake id, violation id); unique per kind.
    public var id: String

    public init(kind: String, id: String) {
        self.kind = kind
        self.id = id
    }

    public static func incidentReport(_ intakeID: UUID) -> CaseSource {
        CaseSource(kind: "incident-report", id: intakeID.lowercasedString)
    }
}

/// The three-state verdicts that decide statutory reporting (issue #4 item 7; APPI Art. 68,
/// PPC Rule Art. 43; My Number Act Art. 29-4).
public struct StatutoryVerdicts: Sendable, Hashable, Codable {
    public var personalData: Verdict
    public var myNumber: Verdict
    public var sensitiveData: Verdict
    public var propertyDamage: Verdict
    public var wrongfulIntent: Verdict
    public var unspecifiedViewers: Verdict
    public var moreThan100Persons: Verdict
    public var strongEncryption: Verdict

    public init(
        personalData: Verdict = .unknown, myNumber: Verdict = .unknown, sensitiveData: Verdict = .unknown,
        propertyDamage: Verdict = .unknown, wrongfulIntent: Verdict = .unknown, unspecifiedViewers: Verdict = .unknown,
        moreThan100Persons: Verdict = .unknown, strongEncryption: Verdict = .unknown
    ) {
        self.personalData = personalData
        self.myNumber = myNumber
        self.sensitiveData = sensitiveData
        self.propertyDamage = propertyDamage
        self.wrongfulIntent = wrongfulIntent
        self.unspecifiedViewers = unspecifiedViewers
        self.moreThan100Persons = moreThan100Persons
        self.strongEncryption = strongEncryption
    }

    /// The names the statutory rules file uses.
    public static let names = [
        "personalData", "myNumber", "sensitiveData", "propertyDamage", "wrongfulIntent", "unspecifiedViewers",
        "moreThan100Persons", "strongEncryption",
    ]

    public subscript(name: String) -> Verdict? {
        switch name {
        case "personalData": personalData
        case "myNumber": myNumber
        case "sensitiveData": sensitiveData
        case "propertyDamage": propertyDamage
        case "wrongfulIntent": wrongfulIntent
        case "unspecifiedViewers": unspecifiedViewers
        case "moreThan100Persons": moreThan100Persons
        case "strongEncryption": strongEncryption
        default: nil
        }
    }
}

/// Everything needed to open a case, whatever its source. A new source (e.g.
/// `contractor.violation.detected`) only needs a function that builds one of these.
public struct NewCase: Sendable, Hashable, Codable {
    public var source: CaseSource
    public var sectionCode: String
    public var departmentCode: String
    public var category: IncidentCategory
    /// Masked.
    public var title: String
    /// Masked.
    public var description: String
    public var reporter: IncidentReported.Reporter?
    public var myNumberDetected: Bool
    public var facts: SeverityInput
    public var verdicts: StatutoryVerdicts
    public var occurredAt: Date?
    public var detectedAt: Date?
    /// When the ward learned of it: the statutory clocks start here.
    public var knownAt: Date
    public var reportedAt: Date?
    /// When the source recorded it.
    public var recordedAt: Date
    /// What correlation compares (issue #16); nil for sources that never join a case.
    public var correlation: CorrelationAttributes?

    public init(
        source: CaseSource, sectionCode: String, departmentCode: String, category: IncidentCategory, title: String,
        description: String, reporter: IncidentReported.Reporter?, myNumberDetected: Bool, facts: SeverityInput,
        verdicts: StatutoryVerdicts, occurredAt: Date?, detectedAt: Date?, knownAt: Date, reportedAt: Date?, recordedAt: Date,
        correlation: CorrelationAttributes? = nil
    ) {
        self.source = source
        self.sectionCode = sectionCode
        self.departmentCode = departmentCode
        self.category = category
        self.title = title
        self.description = description
        self.reporter = reporter
        self.myNumberDetected = myNumberDetected
        self.facts = facts
        self.verdicts = verdicts
        self.occurredAt = occurredAt
        self.detectedAt = detectedAt
        self.knownAt = knownAt
        self.reportedAt = reportedAt
        self.recordedAt = recordedAt
        self.correlation = correlation
    }

    /// A case from intake's `incident.reported`.
    public init(reported report: IncidentReported) {
        let myNumber: Verdict = report.myNumberDetected ? .yes : report.answers.myNumber
        let over100: Verdict = switch report.affectedPersons.exceeds(100) {
        case true?: .yes
        case false?: .no
        case nil: .unknown
        }
        self.init(
            source: .incidentReport(report.intakeID),
            sectionCode: report.sectionCode,
            departmentCode: report.departmentCode,
            category: report.category,
            title: report.title,
            description: report.description,
            reporter: report.reporter,
            myNumberDetected: report.myNumberDetected,
            facts: SeverityInput(
                category: report.category,
                classifications: report.affectedAssets.compactMap(\.classification),
                personalData: myNumber == .yes ? .yes : report.answers.personalData,
                myNumber: myNumber,
                sensitivePersonalData: report.answers.sensitivePersonalData,
                wrongfulIntent: report.answers.wrongfulIntent,
                affectedPersons: report.affectedPersons,
                assets: report.affectedAssets.map { AssetCheck(id: $0.id, name: $0.name, reported: $0.classification) }
            ),
            verdicts: StatutoryVerdicts(
                personalData: myNumber == .yes ? .yes : report.answers.personalData,
                myNumber: myNumber,
                sensitiveData: report.answers.sensitivePersonalData,
                propertyDamage: .unknown,
                wrongfulIntent: report.answers.wrongfulIntent,
                unspecifiedViewers: report.answers.unspecifiedViewers,
                moreThan100Persons: over100,
                strongEncryption: report.answers.dataEncrypted
            ),
            occurredAt: report.occurredAt,
            detectedAt: report.detectedAt,
            knownAt: report.knownAt,
            reportedAt: report.reportedAt,
            recordedAt: report.recordedAt,
            correlation: CorrelationAttributes(reported: report)
        )
    }
}

/// The time stamps of a case, kept apart (issue #4 item 5).
public struct CaseTimestamps: Sendable, Hashable, Codable {
    public var occurredAt: Date?
    public var detectedAt: Date?
    public var knownAt: Date
    public var reportedAt: Date?
    /// When the source (intake) recorded the report.
    public var recordedAt: Date
    /// When triage opened the case.
    public var openedAt: Date
    public var triagedAt: Date?
    public var acknowledgedAt: Date?
    public var containedAt: Date?
    public var closedAt: Date?
}

/// A stored case as the API and the CLI show it (masked text only).
public struct CaseRecord: Sendable, Hashable, Codable {
    public var id: UUID
    public var caseNumber: String
    public var source: CaseSource
    public var sectionCode: String
    public var departmentCode: String
    public var category: IncidentCategory
    public var title: String
    public var description: String
    public var myNumberDetected: Bool
    public var state: CaseState
    public var qualification: CaseQualification?
    public var qualificationReason: String?
    public var severity: SeverityDecision
    public var facts: SeverityInput
    public var verdicts: StatutoryVerdicts
    public var timestamps: CaseTimestamps
    /// The highest chain level told so far (-1: none yet).
    public var escalationLevel: Int
    /// How many reports the case holds (issue #16): the first, and every related one that joined.
    public var reportCount: Int
    /// When the first and the latest of its reports were recorded.
    public var firstSeenAt: Date
    public var lastSeenAt: Date
    /// For a merged case, the case that holds its reports now.
    public var mergedInto: String?
}

/// A case as a list shows it.
public struct CaseSummary: Sendable, Hashable, Codable {
    public var caseNumber: String
    public var state: CaseState
    public var severity: Int
    public var sectionCode: String
    public var departmentCode: String
    public var category: IncidentCategory
    public var title: String
    public var knownAt: Date
    public var openedAt: Date
    public var acknowledgedAt: Date?
    /// The highest chain level told so far (-1: none yet).
    public var escalationLevel: Int
    /// When the next chain level will be told unless somebody acknowledges: the due time of the
    /// case's pending escalation timer; nil when none is pending (acknowledged, final, or the
    /// policy's last level reached).
    public var nextEscalationAt: Date?
    /// What the case was opened from: a section follows its report to its case by this.
    public var source: CaseSource
    /// How many reports the case holds (issue #16).
    public var reportCount: Int
    public var lastSeenAt: Date
}

extension CaseSource {
    public static func contractorViolation(_ violationID: UUID) -> CaseSource {
        CaseSource(kind: "contractor-violation", id: violationID.lowercasedString)
    }
}

extension NewCase {
    /// A case from the contractor monitor's `contractor.violation.detected`: a contractor's
    /// violation of the policy is a security incident (Art. 3(13)(イ)).
    ///
    /// Nothing is known yet about a leak, so the verdicts are "no" except that a contract
    /// handling My Number data leaves the My Number question open for CSIRT to decide.
    public init(violation: ContractorViolationDetected) {
        let myNumber: Verdict = violation.handlesMyNumber ? .unknown : .no
        self.init(
            source: .contractorViolation(violation.violationID),
            sectionCode: violation.sectionCode,
            departmentCode: violation.departmentCode,
            category: .contractorViolation,
            title: "委託先の違反 (\(violation.kind.rawValue)): \(violation.contractorName) / \(violation.contractReference)",
            description: violation.details,
            reporter: nil,
            myNumberDetected: false,
            facts: SeverityInput(
                category: .contractorViolation,
                classifications: [],
                personalData: violation.handlesMyNumber ? .unknown : .no,
                myNumber: myNumber,
                sensitivePersonalData: .no,
                wrongfulIntent: .unknown,
                affectedPersons: .unknown
            ),
            verdicts: StatutoryVerdicts(
                personalData: violation.handlesMyNumber ? .unknown : .no,
                myNumber: myNumber,
                sensitiveData: .no,
                propertyDamage: .no,
                wrongfulIntent: .unknown,
                unspecifiedViewers: .no,
                moreThan100Persons: .no,
                strongEncryption: .unknown
            ),
            occurredAt: nil,
            detectedAt: violation.detectedAt,
            knownAt: violation.detectedAt,
            reportedAt: violation.detectedAt,
            recordedAt: violation.detectedAt
        )
    }
}
