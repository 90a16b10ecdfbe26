import Acknowledgement
import ClientSupport
public import Contracts
import Directory
public import Foundation
import Logging
import Postgres
public import ServiceRuntime
import WardCalendar

/// Everything the notifier decides, as synchronous steps that run inside a caller's
/// transaction: the consumer (route, resolve, silence, group, enqueue), the timers (claim for
/// sending, flush a group, remind) and the two short transactions around each send.
///
/// Sending itself never happens inside a transaction (issue #5 item 2-4): a `deliver` timer
/// moves a row to `sending` with a fresh attempt id and commits; the ``DeliveryWorker`` leases
/// the row, sends with no transaction open, and records the outcome in a second transaction
/// that only applies while the attempt id still matches. A worker that dies mid-send leaves a
/// lease that expires; the resend carries the same `webhook-id` / `Message-ID`.
public struct NotifierEngine: Sendable {
    public static let deliverTimer = "notifier.deliver"
    public static let groupTimer = "notifier.group"
    public static let repeatTimer = "notifier.repeat"

    public let schema: String
    public let routing: NotificationRouting
    public let templates: NotifierTemplates
    public let settings: NotifierSettings
    let ledger: NotificationLedger
    let resolver: NotifierRecipientResolver
    let directory: DirectoryStore

    /// Checks that every routed event type has its templates (a start-up error otherwise).
    public init(schema: String, routing: NotificationRouting, templates: NotifierTemplates, settings: NotifierSettings) throws(NotifierError) {
        try templates.check(routing)
        self.schema = schema
        self.routing = routing
        self.templates = templates
        self.settings = settings
        self.ledger = NotificationLedger(schema: schema)
        self.directory = DirectoryStore(schema: settings.directorySchema)
        self.resolver = NotifierRecipientResolver(directory: directory)
    }

    var backoff: Backoff { Backoff(initial: settings.retryInitial, maximum: settings.retryMaximum) }

    // MARK: Consuming

    /// Routes one event: one ledger row per (event, recipient, first channel), each silenced,
    /// grouped or handed to the send worker. The consumer's one-message path (and the fallback
    /// when a batch fails) is the batch path with a batch of one, so both write the same rows.
    public func handle(_ envelope: RawEnvelope, context: inout TransactionContext) throws {
        if let failure = try handleBatch([envelope], context: &context)[0] { throw failure }
    }

    /// Writes one ledger row of a reminder or a fallback (never grouped: the consumer's rows take
    /// the batch path) and hands it to the send worker; returns its id, or nil when the row
    /// already existed.
    @discardableResult
    func enqueue(
        _ event: StoredEvent, route: NotificationRouting.Route, recipient: NotifierRecipient, channelIndex: Int, reason: String,
        onBehalfOf: String?, sequence: Int, silences: [NotifierSilence], now: Date, on connection: PostgresConnection,
        logger: Logger
    ) throws -> Int64? {
        let channel = recipient.channels[channelIndex]
        var attributes = event.attributes
        attributes["recipient"] = recipient.personID ?? recipient.key
        attributes["channel"] = channel.kind.rawValue
        attributes["route"] = route.path
        let severity1 = event.severity == 1
        let silence = silences.first { $0.mutes(attributes, severity1: severity1, at: now) }
        let template = route.template ?? event.typeKey
        let onBehalfOfName = try onBehalfOf.flatMap { try directory.person(id: $0, on: connection)?.name }
        let message = try render(
            event, template: template, recipient: recipient, sequence: sequence, onBehalfOfName: onBehalfOfName,
            acknowledgementLink: route.acknowledge, on: connection)
        let state = silence == nil ? "queued" : "silenced"
        let repeatSeconds = route.repeatInterval.map { Int($0.secondsValue) }
        let result = try connection.query(
            """
            INSERT INTO \(unescaped: ledger.table("notifications"))
                (event_key, route, recipient, recipient_name, on_behalf_of, reason, channel_kind, channel_address, channel_format,
                 channel_index, language, sequence, state, silence_id, repeat_interval_s, repeats_left, template, ack_link, subject, body,
                 created_at, updated_at)
            VALUES (\(event.key), \(route.path), \(recipient.key), \(recipient.name), \(onBehalfOf), \(reason), \(channel.kind.rawValue),
                    \(channel.address), \(channel.format?.rawValue), \(channelIndex), \(recipient.language.rawValue), \(sequence), \(state),
                    \(silence?.id), \(repeatSeconds), \(max(0, route.maxRepeats - sequence)), \(template), \(route.acknowledge),
                    \(message.subject), \(message.body), \(now), \(now))
            ON CONFLICT DO NOTHING
            RETURNING id
            """
        )
        guard let id = try result.rows.first?.decode("id", as: Int64.self) else { return nil }
        if let silence {
            try ledger.log(id, state: "silenced", attempt: 0, detail: "silence \(silence.id.lowercasedString): \(silence.reason)", at: now, on: connection)
            logger.info("notification silenced", metadata: ["notifier.notification": "\(id)", "notifier.silence": "\(silence.id)"])
            return id
        }
        try ledger.log(id, state: "queued", attempt: 0, detail: "\(reason) via \(route.path)", at: now, on: connection)
        try DurableTimers.schedule(kind: Self.deliverTimer, key: String(id), at: now, on: connection, schema: schema)
        return id
    }

