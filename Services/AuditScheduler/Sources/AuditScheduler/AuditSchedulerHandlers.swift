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
/// `incident.lessons-recorded`: a closed case's measures become duties (issue #18);
/// `contractor.contract-changed` (issue #18): the contract is kept, and a contract in force gets
/// its staff's education (Art. 23) at once.
public struct DirectoryChangedHandler: MessageHandler {
    public let store: AuditSchedulerStore

    public init(store: AuditSchedulerStore) {
        self.store = store
    }

    public func handle(_ message: IncomingMessage, context: inout TransactionContext) throws {
        switch message.envelope.type {
        case MessageTypes.incidentLessonsRecorded.wireName:
            return try LessonsRecordedHandler(store: store).handle(message.envelope, context: &context)
        case MessageTypes.directoryChanged.wireName:
            let result = try store.materialise(today: CivilDate.inTokyo(context.now), now: context.now, on: context.connection)
            context.logger.info("duties materialised after a directory change", metadata: ["duties.created": "\(result.created)"])
        case MessageTypes.contractorContractChanged.wireName:
            // Only the registry speaks for contracts.
            guard message.envelope.source == ServiceName.contractorMonitor.source else {
                throw PermanentFailure(code: "unexpected-source", reason: "contract-changed from \(message.envelope.source), not the contractor monitor")
            }
            let event: ContractorContractChanged
            do {
                event = try message.envelope.decode(as: ContractorContractChanged.self).data
            } catch {
                throw PermanentFailure(code: "invalid-data", reason: "contract-changed data does not decode: \(error)")
            }
            guard try store.record(event, on: context.connection) else { return }
            let result = try store.materialise(today: CivilDate.inTokyo(context.now), now: context.now, on: context.connection)
            context.logger.info(
                "duties materialised after a contract change",
                metadata: ["contract.id": "\(event.contractID)", "contract.change": "\(event.change.rawValue)", "duties.created": "\(result.created)"])
        default:
            throw PermanentFailure(
                code: "unexpected-type", reason: "audit-scheduler.events takes directory.changed, incident.lessons-recorded and contractor.contract-changed, not \(message.envelope.type)")
        }
    }
}
