@testable import AuditScheduler
import Contracts
import Directory
import Foundation
import ISMSTesting
import Postgres
import PostgresMigrations
import ServiceRuntime
import Testing
import WardCalendar

private func d(_ text: String) -> CivilDate { CivilDate(iso: text)! }

/// 10:00 JST on `day`.
private func morning(_ day: String) -> Date { d(day).startInTokyo().addingTimeInterval(10 * 3600) }

/// A fresh audit schema with the test organisation, three registered assets (one retired) and
/// the shipped risk scale.
private func withRiskRegister<T: Sendable>(_ body: (AuditSchedulerStore, PostgresPool) async throws -> T) async throws -> T {
    let calendar = DutyCalendar(start: d("2026-04-01"), templates: [])
    let scale = try defaultRiskScale()
    return try await withAuditSchema(calendar: calendar) { plain, pool in
        let directory = plain.directory
        _ = try await pool.withTransaction { connection in
            try AssetRegister(directory: directory).save(
                [
                    RegisteredAsset(
                        id: "juki-system", name: "住民記録システム", sectionCode: "general-affairs",
                        classification: AssetClassification(confidentiality: .level3A, integrity: .level2, availability: .level2)),
                    RegisteredAsset(
                        id: "notices", name: "通知文書", sectionCode: "general-affairs",
                        classification: AssetClassification(confidentiality: .level2, integrity: .level1, availability: .level1)),
                    RegisteredAsset(
                        id: "old-system", name: "旧システム", sectionCode: "general-affairs",
                        classification: AssetClassification(confidentiality: .level1, integrity: .level1, availability: .level1), retired: true),
                ], by: "test", on: connection)
        }
        return try await body(AuditSchedulerStore(schema: plain.schema, directory: directory, calendar: calendar, riskScale: scale), pool)
    }
}

private let officer = DutyActor(role: .sectionSecurityOfficer, unitCode: "general-affairs")
private let otherOfficer = DutyActor(role: .sectionSecurityOfficer, unitCode: "personnel")
private let generalOfficer = DutyActor(role: .generalSecurityOfficer, unitCode: nil)
private let ciso = DutyActor(role: .ciso, unitCode: nil)

private func register(_ store: AuditSchedulerStore, _ pool: PostgresPool, now: Date, likelihood: Int = 4, impact: Int = 3, reviewDate: String? = nil) async throws -> RiskDetail {
    try await pool.withTransaction { connection in
        try store.registerRisk(
            RiskRequest(
                assetID: "juki-system", sectionCode: "general-affairs", title: "住民記録の持ち出し", threat: "USBメモリでの持ち出し",
                vulnerability: "端末のUSBポートが制限されていない", likelihood: likelihood, impact: impact, reviewDate: reviewDate,
                sources: [RiskSource(kind: .incident, reference: "2026-0042")]),
            by: officer, now: now, on: connection)
    }
}

