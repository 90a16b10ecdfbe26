public import Contracts
public import Directory
public import Foundation
import Logging
public import Postgres
public import ServiceRuntime
public import WardCalendar

/// Who acts on a case: `person:<id>`, `token:<id>` or `system:csirt-triage`, in a role.
public struct TriageActor: Sendable, Hashable {
    public var id: String
    public var role: DirectoryRole?

    public init(id: String, role: DirectoryRole?) {
        self.id = id
        self.role = role
    }

    public static let system = TriageActor(id: "system:csirt-triage", role: nil)
}

/// Everything triage decides, inside the caller's transaction: opening cases, severity,
/// escalation, statutory obligations and the life cycle. Handlers, timers, HTTP routes and the
/// `isms` tool all go through it, so every change writes its history row.
public struct TriageEngine: Sendable {
    public var store: TriageStore
    public var directory: DirectoryStore
    public var severityRules: SeverityRules
    public var escalationPolicy: EscalationPolicy
    public var statutoryRules: StatutoryRules
    public var correlationRules: CorrelationRules
    public var calendar: WardCalendar

    /// Timer kinds.
    public static let escalationTimer = "escalation"
    public static let obligationTimer = "obligation"

    public init(
        store: TriageStore = TriageStore(), directory: DirectoryStore = DirectoryStore(), severityRules: SeverityRules,
        escalationPolicy: EscalationPolicy = .standard, statutoryRules: StatutoryRules, correlationRules: CorrelationRules = .none,
        calendar: WardCalendar = WardCalendar()
    ) {
        self.store = store
        self.directory = directory
        self.severityRules = severityRules
        self.escalationPolicy = escalationPolicy
        self.statutoryRules = statutoryRules
        self.correlationRules = correlationRules
        self.calendar = calendar
    }

    var schema: String { store.schema }
    var obligationStore: ObligationStore { ObligationStore(schema: schema) }
    var reports: CaseReports { CaseReports(schema: schema) }

    // MARK: Opening

    /// Opens the case for `new` unless its source is in a case already; returns the case and
    /// whether it was created now. Correlation is ``receive(_:causedBy:context:)``'s; this
    /// always opens.
    @discardableResult
    public func open(_ new: NewCase, causedBy cause: Causation?, context: inout TransactionContext) throws -> (record: CaseRecord, created: Bool) {
        if let existing = try store.caseID(source: new.source, on: context.connection), let record = try store.find(id: existing, on: context.connection) {
            return (record, false)
        }
        return (try openCase(new, keys: [], recordReport: true, causedBy: cause, context: &context), true)
    }

    /// Opens a new case for `new`: number, severity, history, escalation, obligations. The report
    /// is recorded as the case's first (unless the caller moves it there) with its correlation keys.
    func openCase(
        _ new: NewCase, keys: [CorrelationRules.Key], recordReport: Bool, causedBy cause: Causation?, context: inout TransactionContext
    ) throws -> CaseRecord {
        try openCases([NewCaseItem(new: new, keys: keys, cause: cause)], recordReports: recordReport, context: &context)[0]
    }

    /// A report that opens a case, with its correlation keys and the message it came in.
    struct NewCaseItem {
        var new: NewCase
        var keys: [CorrelationRules.Key]
        var cause: Causation?
    }

