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

/// 10:00 JST on `day`.
private func morning(_ day: String) -> Date { d(day).startInTokyo().addingTimeInterval(10 * 3600) }

/// Issue #18 item 2 in the audit scheduler, against PostgreSQL: a closed case's recurrence-prevention
/// measures (Art. 27(1)) become one duty each, once however often the event comes; they are chased
/// like any duty, completed through the usual completion, and listed with their status.
@Suite("Recurrence-prevention measures", .serialized, .tags(.integration), .needsTestServers)
struct RecurrenceMeasureTests {
    static func lessons(caseNumber: String = "INC-2026-000007", measures: [IncidentLessonsRecorded.Measure]) -> IncidentLessonsRecorded {
        IncidentLessonsRecorded(
            caseNumber: caseNumber, caseId: UUID(), lessonsId: UUID(), severity: 2, sectionCode: "general-affairs", departmentCode: "general-affairs-dept",
            cause: "手順の不徹底", measures: measures, erpChange: .init(needed: false, note: nil), actor: "person:p-csirt-1", myNumberDetected: false,
            closedAt: morning("2026-09-01"))
    }

    static func envelope(_ payload: IncidentLessonsRecorded) throws -> RawEnvelope {
        try Envelope(source: ServiceName.csirtTriage.source, time: payload.closedAt, data: payload).raw()
    }

    @Test("each measure becomes one duty, once on redelivery; chased, completed and listed with its status")
    func measuresBecomeDuties() async throws {
        let calendar = DutyCalendar(start: d("2026-04-01"), templates: [])
        try await withAuditSchema(calendar: calendar) { store, pool in
            let clock = TestClock(morning("2026-09-01"))
            // Two measures of one unit on one day (the occurrence key takes the measure), one of a department.
            let measures: [IncidentLessonsRecorded.Measure] = [
                .init(id: UUID(), description: "持ち出し申請の徹底", ownerRole: "sectionSecurityOfficer", ownerUnit: "general-affairs", dueDate: "2026-10-01"),
                .init(id: UUID(), description: "媒体の暗号化", ownerRole: "sectionSecurityOfficer", ownerUnit: "general-affairs", dueDate: "2026-09-10"),
                .init(id: UUID(), description: "部内の再教育", ownerRole: "departmentSecurityOfficer", ownerUnit: "general-affairs-dept", dueDate: "2026-11-30"),
            ]
            let event = try Self.envelope(Self.lessons(measures: measures))
            let handler = LessonsRecordedHandler(store: store)
            // Delivered twice (a redelivery past the inbox): the measure ids key the duties.
            for _ in 0..<2 {
                try await pool.withTransaction(emittingAs: .auditScheduler, schema: store.schema, logger: TestServers.logger("audit"), now: clock.now) { context in
                    try handler.handle(event, context: &context)
                }
            }
            let duties = try await pool.withConnection { connection in
                try store.duties(DutyFilter(fiscalYear: 2026, kind: .recurrenceMeasure), visibleTo: nil, today: d("2026-09-01"), on: connection)
            }
            #expect(duties.count == 3)
            #expect(duties.map(\.dueDate.iso) == ["2026-09-10", "2026-10-01", "2026-11-30"])
            #expect(duties.allSatisfy { $0.templateID == "recurrence-measure" && $0.article == "Art. 27(1)" && $0.title.contains("INC-2026-000007") })
            #expect(duties.map(\.unitKind) == [.section, .section, .department])
            #expect(duties.map(\.owningRole) == [.sectionSecurityOfficer, .sectionSecurityOfficer, .departmentSecurityOfficer])
            #expect(duties.first?.departmentCode == "general-affairs-dept")

            // Chased like any duty: the reminder ladder, then overdue and escalation.
            let runner = TimerRunner(
                schema: store.schema, service: .auditScheduler, handlers: [DutyNoticeTimer(store: store)], database: pool, pollInterval: .seconds(1),
                logger: TestServers.logger("timers"), clock: { clock.now })
            clock.set(morning("2026-09-09"))
            try await runner.fireDue()
            var sent = try await outbox(store, pool).map(\.routingKey)
            #expect(sent.contains("duty.due-soon.v1"))
            clock.set(morning("2026-09-30"))
            try await runner.fireDue()
            sent = try await outbox(store, pool).map(\.routingKey)
            #expect(sent.contains("duty.overdue.v1") && sent.contains("duty.escalated.v1"))

            // Completed through the usual completion by the owing section.
            let first = try #require(duties.first { $0.dueDate == d("2026-10-01") })
            let section = DutyActor(role: .sectionSecurityOfficer, unitCode: "general-affairs")
            _ = try await pool.withTransaction(emittingAs: .auditScheduler, schema: store.schema, logger: TestServers.logger("duties"), now: clock.now) { context in
                try store.complete(dutyID: first.id, with: DutyCompletionRequest(evidence: [], notes: "申請書式を改定した"), by: section, context: &context)
            }

            // Listed with their status: one done on time, one overdue, one open.
            let report = try await pool.withConnection { connection in
                try store.recurrenceMeasures(from: d("2026-04-01"), to: d("2027-03-31"), visibleTo: nil, today: d("2026-09-18"), on: connection)
            }
            #expect(report.measures.map(\.status) == [.overdue, .done, .open])
            #expect(report.measures.map(\.measureId) == [measures[1].id, measures[0].id, measures[2].id])
            #expect(report.measures.map(\.description) == ["媒体の暗号化", "持ち出し申請の徹底", "部内の再教育"])
            #expect(report.measures.allSatisfy { $0.caseNumber == "INC-2026-000007" })
            #expect(report.measures[1].completedAt != nil && report.measures[1].onTime == true)
            let summary = report.summary
            #expect([summary.total, summary.done, summary.doneOnTime, summary.open, summary.overdue] == [3, 1, 1, 1, 1] as [Int])
            // A period, and a unit token's view.
            let september = try await pool.withConnection { connection in
                try store.recurrenceMeasures(from: d("2026-09-01"), to: d("2026-09-30"), visibleTo: nil, today: d("2026-09-18"), on: connection)
            }
            #expect(september.summary.total == 1)
            let personnel = try await pool.withConnection { connection in
                try store.recurrenceMeasures(
                    from: d("2026-04-01"), to: d("2027-03-31"), visibleTo: DutyActor(role: .sectionSecurityOfficer, unitCode: "personnel"), today: d("2026-09-18"),
                    on: connection)
            }
            #expect(personnel.measures.isEmpty)
        }
    }

    @Test("a measure with a role the directory does not know is dead-lettered")
    func unknownRoleIsRefused() async throws {
        let calendar = DutyCalendar(start: d("2026-04-01"), templates: [])
        try await withAuditSchema(calendar: calendar) { store, pool in
            let payload = Self.lessons(measures: [
                .init(id: UUID(), description: "x", ownerRole: "mayor", ownerUnit: "general-affairs", dueDate: "2026-10-01")
            ])
            let handler = LessonsRecordedHandler(store: store)
            await #expect(throws: PermanentFailure.self) {
                try await pool.withTransaction(emittingAs: .auditScheduler, schema: store.schema, logger: TestServers.logger("audit"), now: morning("2026-09-01")) { context in
                    try handler.handle(try Self.envelope(payload), context: &context)
                }
            }
        }
    }
}
