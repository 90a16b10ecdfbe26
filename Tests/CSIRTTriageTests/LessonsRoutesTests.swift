import Contracts
import CSIRTTriage
import Directory
import Foundation
import ISMSTesting
import Hummingbird
import HummingbirdTesting
import Postgres
import ServiceRuntime
import Testing
import WardCalendar

/// Issue #18 item 2 through csirt-triage's API, against the real database: a case is closed only
/// with its lessons (Art. 27(1), 27(2)), each missing or wrong part named by its pointer; the
/// lessons are stored, chained in the history, emitted in the closing transaction, shown in the
/// detail, kept per closing, and reported for the management review.
@Suite(.serialized, .tags(.integration), .needsTestServers) struct LessonsRoutesTests {
    static let csirt = TriageActor(id: "person:p-csirt-1", role: .csirt)

    /// A case moved to `recovered`, ready to close.
    static func recoveredCase(_ fixture: TriageFixture) async throws -> String {
        let record = try await fixture.transaction(now: Date()) { engine, context in
            try engine.open(NewCase(reported: reported(myNumber: .no, detected: false, persons: .count(3), category: .lossOrTheft, knownAt: Date().addingTimeInterval(-3600))), causedBy: nil, context: &context).record
        }
        for action in [CaseAction.confirm, .acknowledge, .investigate, .contain, .recover] {
            try await fixture.transaction(now: Date()) { engine, context in
                try engine.perform(action, caseNumber: record.caseNumber, actor: csirt, reason: "step", context: &context)
            }
        }
        return record.caseNumber
    }

    static let today = CivilDate.inTokyo(Date())

    static func measure(_ description: String = "USBメモリの持ち出しを申請制にする", role: String = "sectionSecurityOfficer", unit: String = "koseki-jumin", due: String? = nil) -> [String: Any] {
        ["description": description, "ownerRole": role, "ownerUnit": unit, "dueDate": due ?? today.adding(days: 30).iso]
    }

    static func body(_ lessons: [String: Any]?) throws -> String {
        var body: [String: Any] = ["action": "close"]
        if let lessons { body["lessons"] = lessons }
        return String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self)
    }

    @Test func closingNeedsItsLessonsAndRecordsThem() async throws {
        try await TriageFixture.with { fixture in
            let engine = fixture.engine
            let number = try await Self.recoveredCase(fixture)
            let tokens = fixture.directory.tokens
            let csirt = try await fixture.pool.withTransaction { try tokens.issue(role: .csirt, unitCode: nil, label: "csirt", on: $0).token }
            let chief = try await fixture.pool.withTransaction { try tokens.issue(role: .sectionSecurityOfficer, unitCode: "koseki-jumin", label: "chief", on: $0).token }
            let router = APIRoutes.router(database: fixture.pool, tokens: tokens) { routes in
                CSIRTTriageService.addRoutes(to: routes, engine: engine, database: fixture.pool, ackSecret: "test-secret", logger: TestServers.logger("routes"))
            }
            try await Application(router: router).test(.router) { client in
                func call(_ method: HTTPRequest.Method, _ uri: String, _ token: String, _ body: String? = nil) async throws -> (HTTPResponse.Status, [String: Any]) {
                    try await client.execute(uri: uri, method: method, headers: [.authorization: "Bearer \(token)"], body: body.map { ByteBuffer(string: $0) }) { response in
                        let object = (try? JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8))) as? [String: Any] ?? [:]
                        return (response.status, object)
                    }
                }
                func fields(_ problem: [String: Any]) -> [String: String] {
                    Dictionary(((problem["errors"] as? [[String: Any]]) ?? []).map { ($0["field"] as? String ?? "", $0["code"] as? String ?? "") }, uniquingKeysWith: { $0 + "," + $1 })
                }
                let path = "/v1/cases/\(number)/transitions"

                // No lessons at all: 422 at /lessons.
                var (status, problem) = try await call(.post, path, csirt, try Self.body(nil))
                #expect(status == .unprocessableContent)
                #expect(fields(problem) == ["/lessons": "required"])
                #expect((problem["detail"] as? String)?.contains("Art. 27(1)") == true)

                // Each part missing: the cause, the measures, the plan question.
                (status, problem) = try await call(.post, path, csirt, try Self.body(["measures": [] as [Any]]))
                #expect(status == .unprocessableContent)
                #expect(fields(problem) == ["/lessons/cause": "required", "/lessons/measures": "required", "/lessons/erpChange/needed": "required"])

                // Each measure's part wrong; a change of the plan without saying what.
                (status, problem) = try await call(.post, path, csirt, try Self.body([
                    "cause": "持ち出し手順の不徹底",
                    "measures": [
                        Self.measure(" "), Self.measure(role: "mayor"), Self.measure(unit: "no-such-unit"), Self.measure(due: Self.today.adding(days: -1).iso),
                        Self.measure(due: "2026-02-30"), Self.measure(role: "departmentSecurityOfficer", unit: "koseki-jumin"),
                    ],
                    "erpChange": ["needed": true],
                ]))
                #expect(status == .unprocessableContent)
                #expect(fields(problem) == [
                    "/lessons/measures/0/description": "required", "/lessons/measures/1/ownerRole": "unknown-role",
                    "/lessons/measures/2/ownerUnit": "unknown-unit", "/lessons/measures/3/dueDate": "date-in-past",
                    "/lessons/measures/4/dueDate": "invalid-date", "/lessons/measures/5/ownerRole": "role-unit-mismatch",
                    "/lessons/erpChange/note": "required",
                ])
                // Nothing was closed or recorded by the refusals.
                var (_, detail) = try await call(.get, "/v1/cases/\(number)", csirt)
                #expect((detail["case"] as? [String: Any])?["state"] as? String == "recovered")
                #expect(detail["lessons"] == nil || detail["lessons"] is NSNull)

                // A section officer may not close (the life cycle's rule comes first).
                (status, _) = try await call(.post, path, chief, try Self.body(["cause": "x", "measures": [Self.measure()], "erpChange": ["needed": false]]))
                #expect(status == .forbidden)

                // With lessons: closed; a My Number in the cause is masked before it is stored.
                (status, _) = try await call(.post, path, csirt, try Self.body([
                    "cause": "個人番号 123456789018 を記載した書類の誤送付。手順の不徹底。",
                    "measures": [Self.measure(), Self.measure("部内の再教育", role: "departmentSecurityOfficer", unit: "kumin", due: Self.today.iso)],
                    "erpChange": ["needed": true, "note": "紛失時の連絡先に警察を加える"],
                ]))
                #expect(status == .ok)
                (_, detail) = try await call(.get, "/v1/cases/\(number)", csirt)
                #expect((detail["case"] as? [String: Any])?["state"] as? String == "closed")
                let lessons = try #require(detail["lessons"] as? [String: Any])
                #expect((lessons["cause"] as? String)?.contains("123456789018") == false)
                #expect((lessons["cause"] as? String)?.contains("************") == true)
                let measures = try #require(lessons["measures"] as? [[String: Any]])
                #expect(measures.map { $0["ownerUnit"] as? String } == ["koseki-jumin", "kumin"])
                #expect(measures.allSatisfy { ($0["id"] as? String).flatMap(UUID.init(uuidString:)) != nil })
                #expect((lessons["erpChange"] as? [String: Any])?["needed"] as? Bool == true)
                #expect((detail["earlierLessons"] as? [Any])?.isEmpty == true)
                #expect(detail["historyVerified"] as? Bool == true)
                let history = try #require(detail["history"] as? [[String: Any]])
                #expect(history.suffix(2).map { $0["action"] as? String } == ["close", "lessons"])
                let lessonsRow = history.last?["after"] as? String ?? ""
                #expect(!lessonsRow.contains("123456789018") && lessonsRow.contains("measures"))

                // The event went out in the same transaction, with the measures' ids.
                let events = try await fixture.outbox().filter { $0.routingKey == MessageTypes.incidentLessonsRecorded.routingKey }
                #expect(events.count == 1)
                let event = try #require(try events.first?.envelope.decode(as: IncidentLessonsRecorded.self).data)
                #expect(event.caseNumber == number && event.measures.count == 2 && event.erpChange.needed)
                #expect(event.measures.map(\.id.lowercasedString) == measures.compactMap { ($0["id"] as? String)?.lowercased() })
                #expect(!event.cause.contains("123456789018"))

                // Reopened and closed again: new lessons, the earlier kept.
                (status, _) = try await call(.post, path, csirt, #"{"action": "reopen", "reason": "再発"}"#)
                #expect(status == .ok)
                for action in ["confirm", "investigate", "contain", "recover"] {
                    (status, _) = try await call(.post, path, csirt, #"{"action": "\#(action)"}"#)
                    #expect(status == .ok)
                }
                (status, _) = try await call(.post, path, csirt, try Self.body(["cause": "二度目の原因", "measures": [Self.measure("二度目の対策")], "erpChange": ["needed": false]]))
                #expect(status == .ok)
                (_, detail) = try await call(.get, "/v1/cases/\(number)", csirt)
                #expect((detail["lessons"] as? [String: Any])?["cause"] as? String == "二度目の原因")
                #expect(((detail["earlierLessons"] as? [[String: Any]])?.first?["cause"] as? String)?.contains("手順の不徹底") == true)
                #expect(try await fixture.outbox().filter { $0.routingKey == MessageTypes.incidentLessonsRecorded.routingKey }.count == 2)

                // The report: the case once, with its latest lessons.
                var report: [String: Any]
                (status, report) = try await call(.get, "/v1/reports/lessons?from=\(Self.today.iso)&to=\(Self.today.iso)", csirt)
                #expect(status == .ok)
                let cases = try #require(report["cases"] as? [[String: Any]])
                #expect(cases.count == 1 && cases.first?["caseNumber"] as? String == number && cases.first?["cause"] as? String == "二度目の原因")
                #expect((cases.first?["measures"] as? [[String: Any]])?.first?["ownerRole"] as? String == "sectionSecurityOfficer")
                #expect(report["summary"] as? [String: Int] == ["closed": 1, "withMeasures": 1, "erpChangesProposed": 0])
                (status, report) = try await call(.get, "/v1/reports/lessons?from=\(Self.today.adding(days: 1).iso)&to=\(Self.today.adding(days: 2).iso)", csirt)
                #expect((report["cases"] as? [Any])?.isEmpty == true)
                (status, _) = try await call(.get, "/v1/reports/lessons", chief)
                #expect(status == .forbidden)
                (status, _) = try await call(.get, "/v1/reports/lessons?from=2026-13-01", csirt)
                #expect(status == .badRequest)
                (status, _) = try await call(.get, "/v1/reports/lessons?to=2000-01-01", csirt)
                #expect(status == .unprocessableContent)
            }
        }
    }

    @Test func notAnIncidentNeedsNoLessons() async throws {
        try await TriageFixture.with { fixture in
            let record = try await fixture.transaction(now: Date()) { engine, context in
                try engine.open(NewCase(reported: reported(myNumber: .no, detected: false, persons: .count(1), category: .malware, knownAt: Date())), causedBy: nil, context: &context).record
            }
            let discarded = try await fixture.transaction(now: Date()) { engine, context in
                try engine.perform(.discard, caseNumber: record.caseNumber, actor: Self.csirt, reason: "a test mail", context: &context)
            }
            #expect(discarded.state == .discarded)
            #expect(try await fixture.outbox().filter { $0.routingKey == MessageTypes.incidentLessonsRecorded.routingKey }.isEmpty)
        }
    }
}