    /// Opens a case for each item, in a few multi-row statements however many (issue #16 item 3).
    ///
    /// Everything that needs no case number comes first: severity, each section's chain, the
    /// escalation and the obligations. The year's counter row, the one row every triage process
    /// must lock, is taken after that, for all the cases at once; what follows it is only the
    /// inserts. So replicas overlap their work and queue only on the counter's last stretch.
    func openCases(_ items: [NewCaseItem], recordReports: Bool, context: inout TransactionContext) throws -> [CaseRecord] {
        guard !items.isEmpty else { return [] }
        let connection = context.connection
        let now = context.now
        let year = CivilDate.inTokyo(now).year
        let csirt = escalationPolicy.csirtThroughout ? try directory.people(role: .csirt, on: connection).map(\.id) : []
        var chains: [String: [DirectoryEscalationStep]] = [:]
        var records: [CaseRecord] = []
        var escalations: [InitialEscalation] = []
        for item in items {
            let new = item.new
            var record = CaseRecord(
                id: UUID(), caseNumber: "", source: new.source, sectionCode: new.sectionCode, departmentCode: new.departmentCode,
                category: new.category, title: new.title, description: new.description, myNumberDetected: new.myNumberDetected, state: .reported,
                qualification: nil, qualificationReason: nil, severity: severityRules.decide(new.facts), facts: new.facts, verdicts: new.verdicts,
                timestamps: CaseTimestamps(
                    occurredAt: new.occurredAt, detectedAt: new.detectedAt, knownAt: new.knownAt, reportedAt: new.reportedAt,
                    recordedAt: new.recordedAt, openedAt: now, triagedAt: nil, acknowledgedAt: nil, containedAt: nil, closedAt: nil),
                escalationLevel: -1, reportCount: 1, firstSeenAt: new.recordedAt, lastSeenAt: new.recordedAt, mergedInto: nil)
            let unit = "\(record.sectionCode)|\(record.departmentCode)"
            let chain = try chains[unit] ?? chainSteps(record, context: context)
            chains[unit] = chain
            let escalation = initialEscalation(record, chain: chain, csirt: csirt, now: now)
            record.escalationLevel = escalation.reached
            records.append(record)
            escalations.append(escalation)
        }
        var obligations = try records.map { try obligationChanges($0, existing: [:], actor: .system, knownAt: nil, now: now) }

        // From here on the cases have numbers.
        let last = try store.reserveCaseNumbers(year: year, count: items.count, on: connection)
        for index in records.indices {
            let number = last - items.count + 1 + index
            records[index].caseNumber = TriageStore.caseNumber(year: year, number: number)
            obligations[index].renumber(records[index].caseNumber)
        }
        let inserted = try store.insert(zip(items, records).map { ($0.new, $1) }, year: year, on: connection)
        guard inserted == items.count else {
            // A concurrent transaction opened one of them first; throwing rolls back our numbers,
            // and the redelivery finds that case.
            throw PostgresError(code: .server, message: "\(items.count - inserted) of \(items.count) cases were opened concurrently")
        }
        if recordReports {
            try reports.insert(zip(items, records).map { (report: $0.new, caseID: $1.id, rule: "opened") }, at: now, on: connection)
        }
        try reports.touch(zip(items, records).flatMap { item, record in item.keys.map { (key: $0, caseID: record.id, seenAt: item.new.recordedAt) } }, on: connection)
        var history: [CaseHistory.NewEntry] = []
        var timerKeys: [String] = []
        var timerTimes: [Date] = []
        var timerPayloads: [String] = []
        for ((item, record), escalation) in zip(zip(items, records), escalations) {
            let new = item.new
            history.append(try CaseHistory.NewEntry(
                caseID: record.id, caseNumber: record.caseNumber, action: "open", actor: TriageActor.system.id, role: nil, at: now,
                reason: "severity \(record.severity.severity) by rule \(record.severity.rule): \(record.severity.reason)",
                before: [String: String](), after: HistorySnapshot(record)))
            try context.emit(IncidentCaseOpened(
                    caseNumber: record.caseNumber, caseId: record.id, source: .init(kind: new.source.kind, id: new.source.id),
                    severity: record.severity.severity, severityRule: record.severity.rule, sectionCode: new.sectionCode,
                    departmentCode: new.departmentCode, category: new.category, title: String(new.title.prefix(200)),
                    myNumberDetected: new.myNumberDetected, knownAt: new.knownAt, openedAt: now), time: now, causedBy: item.cause)
            for notice in escalation.notices {
                try emitEscalation(
                    record, level: notice.level, role: notice.role, unitCode: notice.unitCode, recipients: notice.recipients, reason: "initial",
                    next: notice.next, cause: item.cause, context: &context)
            }
            if let next = escalation.next {
                timerKeys.append(record.id.lowercasedString)
                timerTimes.append(next)
                timerPayloads.append(try CaseHistory.canonicalJSON(EscalationPayload(level: escalation.reached + 1)))
            }
        }
        try DurableTimers.schedule(kind: Self.escalationTimer, keys: timerKeys, at: timerTimes, payloadsJSON: timerPayloads, on: connection, schema: schema)
        try store.history.append(history + obligations.flatMap(\.history), on: connection)
        try obligationStore.insert(obligations.flatMap(\.created), now: now, on: connection)
        try scheduleReminders(obligations.flatMap(\.created), context: &context)
        for record in records {
            context.logger.info(
                "case opened",
                metadata: ["case.number": "\(record.caseNumber)", "case.severity": "\(record.severity.severity)", "case.rule": "\(record.severity.rule)"])
        }
        return records
    }

