public import Directory
public import WardCalendar

/// The guideline's recurring duties as the ward configures them (`deploy/config/duty-calendar.yaml`,
/// read by ``DutyCalendarDocument``): templates, the default reminder ladder and escalation, the
/// audit rotation and the due dates of risk treatment by finding severity.
public struct DutyCalendar: Sendable, Hashable {
    /// The month the fiscal year starts in; Japanese local government: April (Local Autonomy Act Art. 208).
    public var fiscalYearStartMonth: Int
    /// How far ahead occurrences are materialised, in days.
    public var horizonDays: Int
    /// Occurrences before this date are never materialised (the day the ward started using the system).
    public var start: CivilDate
    /// Days before the due date on which reminders go out, unless a template says otherwise.
    public var reminderDays: [Int]
    /// Days an overdue duty waits before it goes one level up the chain, unless a template says otherwise.
    public var escalateAfterDays: Int
    /// The hour (JST) at which reminders and escalations are sent.
    public var noticeHour: Int
    /// Art. 25: every section is audited at least once in this many fiscal years.
    public var auditCycleYears: Int
    /// Art. 26: days from recording a finding to the due date of its treatment, by severity.
    public var findingDueDays: [FindingSeverity: Int]
    /// Art. 24: when a self-inspection opens an improvement action (issue #18). `every-contractor`
    /// duties no longer come from a list here but from the contracts in force (``ContractInForce``).
    public var selfInspection: SelfInspectionRules
    public var templates: [DutyTemplate]

    public init(
        fiscalYearStartMonth: Int = 4, horizonDays: Int = 400, start: CivilDate, reminderDays: [Int] = [30, 7, 1],
        escalateAfterDays: Int = 7, noticeHour: Int = 9, auditCycleYears: Int = 3,
        findingDueDays: [FindingSeverity: Int] = FindingSeverity.defaultDueDays, selfInspection: SelfInspectionRules = SelfInspectionRules(),
        templates: [DutyTemplate]
    ) {
        self.fiscalYearStartMonth = fiscalYearStartMonth
        self.horizonDays = horizonDays
        self.start = start
        self.reminderDays = reminderDays
        self.escalateAfterDays = escalateAfterDays
        self.noticeHour = noticeHour
        self.auditCycleYears = auditCycleYears
        self.findingDueDays = findingDueDays
        self.selfInspection = selfInspection
        self.templates = templates
    }

    /// The template with this id.
    public func template(id: String) -> DutyTemplate? {
        templates.first { $0.id == id }
    }

    /// The template that risk treatment of findings uses (Art. 26): the first of kind `riskTreatment`.
    public var riskTreatmentTemplate: DutyTemplate? {
        templates.first { $0.kind == .riskTreatment }
    }

    /// The fiscal year `date` falls in, named by the calendar year it starts in (令和7年度 = 2025).
    public func fiscalYear(of date: CivilDate) -> Int {
        date.month >= fiscalYearStartMonth ? date.year : date.year - 1
    }

    /// The first day of fiscal year `year`.
    public func fiscalYearStart(_ year: Int) -> CivilDate {
        CivilDate(year: year, month: fiscalYearStartMonth, day: 1)
    }

    /// The last day of fiscal year `year`.
    public func fiscalYearEnd(_ year: Int) -> CivilDate {
        fiscalYearStart(year + 1).adding(days: -1)
    }
}

/// What kind of operation a duty is; drives evidence and the effectiveness measures.
public enum DutyKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// Art. 23: education and awareness; completion carries participants / eligible.
    case education
    /// Art. 24: self-inspection; completion carries a checklist score.
    case selfInspection = "self-inspection"
    /// Art. 13(3)(1): the audit chief's yearly audit plan.
    case auditPlan = "audit-plan"
    /// Art. 25: the audit of one section, rotated so every section is covered within the cycle.
    case audit
    /// Art. 26: treatment of the risks an audit found; created per finding, never by recurrence.
    case riskTreatment = "risk-treatment"
    /// Art. 26: the periodic review of a registered risk, due on its review date; created per
    /// risk, never by recurrence (issue #18 item 1).
    case riskReview = "risk-review"
    /// Art. 11(6), 18: review of a section's emergency response plan.
    case emergencyPlanReview = "emergency-plan-review"
    /// Art. 11(5): the CISO's management review.
    case managementReview = "management-review"
    /// Art. 29: review of the policy and the management plan.
    case policyReview = "policy-review"
    /// Art. 27(1): a recurrence-prevention measure of a closed case; created per measure from
    /// `incident.lessons-recorded`, never by recurrence (issue #18).
    case recurrenceMeasure = "recurrence-measure"
    /// Art. 24 (自己改善), 18(7): the improvement a self-inspection scored below the mark calls
    /// for; created per self-inspection, never by recurrence (issue #18).
    case improvement
    /// Anything else the ward adds.
    case other

    /// Kinds that are created by an event, never by a template's recurrence.
    public var isCreatedOnDemand: Bool { self == .riskTreatment || self == .improvement }
}

