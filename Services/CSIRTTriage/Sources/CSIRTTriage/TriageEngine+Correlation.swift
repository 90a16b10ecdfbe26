public import Contracts
import Directory
public import Foundation
import Logging
public import Postgres
public import ServiceRuntime

/// What became of a report (or violation) that reached triage.
public enum CaseReception: Sendable, Hashable {
    /// It opened a new case.
    case opened(CaseRecord)
    /// It joined an open case by the named correlation rule (issue #16).
    case attached(CaseRecord, rule: String)
    /// It is in a case already (a redelivery).
    case duplicate(CaseRecord)

    public var record: CaseRecord {
        switch self {
        case .opened(let record), .attached(let record, _), .duplicate(let record): record
        }
    }
}

/// Correlation (issue #16; Art. 27): a related report joins an open case instead of opening
/// one; CSIRT merges cases and splits a report out by hand. Every change is a history row.
extension TriageEngine {
    /// Puts `new` into a case: the open case a correlation rule finds, or a new one. The batch
    /// path with a batch of one, so the two cannot decide differently.
    @discardableResult
    public func receive(_ new: NewCase, causedBy cause: Causation?, context: inout TransactionContext) throws -> CaseReception {
        try receive([(new, cause)], context: &context)[0]
    }

    /// A report on its way into an open case, with the rule that found the case.
    struct Joining {
        var new: NewCase
        var rule: String
        var keys: [CorrelationRules.Key]
        var cause: Causation?
    }

    /// Adds reports to the open case `caseID` at once (a storm's batch joins one case with
    /// hundreds): one history row per report, the case written once, and one
    /// `incident.report-attached` for them all. Nil when the case is final by now (the caller
    /// opens cases instead).
    func attach(_ joinings: [Joining], caseID: UUID, context: inout TransactionContext) throws -> CaseRecord? {
        let connection = context.connection
        guard var record = try store.find(id: caseID, forUpdate: true, on: connection), !record.state.isFinal else { return nil }
        let before = record
        try reports.insert(joinings.map { (report: $0.new, caseID: record.id, rule: $0.rule) }, at: context.now, on: connection)
        try reports.touch(joinings.flatMap { joining in joining.keys.map { (key: $0, caseID: record.id, seenAt: joining.new.recordedAt) } }, on: connection)
        try join(
            &record,
            parts: joinings.map { joining in
                JoinPart(
                    part: CasePart(joining.new), action: "attach",
                    reason: "\(joining.new.source.kind) \(joining.new.source.id) joined by rule \(joining.rule)",
                    detail: ["rule": joining.rule, "source": "\(joining.new.source.kind):\(joining.new.source.id)"])
            },
            actor: .system, cause: joinings.last?.cause, context: &context)
        // One event for the lot, not one per report: a storm's batch joining one case is one
        // message for the notifier instead of hundreds (each fanned out to the whole chain).
        // The history above keeps a row per report.
        guard let last = joinings.last else { return record }
        try context.emit(IncidentReportAttached(
                caseNumber: record.caseNumber, caseId: record.id, source: .init(kind: last.new.source.kind, id: last.new.source.id),
                rule: last.rule, reportsJoined: joinings.count, reportCount: record.reportCount, firstSeenAt: record.firstSeenAt,
                lastSeenAt: record.lastSeenAt, severity: record.severity.severity, previousSeverity: before.severity.severity,
                severityRule: record.severity.rule, sectionCode: record.sectionCode, departmentCode: record.departmentCode,
                category: record.category, title: String(record.title.prefix(200)), myNumberDetected: record.myNumberDetected,
                attachedAt: context.now), causedBy: last.cause)
        context.logger.info(
            "reports joined a case",
            metadata: ["case.number": "\(record.caseNumber)", "case.joined": "\(joinings.count)", "case.reports": "\(record.reportCount)"])
        return record
    }

    /// What one report (or a merged case) brings to a case.
    struct CasePart {
        var facts: SeverityInput
        var verdicts: StatutoryVerdicts
        var myNumberDetected: Bool
        var reportCount: Int
        var firstSeenAt: Date
        var lastSeenAt: Date
        var knownAt: Date