    // MARK: Escalation

    struct EscalationPayload: Codable {
        var level: Int
    }

    /// Who a new case tells at once (CSIRT and every level the policy names), and when the next
    /// level follows unless somebody acknowledges.
    struct InitialEscalation {
        struct Notice {
            var level: Int
            var role: DirectoryRole
            var unitCode: String?
            var recipients: [String]
            var next: Date?
        }

        var notices: [Notice]
        var reached: Int
        var next: Date?
    }

    func initialEscalation(_ record: CaseRecord, chain: [DirectoryEscalationStep], csirt: [String], now: Date) -> InitialEscalation {
        let step = escalationPolicy.step(severity: record.severity.severity)
        let next = step.stopAt > step.immediateThrough ? now.addingTimeInterval(Double(step.delay.components.seconds)) : nil
        var notices: [InitialEscalation.Notice] = []
        if escalationPolicy.csirtThroughout {
            notices.append(.init(level: 0, role: .csirt, unitCode: nil, recipients: csirt, next: nil))
        }
        for level in 0...min(step.immediateThrough, chain.count - 1) {
            let target = chain[level]
            notices.append(.init(
                level: level, role: target.role, unitCode: target.unitCode, recipients: target.people.map(\.id),
                next: level == step.immediateThrough ? next : nil))
        }
        return InitialEscalation(notices: notices, reached: step.immediateThrough, next: next)
    }

    /// Fires an escalation timer: tells the next level unless somebody acknowledged.
    func escalate(caseID: UUID, level: Int, context: inout TransactionContext) throws {
        guard var record = try store.find(id: caseID, forUpdate: true, on: context.connection) else { return }
        guard record.timestamps.acknowledgedAt == nil, !record.state.isFinal, level > record.escalationLevel else { return }
        let step = escalationPolicy.step(severity: record.severity.severity)
        let chain = try chainSteps(record, context: context)
        guard level < chain.count, level <= step.stopAt else { return }
        let next = level < step.stopAt ? context.now.addingTimeInterval(Double(step.delay.components.seconds)) : nil
        let target = chain[level]
        try emitEscalation(
            record, level: level, role: target.role, unitCode: target.unitCode, recipients: target.people.map(\.id), reason: "timeout",
            next: next, cause: nil, context: &context)
        let before = record.escalationLevel
        record.escalationLevel = level
        try store.update(record, now: context.now, on: context.connection)
        try store.history.append(
            caseID: record.id, caseNumber: record.caseNumber, action: "escalation", actor: TriageActor.system.id, role: nil, at: context.now,
            reason: "not acknowledged in time: \(target.role.rawValue) told", before: ["escalationLevel": before], after: ["escalationLevel": level],
            on: context.connection)
        if let next {
            try DurableTimers.schedule(
                kind: Self.escalationTimer, key: record.id.lowercasedString, at: next,
                payloadJSON: try CaseHistory.canonicalJSON(EscalationPayload(level: level + 1)), on: context.connection, schema: schema)
        }
    }

