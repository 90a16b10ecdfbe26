public import Contracts
import Directory
import Foundation
import Logging
import Postgres
public import ServiceRuntime

/// The consumer's batch path (issue #16 item 3): a batch of events is routed in memory and
/// written with a handful of multi-row statements however many notifications it fans out into —
/// the events, the ledger rows, the delivery log, the group joins and the timers — instead of
/// a dozen statements per notification. A report fans out into ~20 notifications, so at an
/// alert storm the per-row statements were what limited the notifier (~75 reports/s).
extension NotifierEngine {
    /// One ledger row the batch is about to write.
    struct PlannedNotification {
        var event: StoredEvent
        var route: NotificationRouting.Route
        var recipient: NotifierRecipient
        var channel: Organisation.Channel
        var template: String
        var message: RenderedMessage
        var silence: NotifierSilence?
        /// Joins its group instead of going to the send worker at once.
        var grouped: Bool
        /// Set when the row goes to the send worker at once: it is written as `sending`, with no
        /// `deliver` timer in between (the timer only moved it there, a transaction per row).
        var attemptID: UUID?

        var state: String { silence != nil ? "silenced" : attemptID != nil ? "sending" : "queued" }

        /// The ledger's unique key at sequence 0, to find the id the insert gave each row.
        var ledgerKey: String { Self.ledgerKey(event.key, recipient.key, channel.kind.rawValue, channel.address) }

        /// The group it joins when ``grouped``.
        var groupKey: String { NotifierEngine.groupKey(route: route, event: event, recipient: recipient, channel: channel) }

        static func ledgerKey(_ parts: String...) -> String { parts.joined(separator: "\u{1F}") }
    }

    /// Routes `envelopes` in order and returns, in the same order, nil for each that was applied
    /// (or had nothing to do) or the ``PermanentFailure`` that dead-letters it; nothing is
    /// written for a failed one. The consumer calls this for a whole batch (``NotifierEventHandler``);
    /// anything thrown rolls the batch back and the consumer handles its messages one by one.
    public func handleBatch(_ envelopes: [RawEnvelope], context: inout TransactionContext) throws -> [PermanentFailure?] {
        var failures = [PermanentFailure?](repeating: nil, count: envelopes.count)
        var events: [NotifierEvent] = []
        var keys = Set<String>()
        for (index, envelope) in envelopes.enumerated() {
            do {
                let event = try NotifierEvent(envelope: envelope, restrictedFields: routing.restrictedFields)
                if keys.insert(event.key).inserted { events.append(event) }
            } catch {
                failures[index] = PermanentFailure(code: "invalid-data", reason: "the event's data is not JSON: \(error)")
            }
        }
        let connection = context.connection
        let now = context.now
        let logger = context.logger
        // Acknowledgements and merges change rows that earlier events made; they are rare, so
        // one at a time, before this batch's own rows (which are not sent yet either way).
        for event in events {
            switch event.typeKey {
            case "incident.acknowledged.v1": try acknowledge(event, now: now, on: connection, logger: logger)
            case MessageTypes.incidentCaseMerged.routingKey: try caseMerged(event, now: now, on: connection, logger: logger)
            default: break
            }
        }
        // An unrouted event that ties a case number to an intake id is kept (without context):
        // acknowledgements name the case, earlier notifications the intake id.
        let routed: [(event: NotifierEvent, matches: [NotificationRouting.Match])] = events.compactMap { event in
            let matches = routing.matches(event.attributes)
            guard !matches.isEmpty || (event.caseNumber != nil && event.intakeID != nil) else {
                logger.debug("no route for the event", metadata: ["notifier.event": "\(event.key)"])
                return nil
            }
            return (event, matches)
        }
        guard !routed.isEmpty else { return failures }
        let inserted = try insertEvents(routed, now: now, on: connection)
        // Issue #5 item 4: the same event (source + id) again is a no-op, even past the inbox.
        for (event, _) in routed where !inserted.contains(event.key) {
            logger.info("event already notified; nothing sent again", metadata: ["notifier.event": "\(event.key)"])
        }
        let fresh = routed.filter { inserted.contains($0.event.key) && !$0.matches.isEmpty }
        guard !fresh.isEmpty else { return failures }

        let silences = try ledger.activeSilences(now: now, on: connection)
        var lookups = DirectoryLookups()
        var planned: [PlannedNotification] = []
        var unreachable: [(recipient: NotifierRecipient, event: StoredEvent, route: NotificationRouting.Route)] = []
        for (event, matches) in fresh {
            let stored = StoredEvent(event: event)
            // The engine tells each recipient once per event, whichever routes name them.
            var seen = Set<String>()
            for match in matches {
                let recipients = try lookups.recipients(match.receiver, event: event, resolver: resolver, on: connection, logger: logger)
                if recipients.isEmpty {
                    logger.error("a route matched but its receiver reaches nobody", metadata: ["notifier.route": "\(match.route.path)", "notifier.receiver": "\(match.receiver.name)"])
                }
                for recipient in recipients where seen.insert(recipient.key).inserted {
                    guard let channel = recipient.channels.first else {
                        // Never silently skipped: nobody to send to is a failure, with its fallback.
                        unreachable.append((recipient, stored, match.route))
                        continue
                    }
                    planned.append(try plan(stored, route: match.route, recipient: recipient, channel: channel, silences: silences, lookups: &lookups, now: now, on: connection))
                }
            }
        }
        try write(planned, now: now, on: connection, logger: logger)
        for item in unreachable {
            try context.announce(try self.unreachable(item.recipient, event: item.event, route: item.route, now: now, on: connection, logger: logger))
        }
        return failures
    }

