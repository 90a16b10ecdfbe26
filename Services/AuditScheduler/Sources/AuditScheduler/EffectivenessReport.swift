public import Foundation
public import Postgres
import WardCalendar
import Directory

/// The measures the CISO's management review needs (Art. 11(5)(2)-(6), (9)) for one fiscal year:
/// what `isms duties report --year Y` prints and `GET /v1/reports/effectiveness` returns.
public struct EffectivenessReport: Sendable, Hashable, Codable {
    /// participants / eligible, and the completion of the duties that carry them.
    public struct Education: Sendable, Hashable, Codable {
        /// A department, or `ward` for the whole ward, or `contractors`.
        public var unit: String
        public var dutiesDue: Int
        public var dutiesCompleted: Int
        public var participants: Int
        public var eligible: Int
        /// participants / eligible, nil when nobody was eligible yet.
        public var participationRate: Double?
    }

    /// One round of self-inspection (all sections on one occurrence date).
    public struct SelfInspectionRound: Sendable, Hashable, Codable {
        public var occurrenceDate: String
        public var sectionsDue: Int
        public var sectionsCompleted: Int
        /// Mean of score / max over the completed sections, as a percentage.
        public var averageScorePercent: Double?
    }

    public struct SelfInspection: Sendable, Hashable, Codable {
        public var rounds: [SelfInspectionRound]
        /// The change of the average score from the previous round to the latest, in points.
        public var trendPercentPoints: Double?
        /// The same per department (issue #18: the review reads rates and trends by department).
        public var byDepartment: [SelfInspectionDepartment]
    }

    /// A department's self-inspection in the year (Art. 24, 11(5)(3)).
    public struct SelfInspectionDepartment: Sendable, Hashable, Codable {
        public var unit: String
        public var sectionsDue: Int
        public var sectionsCompleted: Int
        /// Mean of score / max over the department's completed inspections of the year, in percent.
        public var averageScorePercent: Double?
        /// The department's mean of its latest scored round minus the one before, in points.
        public var trendPercentPoints: Double?
    }

    /// Art. 11(5)(4), 25.
    public struct AuditCoverage: Sendable, Hashable, Codable {
        public var sections: Int
        public var plannedThisYear: Int
        public var completedThisYear: Int
        /// Sections with a completed audit within the last `cycleYears` fiscal years, this one included.
        public var coveredInCycle: Int
        public var cycleYears: Int
        /// coveredInCycle / sections.
        public var cycleCoverage: Double?
    }

    /// Art. 11(5)(5)-(6), 26.
    public struct Findings: Sendable, Hashable, Codable {
        public var recorded: Int
        public var open: Int
        public var treated: Int
        public var closed: Int
        public var overdue: Int
        public var bySeverity: [String: Int]
        /// Days from recording to closing, over the findings closed.
        public var averageDaysToClose: Double?
        public var maximumDaysToClose: Double?
    }

    /// Art. 11(5)(9): every duty of the year by kind.
    public struct DutyKindSummary: Sendable, Hashable, Codable {
        public var kind: String
        public var total: Int
        public var completed: Int
        public var completedOnTime: Int
        public var overdue: Int
    }

    public var fiscalYear: Int
    public var generatedAt: Date
    public var educationWard: Education
    public var educationByDepartment: [Education]
    public var educationContractors: Education
    public var selfInspection: SelfInspection
    public var audit: AuditCoverage
    public var findings: Findings
    public var duties: [DutyKindSummary]
}