    func chainSteps(_ record: CaseRecord, context: TransactionContext) throws -> [DirectoryEscalationStep] {
        do {
            return try directory.escalationTargets(sectionCode: record.sectionCode, on: context.connection)
        } catch let error as DirectoryError {
            // The section left the directory after the report: the ward-wide levels are still told.
            context.logger.warning("section not in the directory; telling the ward-wide levels only", metadata: ["error": "\(error)"])
            return try DirectoryRole.escalationChain.map { role in
                DirectoryEscalationStep(
                    role: role, unitCode: role.isWardWide ? nil : (role.unitKind == .department ? record.departmentCode : record.sectionCode),
                    people: role.isWardWide ? try directory.people(role: role, on: context.connection) : [])
            }
        }
    }

    func emitEscalation(
        _ record: CaseRecord, level: Int, role: DirectoryRole, unitCode: String?, recipients: [String], reason: String, next: Date?,
        cause: Causation?, context: inout TransactionContext
    ) throws {
        try context.emit(IncidentEscalated(
                caseNumber: record.caseNumber, caseId: record.id, severity: record.severity.severity, level: level, role: role.rawValue,
                unitCode: unitCode, recipients: recipients, reason: reason, sectionCode: record.sectionCode,
                departmentCode: record.departmentCode, escalatedAt: context.now, nextEscalationAt: next), causedBy: cause)
    }

    // MARK: Life cycle

    /// Takes `action` on a case as `actor`; acknowledging stops the escalation and emits
    /// `incident.acknowledged`. `visibility` hides other units' cases. Closing needs `lessons`
    /// (Art. 27(1), 27(2); issue #18), which are stored, recorded in the history and emitted as
    /// `incident.lessons-recorded`; every other action ignores them.
    @discardableResult
    public func perform(
        _ action: CaseAction, caseNumber: String, actor: TriageActor, reason: String?, lessons draft: LessonsDraft? = nil,
        visibility: CaseVisibility = .all, context: inout TransactionContext
    ) throws -> CaseRecord {
        var record = try lockedCase(caseNumber, visibility: visibility, context: context)
        guard let role = actor.role else { throw TriageError(code: .forbidden, detail: "an actor without a role cannot act on a case") }
        let outcome: CaseLifecycle.Outcome
        switch CaseLifecycle.apply(action, state: record.state, qualification: record.qualification, role: role, reason: reason) {
        case .success(let value): outcome = value
        case .failure(let error): throw TriageError(error)
        }
        // Art. 27(1): no closing without the cause and the measures; "not an incident" needs none.
        let lessons = try action == .close ? validatedLessons(draft, actor: actor, context: context) : nil
        let before = HistorySnapshot(record)
        let now = context.now
        record.state = outcome.state
        record.qualification = outcome.qualification
        switch action {
        case .confirm:
            record.qualificationReason = reason
            if record.timestamps.triagedAt == nil { record.timestamps.triagedAt = now }
        case .discard:
            record.qualificationReason = reason
            if record.timestamps.triagedAt == nil { record.timestamps.triagedAt = now }
            record.timestamps.closedAt = now
        case .acknowledge:
            record.timestamps.acknowledgedAt = now
        case .contain:
            record.timestamps.containedAt = now
        case .close:
            record.timestamps.closedAt = now
        case .reopen:
            record.timestamps.closedAt = nil
            record.qualificationReason = nil
        case .investigate, .recover:
            break
        }
        try store.update(record, now: now, on: context.connection)
        try store.history.append(
            caseID: record.id, caseNumber: record.caseNumber, action: action.rawValue, actor: actor.id, role: role.rawValue, at: now,
            reason: reason, before: before, after: HistorySnapshot(record), on: context.connection)
        if let lessons { try recordLessons(lessons, of: record, actor: actor, context: &context) }
        if action == .acknowledge || action == .discard {
            try DurableTimers.cancel(kind: Self.escalationTimer, key: record.id.lowercasedString, on: context.connection, schema: schema)
        }
        if action == .acknowledge {
            try context.emit(IncidentAcknowledged(
                    caseNumber: record.caseNumber, caseId: record.id, severity: record.severity.severity, actor: actor.id, role: role.rawValue,
                    acknowledgedAt: now), time: now)
        }
        return record
    }