    /// A group is one route's events with equal `groupBy` labels, for one recipient on one channel.
    static func groupKey(route: NotificationRouting.Route, event: StoredEvent, recipient: NotifierRecipient, channel: Organisation.Channel) -> String {
        let labels = route.groupBy.map { "\($0)=\(event.attributes[$0] ?? "")" }.joined(separator: ",")
        return "\(route.path)|\(labels)|\(recipient.key)|\(channel.kind.rawValue):\(channel.address)"
    }

    /// Alertmanager's rule: the first message of a group waits `groupWait`; later ones go out
    /// `groupInterval` after the previous one.
    static func flushAt(route: NotificationRouting.Route, lastFlush: Date?, now: Date) -> Date {
        if let lastFlush, lastFlush.addingTimeInterval(route.groupInterval.secondsValue) > now {
            return lastFlush.addingTimeInterval(route.groupInterval.secondsValue)
        }
        return now.addingTimeInterval(route.groupWait.secondsValue)
    }

    /// Renders a message for one recipient in their language.
    func render(
        _ event: StoredEvent, template: String, recipient: NotifierRecipient, sequence: Int, onBehalfOfName: String?,
        acknowledgementLink: Bool, on connection: PostgresConnection
    ) throws -> RenderedMessage {
        let units = try unitNames(sectionCode: event.sectionCode, english: recipient.language == .en, on: connection)
        return try render(
            event, template: template, recipient: recipient, sequence: sequence, onBehalfOfName: onBehalfOfName,
            acknowledgementLink: acknowledgementLink, units: units)
    }

    /// Renders with the section's and department's names already looked up (the batch path
    /// looks each up once per batch).
    func render(
        _ event: StoredEvent, template: String, recipient: NotifierRecipient, sequence: Int, onBehalfOfName: String?,
        acknowledgementLink: Bool, units: UnitNames
    ) throws -> RenderedMessage {
        var context = Self.templateContext(event, recipientName: recipient.name, units: units)
        context["reminder"] = sequence > 0
        context["reminderNumber"] = sequence
        if let onBehalfOfName { context["onBehalfOf"] = onBehalfOfName }
        if acknowledgementLink, let link = self.acknowledgementLink(event, recipient: recipient) { context["ackLink"] = link }
        return try templates.render(template, language: recipient.language, context: context)
    }

    /// Renders `template` once for every recipient of `event` in `language` who gets (or does not
    /// get) an acknowledgement link: their name and link are left as stand-ins; nil when the
    /// rendering cannot be cut (``MessageDraft/init(_:)``). Only for templates that use those
    /// plainly (``NotifierTemplates/rendersPersonalFieldsPlainly(_:language:)``).
    func draft(
        _ event: StoredEvent, template: String, language: Organisation.Language, sequence: Int, acknowledgementLink: Bool, units: UnitNames
    ) throws -> MessageDraft? {
        var context = Self.templateContext(event, recipientName: MessageDraft.recipientNameStandIn, units: units)
        context["reminder"] = sequence > 0
        context["reminderNumber"] = sequence
        if acknowledgementLink { context["ackLink"] = MessageDraft.ackLinkStandIn }
        return MessageDraft(try templates.renderUnmasked(template, language: language, context: context))
    }

    /// A draft with one recipient's name and acknowledgement link in, masked: the same text
    /// ``render(_:template:recipient:sequence:onBehalfOfName:acknowledgementLink:units:)`` gives.
    func personalise(_ draft: MessageDraft, event: StoredEvent, recipient: NotifierRecipient) -> RenderedMessage {
        let link = draft.hasAckLink ? acknowledgementLink(event, recipient: recipient) : nil
        return NotifierTemplates.masked(draft.filled(recipientName: recipient.name, ackLink: link ?? ""))
    }

    /// A signed link that acknowledges the event's case as the recipient; nil for a recipient
    /// who is not a person or an event without a case.
    func acknowledgementLink(_ event: StoredEvent, recipient: NotifierRecipient) -> String? {
        guard let caseRef = event.caseRef, let personID = recipient.personID else { return nil }
        let token = AcknowledgementToken.sign(
            caseNumber: caseRef, personID: personID,
            expires: Date().addingTimeInterval(settings.acknowledgementLifetime.secondsValue), secret: settings.acknowledgementSecret)
        return settings.acknowledgementLink(token: token)
    }

    /// The names of an event's section and department, in the recipient's language.
    struct UnitNames: Sendable, Hashable {
        var section: String?
        var department: String?
    }

    func unitNames(sectionCode: String?, english: Bool, on connection: PostgresConnection) throws -> UnitNames {
        guard let code = sectionCode, let section = try directory.section(code: code, on: connection) else { return UnitNames() }
        let department = try directory.department(code: section.departmentCode, on: connection)
        return UnitNames(
            section: english ? (section.nameEn ?? section.name) : section.name,
            department: department.map { english ? ($0.nameEn ?? $0.name) : $0.name })
    }

