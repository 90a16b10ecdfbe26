@testable import ContractorMonitor
import Contracts
import Directory
import Foundation
import ISMSTesting
import Postgres
import PostgresMigrations
import ServiceRuntime
import Testing

/// The registry, the chain gate, the attestation timers and the violations against the real
/// PostgreSQL (`ISMS_TEST_DATABASE_URL`), each test in schemas of its own.
@Suite(.tags(.integration), .needsTestServers) struct ContractorRegistryTests {
    static let section = "family-registry"

    /// A contractor schema and a directory schema holding the ward's organisation.
    static func withRegistry(settings: ContractorMonitorSettings = ContractorMonitorSettings(), _ body: (ContractorRegistry, PostgresPool) async throws -> Void) async throws {
        let directorySchema = TestServers.uniqueName("cmdir")
        try await TestServers.withSchema(prefix: "cm", migrations: { MessagingSchema.migrations(schema: $0) + ContractorMigrations.all(schema: $0) }) { schema, pool in
            let directory = DirectoryStore(schema: directorySchema)
            _ = try await pool.query("CREATE SCHEMA \(unescaped: directorySchema)")
            try await Migrator.apply(directory.migrations, on: pool, logger: TestServers.logger("migrations"))
            let ward = try DirectoryDocument.load(path: Fixture.wardPath)
            _ = try await pool.withTransaction { try directory.replace(with: ward, on: $0) }
            let registry = ContractorRegistry(schema: schema, directory: directory, baseline: Fixture.baseline, settings: settings)
            do {
                try await body(registry, pool)
                _ = try? await pool.query("DROP SCHEMA \(unescaped: directorySchema) CASCADE")
            } catch {
                _ = try? await pool.query("DROP SCHEMA \(unescaped: directorySchema) CASCADE")
                throw error
            }
        }
    }

    static func contractorInput(_ name: String, _ level: String = "enhanced", kind: ContractorKind = .outsourcedContractor, except: [String: String] = [:]) -> ContractorRegistry.ContractorInput {
        .init(name: name, kind: kind, profile: Fixture.profile(level, except: except))
    }

    static func myNumberContract(contractorID: UUID, start: String = "2025-04-01", end: String = "2026-03-31") -> ContractorRegistry.ContractInput {
        .init(
            reference: "R7-\(UUID().uuidString.prefix(6))", title: "住民記録システム運用保守", sectionCode: section, kind: .outsourcing, contractorID: contractorID,
            startDate: start, endDate: end, handlesMyNumber: true, handlingArea: "本庁舎3階 電算室",
            designatedHandlers: [DesignatedHandler(name: "担当者A", role: "運用"), DesignatedHandler(name: "担当者B")])
    }

    /// What the schema's outbox holds: routing key and decoded envelope.
    static func outbox(_ registry: ContractorRegistry, _ pool: PostgresPool) async throws -> [(routingKey: String, envelope: RawEnvelope)] {
        try await pool.query("SELECT routing_key, body FROM \(unescaped: registry.table("outbox")) ORDER BY id").rows.map { row in
            (try row.decode("routing_key"), try RawEnvelope(jsonBytes: try row.decode("body", as: [UInt8].self)))
        }
    }

    // MARK: Registry

    @Test func contractsAreCheckedAgainstTheDirectoryAndArt18() async throws {
        try await Self.withRegistry { registry, pool in
            let now = Fixture.day("2025-03-01")
            let vendor = try await pool.withTransaction { try registry.registerContractor(Self.contractorInput("株式会社テスト"), now: now, on: $0) }
            let lessor = try await pool.withTransaction { try registry.registerContractor(Self.contractorInput("テストリース", kind: .lessor), now: now, on: $0) }

            var unknownSection = Self.myNumberContract(contractorID: vendor.id)
            unknownSection.sectionCode = "no-such-section"
            var noHandlers = Self.myNumberContract(contractorID: vendor.id)
            noHandlers.designatedHandlers = []
            noHandlers.handlingArea = nil
            var wrongKind = Self.myNumberContract(contractorID: lessor.id)
            wrongKind.handlesMyNumber = false
            for (input, expected) in [(unknownSection, "sectionCode"), (noHandlers, "designatedHandlers"), (wrongKind, "kind")] {
                let error = await #expect(throws: ContractorMonitorError.self) {
                    try await pool.withTransaction { try registry.registerContract(input, createdBy: "t", now: now, on: $0) }
                }
                #expect(error?.isInvalidRequest == true)
                #expect(error?.problems.contains { $0.hasPrefix(expected) } == true, "\(error?.problems ?? [])")
            }
            #expect(try await pool.withConnection { try registry.contracts(on: $0) }.isEmpty)

            let contract = try await pool.withTransaction { try registry.registerContract(Self.myNumberContract(contractorID: vendor.id), createdBy: "t", now: now, on: $0) }
            #expect(contract.departmentCode == "residents-dept")
            #expect(contract.attestationIntervalMonths == 3)
            #expect(contract.specialProvisions == [.entrustedInformation, .specificPersonalInformation])
            let timers = try await pool.query("SELECT kind, count(*) AS n FROM \(unescaped: registry.table("timers")) GROUP BY kind ORDER BY kind").rows.map {
                (try $0.decode("kind", as: String.self), try $0.decode("n", as: Int.self))
            }
            #expect(timers.map(\.0) == [ContractorTimerKind.attestationDue, ContractorTimerKind.attestationOverdue, ContractorTimerKind.returnCertificateDue].sorted())
            #expect(timers.first { $0.0 == ContractorTimerKind.attestationOverdue }?.1 == 4)
        }
    }

    @Test func aContractNamesOnlyRegisteredAssetsInUse() async throws {
        try await Self.withRegistry { registry, pool in
            let now = Fixture.day("2025-03-01")
            let register = AssetRegister(directory: registry.directory)
            let classification = AssetClassification(confidentiality: .level3A, integrity: .level2, availability: .level2)
            _ = try await pool.withTransaction {
                try register.save(
                    [
                        RegisteredAsset(id: "juki", name: "住民記録", sectionCode: Self.section, classification: classification),
                        RegisteredAsset(id: "old-ledger", name: "旧台帳", sectionCode: Self.section, classification: classification, retired: true),
                    ], by: "test", on: $0)
            }
            let vendor = try await pool.withTransaction { try registry.registerContractor(Self.contractorInput("株式会社資産"), now: now, on: $0) }
            var unknown = Self.myNumberContract(contractorID: vendor.id)
            unknown.assetIDs = ["juki", "old-ledger", "nowhere"]
            let refused = unknown
            let error = await #expect(throws: ContractorMonitorError.self) {
                try await pool.withTransaction { try registry.registerContract(refused, createdBy: "t", now: now, on: $0) }
            }
            #expect(error?.problems.filter { $0.hasPrefix("assetIds") }.count == 2, "\(error?.problems ?? [])")
            var known = Self.myNumberContract(contractorID: vendor.id)
            known.assetIDs = ["juki"]
            let accepted = known
            let contract = try await pool.withTransaction { try registry.registerContract(accepted, createdBy: "t", now: now, on: $0) }
            #expect(contract.assetIDs == ["juki"])
            #expect(try await pool.withConnection { try registry.contract(id: contract.id, on: $0) }?.assetIDs == ["juki"])
        }
    }

    // MARK: Chain gate

    @Test func aDepthThreeChainIsApprovedAndAWeakerLinkRefusedWithTheShortfall() async throws {
        try await Self.withRegistry { registry, pool in
            let now = Fixture.day("2025-03-01")
            let ids = try await pool.withTransaction { connection in
                let prime = try registry.registerContractor(Self.contractorInput("元請", "enhanced"), now: now, on: connection)
                let a = try registry.registerContractor(Self.contractorInput("再委託A", "enhanced"), now: now, on: connection)
                let b = try registry.registerContractor(Self.contractorInput("再々委託B", "enhanced"), now: now, on: connection)
                let c = try registry.registerContractor(Self.contractorInput("C社", "enhanced"), now: now, on: connection)
                let weak = try registry.registerContractor(Self.contractorInput("弱いD社", "enhanced", except: ["access-control": "standard"]), now: now, on: connection)
                let contract = try registry.registerContract(Self.myNumberContract(contractorID: prime.id), createdBy: "t", now: now, on: connection)
                return (contract: contract.id, a: a.id, b: b.id, c: c.id, weak: weak.id)
            }
            let linkA = try await pool.withTransaction { try registry.requestSubcontract(contractID: ids.contract, parentLinkID: nil, subcontractorID: ids.a, approver: "officer", now: now, on: $0) }
            let linkB = try await pool.withTransaction { try registry.requestSubcontract(contractID: ids.contract, parentLinkID: linkA.linkID, subcontractorID: ids.b, approver: "officer", now: now, on: $0) }
            let linkC = try await pool.withTransaction { try registry.requestSubcontract(contractID: ids.contract, parentLinkID: linkB.linkID, subcontractorID: ids.c, approver: "officer", now: now, on: $0) }
            #expect([linkA, linkB, linkC].allSatisfy { $0.decision == .approved && $0.shortfalls.isEmpty })

            // Access control: "standard" is below both the My Number baseline and B's "enhanced".
            let refused = try await pool.withTransaction { try registry.requestSubcontract(contractID: ids.contract, parentLinkID: linkB.linkID, subcontractorID: ids.weak, approver: "officer", now: now, on: $0) }
            #expect(refused.decision == .refused)
            #expect(refused.approver == "officer")
            #expect(refused.shortfalls == [SubcontractShortfall(control: "access-control", requiredLevel: "enhanced", offeredLevel: "standard", setBy: .both)])

            // Nothing may be sub-contracted below a refused link.
            let below = await #expect(throws: ContractorMonitorError.self) {
                try await pool.withTransaction { try registry.requestSubcontract(contractID: ids.contract, parentLinkID: refused.linkID, subcontractorID: ids.c, approver: "officer", now: now, on: $0) }
            }
            #expect(below?.isInvalidRequest == true)

            let chain = try await pool.withConnection { try registry.subcontractChain(contractID: ids.contract, on: $0) }
            #expect(chain.depth == 3)
            #expect(chain.links.count == 4)
            #expect(chain.children(of: linkB.linkID.uuidString.lowercased()).map(\.state).sorted { $0.rawValue < $1.rawValue } == [.approved, .refused])

            // The ledger is append-only and hash-chained.
            let decisions = try await pool.withConnection { try registry.subcontractDecisions(contractID: ids.contract, on: $0) }
            #expect(decisions.map(\.seq) == [1, 2, 3, 4])
            #expect(decisions[0].prevHash == ContractorRegistry.genesisHash)
            #expect(decisions[1].prevHash == decisions[0].hash)
            #expect(try await pool.withConnection { try registry.verifyDecisionChain(on: $0) }.isIntact)
            await #expect(throws: PostgresError.self) {
                try await pool.query("UPDATE \(unescaped: registry.table("subcontract_decisions")) SET approver = 'someone else'")
            }
            await #expect(throws: PostgresError.self) {
                try await pool.query("DELETE FROM \(unescaped: registry.table("subcontract_decisions"))")
            }
        }
    }

    // MARK: Attestations and timers (Art. 28)

    @Test func theAttestationScheduleRemindsThenAMissedAttestationIsAViolation() async throws {
        try await Self.withRegistry { registry, pool in
            let registeredAt = Fixture.day("2025-03-01")
            let contract = try await pool.withTransaction { connection in
                let vendor = try registry.registerContractor(Self.contractorInput("株式会社ねりまデータ"), now: registeredAt, on: connection)
                return try registry.registerContract(Self.myNumberContract(contractorID: vendor.id), createdBy: "t", now: registeredAt, on: connection)
            }
            let clock = TestClock(Fixture.day("2025-06-01"))
            let runner = TimerRunner(schema: registry.schema, service: .contractorMonitor, handlers: registry.timerHandlers, database: pool, pollInterval: .seconds(1), logger: TestServers.logger("timers"), clock: clock.now)

            // Nothing is due on 1 June.
            try await runner.fireDue()
            #expect(try await Self.outbox(registry, pool).isEmpty)

            // 14 days before 1 July (the end of the first quarter) the section is reminded.
            clock.set(Fixture.day("2025-06-20"))
            try await runner.fireDue()
            var outbox = try await Self.outbox(registry, pool)
            #expect(outbox.map(\.routingKey) == [MessageTypes.contractorAttestationDue.routingKey])
            let due = try outbox[0].envelope.decode(as: ContractorAttestationDue.self).data.attestation
            #expect(due.period == 1)
            #expect(due.dueAt == Fixture.day("2025-07-01"))
            #expect(due.checklists == ["entrusted-information", "specific-personal-information"])

            // The grace period (14 days) ends on 15 July without an attestation.
            clock.set(Fixture.day("2025-07-16"))
            try await runner.fireDue()
            outbox = try await Self.outbox(registry, pool)
            #expect(outbox.map(\.routingKey) == [
                MessageTypes.contractorAttestationDue.routingKey, MessageTypes.contractorAttestationOverdue.routingKey,
                MessageTypes.contractorViolationDetected.routingKey,
            ])
            let violation = try outbox[2].envelope.decode(as: ContractorViolationDetected.self)
            #expect(violation.data.kind == .attestationMissing)
            #expect(violation.data.contractID == contract.id)
            #expect(violation.data.sectionCode == "family-registry")
            #expect(violation.data.departmentCode == "residents-dept")
            #expect(violation.data.contractorName == "株式会社ねりまデータ")
            #expect(violation.data.handlesMyNumber)
            #expect(!violation.data.details.contains("担当者"))  // no personal data
            #expect(violation.source == ServiceName.contractorMonitor.source)
            let schemaViolations = try Schemas.violations(in: outbox[2].envelope)
            #expect(schemaViolations.envelope.isEmpty && schemaViolations.data.isEmpty)

            let stored = try await pool.withConnection { try registry.violations(state: .open, on: $0) }
            #expect(stored.map(\.id) == [violation.data.violationID])

            // Period 2 is attested in time with one "no" and an undeclared sub-contractor.
            let outcome = try await pool.withTransaction {
                try registry.submitAttestation(
                    .init(
                        period: 2,
                        answers: Fixture.answers(for: contract.specialProvisions, overrides: ["specific-personal-information/access-logs": .no]),
                        declaredSubcontractors: [DeclaredSubcontractor(name: "未承認システム株式会社")],
                        evidence: .init(fileName: "attestation-q2.pdf", sha256: String(repeating: "ab", count: 32))),
                    contractID: contract.id, recordedBy: "officer", now: Fixture.day("2025-09-25"), on: $0)
            }
            #expect(outcome.violations.map(\.kind) == ["attestation-answer-no", "unapproved-subcontractor"])
            #expect(outcome.violations[0].details.contains("specific-personal-information/access-logs"))

            // Its reminders find it attested and stay silent.
            let before = try await Self.outbox(registry, pool).count
            clock.set(Fixture.day("2025-10-20"))
            try await runner.fireDue()
            #expect(try await Self.outbox(registry, pool).count == before)

            let statuses = try await pool.withConnection { try registry.periodStatuses(contract: contract, now: Fixture.day("2025-10-20"), on: $0) }
            #expect(statuses.map(\.status) == [.overdue, .attested, .upcoming, .upcoming])

            // An incomplete attestation is refused, item by item.
            let incomplete = await #expect(throws: ContractorMonitorError.self) {
                try await pool.withTransaction {
                    try registry.submitAttestation(.init(period: 3, answers: ["entrusted-information": ["confidentiality": .yes]]), contractID: contract.id, recordedBy: "o", now: Fixture.day("2025-12-20"), on: $0)
                }
            }
            #expect(incomplete?.problems.contains("answers.specific-personal-information.designated-handlers: unanswered") == true)
        }
    }

    @Test func aMissingReturnCertificateAndAnExpiredCertificationAreViolations() async throws {
        try await Self.withRegistry(settings: ContractorMonitorSettings(returnCertificateDays: 30)) { registry, pool in
            let now = Fixture.day("2025-03-01")
            let (returned, missing, vendor) = try await pool.withTransaction { connection in
                let vendor = try registry.registerContractor(Self.contractorInput("期限切れ株式会社"), now: now, on: connection)
                var yearly = Self.myNumberContract(contractorID: vendor.id, start: "2025-04-01", end: "2025-09-30")
                yearly.handlesMyNumber = false
                let returned = try registry.registerContract(yearly, createdBy: "t", now: now, on: connection)
                yearly.reference += "-2"
                let missing = try registry.registerContract(yearly, createdBy: "t", now: now, on: connection)
                return (returned, missing, vendor)
            }
            try await pool.withTransaction {
                try registry.recordReturnCertificate(contractID: returned.id, evidence: .init(fileName: "消去証明書.pdf", sha256: String(repeating: "0f", count: 32)), recordedBy: "o", now: Fixture.day("2025-10-10"), on: $0)
                _ = try registry.addCertification(contractorID: vendor.id, name: "ISO/IEC 27001", validUntil: Fixture.day("2025-08-01"), evidence: nil, recordedBy: "o", now: now, on: $0)
            }
            let clock = TestClock(Fixture.day("2025-11-05"))
            let runner = TimerRunner(schema: registry.schema, service: .contractorMonitor, handlers: registry.timerHandlers, database: pool, pollInterval: .seconds(1), logger: TestServers.logger("timers"), clock: clock.now)
            while try await runner.fireDue() > 0 {}
            let violations = try await pool.withConnection { try registry.violations(state: .open, on: $0) }
            let byKind = Dictionary(grouping: violations, by: \.kind)
            #expect(byKind["return-certificate-overdue"]?.map(\.contractID) == [missing.id])
            // The certification expired on 1 August while both contracts were running.
            #expect(Set(byKind["certificate-expired"]?.map(\.contractID) ?? []) == [returned.id, missing.id])
            // The yearly contract's only attestation (due at its end) was missed too.
            #expect(byKind["attestation-missing"]?.count == 2)

            let resolved = try await pool.withTransaction { try registry.resolveViolation(id: byKind["return-certificate-overdue"]![0].id, resolution: "certificate received late", resolvedBy: "csirt", now: clock.now(), on: $0) }
            #expect(resolved.state == .resolved)
            let report = try await pool.withConnection { try registry.measures(asOf: clock.now(), on: $0) }
            #expect(report.departments.map(\.departmentCode) == ["residents-dept"])
            #expect(report.total.openViolations == 4)
            #expect(report.total.contractsByState == ["planned": 0, "active": 0, "ended": 1, "closed": 1])
            #expect(report.total.complianceRate == 0)
        }
    }
}

/// A clock tests move by hand.
final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date

    init(_ start: Date) {
        current = start
    }

    func set(_ date: Date) {
        lock.withLock { current = date }
    }

    var now: @Sendable () -> Date {
        { [self] in lock.withLock { current } }
    }
}