/// Art. 24: a self-inspection measures education's effect and drives self-improvement; a score
/// below ``improvementBelow`` per cent of the checklist's maximum opens an improvement action
/// for the same unit, due ``improvementDueDays`` later.
public struct SelfInspectionRules: Sendable, Hashable {
    /// The mark in per cent (0-100); nil: no improvement actions.
    public var improvementBelow: Double?
    /// Days from the completion to the improvement action's due date (rolled to an opening day).
    public var improvementDueDays: Int

    public init(improvementBelow: Double? = nil, improvementDueDays: Int = 30) {
        self.improvementBelow = improvementBelow
        self.improvementDueDays = improvementDueDays
    }
}

/// The units a template's duties are owed for.
public enum DutyScope: Sendable, Hashable, Codable, CustomStringConvertible {
    /// One duty for the whole ward.
    case ward
    /// One duty per section in the directory.
    case everySection
    /// One duty per department in the directory.
    case everyDepartment
    /// One duty for this department.
    case department(String)
    /// One duty for this section.
    case section(String)
    /// One duty per contract in force in the contractor registry (issue #18; ``ContractInForce``),
    /// owed at the contract's section (Art. 18(6)(2)).
    case everyContractor

    public var description: String {
        switch self {
        case .ward: "ward"
        case .everySection: "every-section"
        case .everyDepartment: "every-department"
        case .department(let code): "department:\(code)"
        case .section(let code): "section:\(code)"
        case .everyContractor: "every-contractor"
        }
    }

    /// Parses the form ``description`` prints.
    public init?(text: String) {
        switch text {
        case "ward": self = .ward
        case "every-section": self = .everySection
        case "every-department": self = .everyDepartment
        case "every-contractor": self = .everyContractor
        default:
            if text.hasPrefix("department:"), text.count > 11 {
                self = .department(String(text.dropFirst(11)))
            } else if text.hasPrefix("section:"), text.count > 8 {
                self = .section(String(text.dropFirst(8)))
            } else {
                return nil
            }
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let scope = DutyScope(text: text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "unknown scope \(text)")
        }
        self = scope
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// The kind of unit one duty occurrence is owed for.
public enum DutyUnitKind: String, Sendable, Hashable, Codable, CaseIterable {
    case ward
    case department
    case section
    /// A contract's staff (委託事業者等, Art. 23); the unit code is the contract's responsible
    /// section, which owes the duty (Art. 18(6)(2)), and the duty names its contract.
    case contractor
}

/// A recurring duty: what, for whom, how often, who owes it, when it is due and how it is chased.
public struct DutyTemplate: Sendable, Hashable {
    /// Stable key (ASCII letters, digits, `-`, `_`, `.`); occurrences are unique per template, unit and date.
    public var id: String
    public var title: String
    public var kind: DutyKind
    /// The guideline article the duty comes from, e.g. `Art. 24`.
    public var article: String
    /// When it recurs; nil for duties created on demand (risk treatment, improvement).
    public var recurrence: RecurrenceRule?
    /// The recurrence's DTSTART; defaults to the calendar's start.
    public var start: CivilDate?
    public var scope: DutyScope
    /// The role that owes the duty, at the occurrence's unit (or its department, or ward-wide).
    public var owner: DirectoryRole
    /// Days from an occurrence's date to its due date (before rolling to an opening day).
    public var dueOffsetDays: Int
    /// Overrides the calendar's reminder ladder.
    public var reminderDays: [Int]?
    /// Overrides the calendar's escalation delay.
    public var escalateAfterDays: Int?

    public init(
        id: String, title: String, kind: DutyKind, article: String, recurrence: RecurrenceRule?, start: CivilDate? = nil, scope: DutyScope,
        owner: DirectoryRole, dueOffsetDays: Int = 0, reminderDays: [Int]? = nil, escalateAfterDays: Int? = nil
    ) {
        self.id = id
        self.title = title
        self.kind = kind
        self.article = article
        self.recurrence = recurrence
        self.start = start
        self.scope = scope
        self.owner = owner
        self.dueOffsetDays = dueOffsetDays
        self.reminderDays = reminderDays
        self.escalateAfterDays = escalateAfterDays
    }
}

/// How serious an audit finding is (Art. 26: "リスクに応じた"); sets the treatment's due date.
public enum FindingSeverity: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
    case critical
    case high
    case medium
    case low

    /// Days to treat a finding when the calendar does not say.
    public static let defaultDueDays: [FindingSeverity: Int] = [.critical: 14, .high: 30, .medium: 90, .low: 180]

    private var rank: Int { Self.allCases.firstIndex(of: self)! }

    public static func < (lhs: FindingSeverity, rhs: FindingSeverity) -> Bool { lhs.rank < rhs.rank }
}