    /// What every template sees of an event.
    static func templateContext(_ event: StoredEvent, recipientName: String, units: UnitNames) -> [String: Any] {
        var context: [String: Any] = [
            "event": event.context.mapValues(\.mustacheValue),
            "type": event.typeKey,
            "eventId": event.id,
            "source": event.source,
            "time": Self.localTime(event.time),
            "recipientName": recipientName,
            "reminder": false,
            "reminderNumber": 0,
            "restricted": event.classification == DataClassification.restricted.rawValue,
        ]
        if let severity = event.severity { context["severity"] = severity }
        if let section = units.section { context["sectionName"] = section }
        if let department = units.department { context["departmentName"] = department }
        return context
    }

    /// "2026-12-05 09:30 JST". Computed from the ward calendar's Tokyo day, not by a
    /// `DateFormatter`: a new formatter per message was a sixth of the notifier's CPU at a storm.
    static func localTime(_ date: Date) -> String {
        let day = CivilDate.inTokyo(date)
        let minuteOfDay = Int(date.timeIntervalSince(day.startInTokyo()).rounded(.down)) / 60
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(day.iso) \(two(minuteOfDay / 60)):\(two(minuteOfDay % 60)) JST"
    }

    // MARK: Acknowledgement

    /// Records the case as acknowledged, marks its sent notifications acknowledged and stops
    /// their reminders (issue #5 item 8).
    func acknowledge(_ event: NotifierEvent, now: Date, on connection: PostgresConnection, logger: Logger) throws {
        var refs = [event.caseNumber, event.intakeID].compactMap { $0 }
        if let caseNumber = event.caseNumber {
            refs += try connection.query(
                "SELECT DISTINCT intake_id FROM \(unescaped: ledger.table("events")) WHERE case_number = \(caseNumber) AND intake_id IS NOT NULL"
            ).rows.map { try $0.decode("intake_id", as: String.self) }
        }
        guard !refs.isEmpty else { return }
        let by = event.attributes["actor"] ?? event.attributes["personId"]
        for ref in Set(refs) {
            _ = try connection.query(
                "INSERT INTO \(unescaped: ledger.table("acknowledged_cases")) (case_ref, acknowledged_by, acknowledged_at) VALUES (\(ref), \(by), \(now)) ON CONFLICT DO NOTHING"
            )
        }
        let acknowledged = try connection.query(
            """
            UPDATE \(unescaped: ledger.table("notifications")) SET state = 'acknowledged', acknowledged_at = \(now), updated_at = \(now)
            WHERE state = 'sent' AND event_key IN (
                SELECT event_key FROM \(unescaped: ledger.table("events")) WHERE case_number = ANY(\(refs)::text[]) OR intake_id = ANY(\(refs)::text[]))
            RETURNING id
            """
        ).rows.map { try $0.decode("id", as: Int64.self) }
        try ledger.log(acknowledged, state: "acknowledged", attempt: 0, detail: "case acknowledged\(by.map { " by \($0)" } ?? "")", at: now, on: connection)
        for id in acknowledged {
            try DurableTimers.cancel(kind: Self.repeatTimer, key: String(id), on: connection, schema: schema)
        }
        let cancelled = try connection.query(
            """
            UPDATE \(unescaped: ledger.table("notifications")) SET state = 'cancelled', updated_at = \(now)
            WHERE state = 'queued' AND sequence > 0 AND event_key IN (
                SELECT event_key FROM \(unescaped: ledger.table("events")) WHERE case_number = ANY(\(refs)::text[]) OR intake_id = ANY(\(refs)::text[]))
            RETURNING id
            """
        ).rows.map { try $0.decode("id", as: Int64.self) }
        try ledger.log(cancelled, state: "cancelled", attempt: 0, detail: "reminder not needed: case acknowledged", at: now, on: connection)
        for id in cancelled {
            try DurableTimers.cancel(kind: Self.deliverTimer, key: String(id), on: connection, schema: schema)
        }
        logger.info("case acknowledged; reminders stopped", metadata: ["notifier.case": "\(refs.first ?? "")", "notifier.acknowledged": "\(acknowledged.count)"])
    }

    /// `incident.case-merged.v1` (issue #16): the merged case's reports belong to the survivor
    /// now, whose own notifications go on reminding; the merged case's reminders stop as an
    /// acknowledgement would stop them, with a log line naming the survivor. Its rows keep their
    /// state (the case was merged, not acknowledged), but none of them repeats again.
    func caseMerged(_ event: NotifierEvent, now: Date, on connection: PostgresConnection, logger: Logger) throws {
        guard let caseNumber = event.caseNumber else { return }
        let survivor = event.attributes["survivorCaseNumber"] ?? "?"
        let events = ledger.table("events")
        let refs = [caseNumber] + (try connection.query(
            "SELECT DISTINCT intake_id FROM \(unescaped: events) WHERE case_number = \(caseNumber) AND intake_id IS NOT NULL"
        ).rows.map { try $0.decode("intake_id", as: String.self) })
        // repeats_left = 0 also keeps a row that is being sent right now from scheduling its
        // first reminder when the send is recorded.
        let stopped = try connection.query(
            """
            UPDATE \(unescaped: ledger.table("notifications")) SET repeats_left = 0,
                state = CASE WHEN state = 'queued' AND sequence > 0 THEN 'cancelled' ELSE state END, updated_at = \(now)
            WHERE state IN ('queued', 'sending', 'sent')
                AND ((repeats_left > 0 AND repeat_interval_s IS NOT NULL) OR (state = 'queued' AND sequence > 0)) AND event_key IN (
                SELECT event_key FROM \(unescaped: events) WHERE case_number = ANY(\(refs)::text[]) OR intake_id = ANY(\(refs)::text[]))
            RETURNING id, state
            """
        ).rows.map { (id: try $0.decode("id", as: Int64.self), state: try $0.decode("state", as: String.self)) }
        guard !stopped.isEmpty else { return }
        try ledger.log(
            stopped.map { row in
                NotificationLedger.LogEntry(
                    notificationID: row.id, state: row.state, attempt: 0,
                    detail: row.state == "cancelled"
                        ? "reminder not needed: case \(caseNumber) merged into \(survivor)" : "reminders stopped: case \(caseNumber) merged into \(survivor)")
            }, at: now, on: connection)
        let ids = stopped.map { String($0.id) }
        _ = try DurableTimers.cancel(kind: Self.repeatTimer, keys: ids, on: connection, schema: schema)
        _ = try DurableTimers.cancel(kind: Self.deliverTimer, keys: stopped.filter { $0.state == "cancelled" }.map { String($0.id) }, on: connection, schema: schema)
        logger.info(
            "case merged; its reminders stopped",
            metadata: ["notifier.case": "\(caseNumber)", "notifier.survivor": "\(survivor)", "notifier.stopped": "\(stopped.count)"])
    }

