import Contracts
import CSIRTTriage
import Directory
import Foundation
import ISMSTesting
import Postgres
import Testing

/// A report that names a registered asset is classified by the register (issue #18 item 0).
@Suite(.tags(.integration), .needsTestServers) struct AssetClassificationTests {
    let now = ContractsJSON.parseTimestamp("2026-06-01T10:00:00+09:00")!

    /// A lost asset, five persons' personal data, no My Number: the asset's confidentiality
    /// decides between `confidentiality-3-leak` (2) and `personal-data` (3).
    func report(_ assets: [AffectedAsset]) -> NewCase {
        var event = reported(myNumber: .no, detected: false, persons: .count(5), category: .lossOrTheft, knownAt: now, assets: assets)
        event.recordedAt = now
        return NewCase(reported: event)
    }

    func receive(_ fixture: TriageFixture, _ new: NewCase) async throws -> CaseRecord {
        try await fixture.transaction(now: now) { engine, context in try engine.receive(new, causedBy: nil, context: &context) }.record
    }

    @Test func theRegisteredClassificationDecidesAndADifferenceIsShown() async throws {
        try await TriageFixture.with { fixture in
            let register = AssetRegister(directory: fixture.directory)
            let casefiles = RegisteredAsset(
                id: "kj-casefiles", name: "戸籍届書", sectionCode: "koseki-jumin",
                classification: .init(confidentiality: .level3A, integrity: .level2, availability: .level1))
            _ = try await fixture.pool.withTransaction { try register.save([casefiles], by: "test", on: $0) }
            let guessedLow = AssetClassification(confidentiality: .level1, integrity: .level1, availability: .level1)

            // The reporter guessed "1"; the register says 3A: severity 2, and the case shows both.
            let registered = try await receive(fixture, report([AffectedAsset(id: "kj-casefiles", name: "届書", classification: guessedLow)]))
            #expect(registered.severity.severity == 2)
            #expect(registered.severity.rule == "confidentiality-3-leak")
            let check = try #require(registered.facts.assets?.first)
            #expect(check.registered == casefiles.classification)
            #expect(check.reported == guessedLow)
            #expect(check.differs)
            #expect(registered.facts.classifications == [casefiles.classification])

            // An id the register does not hold keeps the reporter's guess: severity 3.
            let unregistered = try await receive(fixture, report([AffectedAsset(id: "not-registered", classification: guessedLow)]))
            #expect(unregistered.severity.severity == 3)
            #expect(unregistered.facts.assets?.first?.registered == nil)
            #expect(unregistered.facts.assets?.first?.differs == false)

            // Named without any classification, a registered asset still counts.
            let silent = try await receive(fixture, report([AffectedAsset(id: "kj-casefiles")]))
            #expect(silent.severity.severity == 2)
            #expect(silent.facts.assets?.first?.differs == false)

            // What the API answers is what was stored.
            let stored = try await fixture.pool.withConnection { try fixture.engine.store.find(id: registered.id, on: $0) }
            #expect(stored?.facts.assets == registered.facts.assets)
        }
    }

    @Test func aRestrictionNamesARegisteredAssetOrIsRefused() async throws {
        try await TriageFixture.with { fixture in
            let register = AssetRegister(directory: fixture.directory)
            let classification = AssetClassification(confidentiality: .level3A, integrity: .level2, availability: .level1)
            _ = try await fixture.pool.withTransaction {
                try register.save(
                    [
                        RegisteredAsset(id: "kj-casefiles", name: "戸籍届書", sectionCode: "koseki-jumin", classification: classification),
                        RegisteredAsset(id: "kj-old", name: "旧台帳", sectionCode: "koseki-jumin", classification: classification, retired: true),
                    ], by: "test", on: $0)
            }
            let record = try await receive(fixture, report([AffectedAsset(id: "kj-casefiles")]))
            let csirt = TriageActor(id: "person:p-csirt-1", role: .csirt)
            func order(_ targets: [UseRestriction.Target]) async throws -> UseRestriction {
                try await fixture.transaction(now: now) { engine, context in
                    try engine.orderRestriction(UseRestrictionOrder(targets: targets, reason: "調査中"), caseNumber: record.caseNumber, actor: csirt, context: &context)
                }
            }
            let ordered = try await order([.init(kind: .asset, name: "戸籍届書", assetID: "kj-casefiles")])
            #expect(ordered.targets.first?.assetID == "kj-casefiles")
            for targets: [UseRestriction.Target] in [
                [.init(kind: .asset, name: "不明", assetID: "not-registered")], [.init(kind: .asset, name: "旧台帳", assetID: "kj-old")],
                [.init(kind: .system, name: "戸籍システム", assetID: "kj-casefiles")],
            ] {
                let refused = await #expect(throws: TriageError.self) { try await order(targets) }
                #expect(refused?.code == .invalidRequest, "\(targets)")
            }
        }
    }
}