        init(_ new: NewCase) {
            facts = new.facts
            verdicts = new.verdicts
            myNumberDetected = new.myNumberDetected
            reportCount = 1
            firstSeenAt = new.recordedAt
            lastSeenAt = new.recordedAt
            knownAt = new.knownAt
        }

        init(_ record: CaseRecord) {
            facts = record.facts
            verdicts = record.verdicts
            myNumberDetected = record.myNumberDetected
            reportCount = record.reportCount
            firstSeenAt = record.firstSeenAt
            lastSeenAt = record.lastSeenAt
            knownAt = record.timestamps.knownAt
        }
    }

    /// The counts a history row of a join records before and after.
    private struct JoinSnapshot: Encodable {
        var reportCount: Int
        var firstSeenAt: Date
        var lastSeenAt: Date
        var affectedPersons: AffectedPersons
        var moreThan100Persons: Verdict
        var severity: Int

        init(_ record: CaseRecord) {
            reportCount = record.reportCount
            firstSeenAt = record.firstSeenAt
            lastSeenAt = record.lastSeenAt
            affectedPersons = record.facts.affectedPersons
            moreThan100Persons = record.verdicts.moreThan100Persons
            severity = record.severity.severity
        }
    }

    /// One thing joining a case, with the history row that says so.
    struct JoinPart {
        var part: CasePart
        var action: String
        var reason: String
        var detail: [String: String]
    }

    /// Adds `parts` to the case: facts and verdicts joined (persons add up), counts, a history
    /// row each, severity decided again over the whole case, obligations reviewed with the clock
    /// of anything new starting when the last part was known, and the escalation raised to what
    /// a higher severity tells at once.
    private func join(
        _ record: inout CaseRecord, parts: [JoinPart], actor: TriageActor, cause: Causation?, context: inout TransactionContext
    ) throws {
        let now = context.now
        var entries: [CaseHistory.NewEntry] = []
        // When what makes an obligation due became known: the part that made a regime's trigger
        // hold (or open to decision), e.g. the report whose persons took the sum past 100.
        var knownAt: Date?
        for join in parts {
            let before = JoinSnapshot(record)
            let triggers = statutoryRules.regimes.map { $0.trigger.evaluate(record.verdicts) }
            let part = join.part
            record.facts = record.facts.joining(part.facts)
            record.verdicts = record.verdicts.joining(part.verdicts, persons: record.facts.affectedPersons)
            record.myNumberDetected = record.myNumberDetected || part.myNumberDetected
            record.reportCount += part.reportCount
            record.firstSeenAt = min(record.firstSeenAt, part.firstSeenAt)
            record.lastSeenAt = max(record.lastSeenAt, part.lastSeenAt)
            if knownAt == nil, zip(statutoryRules.regimes, triggers).contains(where: { regime, earlier in
                Self.rank(regime.trigger.evaluate(record.verdicts)) > Self.rank(earlier)
            }) {
                knownAt = max(record.timestamps.knownAt, part.knownAt)
            }
            entries.append(try CaseHistory.NewEntry(
                caseID: record.id, caseNumber: record.caseNumber, action: join.action, actor: actor.id, role: actor.role?.rawValue, at: now,
                reason: join.reason, before: before, after: JoinAfter(counts: JoinSnapshot(record), detail: join.detail)))
        }
        let decision = severityRules.decide(record.facts)
        let raised = decision.severity < record.severity.severity
        if decision.severity != record.severity.severity || decision.rule != record.severity.rule {
            entries.append(try CaseHistory.NewEntry(
                caseID: record.id, caseNumber: record.caseNumber, action: "severity", actor: actor.id, role: actor.role?.rawValue, at: now,
                reason: "\(parts.last?.reason ?? "joined") → rule \(decision.rule): \(decision.reason)", before: record.severity, after: decision))
            record.severity = decision
        }
        try store.history.append(entries, on: context.connection)
        try store.update(record, now: now, on: context.connection)
        try reviewObligations(record, actor: actor, knownAt: knownAt, context: &context)
        if raised { try raiseEscalation(&record, cause: cause, context: &context) }
    }

    /// How far a trigger's verdict obliges: no, then "to decide", then yes.
    private static func rank(_ verdict: Verdict) -> Int {
        switch verdict {
        case .no: 0
        case .unknown: 1
        case .yes: 2
        }
    }