    /// Inserts the events in one statement; returns the keys that were new (the others were
    /// notified before and are skipped).
    private func insertEvents(_ routed: [(event: NotifierEvent, matches: [NotificationRouting.Match])], now: Date, on connection: PostgresConnection) throws -> Set<String> {
        let rows: [JSONValue] = routed.map { event, matches in
            .object([
                "event_key": .string(event.key), "event_source": .string(event.source), "event_id": .string(event.id), "event_type": .string(event.type),
                "event_time": .timestamp(event.time), "classification": .string(event.classification.rawValue), "correlation_id": .text(event.correlationID),
                "case_number": .text(event.caseNumber), "intake_id": .text(event.intakeID), "severity": .int(event.severity),
                "section_code": .text(event.sectionCode), "attributes": .object(event.attributes.mapValues { .string($0) }),
                "context": .object(matches.isEmpty ? [:] : event.context),
            ])
        }
        let table = ledger.table("events")
        let columns = "event_key, event_source, event_id, event_type, event_time, classification, correlation_id, case_number, intake_id, severity, section_code, attributes, context"
        // json_populate_recordset turns each member into its column's type (timestamptz, jsonb),
        // as the hash-chained ledgers do: one statement for the batch, whatever its size.
        return Set(try connection.query(
            """
            INSERT INTO \(unescaped: table) (\(unescaped: columns))
            SELECT \(unescaped: columns) FROM json_populate_recordset(NULL::\(unescaped: table), \(JSONValue.array(rows).jsonString(pretty: false))::json)
            ON CONFLICT DO NOTHING
            RETURNING event_key
            """
        ).rows.map { try $0.decode("event_key", as: String.self) })
    }

