public import ConfigFiles
import Directory
import Foundation
import WardCalendar
import Yams

/// Reads the duty calendar file (`deploy/config/duty-calendar.yaml`, whose header documents the
/// format). Every problem is reported at once, each with its line and column, so a typo never
/// passes silently and an operator fixes the file in one go.
public enum DutyCalendarDocument {
    /// Reads a calendar from YAML text; `fileName` is used in problem positions.
    public static func parse(yaml: String, fileName: String) throws(DutyCalendarError) -> DutyCalendar {
        var reader = CalendarReader(file: fileName)
        let calendar = reader.read(yaml: yaml)
        guard reader.problems.isEmpty, let calendar else {
            throw DutyCalendarError(problems: reader.problems.sorted { ($0.line, $0.column) < ($1.line, $1.column) })
        }
        return calendar
    }

    /// Reads a calendar from a file; an unreadable file is a problem too.
    public static func load(path: String) throws(DutyCalendarError) -> DutyCalendar {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw DutyCalendarError(problems: [.init(file: path, line: 0, column: 0, message: "cannot read the file: \(error)")])
        }
        return try parse(yaml: text, fileName: path)
    }
}

/// Everything wrong with a duty calendar file.
public struct DutyCalendarError: Error, Sendable, Hashable, CustomStringConvertible {
    /// One problem and where it is.
    public typealias Problem = FileProblem

    public var problems: [Problem]

    public init(problems: [Problem]) {
        self.problems = problems
    }

    public var description: String { FileProblem.report(problems, subject: "duty calendar") }
}

private struct CalendarReader {
    let file: String
    var problems: [DutyCalendarError.Problem] = []

    init(file: String) {
        self.file = file
    }

    mutating func problem(_ message: String, at mark: Mark?) {
        problems.append(.init(file: file, line: mark?.line ?? 0, column: mark?.column ?? 0, message: message))
    }

    mutating func read(yaml: String) -> DutyCalendar? {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            problem("cannot read YAML: \(error)", at: nil)
            return nil
        } catch {
            problem("cannot read YAML: \(error)", at: nil)
            return nil
        }
        guard let root, let top = fields(
            root, what: "the file",
            allowed: [
                "fiscalYearStartMonth", "horizonDays", "start", "noticeHour", "reminderDays", "escalateAfterDays", "auditCycleYears",
                "findingDueDays", "selfInspection", "contractors", "duties",
            ],
            required: ["start", "duties"])
        else { return nil }

