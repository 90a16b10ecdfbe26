import Foundation

/// A serial executor that runs every job on one thread of its own.
///
/// librabbitmq connections and libpq connections block, and neither may be used from two threads.
/// An actor whose `unownedExecutor` is one of these keeps its C handle on a single thread and
/// keeps blocking calls off the cooperative pool, which has only as many threads as cores.
public final class DedicatedThreadExecutor: SerialExecutor, @unchecked Sendable {
    // Guarded by `condition`.
    private var jobs: [UnownedJob] = []
    private var stopping = false
    private let condition = NSCondition()
    private let name: String
    // Written once before the thread starts; read to answer isolation checks.
    nonisolated(unsafe) private var thread: Thread?

    /// Starts the thread; it runs until ``shutdown()`` and the queue has drained.
    public init(name: String) {
        self.name = name
        let thread = Thread { [self] in
            // Set from inside: on Linux a name given before start() is not applied.
            Thread.current.name = name
            self.runLoop()
        }
        // Connections do little CPU work; a small stack keeps many of them cheap.
        thread.stackSize = 1 << 20
        self.thread = thread
        thread.start()
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    public func checkIsolated() {
        precondition(Thread.current === thread, "expected to run on executor thread \(name)")
    }

    /// Lets the thread finish the jobs already queued, then end.
    public func shutdown() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }

    private func runLoop() {
        var batch: [UnownedJob] = []
        while true {
            condition.lock()
            while jobs.isEmpty && !stopping {
                condition.wait()
            }
            if jobs.isEmpty && stopping {
                condition.unlock()
                return
            }
            swap(&batch, &jobs)
            condition.unlock()
            for job in batch {
                job.runSynchronously(on: asUnownedSerialExecutor())
            }
            batch.removeAll(keepingCapacity: true)
        }
    }
}