    // MARK: Timers

    /// `notifier.deliver`: hands a queued row to the send worker.
    func fireDeliver(_ timer: DurableTimer, context: inout TransactionContext) throws {
        guard let id = Int64(timer.key), let record = try ledger.lockedRecord(id: id, on: context.connection), record.state == "queued" else { return }
        try markSending(id, attempt: record.attempts + 1, now: context.now, on: context.connection)
    }

    private func markSending(_ id: Int64, attempt: Int, now: Date, on connection: PostgresConnection) throws {
        _ = try connection.query(
            """
            UPDATE \(unescaped: ledger.table("notifications"))
            SET state = 'sending', attempt_id = \(UUID()), lease_until = NULL, updated_at = \(now) WHERE id = \(id)
            """
        )
        try ledger.log(id, state: "sending", attempt: attempt, detail: "handed to the send worker", at: now, on: connection)
    }

    /// How many of a group's latest events a summary lists (`items`); `more` counts the rest.
    static let summaryItems = 20

    /// `notifier.group`: the group's queued rows go out as one message.
    func fireGroup(_ timer: DurableTimer, context: inout TransactionContext) throws {
        guard let groupID = Int64(timer.key) else { return }
        let connection = context.connection
        let now = context.now
        // The group row first: a consumer that has locked the group (after inserting its rows)
        // holds it until it commits, so the rows read next include its rows. One that has
        // inserted but not yet locked finds the group no longer waiting once this commits, and
        // starts it again. Read the other way round, rows committed between the read and this
        // update were left queued in a group no longer waiting, with no timer.
        _ = try connection.query(
            "UPDATE \(unescaped: ledger.table("groups")) SET waiting = false, flush_at = NULL, last_flush_at = \(now) WHERE id = \(groupID)"
        )
        let rows = try connection.query(
            """
            SELECT id, event_key, template, subject, body, language, recipient_name, attempts, ack_link FROM \(unescaped: ledger.table("notifications"))
            WHERE group_id = \(groupID) AND state = 'queued' ORDER BY id FOR UPDATE
            """
        ).rows
        guard let leader = rows.first else { return }
        let leaderID: Int64 = try leader.decode("id")
        let template: String = try leader.decode("template")
        let summarised = templates.has("\(template).group")
        if rows.count == 1, summarised, try leader.decode("body", as: String.self).isEmpty {
            // Alone in its group, a row written without a message of its own (``plan``) goes out
            // with the message it would have had: one new case with its acknowledgement link.
            if let record = try ledger.record(id: leaderID, on: connection), let recipient = try recipientOf(record, on: connection),
                let event = try ledger.eventContext(record.eventKey, on: connection)
            {
                let message = try render(
                    event, template: template, recipient: recipient, sequence: 0, onBehalfOfName: nil,
                    acknowledgementLink: try leader.decode("ack_link", as: Bool.self), on: connection)
                _ = try connection.query(
                    "UPDATE \(unescaped: ledger.table("notifications")) SET subject = \(message.subject), body = \(message.body) WHERE id = \(leaderID)")
                try markSending(leaderID, attempt: try leader.decode("attempts", as: Int.self) + 1, now: now, on: connection)
                return
            }
        }
        // A summary template stands for the whole group (and for a row alone whose recipient
        // left the directory): its rows were written without a message of their own.
        if rows.count > 1 || summarised {
            let language = Organisation.Language(rawValue: try leader.decode("language")) ?? .ja
            let recipientName: String = try leader.decode("recipient_name")
            let message: RenderedMessage
            if summarised, let last = rows.last, let event = try ledger.eventContext(try last.decode("event_key"), on: connection) {
                // Issue #16: a storm of updates to one case is one short summary drawn from the
                // latest event (the case's count, first and last seen, severity now) and the
                // number of things it stands for, not every body one after the other; a burst
                // of new cases lists the latest of them (`items`).
                var context = Self.templateContext(
                    event, recipientName: recipientName, units: try unitNames(sectionCode: event.sectionCode, english: language == .en, on: connection))
                context["count"] = try ledger.occurrences(rows: rows.map { try $0.decode("id") }, on: connection)
                context["items"] = try ledger.latestEventContexts(Array(rows.suffix(Self.summaryItems)).map { try $0.decode("event_key") }, on: connection)
                context["more"] = max(0, rows.count - Self.summaryItems)
                message = try templates.render("\(template).group", language: language, context: context)
            } else {
                let items: [[String: Any]] = try rows.map { ["subject": try $0.decode("subject", as: String.self), "body": try $0.decode("body", as: String.self)] }
                message = try templates.render("_group", language: language, context: ["count": rows.count, "items": items, "recipientName": recipientName])
            }
            _ = try connection.query(
                "UPDATE \(unescaped: ledger.table("notifications")) SET subject = \(message.subject), body = \(message.body) WHERE id = \(leaderID)"
            )
            // One statement and one log batch for the followers, however big the storm was. A
            // follower written without a message of its own takes the group's subject.
            let followers: [Int64] = try rows.dropFirst().map { try $0.decode("id") }
            if !followers.isEmpty {
                _ = try connection.query(
                    """
                    UPDATE \(unescaped: ledger.table("notifications")) SET state = 'grouped', leader_id = \(leaderID), updated_at = \(now),
                        subject = CASE WHEN subject = '' THEN \(message.subject) ELSE subject END
                    WHERE id = ANY(\(followers)::bigint[])
                    """
                )
                try ledger.log(followers, state: "grouped", attempt: 0, detail: "goes out with notification \(leaderID)", at: now, on: connection)
            }
        }
        try markSending(leaderID, attempt: try leader.decode("attempts", as: Int.self) + 1, now: now, on: connection)
    }