    /// Decides one row in memory: silenced, grouped or sent at once, and its rendered message.
    private func plan(
        _ event: StoredEvent, route: NotificationRouting.Route, recipient: NotifierRecipient, channel: Organisation.Channel,
        silences: [NotifierSilence], lookups: inout DirectoryLookups, now: Date, on connection: PostgresConnection
    ) throws -> PlannedNotification {
        var attributes = event.attributes
        attributes["recipient"] = recipient.personID ?? recipient.key
        attributes["channel"] = channel.kind.rawValue
        attributes["route"] = route.path
        let severity1 = event.severity == 1
        let silence = silences.first { $0.mutes(attributes, severity1: severity1, at: now) }
        let template = route.template ?? event.typeKey
        // Issue #5 item 5: severity-1 is never grouped away without the route's explicit flag.
        let grouped = silence == nil && !route.groupBy.isEmpty && (!severity1 || route.groupSeverity1)
        let attemptID = silence == nil && !grouped ? UUID() : nil
        // A row that waits in a group whose summary template replaces every member's message
        // (`<template>.group`) is never sent with its own: it is rendered when the group flushes
        // (a storm of 100,000 attaches was 800,000 renderings nobody read).
        if grouped, templates.has("\(template).group") {
            return PlannedNotification(
                event: event, route: route, recipient: recipient, channel: channel, template: template, message: RenderedMessage(subject: "", body: ""),
                silence: nil, grouped: true, attemptID: nil)
        }
        let units = try lookups.unitNames(sectionCode: event.sectionCode, english: recipient.language == .en, engine: self, on: connection)
        let message: RenderedMessage
        // One rendering per event, template, language and link: an event told to twenty people
        // was twenty renderings, a quarter of the notifier's CPU.
        let linked = route.acknowledge && event.caseRef != nil && recipient.personID != nil
        if templates.rendersPersonalFieldsPlainly(template, language: recipient.language),
            let draft = try lookups.draft("\(event.key)|\(template)|\(recipient.language.rawValue)|\(linked)", render: {
                try self.draft(event, template: template, language: recipient.language, sequence: 0, acknowledgementLink: linked, units: units)
            })
        {
            message = personalise(draft, event: event, recipient: recipient)
        } else {
            message = try render(
                event, template: template, recipient: recipient, sequence: 0, onBehalfOfName: nil, acknowledgementLink: route.acknowledge, units: units)
        }
        return PlannedNotification(
            event: event, route: route, recipient: recipient, channel: channel, template: template, message: message, silence: silence,
            grouped: grouped, attemptID: attemptID)
    }

