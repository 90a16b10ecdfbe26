public import Foundation
public import WardCalendar

/// The yearly incident statistic of the management review (Art. 11(5)(7)): the cases opened in a
/// period by month, severity, category and department, and how the statutory obligations of
/// those cases were met (APPI Art. 68, My Number Act Art. 29-4). `GET /v1/reports/incidents`.
///
/// What counts: a case opened in the period (Japan days, both ends included) that is neither
/// merged into another (its reports are counted once, in the survivor, issue #16) nor discarded
/// as "not an incident" (Art. 3(13)); those two are counted apart (`merged`, `notIncidents`).
public struct IncidentStatistics: Sendable, Hashable, Codable {
    public struct Month: Sendable, Hashable, Codable {
        /// `YYYY-MM`.
        public var month: String
        /// Severity "1"…"4" → cases; every severity present, zeros included.
        public var bySeverity: [String: Int]
        public var total: Int
    }

    public struct Category: Sendable, Hashable, Codable {
        public var category: String
        public var count: Int
    }

    public struct Department: Sendable, Hashable, Codable {
        public var departmentCode: String
        public var count: Int
    }

    /// The statutory obligations (reports to the PPC, notices to persons) of the counted cases;
    /// obligations found "not required" are left out.
    public struct Obligations: Sendable, Hashable, Codable {
        public var total: Int
        /// Filed by the end of the period's last day (`dueAt`); a filing with no deadline counts here.
        public var metOnTime: Int
        /// Filed after the deadline.
        public var late: Int
        /// Not filed, deadline not passed (or not set yet, while the trigger is to be decided).
        public var open: Int
        /// Not filed and past the deadline.
        public var overdue: Int

        public init(total: Int, metOnTime: Int, late: Int, open: Int, overdue: Int) {
            self.total = total
            self.metOnTime = metOnTime
            self.late = late
            self.open = open
            self.overdue = overdue
        }
    }

    public var from: String
    public var to: String
    public var total: Int
    public var bySeverity: [String: Int]
    /// Every month of the period, oldest first, zeros included (a chart needs the empty months).
    public var byMonth: [Month]
    /// Most cases first, then by name.
    public var byCategory: [Category]
    public var byDepartment: [Department]
    public var notIncidents: Int
    public var merged: Int
    public var obligations: Obligations

    /// One case as the statistic reads it.
    public struct CaseRow: Sendable, Hashable {
        public var openedAt: Date
        public var severity: Int
        public var category: String
        public var departmentCode: String
        public var merged: Bool
        public var notIncident: Bool

        public init(openedAt: Date, severity: Int, category: String, departmentCode: String, merged: Bool, notIncident: Bool) {
            self.openedAt = openedAt
            self.severity = severity
            self.category = category
            self.departmentCode = departmentCode
            self.merged = merged
            self.notIncident = notIncident
        }
    }

    /// One obligation of a counted case.
    public struct ObligationRow: Sendable, Hashable {
        public var dueAt: Date?
        public var filedAt: Date?

        public init(dueAt: Date?, filedAt: Date?) {
            self.dueAt = dueAt
            self.filedAt = filedAt
        }
    }

    /// The statistic of `cases` (opened from `from` to `to`) and `obligations` (of the counted
    /// cases) at `now`. Pure: the store reads the rows, this counts them.
    public static func compute(from: CivilDate, to: CivilDate, cases: [CaseRow], obligations: [ObligationRow], now: Date) -> IncidentStatistics {
        let counted = cases.filter { !$0.merged && !$0.notIncident }
        func severities(_ rows: [CaseRow]) -> [String: Int] {
            var result = Dictionary(uniqueKeysWithValues: (1...4).map { (String($0), 0) })
            for row in rows { result[String(row.severity), default: 0] += 1 }
            return result
        }
        let byMonthKey = Dictionary(grouping: counted) { Self.monthKey(CivilDate.inTokyo($0.openedAt)) }
        var months: [Month] = []
        var month = from.firstOfMonth
        while month <= to {
            let key = monthKey(month)
            let rows = byMonthKey[key] ?? []
            months.append(Month(month: key, bySeverity: severities(rows), total: rows.count))
            month = month.adding(months: 1)
        }
        let categories = Dictionary(grouping: counted, by: \.category).map { Category(category: $0.key, count: $0.value.count) }
            .sorted { ($0.count, $1.category) > ($1.count, $0.category) }
        let departments = Dictionary(grouping: counted, by: \.departmentCode).map { Department(departmentCode: $0.key, count: $0.value.count) }
            .sorted { ($0.count, $1.departmentCode) > ($1.count, $0.departmentCode) }
        var met = Obligations(total: obligations.count, metOnTime: 0, late: 0, open: 0, overdue: 0)
        for obligation in obligations {
            switch (obligation.filedAt, obligation.dueAt) {
            case (let filed?, let due?): if filed <= due { met.metOnTime += 1 } else { met.late += 1 }
            case (.some, nil): met.metOnTime += 1
            case (nil, let due?): if due < now { met.overdue += 1 } else { met.open += 1 }
            case (nil, nil): met.open += 1
            }
        }
        return IncidentStatistics(
            from: from.iso, to: to.iso, total: counted.count, bySeverity: severities(counted), byMonth: months, byCategory: categories,
            byDepartment: departments, notIncidents: cases.filter { !$0.merged && $0.notIncident }.count, merged: cases.filter(\.merged).count,
            obligations: met)
    }

    static func monthKey(_ date: CivilDate) -> String {
        String(format: "%04d-%02d", date.year, date.month)
    }
}
