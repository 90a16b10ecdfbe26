import AuditScheduler
import Contracts
import Directory
import Foundation
import ISMSTesting
import Postgres
import ServiceRuntime
import Testing
import WardCalendar

private func d(_ text: String) -> CivilDate { CivilDate(iso: text)! }
private func morning(_ day: String) -> Date { d(day).startInTokyo().addingTimeInterval(10 * 3600) }

/// Issue #18 items 4 and 5 against PostgreSQL: the annual operation plan (drafted by the general
/// security officer, approved by the CISO alone, immutable once approved, compared with the
/// year's duties), the effectiveness measures of a fixture year with known answers, and the
/// management review's snapshots (hash-chained approval, verifiable, immutable, versioned).
@Suite("Operation plan and management review against PostgreSQL", .serialized, .tags(.integration), .needsTestServers)
struct PlanAndReviewTests {
    static let gso = DutyActor(role: .generalSecurityOfficer, unitCode: nil)
    static let ciso = DutyActor(role: .ciso, unitCode: nil)

    static let plan = OperationPlanDocument(
        objectives: [.init(text: "全職員の情報セキュリティ研修受講率 90% 以上", ownerRole: .generalSecurityOfficer)],
        lines: [
            .init(kind: .education, unitCode: "general-affairs-dept", plannedCount: 2, ownerRole: .departmentSecurityOfficer, ownerUnit: "general-affairs-dept"),
            .init(kind: .selfInspection, plannedCount: 6, ownerRole: .generalSecurityManager),
            .init(kind: .audit, plannedCount: 1, ownerRole: .auditChief),
        ])

    static func complete(_ store: AuditSchedulerStore, _ pool: PostgresPool, _ duty: DutyRecord, at: Date, _ request: DutyCompletionRequest) async throws {
        let actor = DutyActor(role: .generalSecurityOfficer, unitCode: nil)
        _ = try await pool.withTransaction(emittingAs: .auditScheduler, schema: store.schema, logger: TestServers.logger("duties"), now: at) { context in
            try store.complete(dutyID: duty.id, with: request, by: actor, context: &context)
        }
    }

    static func duties(_ store: AuditSchedulerStore, _ pool: PostgresPool, kind: DutyKind) async throws -> [DutyRecord] {
        try await pool.withConnection { connection in
            try store.duties(DutyFilter(fiscalYear: 2026, kind: kind), visibleTo: nil, today: d("2026-05-01"), on: connection)
        }
    }

    @Test("the plan is drafted by the general security officer, approved by the CISO only, immutable once approved, and compared with the year")
    func operationPlan() async throws {
        try await withAuditSchema(calendar: try defaultCalendar()) { store, pool in
            let now = morning("2026-05-01")
            _ = try await pool.withTransaction { connection in try store.materialise(today: d("2026-05-01"), now: now, on: connection) }
            // Only the general security officer drafts; only the CISO approves.
            for actor in [Self.ciso, DutyActor(role: .sectionSecurityOfficer, unitCode: "personnel")] {
                await #expect(throws: AuditSchedulerError.self) {
                    try await pool.withTransaction { try store.saveOperationPlanDraft(fiscalYear: 2026, plan: Self.plan, by: actor, now: now, on: $0) }
                }
            }
            let draft = try await pool.withTransaction { try store.saveOperationPlanDraft(fiscalYear: 2026, plan: Self.plan, by: Self.gso, now: now, on: $0) }
            #expect(draft.version == 1 && draft.status == .draft)
            for actor in [Self.gso, DutyActor(role: .generalSecurityManager, unitCode: nil)] {
                do {
                    _ = try await pool.withTransaction { try store.approveOperationPlan(fiscalYear: 2026, by: actor, now: now, on: $0) }
                    Issue.record("\(actor.role) approved the plan")
                } catch let error as AuditSchedulerError {
                    #expect(error.code == .forbidden)
                }
            }
            let approved = try await pool.withTransaction { try store.approveOperationPlan(fiscalYear: 2026, by: Self.ciso, now: now, on: $0) }
            #expect(approved.status == .approved && approved.approvalLedgerSeq != nil)
            #expect(approved.documentHash == draft.documentHash)
            // Approved is final: twice is a conflict, and the row refuses a change even in SQL.
            await #expect(throws: AuditSchedulerError.self) {
                try await pool.withTransaction { try store.approveOperationPlan(fiscalYear: 2026, by: Self.ciso, now: now, on: $0) }
            }
            let table = "\"\(store.schema)\".operation_plans"
            await #expect(throws: (any Error).self) { _ = try await pool.query("UPDATE \(unescaped: table) SET document = '{}' WHERE version = 1") }
            await #expect(throws: (any Error).self) { _ = try await pool.query("DELETE FROM \(unescaped: table) WHERE version = 1") }
            // A change is a new version; version 1 stays as approved.
            var changed = Self.plan
            changed.lines[0].plannedCount = 3
            let next = changed
            let second = try await pool.withTransaction { try store.saveOperationPlanDraft(fiscalYear: 2026, plan: next, by: Self.gso, now: now, on: $0) }
            #expect(second.version == 2 && second.status == .draft)
            let versions = try await pool.withConnection { try store.operationPlanVersions(fiscalYear: 2026, on: $0) }
            #expect(versions.map(\.version) == [1, 2])
            #expect(versions[0].plan.lines[0].plannedCount == 2 && versions[0].status == .approved)