    /// `notifier.repeat`: a reminder while the case is not acknowledged (issue #5 item 5).
    func fireRepeat(_ timer: DurableTimer, context: inout TransactionContext) throws {
        let connection = context.connection
        guard let id = Int64(timer.key), let record = try ledger.record(id: id, on: connection), record.state == "sent",
            let event = try ledger.eventContext(record.eventKey, on: connection)
        else { return }
        let refs = [event.caseNumber, event.intakeID].compactMap { $0 }
        guard try !ledger.isAcknowledged(caseRefs: refs, on: connection) else { return }
        let row = try connection.query(
            "SELECT repeats_left, channel_index, template, ack_link FROM \(unescaped: ledger.table("notifications")) WHERE id = \(id)"
        ).rows.first
        guard let row, try row.decode("repeats_left", as: Int.self) > 0 else { return }
        guard let recipient = try recipientOf(record, on: connection) else { return }
        var route = routing.allRoutes.first { $0.path == record.route } ?? routing.root
        route.template = try row.decode("template", as: String.self)
        route.acknowledge = try row.decode("ack_link", as: Bool.self)
        route.maxRepeats = record.sequence + (try row.decode("repeats_left", as: Int.self))
        let index = min(try row.decode("channel_index", as: Int.self), recipient.channels.count - 1)
        var pinned = recipient
        pinned.channels = [recipient.channels[max(0, index)]]
        try enqueue(
            event, route: route, recipient: pinned, channelIndex: 0, reason: "reminder", onBehalfOf: record.onBehalfOf,
            sequence: record.sequence + 1, silences: try ledger.activeSilences(now: context.now, on: connection),
            now: context.now, on: connection, logger: context.logger)
    }

    /// The recipient a row was for, as the directory (or routing file) knows them now; the row's
    /// own channel when the person or endpoint is gone.
    func recipientOf(_ record: NotificationRecord, on connection: PostgresConnection) throws -> NotifierRecipient? {
        if record.recipient.hasPrefix("person:"), let person = try directory.person(id: String(record.recipient.dropFirst(7)), on: connection) {
            return NotifierRecipient(person: person)
        }
        if record.recipient.hasPrefix("endpoint:") {
            let name = String(record.recipient.dropFirst(9))
            if let endpoint = routing.receivers.values.flatMap(\.endpoints).first(where: { $0.name == name }) {
                return NotifierRecipient(endpoint: endpoint)
            }
        }
        return nil
    }

    // MARK: Sending

    /// A row leased for sending.
    public struct Claim: Sendable {
        public var attemptID: UUID
        public var notification: OutgoingNotification
    }