extension AuditSchedulerStore {
    /// The effectiveness measures of fiscal year `fiscalYear` (Art. 11(5)(2)-(6)).
    public func effectivenessReport(fiscalYear: Int, now: Date, on connection: PostgresConnection) throws -> EffectivenessReport {
        let today = CivilDate.inTokyo(now)
        let rows = try connection.query(
            """
            SELECT d.kind, d.unit_kind, d.unit_code, d.department_code, d.occurrence_date::text AS occurrence_date, d.status,
                   d.due_date < \(today.iso)::date AND d.status = 'open' AS overdue,
                   c.on_time, c.participants, c.eligible, c.checklist_score, c.checklist_max
            FROM \(unescaped: table("duties")) d LEFT JOIN \(unescaped: table("duty_completions")) c ON c.duty_id = d.id
            WHERE d.fiscal_year = \(fiscalYear) AND d.status <> 'cancelled'
            """)
        struct Row {
            var kind: String, unitKind: String, unit: String, department: String?, occurrence: String, completed: Bool, overdue: Bool
            var onTime: Bool?, participants: Int?, eligible: Int?, score: Double?, maximum: Double?
        }
        let duties = try rows.rows.map { row in
            Row(
                kind: try row.decode("kind"), unitKind: try row.decode("unit_kind"), unit: try row.decode("unit_code"),
                department: try row.decode("department_code"), occurrence: try row.decode("occurrence_date"),
                completed: try row.decode("status", as: String.self) == "completed", overdue: try row.decode("overdue"), onTime: try row.decode("on_time"),
                participants: try row.decode("participants"), eligible: try row.decode("eligible"), score: try row.decode("checklist_score"),
                maximum: try row.decode("checklist_max"))
        }

        func education(_ unit: String, _ rows: [Row]) -> EffectivenessReport.Education {
            let participants = rows.compactMap(\.participants).reduce(0, +)
            let eligible = rows.compactMap(\.eligible).reduce(0, +)
            return .init(
                unit: unit, dutiesDue: rows.count, dutiesCompleted: rows.filter(\.completed).count, participants: participants, eligible: eligible,
                participationRate: eligible > 0 ? Double(participants) / Double(eligible) : nil)
        }
        let educationRows = duties.filter { $0.kind == DutyKind.education.rawValue }
        let staffEducation = educationRows.filter { $0.unitKind != DutyUnitKind.contractor.rawValue }
        let departments = Set(staffEducation.compactMap(\.department)).sorted()

        let inspections = duties.filter { $0.kind == DutyKind.selfInspection.rawValue }
        let rounds = Dictionary(grouping: inspections, by: \.occurrence).sorted { $0.key < $1.key }.map { date, rows in
            let scores = rows.compactMap { row -> Double? in
                guard let score = row.score, let maximum = row.maximum, maximum > 0 else { return nil }
                return score / maximum * 100
            }
            return EffectivenessReport.SelfInspectionRound(
                occurrenceDate: date, sectionsDue: rows.count, sectionsCompleted: rows.filter(\.completed).count,
                averageScorePercent: scores.isEmpty ? nil : scores.reduce(0, +) / Double(scores.count))
        }
        let scored = rounds.compactMap(\.averageScorePercent)
        let trend = scored.count >= 2 ? scored[scored.count - 1] - scored[scored.count - 2] : nil
        func percent(_ row: Row) -> Double? {
            guard let score = row.score, let maximum = row.maximum, maximum > 0 else { return nil }
            return score / maximum * 100
        }
        func mean(_ values: [Double]) -> Double? { values.isEmpty ? nil : values.reduce(0, +) / Double(values.count) }
        let inspectionsByDepartment = Dictionary(grouping: inspections.filter { $0.department != nil }) { $0.department! }
        let selfInspectionByDepartment = inspectionsByDepartment.keys.sorted().map { code in
            let rows = inspectionsByDepartment[code]!
            let roundMeans = Dictionary(grouping: rows, by: \.occurrence).sorted { $0.key < $1.key }.compactMap { mean($0.value.compactMap(percent)) }
            return EffectivenessReport.SelfInspectionDepartment(
                unit: code, sectionsDue: rows.count, sectionsCompleted: rows.filter(\.completed).count, averageScorePercent: mean(rows.compactMap(percent)),
                trendPercentPoints: roundMeans.count >= 2 ? roundMeans[roundMeans.count - 1] - roundMeans[roundMeans.count - 2] : nil)
        }

        let sectionCount = try directory.sections(on: connection).count
        let audits = duties.filter { $0.kind == DutyKind.audit.rawValue }
        let firstYear = fiscalYear - calendar.auditCycleYears + 1
        let covered = try connection.query(
            """
            SELECT count(DISTINCT unit_code) AS covered FROM \(unescaped: table("duties"))
            WHERE kind = 'audit' AND status = 'completed' AND fiscal_year BETWEEN \(firstYear) AND \(fiscalYear)
            """
        ).rows[0].decode("covered", as: Int.self)

        let findings = try self.findings(fiscalYear: fiscalYear, visibleTo: nil, today: today, on: connection)
        let closeDays = findings.compactMap { finding in finding.closedAt.map { $0.timeIntervalSince(finding.recordedAt) / 86_400 } }

        let kinds = Dictionary(grouping: duties, by: \.kind).sorted { $0.key < $1.key }.map { kind, rows in
            EffectivenessReport.DutyKindSummary(
                kind: kind, total: rows.count, completed: rows.filter(\.completed).count, completedOnTime: rows.filter { $0.onTime == true }.count,
                overdue: rows.filter(\.overdue).count)
        }

        return EffectivenessReport(
            fiscalYear: fiscalYear, generatedAt: now,
            educationWard: education("ward", staffEducation),
            educationByDepartment: departments.map { code in education(code, staffEducation.filter { $0.department == code }) },
            educationContractors: education("contractors", educationRows.filter { $0.unitKind == DutyUnitKind.contractor.rawValue }),
            selfInspection: .init(rounds: rounds, trendPercentPoints: trend, byDepartment: selfInspectionByDepartment),
            audit: .init(
                sections: sectionCount, plannedThisYear: try storedAuditPlan(fiscalYear: fiscalYear, on: connection).count,
                completedThisYear: audits.filter(\.completed).count, coveredInCycle: covered, cycleYears: calendar.auditCycleYears,
                cycleCoverage: sectionCount > 0 ? Double(covered) / Double(sectionCount) : nil),
            findings: .init(
                recorded: findings.count, open: findings.filter { $0.status == .open }.count, treated: findings.filter { $0.status == .treated }.count,
                closed: findings.filter { $0.status == .closed }.count, overdue: findings.filter(\.overdue).count,
                bySeverity: Dictionary(grouping: findings, by: \.severity.rawValue).mapValues(\.count),
                averageDaysToClose: closeDays.isEmpty ? nil : closeDays.reduce(0, +) / Double(closeDays.count), maximumDaysToClose: closeDays.max()),
            duties: kinds)
    }
}
