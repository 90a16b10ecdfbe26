public import Directory
public import Foundation
public import WardCalendar

/// Who a duty notice is for: a role, at a unit (nil for ward-wide roles). The notifier resolves
/// the people through the directory; events never carry personal data.
public struct DutyRecipient: Sendable, Hashable, Codable {
    public var role: DirectoryRole
    /// A section code for section roles, a department code for department roles, nil for ward-wide roles.
    public var unitCode: String?

    public init(role: DirectoryRole, unitCode: String?) {
        self.role = role
        self.unitCode = unitCode
    }

    /// `role` held at the unit that suits it: the section, its department, or the ward.
    /// Nil when the role needs a unit the duty does not have.
    public static func at(_ role: DirectoryRole, sectionCode: String?, departmentCode: String?) -> DutyRecipient? {
        switch role.unitKind {
        case .ward: DutyRecipient(role: role, unitCode: nil)
        case .department: departmentCode.map { DutyRecipient(role: role, unitCode: $0) }
        case .section: sectionCode.map { DutyRecipient(role: role, unitCode: $0) }
        }
    }

    /// The levels above `owner` that an overdue duty escalates to, lowest first: the rest of the
    /// reporting chain (section chief → department head → information policy chief → planning
    /// department head → CISO; Art. 14, 16-19). A role outside the chain (the audit chief, say)
    /// escalates to the CISO, who appoints it (Art. 13(2)); the CISO has nobody above.
    public static func escalation(owner: DirectoryRole, sectionCode: String?, departmentCode: String?) -> [DutyRecipient] {
        let chain = DirectoryRole.escalationChain
        let above: [DirectoryRole]
        if let index = chain.firstIndex(of: owner) {
            above = Array(chain[(index + 1)...])
        } else {
            above = owner == .ciso ? [] : [.ciso]
        }
        return above.compactMap { at($0, sectionCode: sectionCode, departmentCode: departmentCode) }
    }
}

/// One notice in a duty's life.
public enum DutyStage: Sendable, Hashable, Codable, CustomStringConvertible {
    /// `daysBefore` days before the due date (the reminder ladder).
    case dueSoon(daysBefore: Int)
    /// On the due date.
    case due
    /// The first opening day after the due date.
    case overdue
    /// `level` steps up the chain, every `escalateAfterDays` after the duty became overdue.
    case escalated(level: Int)

    public var description: String {
        switch self {
        case .dueSoon(let days): "due-soon(\(days))"
        case .due: "due"
        case .overdue: "overdue"
        case .escalated(let level): "escalated(\(level))"
        }
    }
}

/// When each notice of a duty is sent: a pure function of its due date, reminder ladder,
/// escalation delay and chain, and the ward calendar.
///
/// Reminders that fall on a closing day are brought forward to the previous opening day; the
/// overdue notice and escalations are sent on opening days (rolled forward). Each is sent at
/// `noticeHour` JST.
public struct DutyTimeline: Sendable, Hashable {
    public struct Step: Sendable, Hashable {
        public var stage: DutyStage
        public var day: CivilDate
        public var at: Date
    }

    public let steps: [Step]

    public init(dueDate: CivilDate, reminderDays: [Int], escalateAfterDays: Int, escalationLevels: Int, calendar: WardCalendar, noticeHour: Int) {
        func at(_ day: CivilDate) -> Date { day.startInTokyo().addingTimeInterval(Double(noticeHour) * 3_600) }
        var steps: [Step] = []
        var reminderDaysUsed = Set<CivilDate>()
        // Closest reminder wins a day two reminders roll onto.
        for days in Set(reminderDays).sorted() where days > 0 {
            let day = calendar.previousOpeningDay(onOrBefore: dueDate.adding(days: -days))
            guard day < dueDate, reminderDaysUsed.insert(day).inserted else { continue }
            steps.append(Step(stage: .dueSoon(daysBefore: days), day: day, at: at(day)))
        }
        steps.sort { $0.day < $1.day }
        steps.append(Step(stage: .due, day: dueDate, at: at(dueDate)))
        let overdue = calendar.nextOpeningDay(onOrAfter: dueDate.adding(days: 1))
        steps.append(Step(stage: .overdue, day: overdue, at: at(overdue)))
        for level in stride(from: 1, through: escalationLevels, by: 1) {
            let day = calendar.nextOpeningDay(onOrAfter: overdue.adding(days: level * max(1, escalateAfterDays)))
            steps.append(Step(stage: .escalated(level: level), day: day, at: at(day)))
        }
        self.steps = steps
    }

    /// The index of the next step to send after step `index` (-1: none sent yet), given `now`.
    ///
    /// A reminder or the due notice is skipped when the step after it is already due: a duty
    /// that is overdue is not also announced as due soon. The overdue notice and escalations are
    /// never skipped. Nil when nothing is left.
    public func next(after index: Int, now: Date) -> Int? {
        var candidate = index + 1
        while candidate < steps.count {
            switch steps[candidate].stage {
            case .dueSoon, .due:
                if candidate + 1 < steps.count, steps[candidate + 1].at <= now {
                    candidate += 1
                    continue
                }
            case .overdue, .escalated:
                break
            }
            return candidate
        }
        return nil
    }

    /// The last step that lies on a day before `day` (-1 when none): a duty created late is not
    /// chased for what it missed before it existed.
    public func lastStep(before day: CivilDate) -> Int {
        (steps.lastIndex { $0.day < day }) ?? -1
    }
}
