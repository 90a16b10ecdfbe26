import ClientSupport
import Foundation
import Testing

@Suite struct BackoffTests {
    @Test func capGrowsExponentiallyAndStopsAtTheMaximum() {
        let backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(2), multiplier: 2)
        #expect(backoff.cap(attempt: 0) == .milliseconds(100))
        #expect(backoff.cap(attempt: 1) == .milliseconds(200))
        #expect(backoff.cap(attempt: 3) == .milliseconds(800))
        #expect(backoff.cap(attempt: 5) == .seconds(2))
        #expect(backoff.cap(attempt: 1_000) == .seconds(2))
    }

    @Test func delaysAreJitteredWithinTheCap() {
        let backoff = Backoff(initial: .seconds(1), maximum: .seconds(1))
        let delays = (0..<200).map { _ in backoff.delay(attempt: 0) }
        #expect(delays.allSatisfy { $0 >= .zero && $0 <= .seconds(1) })
        // Full jitter spreads replicas out: 200 draws are not all alike.
        #expect(Set(delays.map { Int($0.seconds * 1000) }).count > 50)
    }
}

/// An actor pinned to one dedicated thread.
private actor Pinned {
    private let executor: DedicatedThreadExecutor
    nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }
    private var threads: Set<String> = []

    init(executor: DedicatedThreadExecutor) {
        self.executor = executor
    }

    func record() {
        threads.insert(String(describing: Unmanaged.passUnretained(Thread.current).toOpaque()))
    }

    var distinctThreads: Int { threads.count }
}

@Suite struct DedicatedThreadExecutorTests {
    @Test func everyJobOfAnActorRunsOnTheSameThread() async {
        let executor = DedicatedThreadExecutor(name: "test-executor")
        let pinned = Pinned(executor: executor)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<200 {
                group.addTask { await pinned.record() }
            }
        }
        #expect(await pinned.distinctThreads == 1)
        executor.shutdown()
    }
}