    /// Records a comment in the case history.
    public func comment(_ text: String, caseNumber: String, actor: TriageActor, visibility: CaseVisibility = .all, context: inout TransactionContext) throws {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, trimmed.utf8.count <= 16_384 else {
            throw TriageError(code: .invalidRequest, detail: "a comment is 1 to 16384 bytes of text")
        }
        let record = try lockedCase(caseNumber, visibility: visibility, context: context)
        try store.history.append(
            caseID: record.id, caseNumber: record.caseNumber, action: "comment", actor: actor.id, role: actor.role?.rawValue, at: context.now,
            reason: nil, before: [String: String](), after: ["text": trimmed], on: context.connection)
    }

    /// Replaces the case's statutory verdicts (and, when CSIRT has counted them, the number of
    /// persons affected, which then decides `moreThan100Persons`), re-decides its severity (a
    /// change is a history entry with its reason) and reviews its obligations.
    @discardableResult
    public func updateVerdicts(
        _ verdicts: StatutoryVerdicts, affectedPersons: AffectedPersons? = nil, caseNumber: String, actor: TriageActor, reason: String,
        context: inout TransactionContext
    ) throws -> CaseRecord {
        var verdicts = verdicts
        guard let role = actor.role, CaseLifecycle.handlers.contains(role) else {
            throw TriageError(code: .forbidden, detail: "only incident handlers may change verdicts")
        }
        var record = try lockedCase(caseNumber, visibility: .all, context: context)
        let before = record.verdicts
        record.verdicts = verdicts
        record.facts.personalData = verdicts.personalData
        record.facts.myNumber = record.myNumberDetected ? .yes : verdicts.myNumber
        record.facts.sensitivePersonalData = verdicts.sensitiveData
        record.facts.wrongfulIntent = verdicts.wrongfulIntent
        if let affectedPersons {
            record.facts.affectedPersons = affectedPersons
            if let over = affectedPersons.exceeds(100) { verdicts.moreThan100Persons = over ? .yes : .no }
            record.verdicts = verdicts
        }
        try store.history.append(
            caseID: record.id, caseNumber: record.caseNumber, action: "verdicts", actor: actor.id, role: role.rawValue, at: context.now,
            reason: reason, before: before, after: verdicts, on: context.connection)
        let decision = severityRules.decide(record.facts)
        if decision.severity != record.severity.severity || decision.rule != record.severity.rule {
            try store.history.append(
                caseID: record.id, caseNumber: record.caseNumber, action: "severity", actor: actor.id, role: role.rawValue, at: context.now,
                reason: "\(reason) → rule \(decision.rule): \(decision.reason)", before: record.severity, after: decision, on: context.connection)
            record.severity = decision
        }
        try store.update(record, now: context.now, on: context.connection)
        try reviewObligations(record, actor: actor, context: &context)
        return record
    }

    func lockedCase(_ caseNumber: String, visibility: CaseVisibility, context: TransactionContext) throws -> CaseRecord {
        guard let record = try store.find(caseNumber: caseNumber, forUpdate: true, on: context.connection),
              visibility.allows(sectionCode: record.sectionCode, departmentCode: record.departmentCode)
        else { throw TriageError(code: .notFound, detail: "no case \(caseNumber)") }
        return record
    }

    // MARK: Statutory obligations

    /// The obligations of a case.
    public func obligations(caseID: UUID, on connection: PostgresConnection) throws -> [CaseObligation] {
        try obligationStore.obligations(caseID: caseID, on: connection)
    }

    /// Creates, re-states or closes the case's obligations from its verdicts. New obligations
    /// copy the legal terms in force; existing ones keep theirs, except the period when wrongful
    /// intent changes it (PPC Rule Art. 44(2)). The clocks run from the known time and never pause.
    ///
    /// `knownAt` is when what makes a NEW obligation due became known, when that is later than
    /// the case's own known time: a related report that made the persons of a case add up past
    /// 100 (issue #16). An obligation that exists keeps its clock.
    func reviewObligations(_ record: CaseRecord, actor: TriageActor, knownAt: Date? = nil, context: inout TransactionContext) throws {
        let existing = Dictionary(uniqueKeysWithValues: try obligationStore.obligations(caseID: record.id, on: context.connection).map { ($0.rule, $0) })
        let changes = try obligationChanges(record, existing: existing, actor: actor, knownAt: knownAt, now: context.now)
        // Written with one statement each: opening a case creates six at once.
        try obligationStore.insert(changes.created, now: context.now, on: context.connection)
        for obligation in changes.changed { try obligationStore.update(obligation, now: context.now, on: context.connection) }
        try store.history.append(changes.history, on: context.connection)
        try scheduleReminders(changes.created + changes.changed, context: &context)
    }

