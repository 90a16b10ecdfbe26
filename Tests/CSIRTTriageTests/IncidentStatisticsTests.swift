import Contracts
import CSIRTTriage
import Directory
import Foundation
import Hummingbird
import HummingbirdTesting
import ISMSTesting
import Postgres
import PostgresMigrations
import ServiceRuntime
import Testing
import WardCalendar

/// The yearly incident statistic (issue #18, Art. 11(5)(7)): counted on a fixture with known
/// answers, first as the pure function, then through `GET /v1/reports/incidents` against
/// PostgreSQL.
@Suite struct IncidentStatisticsTests {
    static func at(_ text: String) -> Date { ContractsJSON.parseTimestamp(text)! }

    @Test func theStatisticCountsByMonthSeverityCategoryAndDepartmentWithTheObligations() {
        typealias Row = IncidentStatistics.CaseRow
        let cases = [
            // 31 March 23:30 UTC is 1 April in Japan: the first day of the fiscal year.
            Row(openedAt: Self.at("2026-03-31T23:30:00Z"), severity: 1, category: "malware", departmentCode: "kumin", merged: false, notIncident: false),
            Row(openedAt: Self.at("2026-04-15T03:00:00Z"), severity: 3, category: "malware", departmentCode: "somu", merged: false, notIncident: false),
            Row(openedAt: Self.at("2026-06-01T03:00:00Z"), severity: 3, category: "loss-or-theft", departmentCode: "kumin", merged: false, notIncident: false),
            Row(openedAt: Self.at("2026-06-02T03:00:00Z"), severity: 2, category: "malware", departmentCode: "kumin", merged: false, notIncident: false),
            Row(openedAt: Self.at("2026-06-03T03:00:00Z"), severity: 4, category: "other", departmentCode: "kumin", merged: false, notIncident: true),
            Row(openedAt: Self.at("2026-06-04T03:00:00Z"), severity: 2, category: "malware", departmentCode: "kumin", merged: true, notIncident: false),
        ]
        let now = Self.at("2026-07-01T00:00:00Z")
        let obligations = [
            IncidentStatistics.ObligationRow(dueAt: Self.at("2026-04-10T15:00:00Z"), filedAt: Self.at("2026-04-09T01:00:00Z")),
            IncidentStatistics.ObligationRow(dueAt: Self.at("2026-04-10T15:00:00Z"), filedAt: Self.at("2026-04-12T01:00:00Z")),
            IncidentStatistics.ObligationRow(dueAt: Self.at("2026-06-10T15:00:00Z"), filedAt: nil),
            IncidentStatistics.ObligationRow(dueAt: Self.at("2026-07-10T15:00:00Z"), filedAt: nil),
            IncidentStatistics.ObligationRow(dueAt: nil, filedAt: nil),
        ]
        let statistics = IncidentStatistics.compute(from: CivilDate(iso: "2026-04-01")!, to: CivilDate(iso: "2027-03-31")!, cases: cases, obligations: obligations, now: now)
        #expect(statistics.total == 4)
        #expect(statistics.bySeverity == ["1": 1, "2": 1, "3": 2, "4": 0])
        #expect(statistics.byMonth.count == 12)
        #expect(statistics.byMonth.first?.month == "2026-04" && statistics.byMonth.last?.month == "2027-03")
        #expect(statistics.byMonth[0].total == 2 && statistics.byMonth[0].bySeverity == ["1": 1, "2": 0, "3": 1, "4": 0])
        #expect(statistics.byMonth[1].total == 0)
        #expect(statistics.byMonth[2].total == 2 && statistics.byMonth[2].bySeverity == ["1": 0, "2": 1, "3": 1, "4": 0])
        #expect(statistics.byCategory.map(\.category) == ["malware", "loss-or-theft"])
        #expect(statistics.byCategory.map(\.count) == [3, 1])
        #expect(statistics.byDepartment.map(\.departmentCode) == ["kumin", "somu"])
        #expect(statistics.byDepartment.map(\.count) == [3, 1])
        #expect(statistics.notIncidents == 1 && statistics.merged == 1)
        #expect(statistics.obligations == .init(total: 5, metOnTime: 1, late: 1, open: 2, overdue: 1))
    }
}

