public import Directory
public import Foundation
import ServiceRuntime
public import WardCalendar

/// What a case teaches, recorded when it is closed (issue #18 item 2).
///
/// Art. 27(1): CSIRT investigates the cause of an incident and has the measures that prevent it
/// from happening again taken; Art. 27(2): the emergency response plan is changed when the
/// incident shows it should be. So a case is closed only with its cause, at least one measure
/// (each with the role and unit that owe it and a due date the audit scheduler chases) and an
/// answer to the plan question. "Not an incident" (`discard`) needs none of this.
public struct CaseLessons: Sendable, Hashable, Codable {
    public var id: UUID
    /// Why it happened (screened free text).
    public var cause: String
    /// Art. 27(1): the recurrence-prevention measures, at least one.
    public var measures: [RecurrenceMeasure]
    /// Art. 27(2): whether the emergency response plan needs a change.
    public var erpChange: ERPChange
    /// When the case was closed with these lessons.
    public var recordedAt: Date
    /// `person:<id>` or `token:<id>`.
    public var recordedBy: String

    public init(id: UUID, cause: String, measures: [RecurrenceMeasure], erpChange: ERPChange, recordedAt: Date, recordedBy: String) {
        self.id = id
        self.cause = cause
        self.measures = measures
        self.erpChange = erpChange
        self.recordedAt = recordedAt
        self.recordedBy = recordedBy
    }
}

/// One recurrence-prevention measure (Art. 27(1)): what, who owes it, by when.
public struct RecurrenceMeasure: Sendable, Hashable, Codable {
    /// The audit scheduler's duty for the measure is keyed by it.
    public var id: UUID
    public var description: String
    public var ownerRole: DirectoryRole
    /// A section or department code of the directory.
    public var ownerUnit: String
    /// `YYYY-MM-DD`, Japan time.
    public var dueDate: String

    public init(id: UUID, description: String, ownerRole: DirectoryRole, ownerUnit: String, dueDate: String) {
        self.id = id
        self.description = description
        self.ownerRole = ownerRole
        self.ownerUnit = ownerUnit
        self.dueDate = dueDate
    }
}

/// Art. 27(2): whether the emergency response plan needs a change, and what, when it does.
public struct ERPChange: Sendable, Hashable, Codable {
    public var needed: Bool
    public var note: String?

    public init(needed: Bool, note: String? = nil) {
        self.needed = needed
        self.note = note
    }
}

/// The lessons as a request gives them: every member may be missing, so that each missing or
/// wrong one is named with its JSON pointer (``validated(today:unitKind:)``).
public struct LessonsDraft: Sendable, Hashable, Codable {
    public struct Measure: Sendable, Hashable, Codable {
        public var description: String?
        public var ownerRole: String?
        public var ownerUnit: String?
        public var dueDate: String?

        public init(description: String?, ownerRole: String?, ownerUnit: String?, dueDate: String?) {
            self.description = description
            self.ownerRole = ownerRole
            self.ownerUnit = ownerUnit
            self.dueDate = dueDate
        }
    }

    public struct ERP: Sendable, Hashable, Codable {
        public var needed: Bool?
        public var note: String?

        public init(needed: Bool?, note: String? = nil) {
            self.needed = needed
            self.note = note
        }
    }

    public var cause: String?
    public var measures: [Measure]?
    public var erpChange: ERP?

    public init(cause: String?, measures: [Measure]?, erpChange: ERP?) {
        self.cause = cause
        self.measures = measures
        self.erpChange = erpChange
    }

    /// Limits, in Unicode code points as JSON Schema counts them.
    static let causeLimit = 4000
    static let textLimit = 2000
    static let measureLimit = 20

