import Foundation
import Synchronization

/// TEST-ONLY fault hooks for the fault-injection suite (Tests/faults/run.sh). They kill the
/// process with SIGKILL at an exact point of a ``MessageConsumer`` or ``OutboxRelay`` batch,
/// which no outside `kill -9` can hit reliably:
///
/// - `ISMS_FAULT_CRASH_AFTER_COMMIT=<n>`: after the n-th batch of this process has committed,
///   before its dead-letter copies and acknowledgements are sent. The broker redelivers the
///   batch; the inbox must absorb it.
/// - `ISMS_FAULT_CRASH_BEFORE_COMMIT=<n>`: on the n-th batch, after every message was handled
///   inside the transaction, before `COMMIT`. Nothing of the batch is committed; all of it is
///   redelivered.
/// - `ISMS_FAULT_CRASH_AFTER_PUBLISH=<n>`: in ``OutboxRelay``, after the n-th batch of outbox
///   rows was published and confirmed by the broker, before the rows are marked published. The
///   rows stay leased; after the lease another relay publishes them again (at-least-once), and
///   consumers must de-duplicate. The ids written are the outbox row ids.
///
/// Unset (the default, and the only setting for production) they cost one load of a constant per
/// batch. Batches are counted per process, across all consumers (or relay schemas).
enum FaultHook {
    enum Point: String {
        case afterCommit = "ISMS_FAULT_CRASH_AFTER_COMMIT"
        case beforeCommit = "ISMS_FAULT_CRASH_BEFORE_COMMIT"
        case afterPublish = "ISMS_FAULT_CRASH_AFTER_PUBLISH"
    }

    private static let afterCommitAt: Int? = threshold(.afterCommit)
    private static let beforeCommitAt: Int? = threshold(.beforeCommit)
    private static let afterPublishAt: Int? = threshold(.afterPublish)
    private static let committed = Atomic<Int>(0)
    private static let aboutToCommit = Atomic<Int>(0)
    private static let published = Atomic<Int>(0)

    private static func threshold(_ point: Point) -> Int? {
        ProcessInfo.processInfo.environment[point.rawValue].flatMap(Int.init).flatMap { $0 > 0 ? $0 : nil }
    }

    /// Counts a batch reaching `point` and kills the process if it is the configured one, after
    /// writing the batch's ids (consumer: AMQP `message_id`, i.e. the CloudEvent id; relay: outbox row
    /// ids) to standard error.
    static func reached(_ point: Point, ids: @autoclosure () -> [String]) {
        let target: Int?
        let count: Int
        switch point {
        case .afterCommit:
            target = afterCommitAt
            guard target != nil else { return }
            count = committed.wrappingAdd(1, ordering: .relaxed).newValue
        case .beforeCommit:
            target = beforeCommitAt
            guard target != nil else { return }
            count = aboutToCommit.wrappingAdd(1, ordering: .relaxed).newValue
        case .afterPublish:
            target = afterPublishAt
            guard target != nil else { return }
            count = published.wrappingAdd(1, ordering: .relaxed).newValue
        }
        guard let target, count == target else { return }
        let list = ids()
        let line = "fault hook \(point.rawValue)=\(target): SIGKILL with a batch of \(list.count) in hand: \(list.joined(separator: " "))\n"
        FileHandle.standardError.write(Data(line.utf8))
        kill(getpid(), SIGKILL)
        _exit(137)  // not reached
    }
}