@Suite("Risk register against PostgreSQL (Art. 26)", .serialized, .tags(.integration), .needsTestServers)
struct RiskRegisterDatabaseTests {
    @Test("a high residual risk is accepted only by the CISO with a reason; the history verifies, a tampered row does not")
    func acceptanceAboveAppetite() async throws {
        try await withRiskRegister { store, pool in
            let now = morning("2026-11-26")
            let registered = try await register(store, pool, now: now)
            let id = registered.risk.id
            #expect(registered.risk.inherentLevel == "critical")
            #expect(registered.risk.currentLevel == "critical" && registered.risk.aboveAppetite)
            #expect(registered.risk.sources == [RiskSource(kind: .incident, reference: "2026-0042")])
            #expect(registered.risk.reviewDate == d("2026-11-26").adding(days: 30))  // critical: reviewed within 30 days

            func accept(_ actor: DutyActor, reason: String?, residual: (Int, Int) = (3, 3)) async throws -> RiskDetail {
                try await pool.withTransaction { connection in
                    try store.treatRisk(
                        id: id, RiskTreatmentRequest(treatment: .accept, residualLikelihood: residual.0, residualImpact: residual.1, reason: reason), by: actor,
                        now: now, on: connection)
                }
            }
            func refusal(_ actor: DutyActor, reason: String?) async -> AuditSchedulerError.Code? {
                do {
                    _ = try await accept(actor, reason: reason)
                    return nil
                } catch let error as AuditSchedulerError {
                    return error.code
                } catch {
                    return nil
                }
            }
            // Residual 3×3 = high, above the appetite (medium): neither the section nor the general
            // security officer may accept it; the CISO needs a reason.
            #expect(await refusal(officer, reason: "予算がない") == .needsCISO)
            #expect(await refusal(generalOfficer, reason: "予算がない") == .needsCISO)
            #expect(await refusal(ciso, reason: nil) == .invalid)
            #expect(await refusal(ciso, reason: "  ") == .invalid)
            // Another section neither sees nor treats it.
            #expect(await refusal(otherOfficer, reason: "x") == .notFound)
            let accepted = try await accept(ciso, reason: "来年度の端末更新で対策するまで受容する")
            #expect(accepted.risk.treatment == .accept && accepted.risk.residualLevel == "high")
            #expect(accepted.risk.acceptedByRole == .ciso && accepted.risk.acceptedReason == "来年度の端末更新で対策するまで受容する")
            // Within the appetite, the section accepts with a reason.
            let low = try await accept(officer, reason: "影響が小さい", residual: (1, 2))
            #expect(low.risk.residualLevel == "low" && low.risk.acceptedByRole == .sectionSecurityOfficer)

            #expect(low.history.map(\.entryType) == ["risk.registered", "risk.accepted", "risk.accepted"])
            #expect(low.historyVerified)
            #expect(try await pool.withConnection { try store.verifyLedger(on: $0) }.valid)
            let seen = try await pool.withConnection { try store.riskDetail(id: id, visibleTo: otherOfficer, today: d("2026-11-26"), on: $0) }
            #expect(seen == nil)

            // A history row edited behind the trigger's back no longer verifies.
            let schema = store.schema
            await #expect(throws: PostgresError.self) {
                try await pool.query("UPDATE \(unescaped: "\"\(schema)\"").ledger SET body = '{}' WHERE subject_id = \(id)")
            }
            _ = try await pool.withTransaction { connection in
                _ = try connection.query("SET LOCAL session_replication_role = replica")
                return try connection.query(
                    "UPDATE \(unescaped: "\"\(schema)\"").ledger SET body = replace(body, 'USB', 'CD') WHERE seq = (SELECT min(seq) FROM \(unescaped: "\"\(schema)\"").ledger WHERE subject_id = \(id))"
                ).affectedRows
            }
            let tampered = try await pool.withConnection { try store.riskDetail(id: id, visibleTo: ciso, today: d("2026-11-26"), on: $0) }
            #expect(tampered?.historyVerified == false)
            #expect(try await pool.withConnection { try store.verifyRiskHistory(id: id, on: $0) } != nil)
            #expect(try await pool.withConnection { try store.verifyLedger(on: $0) }.valid == false)
        }
    }

    @Test("registering needs the section's officer or a ward-wide risk manager, and a valid scale value")
    func whoRegisters() async throws {
        try await withRiskRegister { store, pool in
            let now = morning("2026-11-26")
            func attempt(
                _ actor: DutyActor, likelihood: Int = 2, asset: String = "notices", section: String? = "general-affairs"
            ) async -> AuditSchedulerError.Code? {
                do {
                    _ = try await pool.withTransaction { connection in
                        try store.registerRisk(
                            RiskRequest(assetID: asset, sectionCode: section, title: "t", threat: "t", vulnerability: "v", likelihood: likelihood, impact: 2),
                            by: actor, now: now, on: connection)
                    }
                    return nil
                } catch let error as AuditSchedulerError {
                    return error.code
                } catch {
                    return nil
                }
            }
            #expect(await attempt(officer) == nil)
            #expect(await attempt(generalOfficer) == nil)
            #expect(await attempt(DutyActor(role: .generalSystemAdministrator, unitCode: nil)) == nil)
            #expect(await attempt(otherOfficer) == .forbidden)
            #expect(await attempt(DutyActor(role: .sectionSecurityStaff, unitCode: "general-affairs")) == .forbidden)
            #expect(await attempt(DutyActor(role: .csirt, unitCode: nil)) == .forbidden)
            #expect(await attempt(officer, likelihood: 5) == .invalid)
            // The asset must be registered and in use, and the section given must be the asset's.
            #expect(await attempt(officer, asset: "no-such-asset") == .invalid)
            #expect(await attempt(officer, asset: "old-system") == .invalid)
            #expect(await attempt(generalOfficer, section: "personnel") == .invalid)
            #expect(await attempt(generalOfficer, section: nil) == nil)

            // Without an impact, the asset's classification suggests it: 3A → 4 (severe).
            let suggested = try await pool.withTransaction { connection in
                try store.registerRisk(
                    RiskRequest(assetID: "juki-system", title: "t", threat: "t", vulnerability: "v", likelihood: 1, impact: nil), by: officer, now: now,
                    on: connection)
            }
            #expect(suggested.risk.inherentImpact == 4 && suggested.risk.inherentLevel == "high" && suggested.risk.sectionCode == "general-affairs")
        }
    }

    @Test("the review date is a risk-review duty of the section, chased like any duty; reviewing completes it and schedules the next")
    func reviewDuty() async throws {
        try await withRiskRegister { store, pool in
            let clock = TestClock(morning("2026-11-26"))
            let registered = try await register(store, pool, now: clock.now, likelihood: 2, impact: 2, reviewDate: "2026-12-10")
            let id = registered.risk.id
            let dutyID = try #require(registered.risk.reviewDutyID)
            let duty = try #require(try await pool.withConnection { try store.duty(id: dutyID, visibleTo: officer, today: d("2026-11-26"), on: $0) }).duty
            #expect(duty.kind == .riskReview && duty.riskID == id && duty.unitCode == "general-affairs" && duty.dueDate == d("2026-12-10"))
            #expect(duty.owningRole == .sectionSecurityOfficer)

            // The chase: the reminder a day before, the due day, the overdue notice.
            let runner = TimerRunner(
                schema: store.schema, service: .auditScheduler, handlers: [DutyNoticeTimer(store: store)], database: pool, pollInterval: .seconds(1),
                logger: TestServers.logger("timers"), clock: { clock.now })
            clock.set(morning("2026-12-11"))
            try await runner.fireDue()
            let sent = try await outbox(store, pool).map(\.routingKey)
            #expect(sent.contains("duty.overdue.v1"), "\(sent)")
            let overdue = try #require(try await outbox(store, pool).last { $0.routingKey == "duty.overdue.v1" })
            #expect(try overdue.envelope.decode(as: DutyOverdue.self).data.duty.kind == "risk-review")

            // Completing it as a plain duty is refused: the risk is reviewed instead.
            await #expect(throws: AuditSchedulerError.self) {
                try await pool.withTransaction(emittingAs: .auditScheduler, schema: store.schema, logger: TestServers.logger("risks"), now: clock.now) { context in
                    try store.complete(dutyID: dutyID, with: DutyCompletionRequest(evidence: [], notes: "done"), by: officer, context: &context)
                }
            }
            let reviewed = try await pool.withTransaction { connection in
                try store.reviewRisk(id: id, RiskReviewRequest(notes: "対策の状況を確認した", residualLikelihood: 1, residualImpact: 2), by: officer, now: clock.now, on: connection)
            }
            #expect(reviewed.risk.residualLevel == "low")
            #expect(reviewed.risk.reviewDate == d("2026-12-11").adding(days: 365))  // low: yearly
            let completed = try #require(try await pool.withConnection { try store.duty(id: dutyID, visibleTo: nil, today: d("2026-12-11"), on: $0) })
            #expect(completed.duty.status == .completed)
            #expect(reviewed.risk.reviewDutyID != dutyID)
            #expect(try await outbox(store, pool).contains { $0.routingKey == "duty.completed.v1" })

            // Reviewing again moves the date again; there is only ever one open review duty.
            _ = try await pool.withTransaction { connection in
                try store.reviewRisk(id: id, RiskReviewRequest(notes: "再確認", nextReviewDate: "2027-03-01"), by: generalOfficer, now: clock.now, on: connection)
            }
            let open = try await pool.withConnection { connection in
                try store.duties(DutyFilter(fiscalYear: nil, status: .open, kind: .riskReview), visibleTo: nil, today: d("2026-12-11"), on: connection)
            }
            #expect(open.filter { $0.riskID == id }.map(\.occurrenceDate) == [d("2027-03-01")])
            // A department security officer may review its department's risks; another section may not.
            await #expect(throws: AuditSchedulerError.self) {
                try await pool.withTransaction { connection in
                    try store.reviewRisk(id: id, RiskReviewRequest(notes: "x"), by: otherOfficer, now: clock.now, on: connection)
                }
            }
            _ = try await pool.withTransaction { connection in
                try store.reviewRisk(
                    id: id, RiskReviewRequest(notes: "部として確認", nextReviewDate: "2027-03-02"), by: DutyActor(role: .departmentSecurityOfficer, unitCode: "general-affairs-dept"),
                    now: clock.now, on: connection)
            }
            // A review that keeps the scheduled date is an interim one: the scheduled review stays open.
            let interim = try await pool.withTransaction { connection in
                try store.reviewRisk(id: id, RiskReviewRequest(notes: "中間確認", nextReviewDate: "2027-03-02"), by: officer, now: clock.now, on: connection)
            }
            let scheduled = try #require(try await pool.withConnection { try store.duty(id: interim.risk.reviewDutyID!, visibleTo: nil, today: d("2026-12-11"), on: $0) })
            #expect(scheduled.duty.status == .open && scheduled.duty.occurrenceDate == d("2027-03-02"))
            let history = try #require(try await pool.withConnection { try store.riskDetail(id: id, visibleTo: nil, today: d("2026-12-11"), on: $0) })
            #expect(history.history.map(\.entryType) == ["risk.registered", "risk.reviewed", "risk.reviewed", "risk.reviewed", "risk.reviewed"])
            #expect(history.historyVerified)
        }
    }

    @Test("a reduce treatment's due date is a risk-treatment duty of its owner; another treatment cancels it")
    func reduceDuty() async throws {
        try await withRiskRegister { store, pool in
            let now = morning("2026-11-26")
            let id = try await register(store, pool, now: now).risk.id
            await #expect(throws: AuditSchedulerError.self) {
                try await pool.withTransaction { connection in
                    try store.treatRisk(id: id, RiskTreatmentRequest(treatment: .reduce, measures: "USBを制限する"), by: officer, now: now, on: connection)
                }
            }
            let reduced = try await pool.withTransaction { connection in
                try store.treatRisk(
                    id: id,
                    RiskTreatmentRequest(treatment: .reduce, measures: "USBポートを制限する", dueDate: "2027-01-29", residualLikelihood: 2, residualImpact: 3),
                    by: officer, now: now, on: connection)
            }
            #expect(reduced.risk.residualLevel == "high" && reduced.risk.treatmentOwnerRole == .sectionSecurityOfficer)
            let dutyID = try #require(reduced.risk.treatmentDutyID)
            let duty = try #require(try await pool.withConnection { try store.duty(id: dutyID, visibleTo: nil, today: d("2026-11-26"), on: $0) }).duty
            #expect(duty.kind == .riskTreatment && duty.riskID == id && duty.dueDate == d("2027-01-29") && duty.unitCode == "general-affairs")

            let transferred = try await pool.withTransaction { connection in
                try store.treatRisk(id: id, RiskTreatmentRequest(treatment: .transfer, transferTo: "サイバー保険"), by: generalOfficer, now: now, on: connection)
            }
            #expect(transferred.risk.treatment == .transfer && transferred.risk.treatmentDutyID == nil)
            let cancelled = try #require(try await pool.withConnection { try store.duty(id: dutyID, visibleTo: nil, today: d("2026-11-26"), on: $0) }).duty
            #expect(cancelled.status == .cancelled)

            let summary = try await pool.withConnection { try store.riskSummary(visibleTo: nil, today: d("2026-11-26"), on: $0) }
            #expect(summary.total == 1 && summary.byTreatment.transfer == 1 && summary.aboveAppetite == 1)
            #expect(summary.heatMap.inherent[3][2] == 1 && summary.heatMap.residual[1][2] == 1)
            let sectionView = try await pool.withConnection { try store.riskSummary(visibleTo: otherOfficer, today: d("2026-11-26"), on: $0) }
            #expect(sectionView.total == 0)
        }
    }
}
