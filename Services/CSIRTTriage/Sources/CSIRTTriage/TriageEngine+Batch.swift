public import Contracts
import Directory
import Foundation
import Logging
import Postgres
public import ServiceRuntime

/// The batch path (issue #16 item 3): a whole batch of reports in a few multi-row statements.
extension TriageEngine {
    /// Puts every report into a case, as ``receive(_:causedBy:context:)`` does one by one, with
    /// the same outcome: a redelivered report changes nothing, a related report joins the open
    /// case a rule finds (or the case an earlier report of this batch opens), the rest open cases.
    ///
    /// Statements per batch, not per report: which reports are in cases already, the
    /// correlation locks, the lookup, each joined case once, the new cases' inserts. The
    /// history rows of the whole batch are appended last, after the case counter (see
    /// ``CaseHistory/Deferred`` and ``openCases(_:recordReports:context:)``).
    @discardableResult
    public func receive(_ batch: [(new: NewCase, cause: Causation?)], context: inout TransactionContext) throws -> [CaseReception] {
        let connection = context.connection
        var batch = batch
        let deferred = CaseHistory.Deferred()
        var engine = self
        engine.store.deferredHistory = deferred

        // Each report once: a source already in a case, or twice in the batch, is a duplicate.
        let inCases = try store.sourcesInCases(batch.map(\.new.source), on: connection)
        var seen = Set<CaseSource>()
        let fresh = batch.indices.filter { !inCases.contains(batch[$0].new.source) && seen.insert(batch[$0].new.source).inserted }
        // A named asset the register holds is classified by the register, not by the reporter's
        // guess (Arts. 4, 9(2); issue #18 item 0): one lookup for the batch.
        let named = Set(fresh.flatMap { batch[$0].new.facts.assets?.compactMap(\.id) ?? [] })
        if !named.isEmpty {
            let registered = try AssetRegister(directory: directory).assets(ids: Array(named), on: connection)
            let classifications = Dictionary(uniqueKeysWithValues: registered.map { ($0.id, $0.classification) })
            for index in fresh { batch[index].new.facts = batch[index].new.facts.applying(register: classifications) }
        }
        let keys = Dictionary(uniqueKeysWithValues: fresh.map { ($0, batch[$0].new.correlation.map(correlationRules.keys(for:)) ?? []) })
        try reports.lock(keys.values.flatMap { $0.map(\.text) }, on: connection)
        let found = try reports.findOpenCases(fresh.map { (index: $0, keys: keys[$0] ?? [], seenAt: batch[$0].new.recordedAt) }, on: connection)

        // Reports for open cases, grouped by case; reports related to a report of this batch that
        // opens a case follow it; the rest open cases.
        var joining: [UUID: [Joining]] = [:]
        var opening: [NewCaseItem] = []
        var followers: [Int: [Joining]] = [:]
        var openedBy: [String: (opener: Int, position: Int, seenAt: Date)] = [:]
        for index in fresh {
            let (new, cause) = batch[index]
            let reportKeys = keys[index] ?? []
            if let match = found[index] {
                joining[match.caseID, default: []].append(Joining(new: new, rule: match.rule, keys: reportKeys, cause: cause))
            } else if let (key, opener) = reportKeys.compactMap({ key in openedBy[key.text].map { (key, $0) } })
                .filter({ abs($0.1.seenAt.timeIntervalSince(new.recordedAt)) <= Double($0.0.window.components.seconds) })
                .min(by: { $0.1.position < $1.1.position })
            {
                followers[opener.opener, default: []].append(Joining(new: new, rule: key.rule, keys: reportKeys, cause: cause))
            } else {
                for key in reportKeys where openedBy[key.text] == nil {
                    openedBy[key.text] = (opening.count, key.position, new.recordedAt)
                }
                opening.append(NewCaseItem(new: new, keys: reportKeys, cause: cause))
            }
        }

        var outcomes: [CaseSource: CaseReception] = [:]
        // In a fixed order, so two processes lock shared cases the same way round.
        for caseID in joining.keys.sorted(by: { $0.uuidString < $1.uuidString }) {
            let group = joining[caseID] ?? []
            if let record = try engine.attach(group, caseID: caseID, context: &context) {
                for item in group { outcomes[item.new.source] = .attached(record, rule: item.rule) }
            } else {
                // The case ended between the lookup and its lock: each report opens a case.
                opening += group.map { NewCaseItem(new: $0.new, keys: $0.keys, cause: $0.cause) }
            }
        }
        let opened = try engine.openCases(opening, recordReports: true, context: &context)
        for (item, record) in zip(opening, opened) { outcomes[item.new.source] = .opened(record) }
        for (opener, group) in followers.sorted(by: { $0.key < $1.key }) where !group.isEmpty {
            guard let record = try engine.attach(group, caseID: opened[opener].id, context: &context) else { continue }
            for item in group { outcomes[item.new.source] = .attached(record, rule: item.rule) }
        }
        try store.history.append(deferred.entries, on: connection)
        context.logger.info(
            "batch put into cases",
            metadata: ["batch.reports": "\(batch.count)", "batch.opened": "\(opened.count)", "batch.joined": "\(joining.values.map(\.count).reduce(0, +) + followers.values.map(\.count).reduce(0, +))"])

        var results: [CaseReception] = []
        for item in batch {
            if let outcome = outcomes[item.new.source] {
                results.append(outcome)
            } else if let caseID = try store.caseID(source: item.new.source, on: connection), let record = try store.find(id: caseID, on: connection) {
                results.append(.duplicate(record))
            } else {
                throw PostgresError(code: .server, message: "\(item.new.source.kind) \(item.new.source.id) reached no case")
            }
        }
        return results
    }
}
