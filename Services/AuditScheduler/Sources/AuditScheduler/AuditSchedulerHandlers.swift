import Contracts
import Foundation
import Logging
public import ServiceRuntime
import WardCalendar

/// Sends a duty's reminders, due and overdue notices and escalations (durable timer
/// ``AuditSchedulerStore/noticeTimerKind``, key = duty id).
public struct DutyNoticeTimer: TimerHandler {
    public let store: AuditSchedulerStore
    public var kind: String { AuditSchedulerStore.noticeTimerKind }

    public init(store: AuditSchedulerStore) {
        self.store = store
    }

    public func fire(_ timer: DurableTimer, context: inout TransactionContext) throws {
        guard let id = UUID(uuidString: timer.key) else {
            throw PermanentFailure(code: "bad-timer-key", reason: "duty notice timer key \(timer.key) is not a duty id")
        }
        try store.sendDueNotices(dutyID: id, context: &context)
    }
}

/// The daily sweep that materialises occurrences over the rolling horizon (durable timer
/// ``AuditSchedulerStore/materialiseTimerKind``); it reschedules itself for shortly after the
/// next midnight in Japan.
public struct MaterialiseTimer: TimerHandler {
    public let store: AuditSchedulerStore
    public var kind: String { AuditSchedulerStore.materialiseTimerKind }
    /// The only key: one sweep, shared by every replica.
    public static let key = "horizon"

    public init(store: AuditSchedulerStore) {
        self.store = store
    }

    public func fire(_ timer: DurableTimer, context: inout TransactionContext) throws {
        let today = CivilDate.inTokyo(context.now)
        let result = try store.materialise(today: today, now: context.now, on: context.connection)
        context.logger.info("duties materialised", metadata: ["duties.planned": "\(result.planned)", "duties.created": "\(result.created)"])
        let next = today.adding(days: 1).startInTokyo().addingTimeInterval(10 * 60)
        try DurableTimers.schedule(kind: kind, key: Self.key, at: next, on: context.connection, schema: context.schema)
    }
}

/// `directory.changed`: new sections and departments get their duties at once;
/// `incident.lessons-recorded`: a closed case's measures become duties (issue #18).
public struct DirectoryChangedHandler: MessageHandler {
    public let store: AuditSchedulerStore

    public init(store: AuditSchedulerStore) {
        self.store = store
    }

    public func handle(_ message: IncomingMessage, context: inout TransactionContext) throws {
        if message.envelope.type == MessageTypes.incidentLessonsRecorded.wireName {
            return try LessonsRecordedHandler(store: store).handle(message.envelope, context: &context)
        }
        guard message.envelope.type == MessageTypes.directoryChanged.wireName else {
            throw PermanentFailure(
                code: "unexpected-type", reason: "audit-scheduler.events takes directory.changed and incident.lessons-recorded, not \(message.envelope.type)")
        }
        let result = try store.materialise(today: CivilDate.inTokyo(context.now), now: context.now, on: context.connection)
        context.logger.info("duties materialised after a directory change", metadata: ["duties.created": "\(result.created)"])
    }
}
