import AMQP
import ClientSupport
import Contracts
import Directory
import Foundation
import ServiceRuntime
#if canImport(Glibc)
import Glibc
#endif
@testable import IncidentIntake
import ISMSTesting
import Postgres
import Testing

/// The built `incident-intake` executable against the real servers while they fail: SIGTERM
/// under load, a broker restart, a database restart. Every confirmed report ends stored exactly
/// once and the command queue drains (brief §5's invariant).
///
/// These tests stop and start the test stack's servers (`deploy/local/stack.sh --profile test`),
/// so they run only when `ISMS_TEST_STACK_CONTROL=1` (`make test` sets it).
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["ISMS_TEST_STACK_CONTROL"] == "1"), .tags(.integration), .needsTestServers)
final class IntakeResilienceTests {
    let pool = TestServers.pool()
    let root = TestServers.repositoryRoot

    init() async throws {
        let ward = try DirectoryDocument.load(path: root.appendingPathComponent("deploy/config/ward.yaml").path)
        let user = try TestServers.amqpConfiguration().user
        // The directory schema exists once an intake has started; the end-to-end suite or the
        // first service start below creates it. Import after a first start if it is missing.
        let service = try IntakeProcess(root: root)
        try await service.waitReady()
        try await pool.withTransaction { connection in
            _ = try DirectoryStore().replace(with: ward, on: connection)
            try ProducerGrants.grant(amqpUser: user, unitCode: nil, note: "resilience tests", on: connection)
        }
        service.stop()
    }

    /// `incident-intake` as a child process.
    final class IntakeProcess: @unchecked Sendable {
        let process = Process()
        let port = freeTCPPort()

        init(root: URL) throws {
            process.executableURL = root.appendingPathComponent(".build/debug/incident-intake")
            var environment = ProcessInfo.processInfo.environment
            environment["ISMS_AMQP_URL"] = TestServers.amqpURL
            environment["ISMS_DATABASE_URL"] = TestServers.databaseURL
            environment["ISMS_HTTP_PORT"] = String(port)
            environment["ISMS_LOG_LEVEL"] = "warning"
            environment["ISMS_OUTBOX_POLL_MS"] = "200"
            process.environment = environment
            process.currentDirectoryURL = root
            process.standardOutput = FileHandle.nullDevice
            if ProcessInfo.processInfo.environment["ISMS_TEST_LOG"] == nil { process.standardError = FileHandle.nullDevice }
            try process.run()
        }

        func waitReady(timeout: Duration = .seconds(60)) async throws {
            let port = port
            let ready = await TestServers.eventually(timeout: timeout, interval: .milliseconds(200)) {
                await TestServers.httpStatus("http://127.0.0.1:\(port)/readyz") == 200
            }
            if !ready { throw TestFailure("incident-intake did not become ready on :\(port)") }
        }

        /// SIGTERM, then wait for a clean exit.
        func terminate() async -> Int32 {
            process.terminate()
            _ = await TestServers.eventually(timeout: .seconds(40), interval: .milliseconds(100)) { !self.process.isRunning }
            return process.isRunning ? -1 : process.terminationStatus
        }

        func stop() {
            if process.isRunning { process.terminate() }
            process.waitUntilExit()
        }

        deinit { stop() }
    }

    struct TestFailure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    /// Publishes `count` valid reports with confirms; returns their report ids.
    func publish(_ count: Int) async throws -> [UUID] {
        let configuration = try TestServers.amqpConfiguration(name: "resilience-producer")
        let connection = try await AMQPConnection.connect(configuration, logger: TestServers.logger("amqp"), backoff: .init(), maxAttempts: 60)
        try await connection.enableConfirms()
        var ids: [UUID] = []
        var messages: [AMQPOutgoingMessage] = []
        for _ in 0..<count {
            let id = UUID()
            ids.append(id)
            let data = IntakeEndToEndTests.report(reportID: id)
            let envelope = RawEnvelope(
                id: UUID().uuidString.lowercased(), source: "urn:isms:producer:resilience", type: MessageTypes.submitIncidentReport.wireName,
                time: Date(), dataClassification: .confidential, data: data
            )
            var message = try envelope.amqpMessage(appID: "resilience-tests")
            message.properties.userID = configuration.user
            messages.append(message)
        }
        for start in stride(from: 0, to: messages.count, by: 100) {
            let outcomes = try await connection.publish(Array(messages[start..<min(start + 100, messages.count)]))
            if let error = outcomes.compactMap({ $0 }).first { throw error }
        }
        await connection.close()
        return ids
    }

