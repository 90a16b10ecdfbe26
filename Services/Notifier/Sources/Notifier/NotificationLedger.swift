import Contracts
public import Foundation
import Postgres
import PostgresMigrations
import ServiceRuntime

/// A delivery ledger row (issue #5 item 3), as operators see it.
public struct NotificationRecord: Sendable, Hashable, Codable {
    public var id: Int64
    public var eventKey: String
    public var eventType: String
    public var route: String
    /// `person:<id>` or `endpoint:<name>`.
    public var recipient: String
    public var recipientName: String
    /// The person this row stands in for (deputy or superior fallback).
    public var onBehalfOf: String?
    /// `route`, `next-channel`, `deputy`, `superior`, `reminder` or `retry`.
    public var reason: String
    public var channelKind: String
    public var channelAddress: String
    public var channelFormat: String?
    public var language: String
    /// 0 for the first notice, n for the n-th reminder.
    public var sequence: Int
    /// queued, sending, sent, failed, acknowledged, silenced, grouped (went out inside another
    /// row's message, `leaderID`) or cancelled.
    public var state: String
    public var groupID: Int64?
    public var leaderID: Int64?
    public var silenceID: UUID?
    public var subject: String
    public var body: String
    public var attempts: Int
    public var lastErrorCode: String?
    public var lastError: String?
    public var createdAt: Date
    public var updatedAt: Date
    public var sentAt: Date?
    public var acknowledgedAt: Date?

    enum CodingKeys: String, CodingKey {
        case id, eventKey, eventType, route, recipient, recipientName, onBehalfOf, reason, channelKind, channelAddress, channelFormat,
            language, sequence, state
        case groupID = "groupId"
        case leaderID = "leaderId"
        case silenceID = "silenceId"
        case subject, body, attempts, lastErrorCode, lastError, createdAt, updatedAt, sentAt, acknowledgedAt
    }

    static let columns = """
        n.id, n.event_key, e.event_type, n.route, n.recipient, n.recipient_name, n.on_behalf_of, n.reason, n.channel_kind,
        n.channel_address, n.channel_format, n.language, n.sequence, n.state, n.group_id, n.leader_id, n.silence_id, n.subject,
        n.body, n.attempts, n.last_error_code, n.last_error, n.created_at, n.updated_at, n.sent_at, n.acknowledged_at
        """

    init(row: PostgresRow) throws {
        id = try row.decode("id")
        eventKey = try row.decode("event_key")
        eventType = try row.decode("event_type")
        route = try row.decode("route")
        recipient = try row.decode("recipient")
        recipientName = try row.decode("recipient_name")
        onBehalfOf = try row.decode("on_behalf_of")
        reason = try row.decode("reason")
        channelKind = try row.decode("channel_kind")
        channelAddress = try row.decode("channel_address")
        channelFormat = try row.decode("channel_format")
        language = try row.decode("language")
        sequence = try row.decode("sequence")
        state = try row.decode("state")
        groupID = try row.decode("group_id")
        leaderID = try row.decode("leader_id")
        silenceID = try row.decode("silence_id")
        subject = try row.decode("subject")
        body = try row.decode("body")
        attempts = try row.decode("attempts")
        lastErrorCode = try row.decode("last_error_code")
        lastError = try row.decode("last_error")
        createdAt = try row.decode("created_at")
        updatedAt = try row.decode("updated_at")
        sentAt = try row.decode("sent_at")
        acknowledgedAt = try row.decode("acknowledged_at")
    }
}

/// One entry of the hash-chained delivery log.
public struct DeliveryLogEntry: Sendable, Hashable, Codable {
    public var seq: Int64
    public var notificationID: Int64
    public var state: String
    public var attempt: Int
    public var detail: String
    public var at: Date
    public var hash: String

    enum CodingKeys: String, CodingKey {
        case seq
        case notificationID = "notificationId"
        case state, attempt, detail, at, hash
    }
}

/// A silence (issue #5 item 5): matching notifications are recorded as silenced, not sent.
public struct NotifierSilence: Sendable, Hashable, Codable {
    public var id: UUID
    /// Matchers on event attributes, plus `recipient`, `channel` and `route`.
    public var matchers: [NotificationRouting.Matcher]
    public var startsAt: Date
    public var endsAt: Date
    public var reason: String
    public var createdBy: String
    /// Severity-1 events are muted only with this flag.
    public var includeSeverity1: Bool
    public var createdAt: Date
    public var expiredAt: Date?
    public var expiredBy: String?

