public import Foundation

/// `jp.ward.isms.incident.lessons-recorded.v1`: CSIRT closed a case with its lessons (issue #18
/// item 2): the cause, the recurrence-prevention measures with their owners and due dates
/// (Art. 27(1)), and whether the emergency response plan needs a change (Art. 27(2)).
///
/// Emitted in the transaction that closes the case. The audit scheduler makes one duty per
/// measure and chases it like any duty. A case reopened and closed again emits a new one with new
/// measure ids. Free text is screened (My Numbers masked) before it gets here.
public struct IncidentLessonsRecorded: MessagePayload {
    public static var messageType: MessageType { MessageTypes.incidentLessonsRecorded }

    /// One recurrence-prevention measure (Art. 27(1)).
    public struct Measure: Codable, Sendable, Hashable {
        /// Unique across all closings: the audit scheduler's duty is keyed by it.
        public var id: UUID
        public var description: String
        /// The directory role that owes the measure.
        public var ownerRole: String
        /// The section or department code the measure is owed by.
        public var ownerUnit: String
        /// `YYYY-MM-DD`, Japan time.
        public var dueDate: String

        public init(id: UUID, description: String, ownerRole: String, ownerUnit: String, dueDate: String) {
            self.id = id
            self.description = description
            self.ownerRole = ownerRole
            self.ownerUnit = ownerUnit
            self.dueDate = dueDate
        }
    }

    /// Whether the emergency response plan needs a change (Art. 27(2)), with what, when it does.
    public struct ERPChange: Codable, Sendable, Hashable {
        public var needed: Bool
        public var note: String?

        public init(needed: Bool, note: String?) {
            self.needed = needed
            self.note = note
        }
    }

    public var caseNumber: String
    public var caseId: UUID
    /// The id of this closing's lessons (a reopened case closed again has new ones).
    public var lessonsId: UUID
    public var severity: Int
    public var sectionCode: String
    public var departmentCode: String
    public var cause: String
    public var measures: [Measure]
    public var erpChange: ERPChange
    /// `person:<id>` or `token:<id>`.
    public var actor: String
    /// Whether any report of the case carried a My Number.
    public var myNumberDetected: Bool
    public var closedAt: Date

    public init(
        caseNumber: String, caseId: UUID, lessonsId: UUID, severity: Int, sectionCode: String, departmentCode: String, cause: String,
        measures: [Measure], erpChange: ERPChange, actor: String, myNumberDetected: Bool, closedAt: Date
    ) {
        self.caseNumber = caseNumber
        self.caseId = caseId
        self.lessonsId = lessonsId
        self.severity = severity
        self.sectionCode = sectionCode
        self.departmentCode = departmentCode
        self.cause = cause
        self.measures = measures
        self.erpChange = erpChange
        self.actor = actor
        self.myNumberDetected = myNumberDetected
        self.closedAt = closedAt
    }

    public var subject: String? { caseNumber }
    public var dataClassification: DataClassification { myNumberDetected ? .restricted : .confidential }
}
