public import Foundation

/// The duty a `duty.*` event is about. Names roles and units by code; never personal data.
public struct DutyReference: Sendable, Hashable, Codable {
    /// The unit a duty is owed for.
    public struct Unit: Sendable, Hashable, Codable {
        /// `ward`, `department`, `section` or `contractor`.
        public var kind: String
        /// The section, department or contractor code; absent for the ward.
        public var code: String?
        /// The department of a section (or the department itself); absent for the ward and contractors.
        public var departmentCode: String?

        public init(kind: String, code: String?, departmentCode: String?) {
            self.kind = kind
            self.code = code
            self.departmentCode = departmentCode
        }
    }

    public var dutyID: UUID
    /// The calendar template's id, e.g. `self-inspection`.
    public var templateID: String
    /// `education`, `self-inspection`, `audit-plan`, `audit`, `risk-treatment`, `risk-review`,
    /// `emergency-plan-review`, `management-review`, `policy-review`, `recurrence-measure`,
    /// `improvement` or `other`.
    public var kind: String
    public var title: String
    /// The guideline article the duty comes from, e.g. `Art. 24`.
    public var article: String
    public var unit: Unit
    /// The role that owes the duty (a `DirectoryRole` raw value).
    public var owingRole: String
    /// The due date in Japan, `YYYY-MM-DD`.
    public var dueDate: String
    /// The fiscal year (starting 1 April) the occurrence belongs to.
    public var fiscalYear: Int

    public init(
        dutyID: UUID, templateID: String, kind: String, title: String, article: String, unit: Unit, owingRole: String, dueDate: String,
        fiscalYear: Int
    ) {
        self.dutyID = dutyID
        self.templateID = templateID
        self.kind = kind
        self.title = title
        self.article = article
        self.unit = unit
        self.owingRole = owingRole
        self.dueDate = dueDate
        self.fiscalYear = fiscalYear
    }

    enum CodingKeys: String, CodingKey {
        case dutyID = "dutyId"
        case templateID = "templateId"
        case kind, title, article, unit, owingRole, dueDate, fiscalYear
    }
}

/// Whom a duty notice is for: a role at a unit; the notifier resolves the people.
public struct DutyNoticeRecipient: Sendable, Hashable, Codable {
    /// A `DirectoryRole` raw value.
    public var role: String
    /// The section or department the role is held at; absent for ward-wide roles.
    public var unitCode: String?

    public init(role: String, unitCode: String?) {
        self.role = role
        self.unitCode = unitCode
    }
}

/// `jp.ward.isms.duty.due-soon.v1`: a duty is due in `daysBefore` days (the reminder ladder).
public struct DutyDueSoon: MessagePayload {
    public static var messageType: MessageType { MessageTypes.dutyDueSoon }

    public var duty: DutyReference
    public var recipient: DutyNoticeRecipient
    public var daysBefore: Int

    public init(duty: DutyReference, recipient: DutyNoticeRecipient, daysBefore: Int) {
        self.duty = duty
        self.recipient = recipient
        self.daysBefore = daysBefore
    }

    public var subject: String? { duty.dutyID.lowercasedString }
}

/// `jp.ward.isms.duty.due.v1`: a duty is due today.
public struct DutyDue: MessagePayload {
    public static var messageType: MessageType { MessageTypes.dutyDue }

    public var duty: DutyReference
    public var recipient: DutyNoticeRecipient

    public init(duty: DutyReference, recipient: DutyNoticeRecipient) {
        self.duty = duty
        self.recipient = recipient
    }

    public var subject: String? { duty.dutyID.lowercasedString }
}

/// `jp.ward.isms.duty.overdue.v1`: a duty passed its due date.
public struct DutyOverdue: MessagePayload {
    public static var messageType: MessageType { MessageTypes.dutyOverdue }

    public var duty: DutyReference
    public var recipient: DutyNoticeRecipient
    /// Days since the due date.
    public var daysOverdue: Int

    public init(duty: DutyReference, recipient: DutyNoticeRecipient, daysOverdue: Int) {
        self.duty = duty
        self.recipient = recipient
        self.daysOverdue = daysOverdue
    }

    public var subject: String? { duty.dutyID.lowercasedString }
}

/// `jp.ward.isms.duty.escalated.v1`: an overdue duty went `level` steps up the reporting chain.
public struct DutyEscalated: MessagePayload {
    public static var messageType: MessageType { MessageTypes.dutyEscalated }

    public var duty: DutyReference
    /// The level the duty reached: its role and unit.
    public var recipient: DutyNoticeRecipient
    /// 1 for the first level above the owing role.
    public var level: Int
    public var daysOverdue: Int

    public init(duty: DutyReference, recipient: DutyNoticeRecipient, level: Int, daysOverdue: Int) {
        self.duty = duty
        self.recipient = recipient
        self.level = level
        self.daysOverdue = daysOverdue
    }

    public var subject: String? { duty.dutyID.lowercasedString }
}

/// `jp.ward.isms.duty.completed.v1`: a duty was completed with evidence.
public struct DutyCompleted: MessagePayload {
    public static var messageType: MessageType { MessageTypes.dutyCompleted }

    public var duty: DutyReference
    public var completedAt: Date
    /// Whether it was completed by the end of its due date (JST).
    public var onTime: Bool
    /// The role of the token that recorded the completion.
    public var completedByRole: String
    /// How many evidence files were recorded.
    public var evidenceCount: Int

    public init(duty: DutyReference, completedAt: Date, onTime: Bool, completedByRole: String, evidenceCount: Int) {
        self.duty = duty
        self.completedAt = completedAt
        self.onTime = onTime
        self.completedByRole = completedByRole
        self.evidenceCount = evidenceCount
    }

    public var subject: String? { duty.dutyID.lowercasedString }
}