@Suite(.serialized, .tags(.integration), .needsTestServers) struct IncidentStatisticsRouteTests {
    @Test func theRouteCountsTheCasesOfThePeriodAndIsForWardWideRoles() async throws {
        try await TriageFixture.with { fixture in
            // Five cases: April (malware, twice), May (loss), June (loss, discarded as not an
            // incident), June (malware, merged into the first May case). Opened at noon JST.
            let plan: [(String, IncidentCategory)] = [
                ("2026-04-10", .malware), ("2026-04-20", .malware), ("2026-05-08", .lossOrTheft), ("2026-06-01", .lossOrTheft), ("2026-06-02", .malware),
            ]
            var records: [CaseRecord] = []
            for (day, category) in plan {
                let opened = CivilDate(iso: day)!.startInTokyo().addingTimeInterval(12 * 3600)
                let new = NewCase(reported: reported(category: category, knownAt: opened.addingTimeInterval(-600)))
                let (record, _) = try await fixture.transaction(now: opened) { engine, context in try engine.open(new, causedBy: nil, context: &context) }
                records.append(record)
            }
            let csirt = TriageActor(id: "person:p-csirt-1", role: .csirt)
            let (discarded, merged, survivor) = (records[3].caseNumber, records[4].caseNumber, records[2].caseNumber)
            try await fixture.transaction(now: Self.at("2026-06-03T03:00:00Z")) { engine, context in
                _ = try engine.perform(.discard, caseNumber: discarded, actor: csirt, reason: "a drill", context: &context)
                _ = try engine.merge(caseNumber: merged, into: survivor, actor: csirt, reason: "same USB stick", context: &context)
            }
            // The counted cases' obligations, set to known states by their order: on time,
            // late, open (due later), overdue, and then again.
            let schema = Migrator.quoted(fixture.schema)
            let ids: [UUID] = try await fixture.pool.query(
                """
                SELECT o.id FROM \(unescaped: schema).obligations o JOIN \(unescaped: schema).cases c ON c.id = o.case_id
                WHERE c.state <> 'merged' AND coalesce(c.qualification, '') <> 'not-incident' ORDER BY o.id
                """
            ).map { try $0.decode("id") }
            #expect(ids.count >= 4, "the fixture's reports create statutory obligations")
            let now = Date()
            var expected = (onTime: 0, late: 0, open: 0, overdue: 0)
            for (index, id) in ids.enumerated() {
                let (due, filed): (Date, Date?)
                switch index % 4 {
                case 0: (due, filed) = (now.addingTimeInterval(-86_400 * 10), now.addingTimeInterval(-86_400 * 11)); expected.onTime += 1
                case 1: (due, filed) = (now.addingTimeInterval(-86_400 * 10), now.addingTimeInterval(-86_400 * 9)); expected.late += 1
                case 2: (due, filed) = (now.addingTimeInterval(86_400 * 10), nil); expected.open += 1
                default: (due, filed) = (now.addingTimeInterval(-86_400), nil); expected.overdue += 1
                }
                _ = try await fixture.pool.query(
                    "UPDATE \(unescaped: schema).obligations SET status = 'required', due_at = \(due), filed_at = \(filed) WHERE id = \(id)")
            }
            let want = expected
            let severities = records.prefix(3).map { String($0.severity.severity) }
            let obligationCount = ids.count
            let routes = ConsoleAPITests.router(fixture)
            let ciso = try await ConsoleAPITests.token(fixture, .ciso)
            let section = try await ConsoleAPITests.token(fixture, .sectionSecurityOfficer, unit: "koseki-jumin")
            try await Application(router: routes).test(.router) { client in
                let uri = "/v1/reports/incidents?from=2026-04-01&to=2027-03-31"
                let body = try await client.execute(uri: uri, method: .get, headers: [.authorization: "Bearer \(ciso)"]) { response in
                    #expect(response.status == .ok, "\(String(buffer: response.body))")
                    return try ConsoleAPITests.object(response)
                }
                #expect(body["total"] as? Int == 3)
                #expect(body["notIncidents"] as? Int == 1)
                #expect(body["merged"] as? Int == 1)
                let months = try #require(body["byMonth"] as? [[String: Any]])
                #expect(months.count == 12)
                #expect(months.prefix(3).map { $0["total"] as? Int } == [2, 1, 0])
                let bySeverity = try #require((body["bySeverity"] as? [String: Any])?.compactMapValues { $0 as? Int })
                for key in ["1", "2", "3", "4"] { #expect(bySeverity[key] == severities.filter { $0 == key }.count) }
                let categories = try #require(body["byCategory"] as? [[String: Any]])
                #expect(categories.map { $0["category"] as? String } == ["malware", "loss-or-theft"])
                #expect(categories.map { $0["count"] as? Int } == [2, 1])
                #expect((body["byDepartment"] as? [[String: Any]])?.map { $0["count"] as? Int } == [3])
                let obligations = try #require((body["obligations"] as? [String: Any])?.compactMapValues { $0 as? Int })
                #expect(obligations == ["total": obligationCount, "metOnTime": want.onTime, "late": want.late, "open": want.open, "overdue": want.overdue])
                // A narrower period: May alone.
                let may = try await client.execute(uri: "/v1/reports/incidents?from=2026-05-01&to=2026-05-31", method: .get, headers: [.authorization: "Bearer \(ciso)"]) {
                    try ConsoleAPITests.object($0)
                }
                #expect(may["total"] as? Int == 1)
                // A unit's token does not read the ward's statistic; a bad date is a 400.
                try await client.execute(uri: uri, method: .get, headers: [.authorization: "Bearer \(section)"]) { #expect($0.status == .forbidden) }
                try await client.execute(uri: "/v1/reports/incidents?from=2026-13-01", method: .get, headers: [.authorization: "Bearer \(ciso)"]) {
                    #expect($0.status == .badRequest)
                }
                try await client.execute(uri: "/v1/reports/incidents?from=2027-01-01&to=2026-01-01", method: .get, headers: [.authorization: "Bearer \(ciso)"]) {
                    #expect($0.status == .unprocessableContent)
                }
            }
        }
    }

    static func at(_ text: String) -> Date { ContractsJSON.parseTimestamp(text)! }
}
