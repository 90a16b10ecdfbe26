@testable import ContractorMonitor
import Contracts
import Foundation
import ISMSTesting
import Postgres
import ServiceRuntime
import Testing

/// `contractor.contract-changed.v1` (issue #18): a registered contract is announced at once, and
/// again when its last day has passed, so the audit scheduler plans contractors' staff education
/// (Art. 23) for the contracts in force. No personal data.
@Suite(.tags(.integration), .needsTestServers) struct ContractAnnouncementTests {
    @Test func aContractIsAnnouncedWhenRegisteredAndWhenItEnds() async throws {
        try await ContractorRegistryTests.withRegistry { registry, pool in
            let registeredAt = Fixture.day("2025-03-01")
            let contract = try await pool.withTransaction { connection in
                let vendor = try registry.registerContractor(ContractorRegistryTests.contractorInput("株式会社ねりまデータ"), now: registeredAt, on: connection)
                return try registry.registerContract(
                    ContractorRegistryTests.myNumberContract(contractorID: vendor.id), createdBy: "t", now: registeredAt, on: connection)
            }
            let registered = try await ContractorRegistryTests.outbox(registry, pool, withContractChanges: true)
            #expect(registered.map(\.routingKey) == [MessageTypes.contractorContractChanged.routingKey])
            let event = try registered[0].envelope.decode(as: ContractorContractChanged.self)
            #expect(event.data.change == .registered)
            #expect(event.data.contractID == contract.id)
            #expect(event.data.sectionCode == "family-registry" && event.data.departmentCode == "residents-dept")
            #expect(event.data.startDate == "2025-04-01" && event.data.endDate == "2026-03-31")
            #expect(event.data.handlesMyNumber)
            #expect(event.subject == contract.id.lowercasedString)
            let schemaViolations = try Schemas.violations(in: registered[0].envelope)
            #expect(schemaViolations.envelope.isEmpty && schemaViolations.data.isEmpty)
            // The designated handlers stay in the registry.
            let text = String(decoding: try registered[0].envelope.jsonBytes(), as: UTF8.self)
            #expect(!text.contains("担当者"))

            // The day after the last day (1 April 2026, Japan) the end is announced.
            let clock = TestClock(Fixture.day("2026-03-31"))
            let runner = TimerRunner(
                schema: registry.schema, service: .contractorMonitor, handlers: registry.timerHandlers, database: pool, pollInterval: .seconds(1),
                logger: TestServers.logger("timers"), clock: clock.now)
            try await runner.fireDue()
            let beforeEnd = try await ContractorRegistryTests.outbox(registry, pool, withContractChanges: true)
                .filter { $0.routingKey == MessageTypes.contractorContractChanged.routingKey }
            #expect(beforeEnd.count == 1)
            clock.set(Fixture.day("2026-04-01"))
            try await runner.fireDue()
            let changes = try await ContractorRegistryTests.outbox(registry, pool, withContractChanges: true)
                .filter { $0.routingKey == MessageTypes.contractorContractChanged.routingKey }
            #expect(changes.count == 2)
            let ended = try changes[1].envelope.decode(as: ContractorContractChanged.self).data
            #expect(ended.change == .ended && ended.endDate == "2026-03-31")
        }
    }

    @Test func aContractRegisteredBeforeAnnouncementsIsAnnouncedOnceAtStart() async throws {
        try await ContractorRegistryTests.withRegistry { registry, pool in
            let registeredAt = Fixture.day("2025-03-01")
            let contract = try await pool.withTransaction { connection in
                let vendor = try registry.registerContractor(ContractorRegistryTests.contractorInput("株式会社むかし"), now: registeredAt, on: connection)
                return try registry.registerContract(
                    ContractorRegistryTests.myNumberContract(contractorID: vendor.id), createdBy: "t", now: registeredAt, on: connection)
            }
            // As if registered by an older version: no announcement, no end timer.
            _ = try await pool.query("DELETE FROM \(unescaped: registry.table("outbox"))")
            _ = try await pool.query("DELETE FROM \(unescaped: registry.table("timers")) WHERE kind = \(ContractorRegistry.contractEndedTimerKind)")
            let now = Fixture.day("2025-06-01")
            #expect(try await pool.withTransaction { try registry.announceUnannounced(now: now, on: $0) } == 1)
            #expect(try await pool.withTransaction { try registry.announceUnannounced(now: now, on: $0) } == 0)
            let changes = try await ContractorRegistryTests.outbox(registry, pool, withContractChanges: true)
                .filter { $0.routingKey == MessageTypes.contractorContractChanged.routingKey }
            #expect(changes.count == 1)
            #expect(try changes.first?.envelope.decode(as: ContractorContractChanged.self).data.contractID == contract.id)
            // After its end it is not in force: nothing to announce at a later start.
            _ = try await pool.query("DELETE FROM \(unescaped: registry.table("timers")) WHERE kind = \(ContractorRegistry.contractEndedTimerKind)")
            #expect(try await pool.withTransaction { try registry.announceUnannounced(now: Fixture.day("2026-05-01"), on: $0) } == 0)
        }
    }
}
