public import Directory
public import WardCalendar

/// One occurrence of a duty as the calendar plans it, before it is stored.
public struct PlannedDuty: Sendable, Hashable {
    public var templateID: String
    public var kind: DutyKind
    public var title: String
    public var article: String
    public var unitKind: DutyUnitKind
    /// The section, department or contractor code; nil for the ward.
    public var unitCode: String?
    /// The section's department, or the department itself.
    public var departmentCode: String?
    /// The date the recurrence produced.
    public var occurrenceDate: CivilDate
    /// ``occurrenceDate`` plus the template's offset, rolled to an opening day.
    public var dueDate: CivilDate
    public var fiscalYear: Int
    public var owner: DirectoryRole
    public var reminderDays: [Int]
    public var escalateAfterDays: Int

    /// The section code when the duty is owed for a section.
    public var sectionCode: String? { unitKind == .section ? unitCode : nil }
}

/// Expands the calendar's templates over a window for the units in the directory. Pure: the
/// audit plan comes in as a function, so the rotation can be stored first.
public struct DutyPlanner: Sendable {
    public var calendar: DutyCalendar
    public var wardCalendar: WardCalendar

    public init(calendar: DutyCalendar, wardCalendar: WardCalendar = WardCalendar()) {
        self.calendar = calendar
        self.wardCalendar = wardCalendar
    }

    /// A due date: `date` plus `offsetDays`, moved to the next opening day when the ward is closed
    /// then (weekends, national holidays, 29 December - 3 January).
    public func dueDate(from date: CivilDate, offsetDays: Int) -> CivilDate {
        wardCalendar.nextOpeningDay(onOrAfter: date.adding(days: offsetDays))
    }

    /// Every occurrence with a date in `from`…`through` (never before the calendar's start),
    /// sorted by template, unit and date — the order rows are inserted in, so that concurrent
    /// materialisers lock rows in one order.
    ///
    /// - Parameter auditedSections: the sections the audit plan names for a fiscal year (Art. 25).
    public func plan(
        from: CivilDate, through: CivilDate, sections: [Organisation.Section], departments: [String],
        auditedSections: (Int) throws -> Set<String>
    ) rethrows -> [PlannedDuty] {
        let windowStart = max(from, calendar.start)
        guard windowStart <= through else { return [] }
        var planned: [PlannedDuty] = []
        for template in calendar.templates {
            guard let rule = template.recurrence else { continue }
            let dates = rule.occurrences(start: template.start ?? calendar.start, from: windowStart, through: through)
            guard !dates.isEmpty else { continue }
            let units: [(DutyUnitKind, String?, String?)]
            switch template.scope {
            case .ward: units = [(.ward, nil, nil)]
            case .everySection: units = sections.map { (.section, $0.code, $0.departmentCode) }
            case .section(let code): units = sections.filter { $0.code == code }.map { (.section, $0.code, $0.departmentCode) }
            case .everyDepartment: units = departments.map { (.department, $0, $0) }
            case .department(let code): units = departments.contains(code) ? [(.department, code, code)] : []
            case .everyContractor: units = calendar.contractors.map { (.contractor, $0, nil) }
            }
            for date in dates {
                let fiscalYear = calendar.fiscalYear(of: date)
                let audited: Set<String>? = template.kind == .audit ? try auditedSections(fiscalYear) : nil
                for (kind, code, department) in units {
                    if let audited, let code, !audited.contains(code) { continue }
                    planned.append(
                        PlannedDuty(
                            templateID: template.id, kind: template.kind, title: template.title, article: template.article, unitKind: kind,
                            unitCode: code, departmentCode: department, occurrenceDate: date,
                            dueDate: dueDate(from: date, offsetDays: template.dueOffsetDays), fiscalYear: fiscalYear, owner: template.owner,
                            reminderDays: template.reminderDays ?? calendar.reminderDays,
                            escalateAfterDays: template.escalateAfterDays ?? calendar.escalateAfterDays))
                }
            }
        }
        return planned.sorted { ($0.templateID, $0.unitCode ?? "", $0.occurrenceDate) < ($1.templateID, $1.unitCode ?? "", $1.occurrenceDate) }
    }
}