        let start = date(top["start"], what: "start")
        var calendar = DutyCalendar(start: start ?? CivilDate(year: 2000, month: 4, day: 1), templates: [])
        if let value = integer(top["fiscalYearStartMonth"], what: "fiscalYearStartMonth", in: 1...12) { calendar.fiscalYearStartMonth = value }
        if let value = integer(top["horizonDays"], what: "horizonDays", in: 1...3660) { calendar.horizonDays = value }
        if let value = integer(top["noticeHour"], what: "noticeHour", in: 0...23) { calendar.noticeHour = value }
        if let value = integer(top["escalateAfterDays"], what: "escalateAfterDays", in: 1...365) { calendar.escalateAfterDays = value }
        if let value = integer(top["auditCycleYears"], what: "auditCycleYears", in: 1...10) { calendar.auditCycleYears = value }
        if let value = ladder(top["reminderDays"], what: "reminderDays") { calendar.reminderDays = value }
        if let node = top["findingDueDays"], let map = fields(node, what: "findingDueDays", allowed: FindingSeverity.allCases.map(\.rawValue), required: []) {
            for severity in FindingSeverity.allCases {
                if let days = integer(map[severity.rawValue], what: "findingDueDays.\(severity.rawValue)", in: 1...3650) {
                    calendar.findingDueDays[severity] = days
                }
            }
        }
        if let node = top["contractors"] {
            // Issue #18: a static list drifted from the registry and named no section to owe the
            // duty; refusing it (rather than ignoring it) tells the operator their list is not used.
            problem(
                "contractors is no longer read: every-contractor duties (Art. 23) follow the contracts in force in the contractor registry "
                    + "(register them with the contractor monitor, `isms contractors`); remove this key",
                at: node.mark)
        }
        if let node = top["selfInspection"], let map = fields(node, what: "selfInspection", allowed: ["improvementBelow", "improvementDueDays"], required: []) {
            if let mark = map["improvementBelow"] {
                if let text = mark.scalar?.string, let value = Double(text), value.isFinite, (0...100).contains(value) {
                    calendar.selfInspection.improvementBelow = value
                } else {
                    problem("selfInspection.improvementBelow must be a number in 0…100 (per cent of the checklist's maximum)", at: mark.mark)
                }
            }
            if let days = integer(map["improvementDueDays"], what: "selfInspection.improvementDueDays", in: 1...365) {
                calendar.selfInspection.improvementDueDays = days
            }
        }
        var ids: [String: Mark?] = [:]
        for item in sequence(top["duties"], what: "duties") {
            guard let template = readTemplate(item) else { continue }
            if ids[template.id] != nil {
                problem("duty id '\(template.id)' is used twice", at: item.mark)
            }
            ids[template.id] = item.mark
            calendar.templates.append(template)
        }
        if calendar.templates.filter({ $0.kind == .riskTreatment }).count > 1 {
            problem("at most one duty may have kind risk-treatment (Art. 26): findings use it", at: top["duties"]?.mark)
        }
        if calendar.templates.filter({ $0.kind == .improvement }).count > 1 {
            problem("at most one duty may have kind improvement (Art. 24): low self-inspection scores use it", at: top["duties"]?.mark)
        }
        return start == nil ? nil : calendar
    }

    mutating func readTemplate(_ node: Node) -> DutyTemplate? {
        guard let fields = fields(
            node, what: "a duty",
            allowed: ["id", "title", "kind", "article", "rrule", "start", "scope", "owner", "dueOffsetDays", "reminderDays", "escalateAfterDays"],
            required: ["id", "title", "kind", "article", "scope", "owner"])
        else { return nil }
        guard let id = string(fields["id"], what: "id") else { return nil }
        if id.isEmpty || !id.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-_.".unicodeScalars.contains($0)) }) {
            problem("duty id '\(id)' may hold only ASCII letters, digits, '-', '_' and '.'", at: fields["id"]?.mark)
        }
        let what = "duty '\(id)'"
        var valid = true
        let kindText = string(fields["kind"], what: "kind of \(what)")
        let kind = kindText.flatMap(DutyKind.init(rawValue:))
        if kindText != nil, kind == nil {
            problem("unknown kind '\(kindText!)' of \(what); expected one of \(DutyKind.allCases.map(\.rawValue).joined(separator: ", "))", at: fields["kind"]?.mark)
        }
        let scopeText = string(fields["scope"], what: "scope of \(what)")
        let scope = scopeText.flatMap(DutyScope.init(text:))
        if scopeText != nil, scope == nil {
            problem(
                "unknown scope '\(scopeText!)' of \(what); expected ward, every-section, every-department, every-contractor, department:CODE or section:CODE",
                at: fields["scope"]?.mark)
        }
        let ownerText = string(fields["owner"], what: "owner of \(what)")
        let owner = ownerText.flatMap(DirectoryRole.init(rawValue:))
        if ownerText != nil, owner == nil {
            problem("unknown role '\(ownerText!)' owning \(what)", at: fields["owner"]?.mark)
        }
        var recurrence: RecurrenceRule?
        if let rrule = fields["rrule"], let text = string(rrule, what: "rrule of \(what)") {
            do {
                recurrence = try RecurrenceRule(parsing: text)
            } catch {
                problem("\(what): \(error.description)", at: rrule.mark)
                valid = false
            }
        }
        if let kind {
            if kind == .riskReview {
                problem("\(what) has kind risk-review: risk reviews are created per risk from its review date (risk-scale.yaml), not from the calendar", at: fields["kind"]?.mark)
            } else if kind == .riskTreatment, fields["rrule"] != nil {
                problem("\(what) has kind risk-treatment: it is created per finding (Art. 26) and takes no rrule", at: fields["rrule"]?.mark)
            } else if kind == .improvement, fields["rrule"] != nil {
                problem("\(what) has kind improvement: it is created per low self-inspection score (Art. 24) and takes no rrule", at: fields["rrule"]?.mark)
            } else if !kind.isCreatedOnDemand, fields["rrule"] == nil {
                problem("\(what) needs an rrule (only risk-treatment and improvement duties are created on demand)", at: node.mark)
            }
        }
        if let scope, let owner, !Self.owner(owner, suits: scope) {
            problem(
                "\(what): role \(owner.rawValue) is held at a \(owner.unitKind.rawValue) and cannot owe a duty of scope \(scope)",
                at: fields["owner"]?.mark)
        }
        let start = fields["start"].flatMap { date($0, what: "start of \(what)") }
        let offset = integer(fields["dueOffsetDays"], what: "dueOffsetDays of \(what)", in: 0...3650) ?? 0
        let reminders = ladder(fields["reminderDays"], what: "reminderDays of \(what)")
        let escalate = integer(fields["escalateAfterDays"], what: "escalateAfterDays of \(what)", in: 1...365)
        guard valid, let title = string(fields["title"], what: "title of \(what)"), let article = string(fields["article"], what: "article of \(what)"),
            let kind, let scope, let owner
        else { return nil }
        return DutyTemplate(
            id: id, title: title, kind: kind, article: article, recurrence: recurrence, start: start, scope: scope, owner: owner,
            dueOffsetDays: offset, reminderDays: reminders, escalateAfterDays: escalate)
    }

    /// Whether `role` can owe a duty of `scope`: a ward-wide duty needs a ward-wide role, a
    /// department's a department or ward role. A contractor's duty is owed at the contract's
    /// section (Art. 18(6)(2): the section security officer secures contractors' staff the
    /// chance of general education), so any role suits it (issue #18).
    static func owner(_ role: DirectoryRole, suits scope: DutyScope) -> Bool {
        switch scope {
        case .ward: role.isWardWide
        case .department, .everyDepartment: role.unitKind != .section
        case .section, .everySection, .everyContractor: true
        }
    }

    // MARK: Nodes

    mutating func fields(_ node: Node, what: String, allowed: [String], required: [String]) -> [String: Node]? {
        guard case .mapping(let mapping) = node else {
            problem("\(what) must be a mapping", at: node.mark)
            return nil
        }
        var result: [String: Node] = [:]
        for (key, value) in mapping {
            guard let name = key.scalar?.string else {
                problem("keys in \(what) must be plain text", at: key.mark)
                continue
            }
            if !allowed.contains(name) {
                problem("unknown key '\(name)' in \(what); allowed: \(allowed.joined(separator: ", "))", at: key.mark)
            } else if result[name] != nil {
                problem("key '\(name)' appears twice in \(what)", at: key.mark)
            }
            result[name] = value
        }
        let missing = required.filter { result[$0] == nil }
        for name in missing {
            problem("\(what) lacks the required key '\(name)'", at: node.mark)
        }
        return missing.isEmpty ? result : nil
    }

    mutating func string(_ node: Node?, what: String) -> String? {
        guard let node else { return nil }
        guard let scalar = node.scalar else {
            problem("\(what) must be text", at: node.mark)
            return nil
        }
        return scalar.string
    }

    mutating func integer(_ node: Node?, what: String, in range: ClosedRange<Int>) -> Int? {
        guard let node else { return nil }
        guard let text = node.scalar?.string, let value = Int(text), range.contains(value) else {
            problem("\(what) must be a whole number in \(range.lowerBound)…\(range.upperBound)", at: node.mark)
            return nil
        }
        return value
    }

    mutating func date(_ node: Node?, what: String) -> CivilDate? {
        guard let node else { return nil }
        guard let text = node.scalar?.string, let date = CivilDate(iso: text) else {
            problem("\(what) must be a date YYYY-MM-DD", at: node.mark)
            return nil
        }
        return date
    }

    mutating func sequence(_ node: Node?, what: String) -> [Node] {
        guard let node else { return [] }
        guard case .sequence(let items) = node else {
            problem("\(what) must be a list", at: node.mark)
            return []
        }
        return Array(items)
    }

    mutating func ladder(_ node: Node?, what: String) -> [Int]? {
        guard let node else { return nil }
        let values = sequence(node, what: what).compactMap { integer($0, what: "each of \(what)", in: 0...3650) }
        if Set(values).count != values.count { problem("\(what) lists a day twice", at: node.mark) }
        return values.sorted(by: >)
    }
}
