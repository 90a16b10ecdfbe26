import Configuration
import CSIRTTriage
import Foundation
import IncidentIntake
import Logging
import Notifier
import Prometheus
import ServiceClient
import ServiceRuntime

/// A service under test: a built executable (its memory can be read) or, when none is found,
/// the same `ServiceDefinition` run in this process.
final class ServiceHandle: @unchecked Sendable {
    let name: String
    let port: Int
    private var process: Process?
    private var task: Task<Void, any Error>?
    private(set) var idleRSSKiB: Int?

    var pid: Int32? { process?.processIdentifier }
    var isSeparateProcess: Bool { process != nil }

    private init(name: String, port: Int) {
        self.name = name
        self.port = port
    }

    /// The environment every service gets: the bench vhost and database, quiet logs.
    static func environment(_ setup: BenchSetup, port: Int, extra: [String: String]) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["ISMS_AMQP_URL"] = setup.amqpURL
        environment["ISMS_DATABASE_URL"] = setup.databaseURL
        environment["ISMS_HTTP_PORT"] = "\(port)"
        environment["ISMS_LOG_LEVEL"] = environment["ISMS_BENCH_SERVICE_LOG_LEVEL"] ?? "warning"
        environment["ISMS_TRIAGE_SEVERITY_RULES"] = setup.root + "/deploy/config/severity-rules.yaml"
        environment["ISMS_TRIAGE_ESCALATION_POLICY"] = setup.root + "/deploy/config/escalation-policy.yaml"
        environment["ISMS_TRIAGE_STATUTORY_RULES"] = setup.root + "/deploy/config/statutory-rules.yaml"
        environment["ISMS_NOTIFIER_ROUTES"] = setup.root + "/deploy/config/notification-routes.yaml"
        environment["ISMS_NOTIFIER_TEMPLATES"] = setup.root + "/deploy/config/templates"
        environment["ISMS_NOTIFIER_FILE_DIR"] = "/tmp/isms-bench-files"
        for (key, value) in extra { environment[key] = value }
        return environment
    }

    /// Starts `name` (incident-intake, csirt-triage or notifier) and waits for /readyz.
    static func start(_ name: String, setup: BenchSetup, port: Int, binDirectory: String?, extra: [String: String] = [:], logger: Logger) async throws -> ServiceHandle {
        let handle = ServiceHandle(name: name, port: port)
        let environment = environment(setup, port: port, extra: extra)
        if let binDirectory, FileManager.default.isExecutableFile(atPath: binDirectory + "/" + name) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binDirectory + "/" + name)
            process.environment = environment
            process.currentDirectoryURL = URL(fileURLWithPath: setup.root)
            try FileManager.default.createDirectory(atPath: "/tmp/isms-bench-logs", withIntermediateDirectories: true)
            let log = "/tmp/isms-bench-logs/\(name).log"
            _ = FileManager.default.createFile(atPath: log, contents: nil)
            let handleOut = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
            process.standardOutput = handleOut
            process.standardError = handleOut
            try process.run()
            handle.process = process
        } else {
            // In-process: the same definition, configured from the same variables.
            var configuration = ServiceConfiguration(reader: ConfigReader(provider: InMemoryProvider(values: [:])), defaultPort: port)
            configuration.amqpURL = setup.amqpURL
            configuration.databaseURL = setup.databaseURL
            configuration.httpPort = port
            for (key, value) in extra {
                if key == "ISMS_BATCH_SIZE", let value = Int(value) { configuration.batchSize = value }
                if key == "ISMS_PREFETCH", let value = Int(value) { configuration.prefetch = value }
                if key == "ISMS_WORKERS", let value = Int(value) { configuration.workers = value }
                if key == "ISMS_DB_POOL_SIZE", let value = Int(value) { configuration.databasePoolSize = value }
            }
            for (key, value) in environment where key.hasPrefix("ISMS_TRIAGE_") || key.hasPrefix("ISMS_NOTIFIER_") { setenv(key, value, 1) }
            let definition: ServiceDefinition
            switch name {
            case "incident-intake": definition = IncidentIntakeService.definition()
            case "csirt-triage": definition = CSIRTTriageService.definition()
            case "notifier": definition = NotifierService.definition()
            default: throw BenchError("unknown service \(name)")
            }
            var serviceLogger = logger
            serviceLogger.logLevel = .warning
            handle.task = Task { [configuration, serviceLogger] in
                try await ServiceRunner.run(definition, configuration: configuration, registry: PrometheusCollectorRegistry(), logger: serviceLogger)
            }
        }
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if await handle.readyStatus() == 200 {
                try await Task.sleep(for: .seconds(1))
                handle.idleRSSKiB = handle.memory()?.rss
                return handle
            }
            if let process = handle.process, !process.isRunning {
                throw BenchError("\(name) exited with \(process.terminationStatus) (log: /tmp/isms-bench-logs/\(name).log)")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        await handle.stop()
        throw BenchError("\(name) did not become ready on port \(port) within 60 s")
    }

    func readyStatus() async -> Int? {
        await HTTPFetch.status(of: "http://127.0.0.1:\(port)/readyz")
    }

    /// VmRSS and VmHWM (KiB) of the process, from /proc.
    func memory() -> (rss: Int, hwm: Int)? {
        guard let pid, let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        func field(_ name: String) -> Int? {
            guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") }) else { return nil }
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
                ?? Int(line.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces).split(separator: " ").first ?? "")
        }
        guard let rss = field("VmRSS"), let hwm = field("VmHWM") else { return nil }
        return (rss, hwm)
    }

    /// SIGTERM (or task cancellation) and wait for the end.
    func stop() async {
        if let process, process.isRunning {
            process.terminate()
            let deadline = ContinuousClock.now + .seconds(30)
            while process.isRunning && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(50)) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        if let task {
            task.cancel()
            _ = try? await task.value
        }
    }
}