    /// A join's history row after the change: the counts, and what joined.
    private struct JoinAfter: Encodable {
        var counts: JoinSnapshot
        var detail: [String: String]
    }

    /// A case whose severity rose while nobody had acknowledged it: the levels the new severity
    /// tells at once, and not told yet, are told now; the next step is timed from now. Never the
    /// whole chain again (issue #16 item 2).
    private func raiseEscalation(_ record: inout CaseRecord, cause: Causation?, context: inout TransactionContext) throws {
        guard record.timestamps.acknowledgedAt == nil, !record.state.isFinal else { return }
        let step = escalationPolicy.step(severity: record.severity.severity)
        guard step.immediateThrough > record.escalationLevel else { return }
        let chain = try chainSteps(record, context: context)
        let next = step.stopAt > step.immediateThrough ? context.now.addingTimeInterval(Double(step.delay.components.seconds)) : nil
        let first = record.escalationLevel + 1
        for level in first...min(step.immediateThrough, chain.count - 1) {
            let target = chain[level]
            try emitEscalation(
                record, level: level, role: target.role, unitCode: target.unitCode, recipients: target.people.map(\.id), reason: "severity-raised",
                next: level == step.immediateThrough ? next : nil, cause: cause, context: &context)
        }
        let before = record.escalationLevel
        record.escalationLevel = step.immediateThrough
        try store.update(record, now: context.now, on: context.connection)
        try store.history.append(
            caseID: record.id, caseNumber: record.caseNumber, action: "escalation", actor: TriageActor.system.id, role: nil, at: context.now,
            reason: "severity raised to \(record.severity.severity): levels \(first) to \(step.immediateThrough) told", before: ["escalationLevel": before],
            after: ["escalationLevel": record.escalationLevel], on: context.connection)
        if let next {
            try DurableTimers.schedule(
                kind: Self.escalationTimer, key: record.id.lowercasedString, at: next,
                payloadJSON: try CaseHistory.canonicalJSON(EscalationPayload(level: step.immediateThrough + 1)), on: context.connection, schema: schema)
        } else {
            try DurableTimers.cancel(kind: Self.escalationTimer, key: record.id.lowercasedString, on: context.connection, schema: schema)
        }
    }

    // MARK: By hand

    /// Merges case `caseNumber` into `survivorNumber` (CSIRT, by hand): the survivor takes its
    /// reports, correlation keys and obligations and is evaluated again over everything; the
    /// merged case keeps its number, becomes `merged` (final) and points to the survivor. Both
    /// histories record it. Returns the survivor.
    @discardableResult
    public func merge(
        caseNumber: String, into survivorNumber: String, actor: TriageActor, reason: String, context: inout TransactionContext
    ) throws -> CaseRecord {
        guard let role = actor.role, CaseLifecycle.handlers.contains(role) else {
            throw TriageError(code: .forbidden, detail: "only incident handlers may merge cases")
        }
        let reason = try Self.requiredReason(reason, what: "merging cases")
        guard caseNumber != survivorNumber else { throw TriageError(code: .invalidRequest, detail: "a case cannot be merged into itself") }
        // Locked in number order, so two merges of the same pair never wait for each other in a circle.
        var locked: [String: CaseRecord] = [:]
        for number in [caseNumber, survivorNumber].sorted() { locked[number] = try lockedCase(number, visibility: .all, context: context) }
        guard var merged = locked[caseNumber], var survivor = locked[survivorNumber] else { throw TriageError(code: .notFound, detail: "no case") }
        guard merged.state != .merged else {
            throw TriageError(code: .conflict, detail: "\(caseNumber) was merged into \(merged.mergedInto ?? "another case") already")
        }
        guard !survivor.state.isFinal else {
            throw TriageError(code: .invalidTransition, detail: "\(survivorNumber) is \(survivor.state.rawValue): merge into an open case")
        }
        let connection = context.connection
        let now = context.now
        let moved = try reports.moveAll(from: merged.id, to: survivor.id, at: now, on: connection)
        try carryObligations(from: merged, to: survivor, actor: actor, context: &context)
        try join(
            &survivor,
            parts: [JoinPart(part: CasePart(merged), action: "merge", reason: "\(caseNumber) merged in: \(reason)", detail: ["merged": caseNumber, "reportsMoved": String(moved)])],
            actor: actor, cause: nil, context: &context)
        let before = HistorySnapshot(merged)
        merged.state = .merged
        merged.mergedInto = survivor.caseNumber
        try store.update(merged, now: now, on: connection)
        try store.history.append(
            caseID: merged.id, caseNumber: merged.caseNumber, action: "merged", actor: actor.id, role: role.rawValue, at: now,
            reason: "merged into \(survivor.caseNumber): \(reason)", before: before,
            after: MergedSnapshot(snapshot: HistorySnapshot(merged), mergedInto: survivor.caseNumber, reportsMoved: moved), on: connection)
        try DurableTimers.cancel(kind: Self.escalationTimer, key: merged.id.lowercasedString, on: connection, schema: schema)
        try context.emit(IncidentCaseMerged(
                caseNumber: merged.caseNumber, caseId: merged.id, survivorCaseNumber: survivor.caseNumber, survivorCaseId: survivor.id,
                reportsMoved: max(1, moved), severity: survivor.severity.severity, actor: actor.id, mergedAt: now))
        return survivor
    }