    public func isActive(at now: Date) -> Bool { expiredAt == nil && startsAt <= now && now < endsAt }

    public func mutes(_ attributes: [String: String], severity1: Bool, at now: Date) -> Bool {
        isActive(at: now) && (!severity1 || includeSeverity1) && matchers.allSatisfy { $0.matches(attributes) }
    }

    init(row: PostgresRow) throws {
        id = try row.decode("id")
        matchers = try row.decode("matchers", as: PostgresJSON<[NotificationRouting.Matcher]>.self).value
        startsAt = try row.decode("starts_at")
        endsAt = try row.decode("ends_at")
        reason = try row.decode("reason")
        createdBy = try row.decode("created_by")
        includeSeverity1 = try row.decode("include_severity1")
        createdAt = try row.decode("created_at")
        expiredAt = try row.decode("expired_at")
        expiredBy = try row.decode("expired_by")
    }
}

/// The notifier's tables in one schema. Every call runs inside the caller's transaction.
struct NotificationLedger: Sendable {
    let schema: String

    func table(_ name: String) -> String { "\(Migrator.quoted(schema)).\(name)" }

    /// The delivery log's chain in `schema` (`isms verify` checks it too).
    static func deliveryLog(schema: String) -> HashChainLedger {
        HashChainLedger(
            name: "notification delivery log", schema: schema, table: "delivery_log",
            columns: [
                .init("notification_id", .integer), .init("state", .text), .init("attempt", .integer), .init("detail", .text), .init("at", .timestamp),
            ])
    }

    /// Appends to the hash-chained delivery log (brief §6) through the shared ledger.
    func log(_ notificationID: Int64, state: String, attempt: Int, detail: String, at: Date, on connection: PostgresConnection) throws {
        try log([notificationID], state: state, attempt: attempt, detail: detail, at: at, on: connection)
    }

    /// Appends the same change of many notifications (a group's followers, a case's reminders)
    /// as one batch of the shared ledger: three statements however many.
    func log(_ notificationIDs: [Int64], state: String, attempt: Int, detail: String, at: Date, on connection: PostgresConnection) throws {
        try Self.deliveryLog(schema: schema).append(
            notificationIDs.map { id -> [String: JSONValue] in
                ["notification_id": .integer(id), "state": .text(state), "attempt": .int(attempt), "detail": .text(detail), "at": .timestamp(at)]
            }, on: connection)
    }

    /// One delivery-log entry of a batch, when the rows of a batch differ in state or detail.
    struct LogEntry {
        var notificationID: Int64
        var state: String
        var attempt: Int
        var detail: String
    }

    /// Appends entries that differ per row (the consumer's batch: queued, silenced, handed to the
    /// worker) as one batch of the shared ledger.
    func log(_ entries: [LogEntry], at: Date, on connection: PostgresConnection) throws {
        try Self.deliveryLog(schema: schema).append(
            entries.map { entry -> [String: JSONValue] in
                [
                    "notification_id": .integer(entry.notificationID), "state": .text(entry.state), "attempt": .int(entry.attempt),
                    "detail": .text(entry.detail), "at": .timestamp(at),
                ]
            }, on: connection)
    }

    func record(id: Int64, on connection: PostgresConnection) throws -> NotificationRecord? {
        try connection.query(
            """
            SELECT \(unescaped: NotificationRecord.columns) FROM \(unescaped: table("notifications")) n
            JOIN \(unescaped: table("events")) e USING (event_key) WHERE n.id = \(id)
            """
        ).rows.first.map(NotificationRecord.init(row:))
    }

    func lockedRecord(id: Int64, on connection: PostgresConnection) throws -> NotificationRecord? {
        try connection.query(
            """
            SELECT \(unescaped: NotificationRecord.columns) FROM \(unescaped: table("notifications")) n
            JOIN \(unescaped: table("events")) e USING (event_key) WHERE n.id = \(id) FOR UPDATE OF n
            """
        ).rows.first.map(NotificationRecord.init(row:))
    }

    func setState(_ id: Int64, _ state: String, now: Date, on connection: PostgresConnection) throws {
        _ = try connection.query("UPDATE \(unescaped: table("notifications")) SET state = \(state), updated_at = \(now) WHERE id = \(id)")
    }

