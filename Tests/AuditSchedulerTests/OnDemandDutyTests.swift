@testable import AuditScheduler
import Contracts
import Directory
import Foundation
import ISMSTesting
import Postgres
import ServiceRuntime
import Testing
import WardCalendar

private func d(_ text: String) -> CivilDate { CivilDate(iso: text)! }

/// 10:00 JST on `day`.
private func morning(_ day: String) -> Date { d(day).startInTokyo().addingTimeInterval(10 * 3600) }

/// Issue #18 item 3 against PostgreSQL: duties ordered on demand (Arts. 23-25), contractor staff
/// education from the contracts in force (Art. 23), improvement actions after low
/// self-inspection scores (Art. 24).
@Suite("Duties on demand against PostgreSQL", .serialized, .tags(.integration), .needsTestServers)
struct OnDemandDutyTests {
    static let ciso = DutyActor(role: .ciso, unitCode: nil)

    static func refusal(_ body: () async throws -> Void) async -> AuditSchedulerError? {
        do {
            try await body()
            return nil
        } catch let error as AuditSchedulerError {
            return error
        } catch {
            Issue.record("unexpected error \(error)")
            return nil
        }
    }

    @Test("an on-demand audit appears in the calendar and is chased; refused without a reason, for an unknown unit, with a partial auditor")
    func onDemandAudit() async throws {
        let calendar = DutyCalendar(start: d("2026-04-01"), templates: [])
        try await withAuditSchema(calendar: calendar) { store, pool in
            let clock = TestClock(morning("2026-11-26"))
            func order(_ request: DutyOrderRequest, by actor: DutyActor = Self.ciso) async throws -> DutyRecord {
                try await pool.withTransaction { connection in try store.order(request, by: actor, now: clock.now, on: connection) }
            }
            let audit = DutyOrderRequest(
                kind: .audit, unitCode: "general-affairs", dueDate: "2026-12-03", reason: "事案後の臨時監査（個人番号 123456789018 を含む書類の誤送付）",
                caseNumber: "INC-2026-000042", auditorPersonID: "chief-info-policy")

            // Refusals: no reason, an unknown unit, a department for an audit, a partial auditor
            // (Art. 13(2)), a section's own officer, CSIRT ordering an audit.
            var noReason = audit
            noReason.reason = "  "
            let refusedReason = await Self.refusal { _ = try await order(noReason) }
            #expect(refusedReason?.code == .invalid && refusedReason?.fields.map(\.field) == ["/reason"])
            var unknown = audit
            unknown.unitCode = "nowhere"
            #expect(await Self.refusal { _ = try await order(unknown) }?.fields.map(\.field) == ["/unitCode"])
            var department = audit
            department.unitCode = "general-affairs-dept"
            department.auditorPersonID = nil
            #expect(await Self.refusal { _ = try await order(department) }?.fields.map(\.field) == ["/unitCode"])
            var partial = audit
            partial.auditorPersonID = "chief-personnel"  // the audit chief sits in general-affairs-dept
            #expect(await Self.refusal { _ = try await order(partial) }?.code == .auditorNotIndependent)
            #expect(await Self.refusal { _ = try await order(audit, by: DutyActor(role: .sectionSecurityOfficer, unitCode: "general-affairs")) }?.code == .forbidden)
            #expect(await Self.refusal { _ = try await order(audit, by: DutyActor(role: .csirt, unitCode: nil)) }?.code == .forbidden)
            #expect(try await outbox(store, pool).isEmpty)

            let ordered = try await order(audit)
            #expect(ordered.kind == .audit && ordered.origin == .onDemand)
            #expect(ordered.unitKind == .section && ordered.unitCode == "general-affairs" && ordered.departmentCode == "general-affairs-dept")
            #expect(ordered.owningRole == .auditChief && ordered.article == "Art. 25")
            #expect(ordered.dueDate == d("2026-12-03") && ordered.auditorPersonID == "chief-info-policy")
            #expect(ordered.caseNumber == "INC-2026-000042")
            // The reason is screened like any free text: the My Number is masked.
            #expect(ordered.reason?.contains("123456789018") == false)
            #expect(ordered.reason?.contains("************") == true)
            // CSIRT orders education after an incident (Art. 22, 23); a closing day moves to the next opening day.
            let education = try await order(
                DutyOrderRequest(kind: .education, unitCode: "personnel", dueDate: "2026-12-05", reason: "標的型メール訓練の結果を受けて"),
                by: DutyActor(role: .csirt, unitCode: nil))
            #expect(education.dueDate == d("2026-12-07") && education.owningRole == .sectionSecurityOfficer && education.caseNumber == nil)

            // In the calendar with the planned duties, and in the review pack's report.
            let listed = try await pool.withConnection { connection in
                try store.duties(DutyFilter(fiscalYear: 2026), visibleTo: DutyActor(role: .departmentSecurityOfficer, unitCode: "general-affairs-dept"), today: d("2026-11-26"), on: connection)
            }
            #expect(Set(listed.map(\.id)) == [ordered.id, education.id])
            let onlyOrders = try await pool.withConnection { connection in
                var filter = DutyFilter(fiscalYear: 2026)
                filter.origin = .onDemand
                return try store.duties(filter, visibleTo: nil, today: d("2026-11-26"), on: connection)
            }
            #expect(onlyOrders.count == 2)
            let report = try await pool.withConnection { connection in
                try store.onDemandDuties(from: d("2026-11-01"), through: d("2026-11-30"), today: d("2026-11-26"), on: connection)
            }
            #expect(report.summary.ordered == 2 && report.summary.open == 2 && report.summary.done == 0 && report.summary.overdue == 0)
            #expect(report.duties.first { $0.id == ordered.id }?.caseNumber == "INC-2026-000042")
            #expect(report.duties.first { $0.id == ordered.id }?.status == .open)

            // Chased like a planned duty: the 7-day reminder falls today; on the due day the due
            // notice goes out (the 1-day reminder it overtook is skipped, as for planned duties).
            let runner = TimerRunner(
                schema: store.schema, service: .auditScheduler, handlers: [DutyNoticeTimer(store: store)], database: pool, pollInterval: .seconds(1),
                logger: TestServers.logger("timers"), clock: { clock.now })
            try await runner.fireDue()
            let first = try await outbox(store, pool).filter { $0.envelope.subject == ordered.id.lowercasedString }
            #expect(first.map(\.routingKey) == ["duty.due-soon.v1"])
            let soon = try first[0].envelope.decode(as: DutyDueSoon.self).data
            #expect(soon.daysBefore == 7 && soon.duty.kind == "audit" && soon.duty.templateID == "on-demand-audit")
            #expect(soon.recipient == DutyNoticeRecipient(role: "auditChief", unitCode: nil))
            #expect(try Schemas.violations(in: first[0].envelope).data.isEmpty)
            clock.set(morning("2026-12-03"))
            try await runner.fireDue()
            let keys = try await outbox(store, pool).filter { $0.envelope.subject == ordered.id.lowercasedString }.map(\.routingKey)
            #expect(keys == ["duty.due-soon.v1", "duty.due.v1"])

            // The order is in the hash-chained ledger, and cannot be edited.
            let schema = store.schema
            let entries: [String] = try await pool.withConnection { connection in
                try connection.query("SELECT entry_type FROM \(unescaped: "\"\(schema)\"").ledger WHERE subject_id = \(ordered.id) ORDER BY seq").rows
                    .map { try $0.decode("entry_type") }
            }
            #expect(entries == ["duty.ordered", "audit.auditor-assigned"])
            await #expect(throws: PostgresError.self) {
                try await pool.query("UPDATE \(unescaped: "\"\(schema)\"").duty_orders SET reason = 'edited'")
            }
            #expect(try await pool.withConnection { try store.verifyLedger(on: $0) }.valid)
        }
    }

    static func contract(_ reference: String, section: String, department: String, from: String, to: String, change: ContractChange = .registered, at: String) -> ContractorContractChanged {
        ContractorContractChanged(
            contractID: UUID(uuidString: "00000000-0000-4000-8000-\(String(repeating: "0", count: 12 - reference.count))\(reference)")!,
            contractReference: "R8-\(reference)", contractorID: UUID(), contractorName: "株式会社ねりまデータ", sectionCode: section,
            departmentCode: department, change: change, startDate: from, endDate: to, handlesMyNumber: false, changedAt: morning(at))
    }

    @Test("contractor staff education follows the contracts in force, one duty per contract at its section, none after a contract ends")
    func contractorEducation() async throws {
        let template = DutyTemplate(
            id: "contractor-education", title: "委託事業者等への一般教育", kind: .education, article: "Art. 23",
            recurrence: try RecurrenceRule(parsing: "FREQ=YEARLY;BYMONTH=6;BYMONTHDAY=1"), scope: .everyContractor, owner: .sectionSecurityOfficer,
            dueOffsetDays: 90)
        let calendar = DutyCalendar(start: d("2026-04-01"), templates: [template])
        try await withAuditSchema(calendar: calendar) { store, pool in
            let today = d("2026-05-15")
            let now = morning("2026-05-15")
            // Two contracts of one section, one of another that ended before June.
            let long = Self.contract("1", section: "personnel", department: "general-affairs-dept", from: "2026-04-01", to: "2028-03-31", at: "2026-03-01")
            let short = Self.contract("2", section: "personnel", department: "general-affairs-dept", from: "2026-05-01", to: "2027-03-31", at: "2026-04-20")
            let over = Self.contract("3", section: "info-policy", department: "planning-dept", from: "2025-04-01", to: "2026-03-31", at: "2025-03-01")
            for event in [long, short, over] {
                #expect(try await pool.withTransaction { try store.record(event, on: $0) })
            }
            _ = try await pool.withTransaction { connection in try store.materialise(today: today, now: now, on: connection) }
            func educations() async throws -> [DutyRecord] {
                try await pool.withConnection { connection in
                    var filter = DutyFilter(templateID: "contractor-education")
                    filter.fiscalYear = nil
                    return try store.duties(filter, visibleTo: nil, today: today, on: connection)
                }
            }
            let first = try await educations()
            // 2026-06-01: both personnel contracts; 2027-06-01 (within the horizon): only the long one.
            #expect(first.filter { $0.fiscalYear == 2026 }.compactMap(\.contractID).sorted { $0.uuidString < $1.uuidString } == [long.contractID, short.contractID])
            #expect(first.filter { $0.fiscalYear == 2027 }.compactMap(\.contractID) == [long.contractID])
            #expect(!first.contains { $0.contractID == over.contractID })
            let duty = try #require(first.first { $0.contractID == long.contractID })
            #expect(duty.unitKind == .contractor && duty.unitCode == "personnel" && duty.departmentCode == "general-affairs-dept")
            #expect(duty.origin == .contract && duty.owningRole == .sectionSecurityOfficer && duty.title.contains("株式会社ねりまデータ"))
            // The section's own token sees it; another department's does not.
            #expect(DutyActor(role: .sectionSecurityOfficer, unitCode: "personnel").unitCode == duty.sectionCode)
            let hidden = try await pool.withConnection { connection in
                try store.duty(id: duty.id, visibleTo: DutyActor(role: .departmentSecurityOfficer, unitCode: "planning-dept"), today: today, on: connection)
            }
            #expect(hidden == nil)

            // An older event does not overwrite a newer one; a later end is recorded.
            var stale = long
            stale.endDate = "2026-04-30"
            stale.changedAt = morning("2026-01-01")
            let staleEvent = stale
            #expect(try await pool.withTransaction { try store.record(staleEvent, on: $0) } == false)
            var ended = long
            ended.change = .ended
            ended.endDate = "2027-03-31"
            ended.changedAt = morning("2026-05-16")
            let endedEvent = ended
            #expect(try await pool.withTransaction { try store.record(endedEvent, on: $0) })
            let inForce = try await pool.withConnection { try store.contracts(inForceOn: d("2027-06-01"), on: $0) }
            #expect(inForce.isEmpty)
            // A fresh schedule after the end plans no 2027 education for it.
            try await pool.withTransaction { connection in
                _ = try connection.query("DELETE FROM \(unescaped: store.table("timers")) WHERE key IN (SELECT id::text FROM \(unescaped: store.table("duties")) WHERE fiscal_year = 2027)")
                _ = try connection.query("DELETE FROM \(unescaped: store.table("duties")) WHERE fiscal_year = 2027")
                _ = try store.materialise(today: today, now: now, on: connection)
            }
            #expect(try await educations().filter { $0.fiscalYear == 2027 }.isEmpty)
        }
    }

    @Test("a self-inspection below the mark opens one improvement action, chased like any duty; a good score opens none")
    func improvementActions() async throws {
        let template = DutyTemplate(
            id: "self-inspection", title: "自己点検", kind: .selfInspection, article: "Art. 24",
            recurrence: try RecurrenceRule(parsing: "FREQ=YEARLY;BYMONTH=9;BYMONTHDAY=1"), scope: .everySection, owner: .sectionSecurityOfficer,
            dueOffsetDays: 30)
        let calendar = DutyCalendar(
            start: d("2026-04-01"), selfInspection: SelfInspectionRules(improvementBelow: 70, improvementDueDays: 30), templates: [template])
        try await withAuditSchema(calendar: calendar) { store, pool in
            let now = morning("2026-09-10")
            let today = d("2026-09-10")
            _ = try await pool.withTransaction { connection in try store.materialise(today: d("2026-08-20"), now: morning("2026-08-20"), on: connection) }
            let inspections = try await pool.withConnection { connection in
                try store.duties(DutyFilter(fiscalYear: 2026, kind: .selfInspection), visibleTo: nil, today: today, on: connection)
            }
            let low = try #require(inspections.first { $0.unitCode == "general-affairs" })
            let good = try #require(inspections.first { $0.unitCode == "personnel" })
            func complete(_ duty: DutyRecord, score: Double) async throws {
                let actor = DutyActor(role: .sectionSecurityOfficer, unitCode: duty.unitCode)
                _ = try await pool.withTransaction(emittingAs: .auditScheduler, schema: store.schema, logger: TestServers.logger("duties"), now: now) { context in
                    try store.complete(
                        dutyID: duty.id, with: DutyCompletionRequest(evidence: [], notes: "checklist", checklistScore: score, checklistMax: 50), by: actor,
                        context: &context)
                }
            }
            try await complete(low, score: 30)  // 60 %
            try await complete(good, score: 35)  // 70 %: at the mark, not below it
            func improvements() async throws -> [DutyRecord] {
                try await pool.withConnection { connection in
                    var filter = DutyFilter(fiscalYear: 2026)
                    filter.origin = .improvement
                    return try store.duties(filter, visibleTo: nil, today: today, on: connection)
                }
            }
            let opened = try await improvements()
            #expect(opened.count == 1)
            let action = try #require(opened.first)
            #expect(action.kind == .improvement && action.unitCode == "general-affairs" && action.selfInspectionDutyID == low.id)
            #expect(action.owningRole == .sectionSecurityOfficer && action.article == "Art. 24")
            // Due 30 days after the completion (10 Oct 2026 is a Saturday, 12 Oct a holiday → 13 Oct).
            #expect(action.dueDate == d("2026-10-13"))

            // One per self-inspection: a second attempt opens nothing.
            let again = try await pool.withTransaction { connection in
                try store.openImprovementIfNeeded(
                    after: low, completion: DutyCompletionRequest(evidence: [], notes: "x", checklistScore: 30, checklistMax: 50),
                    by: DutyActor(role: .sectionSecurityOfficer, unitCode: "general-affairs"), now: now, on: connection)
            }
            #expect(again == nil)
            #expect(try await improvements().count == 1)

            // Chased: its notice timer is scheduled, and the report shows it.
            let schema = store.schema
            let timers: Int = try await pool.withConnection { connection in
                try connection.query(
                    "SELECT count(*) AS n FROM \(unescaped: "\"\(schema)\"").timers WHERE kind = \(AuditSchedulerStore.noticeTimerKind) AND key = \(action.id.lowercasedString)"
                ).rows[0].decode("n")
            }
            #expect(timers == 1)
            let report = try await pool.withConnection { connection in
                try store.improvementActions(from: d("2026-09-01"), through: d("2026-09-30"), today: today, on: connection)
            }
            #expect(report.actions.count == 1 && report.summary.opened == 1 && report.summary.open == 1)
            #expect(report.actions[0].score == 60 && report.actions[0].mark == 70 && report.actions[0].selfInspectionDutyID == low.id)
        }
    }
}
