import AMQP
import Configuration
@testable import ContractorMonitor
import Contracts
import Directory
import Foundation
import ISMSTesting
import Postgres
import PostgresMigrations
import Prometheus
import ServiceClient
import ServiceRuntime
import Testing

/// The service in-process against the real servers (`ISMS_TEST_DATABASE_URL`,
/// `ISMS_TEST_AMQP_URL`): an officer registers a contractor handling My Number data over HTTP,
/// a weaker sub-contractor is refused with the reason, and a missed attestation reaches the
/// broker as `contractor.violation.detected`, ready for CSIRT triage.
@Suite(.serialized, .tags(.integration), .needsTestServers) struct ContractorServiceEndToEndTests {
    static let section = "family-registry"

    struct HTTPResult {
        var status: Int
        var json: [String: Any]
    }

    static func call(_ method: String, _ path: String, port: Int, token: String, body: [String: Any]? = nil) async throws -> HTTPResult {
        var headers = [(name: "Authorization", value: "Bearer \(token)")]
        if body != nil { headers.append((name: "Content-Type", value: "application/json")) }
        let answer = try await HTTPFetch.send(
            method, url: "http://127.0.0.1:\(port)\(path)", headers: headers, body: try body.map { try JSONSerialization.data(withJSONObject: $0) })
        return HTTPResult(status: answer.status, json: (try? JSONSerialization.jsonObject(with: answer.body) as? [String: Any]) ?? [:])
    }

    static func ready(port: Int) async -> Bool {
        await HTTPFetch.status(of: "http://127.0.0.1:\(port)/readyz") == 200
    }

    @Test func anOfficerIsRefusedAWeakerSubcontractorAndAMissedAttestationReachesTheBroker() async throws {
        let pool = TestServers.pool()
        defer { Task { await pool.close() } }
        // The directory: tables, the ward's organisation, and tokens.
        let directory = DirectoryStore()
        // As incident intake migrates it (the schema comes from deploy/postgres/init.sql): the
        // directory's tables and its outbox, owned by directory_owner, or intake cannot use them.
        try await Migrator.apply(
            directory.migrations.appending(MessagingSchema.migrations(schema: directory.schema)),
            on: pool,
            as: "directory_owner",
            logger: TestServers.logger("migrations")
        )
        let ward = try DirectoryDocument.load(path: Fixture.wardPath)
        let (officer, otherOfficer, manager) = try await pool.withTransaction { connection in
            _ = try directory.replace(with: ward, on: connection)
            return (
                try directory.tokens.issue(role: .sectionSecurityOfficer, unitCode: Self.section, label: "family-registry officer", on: connection).token,
                try directory.tokens.issue(role: .sectionSecurityOfficer, unitCode: "personnel", label: "personnel officer", on: connection).token,
                try directory.tokens.issue(role: .generalSecurityManager, unitCode: nil, label: "general security manager", on: connection).token
            )
        }

        // A queue of our own for the violations.
        let events = try await AMQPConnection.connect(TestServers.amqpConfiguration(name: "contractor-tests"), logger: TestServers.logger("amqp"))
        let queue = TestServers.uniqueName("contractor-violations")
        try await events.declare(Topology.forService(.contractorMonitor))
        _ = try await events.declare(AMQPQueue(name: queue, durable: false, exclusive: true, autoDelete: true))
        try await events.bind(AMQPBinding(queue: queue, exchange: BusLayout.eventsExchange, routingKey: MessageTypes.contractorViolationDetected.routingKey))
        _ = try await events.consume(queue: queue, prefetch: 100)

        let clock = TestClock(Fixture.day("2025-03-01"))
        let port = freeTCPPort()
        var configuration = ServiceConfiguration(reader: ConfigReader(provider: InMemoryProvider(values: [:])), defaultPort: port)
        configuration.amqpURL = TestServers.amqpURL
        configuration.databaseURL = TestServers.databaseURL
        configuration.outboxPollInterval = .milliseconds(100)
        configuration.timerPollInterval = .milliseconds(100)
        let registry = ContractorRegistry(baseline: Fixture.baseline)
        let definition = try ContractorMonitorService.definition(registry: registry, clock: clock.now)
        let service = Task {
            try await ServiceRunner.run(definition, configuration: configuration, registry: PrometheusCollectorRegistry(), logger: TestServers.logger("contractor-monitor"), clock: clock.now)
        }
        defer { service.cancel() }
        #expect(await TestServers.eventually(timeout: .seconds(30)) { await Self.ready(port: port) })

        // The officer registers a contractor that handles My Number data, and its contract.
        let enhanced = Dictionary(uniqueKeysWithValues: Fixture.baseline.controls.map { ($0.id, "enhanced") })
        let prime = try await Self.call("POST", "/v1/contractors", port: port, token: officer, body: ["name": "株式会社ねりまデータ", "kind": "outsourced-contractor", "profile": enhanced])
        #expect(prime.status == 201)
        let reference = "R7-E2E-\(UUID().uuidString.prefix(8))"
        let contract = try await Self.call("POST", "/v1/contracts", port: port, token: officer, body: [
            "reference": reference, "title": "住民記録システム運用", "sectionCode": Self.section, "kind": "outsourcing",
            "contractorId": prime.json["id"] as? String ?? "", "startDate": "2025-04-01", "endDate": "2026-03-31", "handlesMyNumber": true,
            "handlingArea": "本庁舎3階 電算室", "designatedHandlers": [["name": "担当者A"]],
        ])
        #expect(contract.status == 201, "\(contract.json)")
        let contractID = try #require(contract.json["id"] as? String)

        // Another section's officer neither sees it nor may act on it.
        #expect(try await Self.call("GET", "/v1/contracts/\(contractID)", port: port, token: otherOfficer).status == 404)
        #expect(try await Self.call("GET", "/v1/contracts/\(contractID)", port: port, token: manager).status == 200)

        // A sub-contractor with weaker access control is refused, with the reason.
        var weaker = enhanced
        weaker["access-control"] = "standard"
        let sub = try await Self.call("POST", "/v1/contractors", port: port, token: officer, body: ["name": "再委託候補株式会社", "kind": "outsourced-contractor", "profile": weaker])
        let refusal = try await Self.call("POST", "/v1/contracts/\(contractID)/subcontracts", port: port, token: officer, body: ["subcontractorId": sub.json["id"] as? String ?? ""])
        #expect(refusal.status == 422)
        #expect(refusal.json["decision"] as? String == "refused")
        let shortfalls = refusal.json["shortfalls"] as? [[String: Any]] ?? []
        #expect(shortfalls.count == 1)
        #expect(shortfalls.first?["control"] as? String == "access-control")
        #expect(shortfalls.first?["requiredLevel"] as? String == "enhanced")
        #expect(shortfalls.first?["offeredLevel"] as? String == "standard")
        #expect(try await Self.call("GET", "/v1/subcontract-decisions/verify", port: port, token: manager).json["firstBrokenSeq"] == nil)

        // The first quarter's attestation never arrives: after the grace period the timer fires.
        clock.set(Fixture.day("2025-07-16"))
        var violation: ContractorViolationDetected?
        let deadline = ContinuousClock.now + .seconds(15)
        while violation == nil, ContinuousClock.now < deadline {
            for delivery in try await events.nextDeliveries(max: 50, timeout: .milliseconds(200)) {
                try await events.ack(delivery.deliveryTag)
                let envelope = try RawEnvelope(delivery: delivery).decode(as: ContractorViolationDetected.self)
                if envelope.data.contractReference == reference { violation = envelope.data }
            }
        }
        let found = try #require(violation)
        #expect(found.kind == .attestationMissing)
        #expect(found.sectionCode == Self.section)
        #expect(found.departmentCode == "residents-dept")

        let listed = try await Self.call("GET", "/v1/contractor-violations", port: port, token: officer)
        #expect((listed.json["violations"] as? [[String: Any]] ?? []).contains { $0["contractId"] as? String == contractID })
        let measures = try await Self.call("GET", "/v1/contractor-measures", port: port, token: manager)
        #expect(measures.status == 200)
        await events.close()
    }
}
