import AMQP
import Configuration
import Contracts
import CSIRTTriage
import Foundation
import ISMSTesting
import Postgres
import PostgresMigrations
import Prometheus
import ServiceRuntime
import Testing
import func ISMSTesting.freeTCPPort

/// The service in-process against the real broker (`ISMS_TEST_AMQP_URL`, a vhost of its own) and
/// database: `incident.reported` → one case and its events, however often it is delivered.
@Suite(.serialized, .tags(.integration), .needsTestServers) struct TriageServiceTests {
    /// The real test servers, a random HTTP port, and fast outbox and timer polling.
    static func configuration() -> ServiceConfiguration {
        var configuration = ServiceConfiguration(reader: ConfigReader(provider: InMemoryProvider(values: [:])), defaultPort: freeTCPPort())
        configuration.amqpURL = TestServers.amqpURL
        configuration.databaseURL = TestServers.databaseURL
        configuration.outboxPollInterval = .milliseconds(50)
        configuration.timerPollInterval = .milliseconds(50)
        return configuration
    }

    @Test func aRedeliveredReportMakesNoSecondCase() async throws {
        try await TriageFixture.with { fixture in
            var configuration = Self.configuration()
            configuration.batchSize = 10
            let definition = CSIRTTriageService.definition(engine: fixture.engine)

            // Listen to what triage emits, on a queue of our own.
            let broker = try await AMQPConnection.connect(try TestServers.amqpConfiguration(name: "triage-tests"), logger: TestServers.logger("amqp"))
            try await broker.enableConfirms()
            try await broker.declare(AMQPExchange(name: BusLayout.eventsExchange, kind: .topic))
            let listener = TestServers.uniqueName("triage_events")
            _ = try await broker.declare(AMQPQueue(name: listener, durable: false, exclusive: true, autoDelete: true))
            try await broker.bind(AMQPBinding(queue: listener, exchange: BusLayout.eventsExchange, routingKey: "incident.#"))

            // The queue is shared with other suites on this broker (intake's tests announce
            // reports into it): start from an empty queue so only this test's messages count.
            try await broker.declare(Topology.forService(.csirtTriage))
            try await broker.purgeQueue("csirt-triage.events")

            let service = Task {
                try await ServiceRunner.run(definition, configuration: configuration, registry: PrometheusCollectorRegistry(), logger: TestServers.logger("csirt-triage"))
            }
            // The service declares its queue at start; wait for it.
            #expect(await TestServers.eventually(timeout: .seconds(30)) { (try? await broker.queueState("csirt-triage.events")) != nil })

            let payload = reported()
            let envelope = Envelope(source: ServiceName.incidentIntake.source, time: Date(), data: payload)
            let message = try envelope.amqpMessage(appID: ServiceName.incidentIntake.rawValue)
            try await broker.publish(message)
            try await broker.publish(message)  // the same message again: the inbox drops it
            // The same report in a new envelope (intake re-announcing it): unique on the intake id.
            let again = Envelope(source: ServiceName.incidentIntake.source, time: Date(), data: payload)
            try await broker.publish(try again.amqpMessage(appID: ServiceName.incidentIntake.rawValue))

            let cases = "\(Migrator.quoted(fixture.schema)).cases"
            let inbox = "\(Migrator.quoted(fixture.schema)).inbox"
            #expect(await TestServers.eventually(timeout: .seconds(30)) {
                (try? await fixture.pool.query("SELECT count(*) AS n FROM \(unescaped: inbox)").rows.first?.decode("n", as: Int.self)) == 2
            })
            let count = try await fixture.pool.query("SELECT count(*) AS n FROM \(unescaped: cases) WHERE source_id = \(payload.intakeID.uuidString.lowercased())")
            #expect(try count.rows.first?.decode("n", as: Int.self) == 1)

            // case-opened and 7 escalations (CSIRT + the chain) reach the bus.
            var received: [RawEnvelope] = []
            let deadline = ContinuousClock.now + .seconds(30)
            while received.count < 8, ContinuousClock.now < deadline {
                guard let delivery = try await broker.get(queue: listener) else {
                    try await Task.sleep(for: .milliseconds(50))
                    continue
                }
                try await broker.ack(delivery.deliveryTag)
                let raw = try RawEnvelope(delivery: delivery)
                if raw.type != MessageTypes.incidentReported.wireName { received.append(raw) }
            }
            let types = received.map { $0.type }
            #expect(types.filter { $0 == MessageTypes.incidentCaseOpened.wireName }.count == 1)
            #expect(types.filter { $0 == MessageTypes.incidentEscalated.wireName }.count == 7)
            let opened = try #require(received.first { $0.type == MessageTypes.incidentCaseOpened.wireName })
            // The one emit stamps the service and the conversation of the message it handled.
            #expect(opened.source == ServiceName.csirtTriage.source)
            #expect(opened.correlationID == envelope.id)
            #expect(opened.causationID == envelope.id)
            #expect(received.allSatisfy { $0.source == ServiceName.csirtTriage.source && $0.correlationID == envelope.id })
            #expect(opened.dataClassification == .restricted)
            #expect(try Schemas.violations(in: opened).data.isEmpty)
            await broker.close()
            service.cancel()
            _ = try? await service.value
        }
    }

    /// Art. 3(13)(イ): a contractor's violation from the contractor monitor becomes a case too,
    /// once, through the real broker and database.
    @Test func aContractorViolationBecomesACase() async throws {
        try await TriageFixture.with { fixture in
            let configuration = Self.configuration()
            let broker = try await AMQPConnection.connect(try TestServers.amqpConfiguration(name: "triage-tests"), logger: TestServers.logger("amqp"))
            try await broker.enableConfirms()
            try await broker.declare(Topology.forService(.csirtTriage))
            try await broker.purgeQueue("csirt-triage.events")
            let service = Task {
                try await ServiceRunner.run(
                    CSIRTTriageService.definition(engine: fixture.engine), configuration: configuration, registry: PrometheusCollectorRegistry(),
                    logger: TestServers.logger("csirt-triage"))
            }
            let violation = ContractorViolationDetected(
                violationID: UUID(), contractID: UUID(), contractReference: "R8-TEST-0001", contractorID: UUID(), contractorName: "株式会社テスト",
                sectionCode: "koseki-jumin", departmentCode: "kumin", kind: .attestationMissing, handlesMyNumber: true,
                details: "The attestation for period 1 was not received by the end of its grace period.", detectedAt: Date())
            let message = try Envelope(source: ServiceName.contractorMonitor.source, time: Date(), data: violation).amqpMessage(appID: ServiceName.contractorMonitor.rawValue)
            try await broker.publish(message)
            try await broker.publish(message)

            let cases = "\(Migrator.quoted(fixture.schema)).cases"
            let sourceID = violation.violationID.uuidString.lowercased()
            let opened = await TestServers.eventually(timeout: .seconds(30)) {
                (try? await fixture.pool.query("SELECT count(*) AS n FROM \(unescaped: cases) WHERE source_id = \(sourceID)").rows.first?.decode("n", as: Int.self)) == 1
            }
            #expect(opened)
            let row = try #require(try await fixture.pool.query("SELECT source_kind, category FROM \(unescaped: cases) WHERE source_id = \(sourceID)").rows.first)
            #expect(try row.decode("source_kind", as: String.self) == "contractor-violation")
            #expect(try row.decode("category", as: String.self) == IncidentCategory.contractorViolation.rawValue)
            // Delivered twice, still one case.
            try await Task.sleep(for: .milliseconds(500))
            #expect(try await fixture.pool.query("SELECT count(*) AS n FROM \(unescaped: cases) WHERE source_id = \(sourceID)").rows.first?.decode("n", as: Int.self) == 1)
            await broker.close()
            service.cancel()
            _ = try? await service.value
        }
    }

    /// Issue #4 item 11: triage is stopped between two escalation steps and the step falls due
    /// while it is down; the restarted service tells the next level once, and the chain goes on.
    @Test func restartingTriageInTheMiddleOfAnEscalationKeepsItsTimers() async throws {
        let step = EscalationPolicy.Step(immediateThrough: 1, delay: .seconds(3), stopAt: 5)
        let policy = EscalationPolicy(version: "test", steps: [1: .init(immediateThrough: 5, delay: .zero, stopAt: 5), 2: step, 3: step, 4: step])
        try await TriageFixture.with(policy: policy) { fixture in
            let configuration = Self.configuration()
            let broker = try await AMQPConnection.connect(try TestServers.amqpConfiguration(name: "triage-tests"), logger: TestServers.logger("amqp"))
            try await broker.enableConfirms()
            try await broker.declare(Topology.forService(.csirtTriage))
            try await broker.purgeQueue("csirt-triage.events")
            let engine = fixture.engine
            func start() -> Task<Void, any Error> {
                Task {
                    try await ServiceRunner.run(
                        CSIRTTriageService.definition(engine: engine), configuration: configuration, registry: PrometheusCollectorRegistry(),
                        logger: TestServers.logger("csirt-triage"))
                }
            }
            var service = start()
            let payload = reported(persons: .count(3))  // severity 2: CSIRT, section staff and officer at once
            try await broker.publish(try Envelope(source: ServiceName.incidentIntake.source, time: Date(), data: payload).amqpMessage(appID: "incident-intake"))
            #expect(await TestServers.eventually(timeout: .seconds(30)) { (try? await fixture.escalations().map(\.level)) == [0, 0, 1] })

            // Stop before the next step is due, and stay down past it.
            service.cancel()
            _ = try? await service.value
            try await Task.sleep(for: .seconds(4))
            #expect(try await fixture.escalations().count == 3)
            let timers = "\(Migrator.quoted(fixture.schema)).timers"
            let pending = try await fixture.pool.query("SELECT count(*) AS n FROM \(unescaped: timers) WHERE kind = 'escalation' AND due_at <= now()")
            #expect(try pending.rows.first?.decode("n", as: Int.self) == 1)

            service = start()
            #expect(await TestServers.eventually(timeout: .seconds(30)) { (try? await fixture.escalations().count) ?? 0 >= 4 })
            let resumed = try await fixture.escalations()
            #expect(resumed[3].role == "departmentSecurityOfficer")
            #expect(resumed[3].reason == "timeout")
            // The step after it was scheduled by the restarted service and fires in its turn.
            #expect(await TestServers.eventually(timeout: .seconds(30)) { (try? await fixture.escalations().count) ?? 0 >= 5 })
            let levels = try await fixture.escalations().map(\.level)
            #expect(levels.prefix(5) == [0, 0, 1, 2, 3])
            #expect(Set(levels).count == levels.count - 1, "each level is told once (level 0 twice: CSIRT and the section staff)")
            await broker.close()
            service.cancel()
            _ = try? await service.value
        }
    }
}