    private struct MergedSnapshot: Encodable {
        var snapshot: HistorySnapshot
        var mergedInto: String
        var reportsMoved: Int
    }

    /// The merged case's obligations go on in the survivor. One the survivor lacks moves over
    /// with its clock. For one both have, the survivor's stays: it takes the other's filing if
    /// that was filed, and the other's clock if that started first (a statutory clock never
    /// restarts); the merged case's then stops (not required there, saying where it went).
    private func carryObligations(from merged: CaseRecord, to survivor: CaseRecord, actor: TriageActor, context: inout TransactionContext) throws {
        let connection = context.connection
        let now = context.now
        let kept = Dictionary(uniqueKeysWithValues: try obligationStore.obligations(caseID: survivor.id, on: connection).map { ($0.rule, $0) })
        var moving: [UUID] = []
        var history: [CaseHistory.NewEntry] = []
        var stopped: [String] = []
        for obligation in try obligationStore.obligations(caseID: merged.id, on: connection) {
            guard var own = kept[obligation.rule] else {
                moving.append(obligation.id)
                history.append(try CaseHistory.NewEntry(
                    caseID: survivor.id, caseNumber: survivor.caseNumber, action: "obligation", actor: actor.id, role: actor.role?.rawValue, at: now,
                    reason: "\(obligation.rule) carried over from \(merged.caseNumber)", before: [String: String](), after: obligation))
                continue
            }
            let before = own
            if own.status != .filed, obligation.status == .filed {
                own.status = .filed
                own.filedAt = obligation.filedAt
                own.filingReference = obligation.filingReference
                own.filedBy = obligation.filedBy
            } else if own.status != .filed, obligation.isOpen, obligation.knownAt < own.knownAt {
                own.knownAt = obligation.knownAt
                own.periodDays = obligation.periodDays
                own.dueDate = obligation.dueDate
                own.dueAt = obligation.dueAt
            }
            if own != before {
                try obligationStore.update(own, now: now, on: connection)
                history.append(try CaseHistory.NewEntry(
                    caseID: survivor.id, caseNumber: survivor.caseNumber, action: "obligation", actor: actor.id, role: actor.role?.rawValue, at: now,
                    reason: "\(own.rule) takes \(merged.caseNumber)'s \(obligation.status == .filed ? "filing" : "earlier clock")", before: before, after: own))
            }
            if obligation.status != .filed {
                var stop = obligation
                stop.status = .notRequired
                try obligationStore.update(stop, now: now, on: connection)
                stopped.append(obligation.id.lowercasedString)
                history.append(try CaseHistory.NewEntry(
                    caseID: merged.id, caseNumber: merged.caseNumber, action: "obligation", actor: actor.id, role: actor.role?.rawValue, at: now,
                    reason: "\(obligation.rule) goes on in \(survivor.caseNumber)", before: obligation, after: stop))
            }
        }
        try obligationStore.move(moving, to: survivor.id, now: now, on: connection)
        try DurableTimers.cancel(kind: Self.obligationTimer, keys: stopped, on: connection, schema: schema)
        try store.history.append(history, on: connection)
    }