    /// Writes the planned rows: the ids of the groups they join (a look-up, and an insert of new
    /// keys), one insert that already names each row's group, the groups' lock, the groups that
    /// start waiting and their timers, and last one delivery-log batch. The log's chain is one lock for the whole notifier, held from the
    /// append to the commit, so it is taken last: the send worker's transactions wait on it
    /// only for this batch's append and commit, not for its inserts.
    private func write(_ planned: [PlannedNotification], now: Date, on connection: PostgresConnection, logger: Logger) throws {
        guard !planned.isEmpty else { return }
        // The rows name their group in the insert, but the groups are locked only after it: two
        // consumers joining the same groups (a storm: every report joins the same few) overlap
        // their inserts and queue only for the group update, the timers and the log.
        let groupIDs = try groupIDs(of: planned, on: connection)
        // One typed array per column, unnested: PostgreSQL reads array literals at a fraction of
        // what `json_populate_recordset` costs per row (measured: 80,000 rows, 1.9 s against 2.6–3.0 s).
        let table = ledger.table("notifications")
        var ids: [String: Int64] = [:]
        for row in try connection.query(
            """
            INSERT INTO \(unescaped: table)
                (event_key, route, recipient, recipient_name, reason, channel_kind, channel_address, channel_format, channel_index, language,
                 sequence, state, silence_id, repeat_interval_s, repeats_left, template, ack_link, subject, body, attempt_id, group_id, created_at,
                 updated_at)
            SELECT v.event_key, v.route, v.recipient, v.recipient_name, 'route', v.channel_kind, v.channel_address, v.channel_format, 0, v.language,
                   0, v.state, v.silence_id, v.repeat_interval_s, v.repeats_left, v.template, v.ack_link, v.subject, v.body, v.attempt_id, v.group_id,
                   \(now), \(now)
            FROM unnest(
                \(planned.map(\.event.key))::text[], \(planned.map(\.route.path))::text[], \(planned.map(\.recipient.key))::text[],
                \(planned.map(\.recipient.name))::text[], \(planned.map(\.channel.kind.rawValue))::text[], \(planned.map(\.channel.address))::text[],
                \(planned.map(\.channel.format?.rawValue))::text[], \(planned.map(\.recipient.language.rawValue))::text[], \(planned.map(\.state))::text[],
                \(planned.map(\.silence?.id))::uuid[], \(planned.map { $0.route.repeatInterval.map { Int($0.secondsValue) } })::integer[],
                \(planned.map(\.route.maxRepeats))::integer[], \(planned.map(\.template))::text[], \(planned.map(\.route.acknowledge))::boolean[],
                \(planned.map(\.message.subject))::text[], \(planned.map(\.message.body))::text[], \(planned.map(\.attemptID))::uuid[],
                \(planned.map { $0.grouped ? groupIDs[$0.groupKey] : nil })::bigint[])
            AS v (event_key, route, recipient, recipient_name, channel_kind, channel_address, channel_format, language, state, silence_id,
                  repeat_interval_s, repeats_left, template, ack_link, subject, body, attempt_id, group_id)
            ON CONFLICT DO NOTHING
            RETURNING id, event_key, recipient, channel_kind, channel_address
            """
        ).rows {
            let key = PlannedNotification.ledgerKey(
                try row.decode("event_key"), try row.decode("recipient"), try row.decode("channel_kind"), try row.decode("channel_address"))
            ids[key] = try row.decode("id")
        }
        let written = planned.compactMap { row in ids[row.ledgerKey].map { (id: $0, row: row) } }

        // A group that is not waiting starts to, with the first of these rows in it; one that
        // is already waiting flushes with them. Decided under the group's lock: a flush that
        // ran since the insert did not see these rows (not committed yet) and left the group
        // not waiting, so they start it again.
        let groups = try lockGroups(Array(groupIDs.values), on: connection)
        var flushGroups: [Int64] = []
        var flushTimes: [Date] = []
        var starting = Set<Int64>()
        for (_, row) in written where row.grouped {
            guard let id = groupIDs[row.groupKey], let group = groups[id], !group.waiting, starting.insert(id).inserted else { continue }
            flushGroups.append(group.id)
            flushTimes.append(Self.flushAt(route: row.route, lastFlush: group.lastFlush, now: now))
        }
        if !flushGroups.isEmpty {
            _ = try connection.query(
                """
                UPDATE \(unescaped: ledger.table("groups")) g SET waiting = true, flush_at = v.flush_at
                FROM unnest(\(flushGroups)::bigint[], \(flushTimes)::timestamptz[]) AS v (id, flush_at) WHERE g.id = v.id
                """
            )
            try DurableTimers.schedule(kind: Self.groupTimer, keys: flushGroups.map(String.init), at: flushTimes, on: connection, schema: schema)
        }

        var entries: [NotificationLedger.LogEntry] = []
        entries.reserveCapacity(written.count * 2)
        for (id, row) in written {
            if let silence = row.silence {
                entries.append(.init(notificationID: id, state: "silenced", attempt: 0, detail: "silence \(silence.id.lowercasedString): \(silence.reason)"))
                continue
            }
            entries.append(.init(notificationID: id, state: "queued", attempt: 0, detail: "route via \(row.route.path)"))
            if row.attemptID != nil {
                entries.append(.init(notificationID: id, state: "sending", attempt: 1, detail: "handed to the send worker"))
            }
        }
        let silenced = written.filter { $0.row.silence != nil }.count
        if silenced > 0 { logger.info("notifications silenced", metadata: ["notifier.silenced": "\(silenced)"]) }
        try ledger.log(entries, at: now, on: connection)
    }

    /// A group row as the batch found it, locked until the batch commits.
    struct LockedGroup {
        var id: Int64
        var waiting: Bool
        var lastFlush: Date?
    }