    /// The lessons with their text screened (My Numbers masked, Art. 3(10)) and new measure ids,
    /// or every problem at once, each with its pointer under `/lessons`. `unitKind` says whether
    /// a code is a section or a department of the directory (nil: neither).
    public func validated(
        today: CivilDate, at: Date, by actor: String, unitKind: (String) throws -> DirectoryUnitKind?
    ) throws -> CaseLessons {
        var problems: [TriageError.FieldProblem] = []
        func problem(_ field: String, _ code: String, _ message: String) {
            problems.append(.init(field: "/lessons" + field, code: code, message: message))
        }
        func text(_ value: String?, _ field: String, limit: Int, what: String) -> String {
            let trimmed = FreeText.screened((value ?? "").trimmingCharacters(in: .whitespacesAndNewlines))
            if trimmed.isEmpty {
                problem(field, "required", "\(what) is required")
            } else if trimmed.unicodeScalars.count > limit {
                problem(field, "too-long", "\(what) is at most \(limit) characters")
            }
            return trimmed
        }
        // Art. 27(1): the cause of the incident.
        let cause = text(cause, "/cause", limit: Self.causeLimit, what: "the cause")
        // Art. 27(1): the measures that keep it from happening again, each owed and dated.
        var measures: [RecurrenceMeasure] = []
        let drafts = self.measures ?? []
        if drafts.isEmpty {
            problem("/measures", "required", "at least one recurrence-prevention measure is required (Art. 27(1))")
        } else if drafts.count > Self.measureLimit {
            problem("/measures", "too-many", "at most \(Self.measureLimit) measures")
        }
        for (index, draft) in drafts.prefix(Self.measureLimit).enumerated() {
            let path = "/measures/\(index)"
            let description = text(draft.description, path + "/description", limit: Self.textLimit, what: "the measure")
            let role = draft.ownerRole.flatMap { DirectoryRole(rawValue: $0.trimmingCharacters(in: .whitespaces)) }
            if role == nil {
                problem(path + "/ownerRole", draft.ownerRole == nil ? "required" : "unknown-role", "the owner's role must be a role of the directory")
            }
            let unit = (draft.ownerUnit ?? "").trimmingCharacters(in: .whitespaces)
            let kind = try unit.isEmpty ? nil : unitKind(unit)
            if unit.isEmpty {
                problem(path + "/ownerUnit", "required", "the owning section or department is required")
            } else if kind == nil {
                problem(path + "/ownerUnit", "unknown-unit", "\(unit) is no section or department of the directory")
            } else if let role, let kind, !role.isWardWide, role.unitKind != kind {
                problem(path + "/ownerRole", "role-unit-mismatch", "a \(role.rawValue) is held in a \(role.unitKind.rawValue), not in the \(kind.rawValue) \(unit)")
            }
            let due = draft.dueDate.flatMap { CivilDate(iso: $0.trimmingCharacters(in: .whitespaces)) }
            if due == nil {
                problem(path + "/dueDate", draft.dueDate == nil ? "required" : "invalid-date", "the due date is required, as YYYY-MM-DD")
            } else if let due, due < today {
                problem(path + "/dueDate", "date-in-past", "the due date \(due.iso) is before today (\(today.iso), Japan time)")
            }
            if let role, let due {
                measures.append(RecurrenceMeasure(id: UUID(), description: description, ownerRole: role, ownerUnit: unit, dueDate: due.iso))
            }
        }
        // Art. 27(2): whether the emergency response plan needs a change, with what when it does.
        var erp = ERPChange(needed: false)
        if let needed = erpChange?.needed {
            erp.needed = needed
            let note = (erpChange?.note ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            if needed {
                erp.note = text(note, "/erpChange/note", limit: Self.textLimit, what: "what to change in the emergency response plan")
            } else if !note.isEmpty {
                erp.note = text(note, "/erpChange/note", limit: Self.textLimit, what: "the note")
            }
        } else {
            problem("/erpChange/needed", "required", "say whether the emergency response plan needs a change (Art. 27(2))")
        }
        guard problems.isEmpty else {
            throw TriageError(
                code: .invalidRequest, detail: "closing a case needs its lessons (Art. 27(1), 27(2)): " + problems.map(\.message).joined(separator: "; "),
                fieldProblems: problems)
        }
        return CaseLessons(id: UUID(), cause: cause, measures: measures, erpChange: erp, recordedAt: at, recordedBy: actor)
    }

    /// The problem when a close names no lessons at all.
    static var missing: TriageError {
        TriageError(
            code: .invalidRequest, detail: "closing a case needs its lessons: cause, recurrence-prevention measures and the emergency response plan question (Art. 27(1), 27(2))",
            fieldProblems: [.init(field: "/lessons", code: "required", message: "closing a case needs its lessons (Art. 27(1))")])
    }
}