    /// Leases up to `limit` rows that are ready to send (short transaction; the I/O follows outside it).
    func claim(limit: Int, now: Date, on connection: PostgresConnection) throws -> [Claim] {
        let table = ledger.table("notifications")
        let rows = try connection.query(
            """
            UPDATE \(unescaped: table) n SET lease_until = \(now.addingTimeInterval(settings.lease.secondsValue)), updated_at = \(now)
            WHERE n.id IN (
                SELECT id FROM \(unescaped: table)
                WHERE state = 'sending' AND (lease_until IS NULL OR lease_until < \(now))
                ORDER BY id LIMIT \(limit) FOR UPDATE SKIP LOCKED)
            RETURNING n.id, n.attempt_id, n.recipient, n.recipient_name, n.channel_kind, n.channel_address, n.channel_format,
                      n.language, n.subject, n.body,
                      (SELECT e.event_type FROM \(unescaped: ledger.table("events")) e WHERE e.event_key = n.event_key) AS event_type
            """
        ).rows
        return try rows.map { row in
            let recipient: String = try row.decode("recipient")
            let kind = Organisation.Channel.Kind(rawValue: try row.decode("channel_kind")) ?? .email
            let channel = Organisation.Channel(
                kind: kind, address: try row.decode("channel_address"),
                format: try row.decode("channel_format", as: String?.self).flatMap(Organisation.Channel.Format.init(rawValue:)))
            var secret: String?
            if kind == .webhook {
                let endpoint = recipient.hasPrefix("endpoint:")
                    ? routing.receivers.values.flatMap(\.endpoints).first { $0.name == String(recipient.dropFirst(9)) } : nil
                secret = endpoint?.secretEnv.flatMap { settings.environment[$0] } ?? settings.defaultWebhookSecret
            }
            return Claim(
                attemptID: try row.decode("attempt_id"),
                notification: OutgoingNotification(
                    id: try row.decode("id"), channel: channel, recipientName: try row.decode("recipient_name"),
                    language: Organisation.Language(rawValue: try row.decode("language")) ?? .ja, eventType: try row.decode("event_type"),
                    message: RenderedMessage(subject: try row.decode("subject"), body: try row.decode("body")), webhookSecret: secret))
        }
    }

    /// Records the successful sends of one round of the worker in a few statements whatever
    /// their number: the rows, their grouped followers, one delivery-log batch, the reminders.
    /// A stale attempt (another worker took the lease over) changes nothing.
    func recordSent(_ claims: [Claim], now: Date, on connection: PostgresConnection, logger: Logger) throws {
        guard !claims.isEmpty else { return }
        let table = ledger.table("notifications")
        let rows = try connection.query(
            """
            UPDATE \(unescaped: table) n SET state = 'sent', sent_at = \(now), attempts = n.attempts + 1, lease_until = NULL,
                last_error = NULL, last_error_code = NULL, updated_at = \(now)
            FROM unnest(\(claims.map(\.notification.id))::bigint[], \(claims.map(\.attemptID))::uuid[]) AS v (id, attempt_id)
            WHERE n.id = v.id AND n.attempt_id = v.attempt_id AND n.state = 'sending'
            RETURNING n.id, n.attempts, n.repeat_interval_s, n.repeats_left, n.event_key
            """
        ).rows
        var recorded: [Int64: (attempts: Int, interval: Int?, repeatsLeft: Int, eventKey: String)] = [:]
        for row in rows {
            recorded[try row.decode("id")] = (
                try row.decode("attempts"), try row.decode("repeat_interval_s"), try row.decode("repeats_left"), try row.decode("event_key")
            )
        }
        for claim in claims where recorded[claim.notification.id] == nil {
            logger.info("send outcome arrived for a superseded attempt; ignored", metadata: ["notifier.notification": "\(claim.notification.id)"])
        }
        guard !recorded.isEmpty else { return }
        var entries = claims.compactMap { claim in
            recorded[claim.notification.id].map {
                NotificationLedger.LogEntry(
                    notificationID: claim.notification.id, state: "sent", attempt: $0.attempts, detail: "delivered by \(claim.notification.channel.kind.rawValue)")
            }
        }
        let leaders = Array(recorded.keys)
        let followers = try connection.query(
            "UPDATE \(unescaped: table) SET state = 'sent', sent_at = \(now), updated_at = \(now) WHERE leader_id = ANY(\(leaders)::bigint[]) AND state = 'grouped' RETURNING id, leader_id"
        ).rows
        for follower in followers {
            let leader: Int64 = try follower.decode("leader_id")
            entries.append(.init(notificationID: try follower.decode("id"), state: "sent", attempt: 0, detail: "delivered inside notification \(leader)"))
        }
        try scheduleReminders(recorded, now: now, on: connection)
        // The delivery log last: its chain's lock is held from here to the commit.
        try ledger.log(entries, at: now, on: connection)
    }

    /// Reminders of rows just sent whose route repeats, while their case is not acknowledged.
    private func scheduleReminders(
        _ recorded: [Int64: (attempts: Int, interval: Int?, repeatsLeft: Int, eventKey: String)], now: Date, on connection: PostgresConnection
    ) throws {
        let repeating = recorded.filter { $0.value.interval != nil && $0.value.repeatsLeft > 0 }
        guard !repeating.isEmpty else { return }
        let events = ledger.table("events")
        var refsByEvent: [String: [String]] = [:]
        for row in try connection.query(
            "SELECT event_key, case_number, intake_id FROM \(unescaped: events) WHERE event_key = ANY(\(Array(Set(repeating.values.map(\.eventKey))))::text[])"
        ).rows {
            refsByEvent[try row.decode("event_key")] = [try row.decode("case_number", as: String?.self), try row.decode("intake_id", as: String?.self)].compactMap { $0 }
        }
        let allRefs = Array(Set(refsByEvent.values.joined()))
        var acknowledged = Set<String>()
        if !allRefs.isEmpty {
            acknowledged = Set(try connection.query(
                "SELECT case_ref FROM \(unescaped: ledger.table("acknowledged_cases")) WHERE case_ref = ANY(\(allRefs)::text[])"
            ).rows.map { try $0.decode("case_ref", as: String.self) })
        }
        var keys: [String] = []
        var dueAts: [Date] = []
        for (id, row) in repeating.sorted(by: { $0.key < $1.key }) {
            guard let refs = refsByEvent[row.eventKey], !refs.isEmpty, !refs.contains(where: acknowledged.contains), let interval = row.interval else { continue }
            keys.append(String(id))
            dueAts.append(now.addingTimeInterval(TimeInterval(interval)))
        }
        try DurableTimers.schedule(kind: Self.repeatTimer, keys: keys, at: dueAts, on: connection, schema: schema)
    }

