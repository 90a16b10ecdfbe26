import AMQP
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

/// Two triage services in this process consume one queue through the real broker (issue #16):
/// related reports in batches become one case each, never two; a poison report in a batch is
/// dead-lettered alone; the reports announced again join nothing twice.
@Suite(.serialized, .tags(.integration), .needsTestServers) struct CorrelationServiceTests {
    @Test func twoConsumersPutAStormIntoOneCasePerKeyAndAPoisonReportIsDeadLetteredAlone() async throws {
        try await TriageFixture.with(correlation: try TriageConfigFiles.correlation()) { fixture in
            let broker = try await AMQPConnection.connect(try TestServers.amqpConfiguration(name: "correlation-tests"), logger: TestServers.logger("amqp"))
            try await broker.enableConfirms()
            try await broker.declare(Topology.forService(.csirtTriage))
            try await broker.purgeQueue("csirt-triage.events")
            let deadLetters = "csirt-triage.events.dlq"
            let deadBefore = try await broker.queueState(deadLetters)?.messageCount ?? 0

            // 300 reports under 3 keys and one that cannot be read, published before the
            // consumers start so that they take them in full batches.
            let reports = (0..<300).map { index in
                reported(
                    myNumber: .no, detected: false, persons: .count(1), category: .malware, producer: "urn:isms:producer:edr",
                    assets: [AffectedAsset(id: "host-\(index)")], correlationKey: "campaign-\(index % 3)")
            }
            for (index, report) in reports.enumerated() {
                try await broker.publish(try Envelope(source: ServiceName.incidentIntake.source, time: Date(), data: report).amqpMessage(appID: ServiceName.incidentIntake.rawValue))
                if index == 150 {
                    var poison = try Envelope(source: ServiceName.incidentIntake.source, time: Date(), data: reports[0]).amqpMessage(appID: ServiceName.incidentIntake.rawValue)
                    poison.body = Array(String(decoding: poison.body, as: UTF8.self).replacingOccurrences(of: "\"category\":\"malware\"", with: "\"category\":\"volcano\"").utf8)
                    try await broker.publish(poison)
                }
            }
            func service() -> Task<Void, any Error> {
                var configuration = TriageServiceTests.configuration()
                configuration.batchSize = 50
                configuration.prefetch = 100
                configuration.httpPort = freeTCPPort()
                return Task {
                    try await ServiceRunner.run(
                        CSIRTTriageService.definition(engine: fixture.engine), configuration: configuration, registry: PrometheusCollectorRegistry(),
                        logger: TestServers.logger("csirt-triage"))
                }
            }
            let services = [service(), service()]
            let schema = Migrator.quoted(fixture.schema)
            func count(_ sql: String) async throws -> Int {
                try await fixture.pool.query("SELECT count(*) AS n FROM \(unescaped: schema).\(unescaped: sql)").rows.first?.decode("n", as: Int.self) ?? -1
            }
            #expect(await TestServers.eventually(timeout: .seconds(60)) { (try? await count("case_reports")) == 300 })
            #expect(try await count("cases") == 3)
            let perCase = try await fixture.pool.query("SELECT report_count FROM \(unescaped: schema).cases ORDER BY case_number").map { try $0.decode("report_count", as: Int.self) }
            #expect(perCase == [100, 100, 100])
            #expect(await TestServers.eventually(timeout: .seconds(30)) { (try? await broker.queueState(deadLetters)?.messageCount ?? 0) == deadBefore + 1 })

            // Intake announcing 50 of them again, in new envelopes past the inbox: nothing joins twice.
            for report in reports.prefix(50) {
                try await broker.publish(try Envelope(source: ServiceName.incidentIntake.source, time: Date(), data: report).amqpMessage(appID: ServiceName.incidentIntake.rawValue))
            }
            #expect(await TestServers.eventually(timeout: .seconds(30)) { (try? await count("inbox")) == 350 })
            #expect(try await count("case_reports") == 300)
            #expect(try await count("cases") == 3)
            #expect(try await fixture.pool.query("SELECT sum(report_count) AS n FROM \(unescaped: schema).cases").rows.first?.decode("n", as: Int.self) == 300)
            #expect(try await fixture.pool.withConnection { try fixture.engine.store.verifyChain(on: $0) }.isIntact)

            try await broker.purgeQueue(deadLetters)
            await broker.close()
            for task in services { task.cancel() }
            for task in services { _ = try? await task.value }
        }
    }
}
