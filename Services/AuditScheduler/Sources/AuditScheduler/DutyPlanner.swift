public import Directory
public import Foundation
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
    /// What the occurrence is for besides its unit and date (issue #18): the contract of a
    /// contractor's education, the order of an on-demand duty, the self-inspection an
    /// improvement follows. Part of the occurrence's unique key.
    public var sourceID: UUID? = nil

    /// The section code when the duty is owed at a section (a contractor's duty is owed at the
    /// contract's section).
    public var sectionCode: String? { unitKind == .section || unitKind == .contractor ? unitCode : nil }
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
    /// - Parameters:
    ///   - contracts: the contracts of the registry; `every-contractor` occurrences cover those
    ///     in force between the occurrence's date and its due date (issue #18).
    ///   - auditedSections: the sections the audit plan names for a fiscal year (Art. 25).
    public func plan(
        from: CivilDate, through: CivilDate, sections: [Organisation.Section], departments: [String], contracts: [ContractInForce] = [],
        auditedSections: (Int) throws -> Set<String>
    ) rethrows -> [PlannedDuty] {
        let windowStart = max(from, calendar.start)
        guard windowStart <= through else { return [] }
        var planned: [PlannedDuty] = []
        for template in calendar.templates {
            guard let rule = template.recurrence else { continue }
            let dates = rule.occurrences(start: template.start ?? calendar.start, from: windowStart, through: through)
            guard !dates.isEmpty else { continue }
            typealias Unit = (kind: DutyUnitKind, code: String?, department: String?, source: UUID?, title: String)
            let units: [Unit]
            switch template.scope {
            case .ward: units = [(.ward, nil, nil, nil, template.title)]
            case .everySection: units = sections.map { (.section, $0.code, $0.departmentCode, nil, template.title) }
            case .section(let code): units = sections.filter { $0.code == code }.map { (.section, $0.code, $0.departmentCode, nil, template.title) }
            case .everyDepartment: units = departments.map { (.department, $0, $0, nil, template.title) }
            case .department(let code): units = departments.contains(code) ? [(.department, code, code, nil, template.title)] : []
            case .everyContractor: units = []
            }
            for date in dates {
                let fiscalYear = calendar.fiscalYear(of: date)
                let audited: Set<String>? = template.kind == .audit ? try auditedSections(fiscalYear) : nil
                let due = dueDate(from: date, offsetDays: template.dueOffsetDays)
                var occurrenceUnits = units
                if case .everyContractor = template.scope {
                    // Issue #18: one duty per contract in force, owed at its section (Art. 18(6)(2)).
                    occurrenceUnits = contracts.filter { $0.inForce(from: date, through: due) }.map { contract in
                        (.contractor, contract.sectionCode, contract.departmentCode, contract.contractID,
                         Self.title(template.title, contract: contract))
                    }
                }
                for unit in occurrenceUnits {
                    if let audited, let code = unit.code, !audited.contains(code) { continue }
                    planned.append(
                        PlannedDuty(
                            templateID: template.id, kind: template.kind, title: unit.title, article: template.article, unitKind: unit.kind,
                            unitCode: unit.code, departmentCode: unit.department, occurrenceDate: date, dueDate: due, fiscalYear: fiscalYear,
                            owner: template.owner, reminderDays: template.reminderDays ?? calendar.reminderDays,
                            escalateAfterDays: template.escalateAfterDays ?? calendar.escalateAfterDays, sourceID: unit.source))
                }
            }
        }
        return planned.sorted {
            ($0.templateID, $0.unitCode ?? "", $0.occurrenceDate, $0.sourceID?.uuidString ?? "")
                < ($1.templateID, $1.unitCode ?? "", $1.occurrenceDate, $1.sourceID?.uuidString ?? "")
        }
    }

    /// A contractor education's title: the template's, with the contractor and the contract
    /// reference, within the 200 characters a duty event's title may hold.
    static func title(_ title: String, contract: ContractInForce) -> String {
        String(String.UnicodeScalarView("\(title)（\(contract.contractorName) \(contract.contractReference)）".unicodeScalars.prefix(200)))
    }
}