            // Plan against result reads the approved version: the department's two sections'
            // education, one done on time; one of six self-inspections done late.
            let education = try await Self.duties(store, pool, kind: .education).filter { $0.departmentCode == "general-affairs-dept" }
            #expect(education.count == 2)
            try await Self.complete(store, pool, education[0], at: morning("2026-06-10"), DutyCompletionRequest(evidence: [], notes: "held", participants: 9, eligible: 10))
            let inspections = try await Self.duties(store, pool, kind: .selfInspection)
            #expect(inspections.count == 6)
            try await Self.complete(store, pool, inspections[0], at: inspections[0].dueDate.adding(days: 3).startInTokyo().addingTimeInterval(3600),
                DutyCompletionRequest(evidence: [], notes: "late", checklistScore: 40, checklistMax: 50))
            let comparison = try #require(try await pool.withConnection { try store.operationPlanComparison(fiscalYear: 2026, today: d("2026-06-20"), on: $0) })
            #expect(comparison.version == 1 && comparison.status == .approved)
            #expect(comparison.lines.map(\.plannedCount) == [2, 6, 1])
            #expect(comparison.lines.map(\.scheduled) == [2, 6, try await Self.duties(store, pool, kind: .audit).count])
            #expect(comparison.lines.map(\.done) == [1, 1, 0])
            #expect(comparison.lines.map(\.doneOnTime) == [1, 0, 0])
            #expect(comparison.lines[0].completionRate == 0.5)
            #expect(comparison.plannedTotal == 9 && comparison.doneTotal == 2)
            let ledger = try await pool.withConnection { try store.verifyLedger(on: $0) }
            #expect(ledger.valid)
        }
    }

    @Test("the effectiveness measures of a fixture year: participation by department, self-inspection rounds and trend, audit coverage")
    func fixtureYearMeasures() async throws {
        try await withAuditSchema(calendar: try defaultCalendar()) { store, pool in
            _ = try await pool.withTransaction { connection in try store.materialise(today: d("2026-05-01"), now: morning("2026-05-01"), on: connection) }
            let education = try await Self.duties(store, pool, kind: .education).filter { $0.unitKind == .section }
            // general-affairs 8/10, personnel 9/10 (general-affairs-dept: 17/20 = 85%); info-policy 3/4 (planning-dept: 75%).
            let attendance = ["general-affairs": (8, 10), "personnel": (9, 10), "info-policy": (3, 4)]
            for duty in education {
                let (participants, eligible) = try #require(attendance[duty.unitCode ?? ""])
                try await Self.complete(store, pool, duty, at: morning("2026-07-01"), DutyCompletionRequest(evidence: [], notes: "held", participants: participants, eligible: eligible))
            }
            // Two rounds, sections in code order (general-affairs, info-policy, personnel):
            // September all three (40/50, 45/50, 35/50: 80%), February two (48/50, 46/50: 94%).
            let inspections = try await Self.duties(store, pool, kind: .selfInspection).sorted { ($0.occurrenceDate, $0.unitCode ?? "") < ($1.occurrenceDate, $1.unitCode ?? "") }
            let scores: [Double?] = [40, 45, 35, 48, 46, nil]
            for (duty, score) in zip(inspections, scores) {
                guard let score else { continue }
                try await Self.complete(store, pool, duty, at: duty.dueDate.startInTokyo(), DutyCompletionRequest(evidence: [], notes: "checked", checklistScore: score, checklistMax: 50))
            }
            let audits = try await Self.duties(store, pool, kind: .audit)
            #expect(audits.count == 1)
            try await Self.complete(store, pool, audits[0], at: morning("2026-10-20"), DutyCompletionRequest(evidence: [], notes: "audited"))

            let report = try await pool.withConnection { try store.effectivenessReport(fiscalYear: 2026, now: morning("2027-03-01"), on: $0) }
            #expect(report.educationWard.participants == 20 && report.educationWard.eligible == 24)
            #expect(report.educationWard.participationRate == 20.0 / 24.0)
            let byDepartment = Dictionary(uniqueKeysWithValues: report.educationByDepartment.map { ($0.unit, $0) })
            #expect(byDepartment["general-affairs-dept"]?.participationRate == 0.85)
            #expect(byDepartment["planning-dept"]?.participationRate == 0.75)
            #expect(byDepartment["general-affairs-dept"]?.dutiesCompleted == 2)
            #expect(report.selfInspection.rounds.map(\.sectionsDue) == [3, 3])
            #expect(report.selfInspection.rounds.map(\.sectionsCompleted) == [3, 2])
            let averages = report.selfInspection.rounds.map { $0.averageScorePercent.map { ($0 * 10).rounded() / 10 } }
            #expect(averages == [80, 94])
            #expect(report.selfInspection.trendPercentPoints.map { ($0 * 10).rounded() / 10 } == 14)
            // By department: general-affairs-dept (general-affairs, personnel) 80, 70 then 96 alone:
            // 3 of 4, mean 82, round means 75 → 96 (+21); planning-dept (info-policy) 90 then 92:
            // 2 of 2, mean 91, +2.
            let inspectionByDepartment = Dictionary(uniqueKeysWithValues: report.selfInspection.byDepartment.map { ($0.unit, $0) })
            let generalAffairs = try #require(inspectionByDepartment["general-affairs-dept"])
            #expect(generalAffairs.sectionsDue == 4 && generalAffairs.sectionsCompleted == 3)
            #expect(generalAffairs.averageScorePercent.map { ($0 * 10).rounded() / 10 } == 82)
            #expect(generalAffairs.trendPercentPoints.map { ($0 * 10).rounded() / 10 } == 21)
            let planning = try #require(inspectionByDepartment["planning-dept"])
            #expect(planning.sectionsDue == 2 && planning.sectionsCompleted == 2)
            #expect(planning.averageScorePercent.map { ($0 * 10).rounded() / 10 } == 91)
            #expect(planning.trendPercentPoints.map { ($0 * 10).rounded() / 10 } == 2)
            #expect(report.audit.sections == 3)
            #expect(report.audit.completedThisYear == 1 && report.audit.coveredInCycle == 1)
            #expect(report.audit.cycleCoverage == 1.0 / 3.0)
        }
    }

    @Test("the review pack is saved as a snapshot, decided and approved by the CISO; the approval is hash-chained, verifiable and immutable")
    func managementReview() async throws {
        try await withAuditSchema(calendar: try defaultCalendar()) { store, pool in
            let now = morning("2027-04-20")
            let pack: JSONValue = ["items": [["number": 1, "article": "Art. 11(5)(1)", "hasData": false, "reason": "no plan"]], "fiscalYear": 2026]
            let (from, to) = (d("2026-04-01"), d("2027-03-31"))
            // A section's officer may not save it; the CISO may not write the proposals.
            await #expect(throws: AuditSchedulerError.self) {
                try await pool.withTransaction {
                    try store.saveManagementReviewDraft(
                        fiscalYear: 2026, from: from, to: to, pack: pack, proposals: nil, by: DutyActor(role: .sectionSecurityOfficer, unitCode: "personnel"), now: now, on: $0)
                }
            }
            await #expect(throws: AuditSchedulerError.self) {
                try await pool.withTransaction { try store.saveManagementReviewDraft(fiscalYear: 2026, from: from, to: to, pack: pack, proposals: "x", by: Self.ciso, now: now, on: $0) }
            }
            let draft = try await pool.withTransaction {
                try store.saveManagementReviewDraft(fiscalYear: 2026, from: from, to: to, pack: pack, proposals: "第27条の計画を見直す", by: Self.gso, now: now, on: $0)
            }
            #expect(draft.version == 1 && draft.status == .draft && draft.pack == pack)
            // Approval needs the decisions, and only the CISO decides and approves.
            await #expect(throws: AuditSchedulerError.self) {
                try await pool.withTransaction { try store.approveManagementReview(fiscalYear: 2026, by: Self.ciso, now: now, on: $0) }
            }
            await #expect(throws: AuditSchedulerError.self) {
                try await pool.withTransaction { try store.recordManagementReviewDecisions(fiscalYear: 2026, decisions: "x", by: Self.gso, now: now, on: $0) }
            }
            let decided = try await pool.withTransaction {
                try store.recordManagementReviewDecisions(fiscalYear: 2026, decisions: "計画を承認し、教育を追加する", by: Self.ciso, now: now, on: $0)
            }
            #expect(decided.documentHash != draft.documentHash)
            await #expect(throws: AuditSchedulerError.self) {
                try await pool.withTransaction { try store.approveManagementReview(fiscalYear: 2026, by: Self.gso, now: now, on: $0) }
            }
            let approved = try await pool.withTransaction { try store.approveManagementReview(fiscalYear: 2026, by: Self.ciso, now: now, on: $0) }
            #expect(approved.status == .approved && approved.documentHash == decided.documentHash)
            var verification = try await pool.withConnection { try store.verifyManagementReviews(fiscalYear: 2026, on: $0) }
            #expect(verification.intact && verification.versions.count == 1)
            #expect(verification.versions.first?.ledgerHash == approved.documentHash)

            // Immutable: no more decisions, and the row refuses a change in SQL.
            await #expect(throws: AuditSchedulerError.self) {
                try await pool.withTransaction { try store.recordManagementReviewDecisions(fiscalYear: 2026, decisions: "later", by: Self.ciso, now: now, on: $0) }
            }
            let table = "\"\(store.schema)\".management_reviews"
            await #expect(throws: (any Error).self) { _ = try await pool.query("UPDATE \(unescaped: table) SET decisions = 'edited'") }
            // A later change is version 2, starting from the approved proposals.
            let next = try await pool.withTransaction {
                try store.saveManagementReviewDraft(fiscalYear: 2026, from: from, to: to, pack: pack, proposals: nil, by: Self.ciso, now: now, on: $0)
            }
            #expect(next.version == 2 && next.status == .draft && next.proposals == "第27条の計画を見直す" && next.decisions.isEmpty)

            // Whoever gets past the trigger (the owner can disable it) is found by the hash.
            _ = try await pool.query("ALTER TABLE \(unescaped: table) DISABLE TRIGGER management_reviews_approved_immutable")
            _ = try await pool.query("UPDATE \(unescaped: table) SET decisions = 'edited' WHERE version = 1")
            verification = try await pool.withConnection { try store.verifyManagementReviews(fiscalYear: 2026, on: $0) }
            #expect(!verification.intact)
            #expect(verification.versions.first?.intact == false)
            #expect(verification.ledgerIntact)
        }
    }
}