    /// Takes the report `source` out of case `caseNumber` into a new case of its own (CSIRT, by
    /// hand, when a rule joined what is not one incident). The case loses the report's persons
    /// and is evaluated again; its other verdicts stay (CSIRT revises them). The new case is
    /// opened like any other and gets no correlation keys: later related reports still go to
    /// the case they came from. Both histories record it. Returns the new case.
    @discardableResult
    public func split(
        source: CaseSource, outOf caseNumber: String, actor: TriageActor, reason: String, context: inout TransactionContext
    ) throws -> CaseRecord {
        guard let role = actor.role, CaseLifecycle.handlers.contains(role) else {
            throw TriageError(code: .forbidden, detail: "only incident handlers may split a report out of a case")
        }
        let reason = try Self.requiredReason(reason, what: "splitting a report out")
        var record = try lockedCase(caseNumber, visibility: .all, context: context)
        let connection = context.connection
        guard record.state != .merged else { throw TriageError(code: .invalidTransition, detail: "\(caseNumber) was merged; split from \(record.mergedInto ?? "its survivor")") }
        guard let held = try reports.locked(source: source, on: connection), held.caseID == record.id else {
            throw TriageError(code: .notFound, detail: "\(caseNumber) holds no report \(source.kind) \(source.id)")
        }
        guard source != record.source else {
            throw TriageError(code: .conflict, detail: "the report that opened \(caseNumber) stays in it; split out the others, or discard the case")
        }
        guard let report = held.report else {
            throw TriageError(code: .conflict, detail: "\(source.id) joined \(caseNumber) before triage kept each report's content; it cannot be split out")
        }
        guard try store.caseNumber(source: source, on: connection) == nil else {
            throw TriageError(code: .conflict, detail: "\(source.id) opened a case that was merged; reopen that case's history instead of splitting")
        }
        let now = context.now
        let before = JoinSnapshot(record)
        record.reportCount -= 1
        record.facts.affectedPersons = record.facts.affectedPersons.subtracting(report.facts.affectedPersons)
        if record.facts.affectedPersons.exceeds(100) == false { record.verdicts.moreThan100Persons = .no }
        let opened = try openCase(report, keys: [], recordReport: false, causedBy: nil, context: &context)
        try reports.move(source: source, to: opened.id, rule: "split", at: now, on: connection)
        if let seen = try reports.seen(caseID: record.id, on: connection) {
            (record.firstSeenAt, record.lastSeenAt) = (seen.first, seen.last)
        }
        var entries = [
            try CaseHistory.NewEntry(
                caseID: record.id, caseNumber: record.caseNumber, action: "split", actor: actor.id, role: role.rawValue, at: now,
                reason: "\(source.kind) \(source.id) split out into \(opened.caseNumber): \(reason)", before: before,
                after: JoinAfter(counts: JoinSnapshot(record), detail: ["splitInto": opened.caseNumber, "source": "\(source.kind):\(source.id)"])),
            try CaseHistory.NewEntry(
                caseID: opened.id, caseNumber: opened.caseNumber, action: "split", actor: actor.id, role: role.rawValue, at: now,
                reason: "split out of \(record.caseNumber): \(reason)", before: ["case": record.caseNumber], after: ["case": opened.caseNumber]),
        ]
        let decision = severityRules.decide(record.facts)
        if decision.severity != record.severity.severity || decision.rule != record.severity.rule {
            entries.append(try CaseHistory.NewEntry(
                caseID: record.id, caseNumber: record.caseNumber, action: "severity", actor: actor.id, role: role.rawValue, at: now,
                reason: "report split out → rule \(decision.rule): \(decision.reason)", before: record.severity, after: decision))
            record.severity = decision
        }
        try store.history.append(entries, on: connection)
        try store.update(record, now: now, on: connection)
        try reviewObligations(record, actor: actor, context: &context)
        return opened
    }

    /// The reports of a case, oldest first.
    public func caseReports(caseID: UUID, on connection: PostgresConnection) throws -> [CaseReport] {
        try reports.list(caseID: caseID, on: connection)
    }

    static func requiredReason(_ reason: String, what: String) throws -> String {
        let trimmed = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, trimmed.unicodeScalars.count <= 2000 else {
            throw TriageError(code: .invalidRequest, detail: "\(what) needs a reason of 1 to 2000 characters")
        }
        return FreeText.screened(trimmed)
    }
}