    /// Records a round's failed sends: a transient failure retries with back-off and jitter;
    /// the last retry or a permanent failure falls back (next channel, deputy, superior) and is
    /// announced as `notification.failed.v1`. Returns the failures to announce. The retries,
    /// the common case (a relay or endpoint down for a while), take a few statements however
    /// many; a stale attempt (another worker took the lease over) changes nothing.
    func recordFailed(_ failures: [(claim: Claim, failure: DeliveryFailure)], now: Date, on connection: PostgresConnection, logger: Logger) throws -> [FailureNotice] {
        guard !failures.isEmpty else { return [] }
        let table = ledger.table("notifications")
        var attemptsByID: [Int64: Int] = [:]
        for row in try connection.query(
            """
            UPDATE \(unescaped: table) n SET attempts = n.attempts + 1, lease_until = NULL, last_error_code = v.code, last_error = v.detail,
                updated_at = \(now)
            FROM unnest(\(failures.map(\.claim.notification.id))::bigint[], \(failures.map(\.claim.attemptID))::uuid[],
                        \(failures.map(\.failure.code))::text[], \(failures.map { String($0.failure.detail.prefix(1000)) })::text[])
                AS v (id, attempt_id, code, detail)
            WHERE n.id = v.id AND n.attempt_id = v.attempt_id AND n.state = 'sending'
            RETURNING n.id, n.attempts
            """
        ).rows {
            attemptsByID[try row.decode("id")] = try row.decode("attempts")
        }
        var retries: [(id: Int64, attempts: Int, code: String, dueAt: Date)] = []
        var givenUp: [(id: Int64, attempts: Int, failure: DeliveryFailure)] = []
        for (claim, failure) in failures {
            guard let attempts = attemptsByID[claim.notification.id] else { continue }
            if failure.isTransient, attempts < settings.maxAttempts {
                let delay = max(1, backoff.delay(attempt: attempts - 1).secondsValue)
                retries.append((claim.notification.id, attempts, failure.code, now.addingTimeInterval(delay)))
                logger.warning(
                    "send failed; retrying", metadata: ["notifier.notification": "\(claim.notification.id)", "error.code": "\(failure.code)", "notifier.attempt": "\(attempts)"])
            } else {
                givenUp.append((claim.notification.id, attempts, failure))
            }
        }
        if !retries.isEmpty {
            _ = try connection.query(
                "UPDATE \(unescaped: table) SET state = 'queued', updated_at = \(now) WHERE id = ANY(\(retries.map(\.id))::bigint[])")
            try DurableTimers.schedule(kind: Self.deliverTimer, keys: retries.map { String($0.id) }, at: retries.map(\.dueAt), on: connection, schema: schema)
            try ledger.log(
                retries.map { retry in
                    NotificationLedger.LogEntry(
                        notificationID: retry.id, state: "queued", attempt: retry.attempts,
                        detail: "retry in \(Int(retry.dueAt.timeIntervalSince(now))) s after \(retry.code)")
                }, at: now, on: connection)
        }
        var messages: [FailureNotice] = []
        for (id, attempts, failure) in givenUp {
            try ledger.setState(id, "failed", now: now, on: connection)
            try ledger.log(id, state: "failed", attempt: attempts, detail: "\(failure.code): \(failure.detail.prefix(300))", at: now, on: connection)
            logger.error("send failed for good; falling back", metadata: ["notifier.notification": "\(id)", "error.code": "\(failure.code)", "error": "\(failure.detail)"])
            messages += try fallback(id: id, errorCode: failure.code, attempts: attempts, now: now, on: connection, logger: logger)
            let followers = try connection.query(
                "UPDATE \(unescaped: table) SET state = 'failed', updated_at = \(now), last_error_code = \(failure.code) WHERE leader_id = \(id) AND state = 'grouped' RETURNING id"
            ).rows.map { try $0.decode("id", as: Int64.self) }
            for follower in followers {
                try ledger.log(follower, state: "failed", attempt: 0, detail: "its group's message \(id) failed", at: now, on: connection)
                messages += try fallback(id: follower, errorCode: failure.code, attempts: attempts, now: now, on: connection, logger: logger)
            }
        }
        return messages
    }