    /// What reviewing a case's obligations creates and changes, with the history rows: no I/O.
    struct ObligationChanges {
        var created: [CaseObligation] = []
        var changed: [CaseObligation] = []
        var history: [CaseHistory.NewEntry] = []

        /// A case gets its number after its obligations are planned (``openCases``).
        mutating func renumber(_ caseNumber: String) {
            for index in history.indices { history[index].caseNumber = caseNumber }
        }
    }

    func obligationChanges(
        _ record: CaseRecord, existing: [String: CaseObligation], actor: TriageActor, knownAt: Date?, now: Date
    ) throws -> ObligationChanges {
        var changes = ObligationChanges()
        func entry(_ reason: String, before: some Encodable, after: some Encodable) throws -> CaseHistory.NewEntry {
            try CaseHistory.NewEntry(
                caseID: record.id, caseNumber: record.caseNumber, action: "obligation", actor: actor.id, role: actor.role?.rawValue, at: now,
                reason: reason, before: before, after: after)
        }
        for regime in statutoryRules.regimes {
            let verdict = regime.trigger.evaluate(record.verdicts)
            for rule in regime.obligations {
                if var obligation = existing[rule.id] {
                    let due = rule.due(knownAt: obligation.knownAt, verdicts: record.verdicts, calendar: calendar)
                    guard obligation.status != .filed else { continue }
                    let before = obligation
                    obligation.status = switch verdict {
                    case .yes: .required
                    case .unknown: .toDecide
                    case .no: .notRequired
                    }
                    if let due, due.days != obligation.periodDays {
                        obligation.periodDays = due.days
                        obligation.dueDate = due.date.iso
                        obligation.dueAt = due.end
                    }
                    guard obligation != before else { continue }
                    changes.changed.append(obligation)
                    changes.history.append(try entry("\(rule.id): \(before.status.rawValue) → \(obligation.status.rawValue)", before: before, after: obligation))
                } else if verdict != .no {
                    let knownAt = max(record.timestamps.knownAt, knownAt ?? record.timestamps.knownAt)
                    let due = rule.due(knownAt: knownAt, verdicts: record.verdicts, calendar: calendar)
                    let obligation = CaseObligation(
                        id: UUID(), caseID: record.id, rule: rule.id, regime: regime.id, kind: rule.kind, recipient: rule.recipient,
                        status: verdict == .yes ? .required : .toDecide, law: rule.law, quote: rule.quote, rulesVersion: statutoryRules.version,
                        periodDays: due?.days, knownAt: knownAt,
                        dueDate: due?.date.iso, dueAt: due?.end,
                        filedAt: nil, filingReference: nil, filedBy: nil)
                    changes.created.append(obligation)
                    changes.history.append(try entry(
                        "\(rule.id) created as \(obligation.status.rawValue) (\(regime.law))", before: [String: String](), after: obligation))
                }
            }
        }
        return changes
    }

    /// Schedules each obligation's next reminder, or cancels it when none is due any more.
    private func scheduleReminders(_ obligations: [CaseObligation], context: inout TransactionContext) throws {
        var keys: [String] = []
        var times: [Date] = []
        var cancelled: [String] = []
        for obligation in obligations {
            let key = obligation.id.lowercasedString
            if obligation.isOpen, let dueText = obligation.dueDate, let dueDate = CivilDate(iso: dueText), let dueAt = obligation.dueAt,
               let next = statutoryRules.reminders.schedule(dueDate: dueDate, dueAt: dueAt, now: context.now).next
            {
                keys.append(key)
                times.append(next.at)
            } else {
                cancelled.append(key)
            }
        }
        try DurableTimers.schedule(kind: Self.obligationTimer, keys: keys, at: times, on: context.connection, schema: schema)
        try DurableTimers.cancel(kind: Self.obligationTimer, keys: cancelled, on: context.connection, schema: schema)
    }

