public import Directory

/// The audit plan's rotation (Art. 13(3)(1), 25): which sections are audited in a fiscal year so
/// that every section is covered within the cycle.
public enum AuditRotation {
    /// The sections to audit in fiscal year `year`, sorted by code.
    ///
    /// Each year takes at least ⌈sections / cycleYears⌉ sections, least recently audited first
    /// (never audited before all others, then by code), and always every section whose last
    /// audit is `cycleYears` or more years back. With a stable set of sections this is a round
    /// robin: every section comes round within `cycleYears` years; a new section is audited in
    /// the next plan.
    ///
    /// - Parameter lastAudited: the last fiscal year before `year` each section was planned for.
    public static func plan(sections: [String], lastAudited: [String: Int], year: Int, cycleYears: Int) -> [String] {
        let unique = Array(Set(sections))
        guard !unique.isEmpty else { return [] }
        let cycle = max(1, cycleYears)
        let quota = (unique.count + cycle - 1) / cycle
        let ordered = unique.sorted { a, b in
            let (lastA, lastB) = (lastAudited[a] ?? Int.min, lastAudited[b] ?? Int.min)
            return lastA != lastB ? lastA < lastB : a < b
        }
        var chosen = Set(ordered.prefix(quota))
        for section in ordered {
            if let last = lastAudited[section], year - last >= cycle { chosen.insert(section) }
        }
        return chosen.sorted()
    }
}

/// Why a person may not audit a section (Art. 13(2): audits are kept fair, so nobody audits
/// their own section or department).
public struct AuditorConflict: Sendable, Hashable, CustomStringConvertible {
    public var personID: String
    public var sectionCode: String
    /// The role the person holds that makes them partial, and where.
    public var role: DirectoryRole
    public var unitCode: String?
    public var reason: String

    public var description: String { reason }
}

/// The auditor independence rule (Art. 13(2)).
public enum AuditorIndependence {
    /// The first conflict that keeps `personID` from auditing `sectionCode`, or nil when there is none.
    ///
    /// A person is partial when they hold any role at the audited section, at its department, or at
    /// another section of the same department (their own department). Ward-wide roles alone do
    /// not make them partial. A person or section the directory does not know is a conflict too:
    /// independence cannot be shown.
    public static func conflict(personID: String, sectionCode: String, organisation: Organisation) -> AuditorConflict? {
        guard let section = organisation.section(code: sectionCode) else {
            return AuditorConflict(personID: personID, sectionCode: sectionCode, role: .auditChief, unitCode: nil, reason: "no section '\(sectionCode)' in the directory")
        }
        guard organisation.person(id: personID) != nil else {
            return AuditorConflict(personID: personID, sectionCode: sectionCode, role: .auditChief, unitCode: nil, reason: "no person '\(personID)' in the directory")
        }
        for assignment in organisation.assignments where assignment.personID == personID {
            guard let unit = assignment.unitCode else { continue }
            if unit == section.code {
                return AuditorConflict(
                    personID: personID, sectionCode: sectionCode, role: assignment.role, unitCode: unit,
                    reason: "\(personID) is \(assignment.role.rawValue) of the audited section \(unit) and may not audit it (Art. 13(2))")
            }
            let department = organisation.section(code: unit)?.departmentCode ?? unit
            if department == section.departmentCode {
                return AuditorConflict(
                    personID: personID, sectionCode: sectionCode, role: assignment.role, unitCode: unit,
                    reason: "\(personID) is \(assignment.role.rawValue) at \(unit) in the audited section's department \(department) and may not audit it (Art. 13(2))")
            }
        }
        return nil
    }
}