    /// The ids of the groups the planned rows join, by key, creating those that do not exist.
    /// No lock: a group row is never deleted, and reading it does not wait for a consumer or a
    /// flush holding it (an insert that meets the key would wait for their commit).
    private func groupIDs(of planned: [PlannedNotification], on connection: PostgresConnection) throws -> [String: Int64] {
        let keys = Set(planned.filter(\.grouped).map(\.groupKey)).sorted()
        guard !keys.isEmpty else { return [:] }
        let table = ledger.table("groups")
        func known() throws -> [String: Int64] {
            var ids: [String: Int64] = [:]
            for row in try connection.query("SELECT id, group_key FROM \(unescaped: table) WHERE group_key = ANY(\(keys)::text[])").rows {
                ids[try row.decode("group_key")] = try row.decode("id")
            }
            return ids
        }
        var ids = try known()
        let missing = keys.filter { ids[$0] == nil }
        guard !missing.isEmpty else { return ids }
        _ = try connection.query(
            """
            INSERT INTO \(unescaped: table) (group_key, waiting)
            SELECT key, false FROM unnest(\(missing)::text[]) AS key ORDER BY key
            ON CONFLICT DO NOTHING
            """
        )
        ids = try known()
        guard ids.count == keys.count else {
            throw NotifierError(.invalidState, detail: "\(keys.count - ids.count) group(s) vanished while joining")
        }
        return ids
    }

    /// Locks the groups until the batch commits and reads their state. In id order, so two
    /// consumers take the locks the same way round; `NO KEY UPDATE`, so another consumer's
    /// insert naming the group (a foreign-key check) does not wait for it.
    private func lockGroups(_ ids: [Int64], on connection: PostgresConnection) throws -> [Int64: LockedGroup] {
        guard !ids.isEmpty else { return [:] }
        var groups: [Int64: LockedGroup] = [:]
        for row in try connection.query(
            """
            SELECT id, waiting, last_flush_at FROM \(unescaped: ledger.table("groups"))
            WHERE id = ANY(\(ids)::bigint[]) ORDER BY id FOR NO KEY UPDATE
            """
        ).rows {
            let id: Int64 = try row.decode("id")
            groups[id] = LockedGroup(id: id, waiting: try row.decode("waiting"), lastFlush: try row.decode("last_flush_at", as: Date?.self))
        }
        return groups
    }
}

/// What one batch looks up or renders once each: whom a receiver reaches for the attributes it
/// depends on, the names of a section and its department, and the draft of a message.
struct DirectoryLookups {
    private var recipients: [String: [NotifierRecipient]] = [:]
    private var units: [String: NotifierEngine.UnitNames] = [:]
    private var drafts: [String: MessageDraft?] = [:]

    /// A message draft rendered once per key in the batch.
    mutating func draft(_ key: String, render: () throws -> MessageDraft?) rethrows -> MessageDraft? {
        if let known = drafts[key] { return known }
        let made = try render()
        drafts[key] = made
        return made
    }

    mutating func recipients(
        _ receiver: NotificationRouting.Receiver, event: NotifierEvent, resolver: NotifierRecipientResolver, on connection: PostgresConnection,
        logger: Logger
    ) throws -> [NotifierRecipient] {
        let key = resolver.resolutionKey(receiver, event: event)
        if let known = recipients[key] { return known }
        let found = try resolver.resolve(receiver, event: event, on: connection, logger: logger)
        recipients[key] = found
        return found
    }

    mutating func unitNames(sectionCode: String?, english: Bool, engine: NotifierEngine, on connection: PostgresConnection) throws -> NotifierEngine.UnitNames {
        let key = "\(sectionCode ?? "")|\(english)"
        if let known = units[key] { return known }
        let found = try engine.unitNames(sectionCode: sectionCode, english: english, on: connection)
        units[key] = found
        return found
    }
}
