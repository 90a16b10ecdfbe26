import Foundation
import Hummingbird
import Logging
import Synchronization

/// CSIRT's webhook endpoint as the bench's notifier reaches it: it answers 204 to every delivery
/// and counts them. The shipped routing file points `csirt-hook` at 127.0.0.1:8090, where
/// nothing listens on the bench's machine; every case's webhook then failed, retried five times
/// and fell back to mail, and the bench measured that failure path instead of sending.
final class WebhookSink: Sendable {
    let port: Int
    private let counter: Counter
    private let task: Task<Void, any Error>

    /// Deliveries answered so far.
    var deliveries: Int { counter.value.load(ordering: .relaxed) }

    private final class Counter: Sendable {
        let value = Atomic<Int>(0)
    }

    private init(port: Int, counter: Counter, task: Task<Void, any Error>) {
        self.port = port
        self.counter = counter
        self.task = task
    }

    /// Listens on 127.0.0.1:`port` until ``stop()``; returns once the port accepts connections.
    static func start(port: Int, logger: Logger) async throws -> WebhookSink {
        let counter = Counter()
        let router = Router()
        router.post("/hooks/csirt") { request, _ -> HTTPResponse.Status in
            _ = try await request.body.collect(upTo: 1 << 20)
            counter.value.add(1, ordering: .relaxed)
            return .noContent
        }
        var quiet = logger
        quiet.logLevel = .critical
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)), logger: quiet)
        let sink = WebhookSink(port: port, counter: counter, task: Task { try await app.runService(gracefulShutdownSignals: []) })
        for _ in 0..<100 where !accepts(port: port) { try await Task.sleep(for: .milliseconds(50)) }
        guard accepts(port: port) else { throw BenchError("the webhook sink did not listen on \(port)") }
        return sink
    }

    func stop() {
        task.cancel()
    }

    /// The shipped routing file with `csirt-hook` pointed here, written to a temporary file.
    func routesFile(root: String) throws -> String {
        let shipped = try String(contentsOfFile: root + "/deploy/config/notification-routes.yaml", encoding: .utf8)
        let address = "http://127.0.0.1:8090/hooks/csirt"
        guard shipped.contains(address) else { throw BenchError("notification-routes.yaml no longer names \(address)") }
        let path = NSTemporaryDirectory() + "isms-bench-routes.yaml"
        try shipped.replacingOccurrences(of: address, with: "http://127.0.0.1:\(port)/hooks/csirt").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    private static func accepts(port: Int) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        return withLoopback(port: port) { connect(descriptor, $0, $1) } == 0
    }
}