    func stored(_ ids: [UUID]) async throws -> Int {
        try await pool.query("SELECT count(*) AS n FROM intake.reports WHERE report_id = ANY(\(ids))").rows.first?.decode("n", as: Int.self) ?? -1
    }

    /// Runs `deploy/local/stack.sh --profile test ARGUMENTS` and waits for it with waitpid:
    /// Foundation's `Process.waitUntilExit` can miss the exit of a script that leaves a server
    /// running in the background, and hang.
    func stack(_ arguments: String...) throws {
        let path = root.appendingPathComponent("deploy/local/stack.sh").path
        let argv = ([path, "--profile", "test"] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        guard posix_spawn(&pid, path, nil, nil, argv, environ) == 0 else { throw TestFailure("cannot run stack.sh") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        // WEXITSTATUS: the exit code lives in bits 8-15.
        if (status >> 8) & 0xff != 0 { throw TestFailure("stack.sh \(arguments) failed (status \(status))") }
    }

    func commandQueue() async throws -> (ready: UInt32, dead: UInt32) {
        let connection = try await AMQPConnection.connect(TestServers.amqpConfiguration(name: "resilience-check"), logger: TestServers.logger("amqp"), backoff: .init(), maxAttempts: 60)
        let ready = try await connection.queueState("incident-intake.commands")?.messageCount ?? 0
        let dead = try await connection.queueState("incident-intake.commands.dlq")?.messageCount ?? 0
        await connection.close()
        return (ready, dead)
    }

    @Test func sigtermUnderLoadLosesNothing() async throws {
        let deadBefore = try await commandQueue().dead
        let first = try IntakeProcess(root: root)
        try await first.waitReady()
        let ids = try await publish(600)
        // Stop while the queue is still being worked through.
        try await Task.sleep(for: .milliseconds(300))
        let partial = try await stored(ids)
        #expect(await first.terminate() == 0, "SIGTERM should end the service cleanly")
        let second = try IntakeProcess(root: root)
        try await second.waitReady()
        _ = try await TestServers.eventually(timeout: .seconds(60)) { try await stored(ids) == ids.count }
        let count = try await stored(ids)
        #expect(count == ids.count, "\(count) of \(ids.count) stored (\(partial) before SIGTERM)")
        #expect(try await commandQueue().ready == 0)
        #expect(try await commandQueue().dead == deadBefore)
        second.stop()
    }

    @Test func consumptionResumesAfterABrokerRestart() async throws {
        let service = try IntakeProcess(root: root)
        try await service.waitReady()
        let before = try await publish(100)
        try stack("down", "rabbitmq")
        try stack("up", "rabbitmq")
        let after = try await publish(100)
        _ = try await TestServers.eventually(timeout: .seconds(90)) { try await stored(before + after) == 200 }
        let count = try await stored(before + after)
        #expect(count == 200, "\(count) of 200 stored")
        try await service.waitReady(timeout: .seconds(30))
        service.stop()
    }

    @Test func consumptionResumesAfterADatabaseRestart() async throws {
        let service = try IntakeProcess(root: root)
        try await service.waitReady()
        let before = try await publish(100)
        try stack("down", "postgres")
        // Reports keep arriving while the database is gone; the broker holds them.
        let during = try await publish(100)
        try await Task.sleep(for: .seconds(2))
        try stack("up", "postgres")
        let all = await TestServers.eventually(timeout: .seconds(90)) { (try? await stored(before + during)) == 200 }
        #expect(all)
        try await service.waitReady(timeout: .seconds(30))
        #expect(try await commandQueue().ready == 0)
        service.stop()
    }
}