    /// Next channel, then deputy, then superior; always announced.
    func fallback(id: Int64, errorCode: String, attempts: Int, now: Date, on connection: PostgresConnection, logger: Logger) throws -> [FailureNotice] {
        guard let record = try ledger.record(id: id, on: connection), let event = try ledger.eventContext(record.eventKey, on: connection) else { return [] }
        let channelIndex = try connection.query("SELECT channel_index FROM \(unescaped: ledger.table("notifications")) WHERE id = \(id)").rows.first?
            .decode("channel_index", as: Int.self) ?? 0
        var route = routing.allRoutes.first { $0.path == record.route } ?? routing.root
        route.template = try connection.query("SELECT template FROM \(unescaped: ledger.table("notifications")) WHERE id = \(id)").rows.first?
            .decode("template", as: String.self)
        var kind = NotificationFailed.Fallback.none
        var to: String?
        if let recipient = try recipientOf(record, on: connection) {
            if channelIndex + 1 < recipient.channels.count {
                if try enqueue(
                    event, route: route, recipient: recipient, channelIndex: channelIndex + 1, reason: "next-channel",
                    onBehalfOf: record.onBehalfOf, sequence: record.sequence, silences: [], now: now, on: connection, logger: logger)
                    != nil
                {
                    kind = .nextChannel
                    to = recipient.personID
                }
            }
            if kind == .none, let personID = recipient.personID {
                (kind, to) = try escalate(personID: personID, event: event, route: route, record: record, now: now, on: connection, logger: logger)
            }
        }
        if kind == .none {
            logger.critical(
                "a recipient cannot be reached on any channel, nor their deputy or superior",
                metadata: ["notifier.notification": "\(id)", "notifier.recipient": "\(record.recipient)", "notifier.event": "\(record.eventKey)"])
        }
        try ledger.log(id, state: "failed", attempt: attempts, detail: "fallback: \(kind.rawValue)\(to.map { " to \($0)" } ?? "")", at: now, on: connection)
        // A failure notice about a failure notice is logged, not announced again: no loops.
        guard event.typeKey != MessageTypes.notificationFailed.routingKey else { return [] }
        let failed = NotificationFailed(
            notificationID: id, eventType: event.type, eventSource: event.source, eventID: event.id,
            recipientID: record.recipient.hasPrefix("person:") ? String(record.recipient.dropFirst(7)) : nil,
            channel: record.channelKind, attempts: attempts, errorCode: errorCode, fallback: kind, fallbackRecipientID: to, failedAt: now)
        return [FailureNotice(failed: failed, cause: Causation(messageID: event.id, correlationID: event.correlationID ?? event.id, traceParent: nil))]
    }

    private func escalate(
        personID: String, event: StoredEvent, route: NotificationRouting.Route, record: NotificationRecord, now: Date,
        on connection: PostgresConnection, logger: Logger
    ) throws -> (NotificationFailed.Fallback, String?) {
        let onBehalfOf = record.onBehalfOf ?? personID
        if let deputyID = try directory.person(id: personID, on: connection)?.deputyID, let deputy = try directory.person(id: deputyID, on: connection),
            !deputy.deliveryChannels.isEmpty
        {
            try enqueue(
                event, route: route, recipient: NotifierRecipient(person: deputy), channelIndex: 0, reason: "deputy", onBehalfOf: onBehalfOf,
                sequence: record.sequence, silences: [], now: now, on: connection, logger: logger)
            return (.deputy, deputy.id)
        }
        let superiors = try resolver.superiors(of: onBehalfOf, sectionCode: event.sectionCode, on: connection).filter { !$0.deliveryChannels.isEmpty }
        for superior in superiors {
            try enqueue(
                event, route: route, recipient: NotifierRecipient(person: superior), channelIndex: 0, reason: "superior", onBehalfOf: onBehalfOf,
                sequence: record.sequence, silences: [], now: now, on: connection, logger: logger)
        }
        return superiors.isEmpty ? (.none, nil) : (.superior, superiors[0].id)
    }

    /// A recipient without any channel: recorded as a failed row, then their deputy or superior
    /// is told instead, and it is announced.
    func unreachable(
        _ recipient: NotifierRecipient, event: StoredEvent, route: NotificationRouting.Route, now: Date, on connection: PostgresConnection,
        logger: Logger
    ) throws -> [FailureNotice] {
        let result = try connection.query(
            """
            INSERT INTO \(unescaped: ledger.table("notifications"))
                (event_key, route, recipient, recipient_name, reason, channel_kind, channel_address, language, state, template, subject,
                 body, last_error_code, last_error, created_at, updated_at)
            VALUES (\(event.key), \(route.path), \(recipient.key), \(recipient.name), 'route', 'email', '', \(recipient.language.rawValue),
                    'failed', \(route.template ?? event.typeKey), '', '', 'no-channel', 'the directory lists no channel for this person',
                    \(now), \(now))
            ON CONFLICT DO NOTHING
            RETURNING id
            """
        )
        guard let id = try result.rows.first?.decode("id", as: Int64.self) else { return [] }
        try ledger.log(id, state: "failed", attempt: 0, detail: "no-channel: the directory lists no channel", at: now, on: connection)
        return try fallback(id: id, errorCode: "no-channel", attempts: 0, now: now, on: connection, logger: logger)
    }
}

/// A failed notification to announce as `notification.failed.v1`, in the conversation of the
/// event that could not be told.
struct FailureNotice {
    var failed: NotificationFailed
    var cause: Causation
}

extension TransactionContext {
    mutating func announce(_ notices: [FailureNotice]) throws {
        for notice in notices { try emit(notice.failed, time: notice.failed.failedAt, causedBy: notice.cause) }
    }
}
