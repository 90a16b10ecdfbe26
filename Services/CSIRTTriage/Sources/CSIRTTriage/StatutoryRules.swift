public import Contracts
public import Foundation
public import WardCalendar

/// The statutory reporting rules as data (issue #4 item 7; deploy/config/statutory-rules.yaml):
/// each regime has a trigger over the case's three-state verdicts and the obligations it creates.
public struct StatutoryRules: Sendable, Hashable {
    /// A trigger: every `all` verdict yes, no `none` verdict yes, and (when `any` is not empty)
    /// some `any` verdict yes — evaluated in three-valued logic, so an unknown verdict makes the
    /// trigger unknown unless the others already decide it.
    public struct Trigger: Sendable, Hashable {
        public var all: [String]
        public var any: [String]
        public var none: [String]

        public init(all: [String] = [], any: [String] = [], none: [String] = []) {
            self.all = all
            self.any = any
            self.none = none
        }

        public func evaluate(_ verdicts: StatutoryVerdicts) -> Verdict {
            let allValue = Kleene.and(all.map { verdicts[$0] ?? .unknown })
            let noneValue = Kleene.and(none.map { Kleene.not(verdicts[$0] ?? .unknown) })
            let anyValue = any.isEmpty ? Verdict.yes : Kleene.or(any.map { verdicts[$0] ?? .unknown })
            return Kleene.and([allValue, noneValue, anyValue])
        }
    }

    /// One obligation a regime creates.
    public struct ObligationRule: Sendable, Hashable {
        public var id: String
        /// `preliminary-report`, `final-report` or `notice-to-persons`.
        public var kind: String
        public var recipient: String
        /// Calendar days from the known day (Civil Code Art. 140: the first day is not counted);
        /// nil for "promptly" without a fixed period.
        public var days: Int?
        /// The period when wrongful intent is involved (PPC Rule Art. 44(2): 60 days).
        public var daysWithWrongfulIntent: Int?
        public var law: String
        public var quote: String

        /// The period for these verdicts. While wrongful intent is unknown the shorter period
        /// runs: a deadline must never be missed because a fact was still open.
        public func period(_ verdicts: StatutoryVerdicts) -> Int? {
            verdicts.wrongfulIntent == .yes ? (daysWithWrongfulIntent ?? days) : days
        }

        /// The period, its last day and the instant it ends, for a fact known at `knownAt`
        /// (Civil Code Art. 140-142 via ``WardCalendar/statutoryDeadline(knownOn:days:)``);
        /// nil for an obligation without a fixed period.
        public func due(knownAt: Date, verdicts: StatutoryVerdicts, calendar: WardCalendar) -> (days: Int, date: CivilDate, end: Date)? {
            guard let days = period(verdicts) else { return nil }
            return (days, calendar.statutoryDeadline(knownOn: CivilDate.inTokyo(knownAt), days: days),
                    calendar.statutoryDeadlineInstant(knownAt: knownAt, days: days))
        }
    }

    public struct Regime: Sendable, Hashable {
        public var id: String
        public var title: String
        public var law: String
        public var quote: String
        public var trigger: Trigger
        public var obligations: [ObligationRule]
    }

    /// When reminders go out for an obligation with a due date.
    public struct Reminders: Sendable, Hashable {
        /// Reminders at the start (JST) of these many days before the last day.
        public var daysBefore: [Int]
        /// A reminder at the start of the last day.
        public var dueDay: Bool
        /// Overdue alarms from the end of the period, repeated this often.
        public var overdueRepeat: Duration

        public init(daysBefore: [Int] = [2], dueDay: Bool = true, overdueRepeat: Duration = .seconds(24 * 3600)) {
            self.daysBefore = daysBefore
            self.dueDay = dueDay
            self.overdueRepeat = overdueRepeat
        }

        /// The reminder stage in force at `now` and the time of the next one, for a period whose
        /// last day is `dueDate` and which ends at `dueAt`.
        public func schedule(dueDate: CivilDate, dueAt: Date, now: Date) -> (current: String?, next: (stage: String, at: Date)?) {
            var points: [(stage: String, at: Date)] = daysBefore.filter { $0 > 0 }.map { ("reminder", dueDate.adding(days: -$0).startInTokyo()) }
            if dueDay { points.append(("due-today", dueDate.startInTokyo())) }
            points.sort { $0.at < $1.at }
            let current: String?
            let next: (stage: String, at: Date)?
            if now >= dueAt {
                current = "overdue"
                let repeatSeconds = max(60, Double(overdueRepeat.components.seconds))
                let elapsed = now.timeIntervalSince(dueAt)
                next = ("overdue", dueAt.addingTimeInterval((floor(elapsed / repeatSeconds) + 1) * repeatSeconds))
            } else {
                current = points.last(where: { $0.at <= now })?.stage
                next = points.first(where: { $0.at > now }) ?? ("overdue", dueAt)
            }
            return (current, next)
        }
    }

    public var version: String
    public var reminders: Reminders
    public var regimes: [Regime]

    public init(version: String, reminders: Reminders = Reminders(), regimes: [Regime]) {
        self.version = version
        self.reminders = reminders
        self.regimes = regimes
    }
}

