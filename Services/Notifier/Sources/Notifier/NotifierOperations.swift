import Contracts
public import Foundation
public import Postgres
import PostgresMigrations
public import ServiceRuntime

/// What operators do with the ledger and silences (issue #5 item 9): the functions behind the
/// HTTP API and `isms notifications|silences`. Each runs inside the caller's transaction.
public struct NotifierOperations: Sendable {
    public let schema: String
    let ledger: NotificationLedger

    public init(schema: String = NotifierService.schema) {
        self.schema = schema
        self.ledger = NotificationLedger(schema: schema)
    }

    /// Ledger rows, newest first, optionally filtered by state, event id, recipient and the
    /// case the event is about (its `caseNumber`).
    public func notifications(
        state: String? = nil, eventID: String? = nil, recipient: String? = nil, caseNumber: String? = nil, limit: Int = 50, before: Int64? = nil,
        on connection: PostgresConnection
    ) throws -> [NotificationRecord] {
        try connection.query(
            """
            SELECT \(unescaped: NotificationRecord.columns) FROM \(unescaped: ledger.table("notifications")) n
            JOIN \(unescaped: ledger.table("events")) e USING (event_key)
            WHERE (\(state)::text IS NULL OR n.state = \(state))
              AND (\(eventID)::text IS NULL OR e.event_id = \(eventID))
              AND (\(recipient)::text IS NULL OR n.recipient = \(recipient) OR n.recipient = 'person:' || \(recipient))
              AND (\(caseNumber)::text IS NULL OR e.case_number = \(caseNumber))
              AND (\(before)::bigint IS NULL OR n.id < \(before))
            ORDER BY n.id DESC LIMIT \(max(1, min(limit, 1001)))
            """
        ).rows.map(NotificationRecord.init(row:))
    }

    /// One row and its delivery log.
    public func notification(id: Int64, on connection: PostgresConnection) throws -> (record: NotificationRecord, log: [DeliveryLogEntry])? {
        guard let record = try ledger.record(id: id, on: connection) else { return nil }
        let log = try connection.query(
            "SELECT seq, notification_id, state, attempt, detail, at, hash FROM \(unescaped: ledger.table("delivery_log")) WHERE notification_id = \(id) ORDER BY seq"
        ).rows.map { row in
            DeliveryLogEntry(
                seq: try row.decode("seq"), notificationID: try row.decode("notification_id"), state: try row.decode("state"),
                attempt: try row.decode("attempt"), detail: try row.decode("detail"), at: try row.decode("at"), hash: try row.decode("hash"))
        }
        return (record, log)
    }

    /// Sends a failed, silenced or cancelled row again now, with fresh attempts.
    public func retry(id: Int64, by who: String, now: Date = .now, on connection: PostgresConnection) throws -> NotificationRecord {
        guard let record = try ledger.lockedRecord(id: id, on: connection) else { throw NotifierError(.notFound, detail: "no notification \(id)") }
        guard ["failed", "silenced", "cancelled"].contains(record.state) else {
            throw NotifierError(.invalidState, detail: "notification \(id) is \(record.state); only failed, silenced or cancelled ones are retried")
        }
        guard !record.channelAddress.isEmpty else { throw NotifierError(.invalidState, detail: "notification \(id) has no channel to retry") }
        _ = try connection.query(
            "UPDATE \(unescaped: ledger.table("notifications")) SET state = 'queued', attempts = 0, updated_at = \(now), leader_id = NULL WHERE id = \(id)"
        )
        try ledger.log(id, state: "queued", attempt: 0, detail: "retry requested by \(who)", at: now, on: connection)
        try DurableTimers.schedule(kind: NotifierEngine.deliverTimer, key: String(id), at: now, on: connection, schema: schema)
        return try ledger.record(id: id, on: connection)!
    }

    /// Creates a silence; severity-1 events are muted only with `includeSeverity1`.
    public func addSilence(
        matchers: [NotificationRouting.Matcher], startsAt: Date? = nil, endsAt: Date, reason: String, createdBy: String, includeSeverity1: Bool = false,
        now: Date = .now, on connection: PostgresConnection
    ) throws -> NotifierSilence {
        guard !matchers.isEmpty else { throw NotifierError(.invalidRequest, detail: "a silence needs at least one matcher") }
        guard endsAt > now else { throw NotifierError(.invalidRequest, detail: "a silence must end in the future") }
        guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else { throw NotifierError(.invalidRequest, detail: "a silence needs a reason") }
        let id = UUID()
        // Stored to the microsecond: floor to the millisecond so "now" is already inside it.
        let starts = Date(timeIntervalSince1970: ((startsAt ?? now).timeIntervalSince1970 * 1000).rounded(.down) / 1000)
        let row = try connection.query(
            """
            INSERT INTO \(unescaped: ledger.table("silences")) (id, matchers, starts_at, ends_at, reason, created_by, include_severity1, created_at)
            VALUES (\(id), \(PostgresJSON(matchers)), \(starts), \(endsAt), \(reason), \(createdBy), \(includeSeverity1), \(now))
            RETURNING *
            """
        ).rows.first!
        return try NotifierSilence(row: row)
    }

    /// Silences, newest first; expired and ended ones only with `includeExpired`; at most
    /// `limit`, after (created, id) `after`.
    public func silences(
        includeExpired: Bool = false, now: Date = .now, limit: Int? = nil, after: (createdAt: Date, id: UUID)? = nil, on connection: PostgresConnection
    ) throws -> [NotifierSilence] {
        try connection.query(
            """
            SELECT * FROM \(unescaped: ledger.table("silences"))
            WHERE (\(includeExpired) OR (expired_at IS NULL AND ends_at > \(now)))
              AND (\(after?.createdAt)::timestamptz IS NULL OR (created_at, id) < (\(after?.createdAt)::timestamptz, \(after?.id)::uuid))
            ORDER BY created_at DESC, id DESC LIMIT \(limit)
            """
        ).rows.map(NotifierSilence.init(row:))
    }

    /// Ends a silence now; the row stays as the record.
    public func expireSilence(id: UUID, by who: String, now: Date = .now, on connection: PostgresConnection) throws -> NotifierSilence {
        guard
            let row = try connection.query(
                "UPDATE \(unescaped: ledger.table("silences")) SET expired_at = \(now), expired_by = \(who) WHERE id = \(id) AND expired_at IS NULL RETURNING *"
            ).rows.first
        else { throw NotifierError(.notFound, detail: "no active silence \(id.lowercasedString)") }
        return try NotifierSilence(row: row)
    }

    /// Checks the delivery log's hash chain with the shared ledger; returns the number of
    /// entries that fit and the first broken sequence number, if any.
    public func verifyDeliveryLog(on connection: PostgresConnection) throws -> (entries: Int, firstBroken: Int64?) {
        let result = try NotificationLedger.deliveryLog(schema: ledger.schema).verify(on: connection)
        return (result.rowsChecked, result.brokenRow?.seq)
    }

    /// The delivery log's chain in `schema` (`isms verify`).
    public static func deliveryLog(schema: String = NotifierService.schema) -> HashChainLedger {
        NotificationLedger.deliveryLog(schema: schema)
    }
}