    func activeSilences(now: Date, on connection: PostgresConnection) throws -> [NotifierSilence] {
        try connection.query(
            """
            SELECT * FROM \(unescaped: table("silences"))
            WHERE expired_at IS NULL AND starts_at <= \(now) AND ends_at > \(now) ORDER BY created_at
            """
        ).rows.map(NotifierSilence.init(row:))
    }

    /// The stored template context of an event.
    func eventContext(_ eventKey: String, on connection: PostgresConnection) throws -> StoredEvent? {
        try connection.query(
            """
            SELECT event_key, event_type, event_source, event_id, event_time, classification, correlation_id, case_number, intake_id,
                   severity, section_code, attributes::text AS attributes, context::text AS context
            FROM \(unescaped: table("events")) WHERE event_key = \(eventKey)
            """
        ).rows.first.map(StoredEvent.init(row:))
    }

    /// The template data of the events with these keys, newest first, each once.
    func latestEventContexts(_ eventKeys: [String], on connection: PostgresConnection) throws -> [[String: Any]] {
        guard !eventKeys.isEmpty else { return [] }
        return try connection.query(
            """
            SELECT context::text AS context FROM \(unescaped: table("events"))
            WHERE event_key = ANY(\(eventKeys)::text[]) ORDER BY event_time DESC, event_key
            """
        ).rows.map { row in
            let object = try JSONValue(parsing: Array(try row.decode("context", as: String.self).utf8)).objectValue ?? [:]
            return object.mapValues(\.mustacheValue)
        }
    }

    /// How many things the events of these rows stand for: one each, except an
    /// `incident.report-attached` for a batch of reports (issue #16), which says how many joined.
    func occurrences(rows ids: [Int64], on connection: PostgresConnection) throws -> Int {
        try connection.query(
            """
            SELECT coalesce(sum(coalesce((e.attributes->>'reportsJoined')::integer, 1)), 0)::bigint
            FROM \(unescaped: table("notifications")) n JOIN \(unescaped: table("events")) e ON e.event_key = n.event_key
            WHERE n.id = ANY(\(ids)::bigint[])
            """
        ).rows.first?.decode(0, as: Int.self) ?? ids.count
    }

    func isAcknowledged(caseRefs: [String], on connection: PostgresConnection) throws -> Bool {
        guard !caseRefs.isEmpty else { return false }
        return try connection.query(
            "SELECT 1 FROM \(unescaped: table("acknowledged_cases")) WHERE case_ref = ANY(\(caseRefs)::text[])"
        ).rows.first != nil
    }
}

/// An event as stored for rendering later (reminders, fallbacks, groups).
struct StoredEvent: Sendable {
    var key: String
    var type: String
    var source: String
    var id: String
    var time: Date
    var classification: String
    var correlationID: String?
    var caseNumber: String?
    var intakeID: String?
    var severity: Int?
    var sectionCode: String?
    var attributes: [String: String]
    var context: [String: JSONValue]

    var caseRef: String? { caseNumber ?? intakeID }
    var typeKey: String { type.hasPrefix(MessageType.wireNamePrefix) ? String(type.dropFirst(MessageType.wireNamePrefix.count)) : type }

    init(event: NotifierEvent) {
        key = event.key
        type = event.type
        source = event.source
        id = event.id
        time = event.time
        classification = event.classification.rawValue
        correlationID = event.correlationID
        caseNumber = event.caseNumber
        intakeID = event.intakeID
        severity = event.severity
        sectionCode = event.sectionCode
        attributes = event.attributes
        context = event.context
    }

    init(row: PostgresRow) throws {
        key = try row.decode("event_key")
        type = try row.decode("event_type")
        source = try row.decode("event_source")
        id = try row.decode("event_id")
        time = try row.decode("event_time")
        classification = try row.decode("classification")
        correlationID = try row.decode("correlation_id")
        caseNumber = try row.decode("case_number")
        intakeID = try row.decode("intake_id")
        severity = try row.decode("severity")
        sectionCode = try row.decode("section_code")
        attributes = try JSONDecoder().decode([String: String].self, from: Data(try row.decode("attributes", as: String.self).utf8))
        let contextValue = try JSONValue(parsing: Array(try row.decode("context", as: String.self).utf8))
        context = contextValue.objectValue ?? [:]
    }
}