/// Three-valued (Kleene) logic over verdicts.
enum Kleene {
    static func and(_ values: [Verdict]) -> Verdict {
        if values.contains(.no) { return .no }
        return values.allSatisfy { $0 == .yes } ? .yes : .unknown
    }

    static func or(_ values: [Verdict]) -> Verdict {
        if values.contains(.yes) { return .yes }
        return values.allSatisfy { $0 == .no } ? .no : .unknown
    }

    static func not(_ value: Verdict) -> Verdict {
        switch value {
        case .yes: .no
        case .no: .yes
        case .unknown: .unknown
        }
    }
}

// MARK: - Loading

extension StatutoryRules {
    /// Loads and validates deploy/config/statutory-rules.yaml; errors name the line.
    public static func load(path: String) throws(TriageConfigurationError) -> StatutoryRules {
        try parse(yaml: readConfigurationFile(path), file: path)
    }

    public static func parse(yaml: String, file: String = "statutory-rules.yaml") throws(TriageConfigurationError) -> StatutoryRules {
        let root = try YAMLValue.parse(yaml, file: file)
        let top = try root.mapping(allowed: ["version", "reminders", "regimes", "source"], what: "the rules file")
        var rules = StatutoryRules(version: try top.required("version", in: root, what: "the rules file").string(what: "version"), regimes: [])
        if let reminders = top["reminders"] {
            let members = try reminders.mapping(allowed: ["daysBefore", "dueDay", "overdueRepeatHours"], what: "reminders")
            if let days = members["daysBefore"] {
                rules.reminders.daysBefore = try days.sequence(what: "daysBefore").map { v throws(TriageConfigurationError) in try v.int(what: "daysBefore") }
            }
            if let dueDay = members["dueDay"] { rules.reminders.dueDay = try dueDay.bool(what: "dueDay") }
            if let hours = members["overdueRepeatHours"] {
                let value = try hours.int(what: "overdueRepeatHours")
                guard value > 0 else { throw hours.fail(.invalidValue, "overdueRepeatHours must be positive") }
                rules.reminders.overdueRepeat = .seconds(value * 3600)
            }
        }
        let kinds: Set<String> = ["preliminary-report", "final-report", "notice-to-persons"]
        var ids: Set<String> = []
        for item in try top.required("regimes", in: root, what: "the rules file").sequence(what: "regimes") {
            let members = try item.mapping(allowed: ["id", "title", "law", "quote", "trigger", "obligations"], what: "a regime")
            let id = try members.required("id", in: item, what: "a regime").string(what: "id")
            let triggerValue = try members.required("trigger", in: item, what: "regime \(id)")
            let triggerMembers = try triggerValue.mapping(allowed: ["all", "any", "none"], what: "trigger")
            func names(_ key: String) throws(TriageConfigurationError) -> [String] {
                guard let value = triggerMembers[key] else { return [] }
                let list = try value.strings(what: "trigger.\(key)")
                for name in list where !StatutoryVerdicts.names.contains(name) {
                    throw value.fail(.invalidValue, "'\(name)' is not a verdict (known: \(StatutoryVerdicts.names.joined(separator: ", ")))")
                }
                return list
            }
            let trigger = Trigger(all: try names("all"), any: try names("any"), none: try names("none"))
            var obligations: [ObligationRule] = []
            for entry in try members.required("obligations", in: item, what: "regime \(id)").sequence(what: "obligations") {
                let fields = try entry.mapping(allowed: ["id", "kind", "recipient", "days", "daysWithWrongfulIntent", "law", "quote"], what: "an obligation")
                let obligationID = try fields.required("id", in: entry, what: "an obligation").string(what: "id")
                guard ids.insert(obligationID).inserted else { throw entry.fail(.invalidValue, "obligation id '\(obligationID)' is used twice") }
                let kindValue = try fields.required("kind", in: entry, what: "obligation \(obligationID)")
                let kind = try kindValue.string(what: "kind")
                guard kinds.contains(kind) else { throw kindValue.fail(.invalidValue, "kind '\(kind)' is not one of \(kinds.sorted().joined(separator: ", "))") }
                func days(_ key: String) throws(TriageConfigurationError) -> Int? {
                    guard let value = fields[key] else { return nil }
                    let number = try value.int(what: key)
                    guard (0...3650).contains(number) else { throw value.fail(.invalidValue, "\(key) must be 0 to 3650") }
                    return number
                }
                obligations.append(ObligationRule(
                    id: obligationID, kind: kind,
                    recipient: try fields.required("recipient", in: entry, what: "obligation \(obligationID)").string(what: "recipient"),
                    days: try days("days"), daysWithWrongfulIntent: try days("daysWithWrongfulIntent"),
                    law: try fields.required("law", in: entry, what: "obligation \(obligationID)").string(what: "law"),
                    quote: try fields.required("quote", in: entry, what: "obligation \(obligationID)").string(what: "quote")))
            }
            rules.regimes.append(Regime(
                id: id,
                title: try members.required("title", in: item, what: "regime \(id)").string(what: "title"),
                law: try members.required("law", in: item, what: "regime \(id)").string(what: "law"),
                quote: try members.required("quote", in: item, what: "regime \(id)").string(what: "quote"),
                trigger: trigger, obligations: obligations))
        }
        return rules
    }
}