    /// Fires an obligation's reminder timer: emits the stage in force and schedules the next.
    func remind(obligationID: UUID, context: inout TransactionContext) throws {
        guard let obligation = try obligationStore.obligation(id: obligationID, forUpdate: true, on: context.connection), obligation.isOpen,
              let dueText = obligation.dueDate, let dueDate = CivilDate(iso: dueText), let dueAt = obligation.dueAt,
              let record = try store.find(id: obligation.caseID, on: context.connection)
        else { return }
        let schedule = statutoryRules.reminders.schedule(dueDate: dueDate, dueAt: dueAt, now: context.now)
        if let stage = schedule.current {
            try context.emit(IncidentObligationReminder(
                    caseNumber: record.caseNumber, caseId: record.id, obligationId: obligation.id, rule: obligation.rule, kind: obligation.kind,
                    status: obligation.status.rawValue, stage: stage, dueDate: dueText, dueAt: dueAt, law: String(obligation.law.prefix(500)),
                    sectionCode: record.sectionCode, remindedAt: context.now))
        }
        try scheduleReminders([obligation], context: &context)
    }

    /// Records that an obligation was filed, with its reference (e.g. the PPC's receipt number);
    /// its reminders stop.
    @discardableResult
    public func fileObligation(
        caseNumber: String, obligationID: UUID, reference: String, actor: TriageActor, context: inout TransactionContext
    ) throws -> CaseObligation {
        guard let role = actor.role, CaseLifecycle.handlers.contains(role) else {
            throw TriageError(code: .forbidden, detail: "only incident handlers may record a filing")
        }
        let reference = reference.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reference.isEmpty, reference.unicodeScalars.count <= 200 else { throw TriageError(code: .invalidRequest, detail: "a filing needs a reference of 1 to 200 characters") }
        let record = try lockedCase(caseNumber, visibility: .all, context: context)
        guard var obligation = try obligationStore.obligation(id: obligationID, forUpdate: true, on: context.connection), obligation.caseID == record.id else {
            throw TriageError(code: .notFound, detail: "case \(caseNumber) has no obligation \(obligationID)")
        }
        guard obligation.status != .filed else { throw TriageError(code: .conflict, detail: "obligation \(obligation.rule) was filed already (\(obligation.filingReference ?? ""))") }
        let before = obligation
        obligation.status = .filed
        obligation.filedAt = context.now
        obligation.filingReference = reference
        obligation.filedBy = actor.id
        try obligationStore.update(obligation, now: context.now, on: context.connection)
        try DurableTimers.cancel(kind: Self.obligationTimer, key: obligation.id.lowercasedString, on: context.connection, schema: schema)
        try store.history.append(
            caseID: record.id, caseNumber: record.caseNumber, action: "filing", actor: actor.id, role: role.rawValue, at: context.now,
            reason: "\(obligation.rule) filed: \(reference)", before: before, after: obligation, on: context.connection)
        return obligation
    }
}

/// What a history row records of a case: the fields a transition can change.
struct HistorySnapshot: Codable {
    var state: CaseState
    var qualification: CaseQualification?
    var qualificationReason: String?
    var severity: Int
    var severityRule: String
    var escalationLevel: Int
    var acknowledgedAt: Date?
    var containedAt: Date?
    var closedAt: Date?

    init(_ record: CaseRecord) {
        state = record.state
        qualification = record.qualification
        qualificationReason = record.qualificationReason
        severity = record.severity.severity
        severityRule = record.severity.rule
        escalationLevel = record.escalationLevel
        acknowledgedAt = record.timestamps.acknowledgedAt
        containedAt = record.timestamps.containedAt
        closedAt = record.timestamps.closedAt
    }
}
