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

/// Issue #16 through csirt-triage's API, against the real database: a case's reports in its
/// detail, merging a case into another and splitting a report out, with every refusal the
/// routes document (docs/openapi.yaml).
@Suite(.serialized, .tags(.integration), .needsTestServers) struct CorrelationRoutesTests {
    /// A report of the test producer with `key`, known `minutes` ago, about an asset of its own
    /// (so that only the key can relate two reports).
    static func report(key: String?, persons: AffectedPersons = .count(10), minutes: Double) -> NewCase {
        var event = reported(
            myNumber: .no, detected: false, persons: persons, category: .malware, knownAt: Date().addingTimeInterval(-minutes * 60),
            assets: [AffectedAsset(name: "PC-\(UUID().uuidString.prefix(8))")], correlationKey: key)
        event.title = "フィッシングメール \(key ?? "-")"
        event.description = "同じキャンペーンのメール"
        return NewCase(reported: event)
    }

    static func receive(_ engine: TriageEngine, _ pool: PostgresPool, _ new: NewCase) async throws -> CaseReception {
        try await pool.withTransaction(emittingAs: .csirtTriage, schema: engine.store.schema, logger: TestServers.logger("triage")) { context in
            try engine.receive(new, causedBy: nil, context: &context)
        }
    }

    static func json(_ response: TestResponse) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8)) as? [String: Any], "\(String(buffer: response.body))")
    }

    @Test func casesAreMergedAndReportsSplitOutWithEveryRefusalDocumented() async throws {
        // The shipped rules: `producer-key` joins the reports of one producer with one correlationKey.
        try await TriageFixture.with(correlation: try TriageConfigFiles.correlation()) { fixture in
            let engine = fixture.engine
            // Three reports of one campaign: one case with three reports; another campaign opens its own.
            let storm = [try await Self.receive(engine, fixture.pool, Self.report(key: "campaign-1", minutes: 30))]
                + [try await Self.receive(engine, fixture.pool, Self.report(key: "campaign-1", minutes: 20))]
                + [try await Self.receive(engine, fixture.pool, Self.report(key: "campaign-1", minutes: 10))]
            guard case .opened(let first) = storm[0], case .attached(let joined, let rule) = storm[1], case .attached = storm[2] else {
                Issue.record("the campaign's reports did not make one case: \(storm)")
                return
            }
            #expect(rule == "producer-key" && joined.caseNumber == first.caseNumber && storm[2].record.reportCount == 3)
            let other = try await Self.receive(engine, fixture.pool, Self.report(key: "campaign-2", minutes: 5)).record
            let discarded = try await Self.receive(engine, fixture.pool, Self.report(key: nil, minutes: 5)).record
            let (discardedNumber, storming) = (discarded.caseNumber, first.caseNumber)
            _ = try await fixture.pool.withTransaction(emittingAs: .csirtTriage, schema: engine.store.schema, logger: TestServers.logger("triage")) { context in
                try engine.perform(.discard, caseNumber: discardedNumber, actor: TriageActor(id: "person:p-csirt-1", role: .csirt), reason: "test", context: &context)
            }

            let tokens = fixture.directory.tokens
            let csirt = try await fixture.pool.withTransaction { try tokens.issue(role: .csirt, unitCode: nil, label: "csirt", on: $0).token }
            let chief = try await fixture.pool.withTransaction { try tokens.issue(role: .sectionSecurityOfficer, unitCode: "koseki-jumin", label: "chief", on: $0).token }
            let router = APIRoutes.router(database: fixture.pool, tokens: tokens) { routes in
                CSIRTTriageService.addRoutes(to: routes, engine: engine, database: fixture.pool, ackSecret: "test-secret", logger: TestServers.logger("routes"))
            }
            try await Application(router: router).test(.router) { client in
                func call(_ method: HTTPRequest.Method, _ uri: String, _ token: String, _ body: String? = nil) async throws -> (HTTPResponse.Status, [String: Any], String?) {
                    try await client.execute(uri: uri, method: method, headers: [.authorization: "Bearer \(token)"], body: body.map { ByteBuffer(string: $0) }) { response in
                        let object = (try? JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8))) as? [String: Any] ?? [:]
                        return (response.status, object, response.headers[.contentType])
                    }
                }
                // The detail lists the reports, oldest first, with the rule that joined each.
                let (status, detail, _) = try await call(.get, "/v1/cases/\(storming)", csirt)
                #expect(status == .ok)
                let record = try #require(detail["case"] as? [String: Any])
                #expect(record["reportCount"] as? Int == 3)
                #expect(record["firstSeenAt"] as? String != nil && record["lastSeenAt"] as? String != nil && record["mergedInto"] == nil)
                let reports = try #require(detail["reports"] as? [[String: Any]])
                #expect(reports.map { $0["rule"] as? String } == ["opened", "producer-key", "producer-key"])
                let ids = reports.compactMap { ($0["source"] as? [String: Any])?["id"] as? String }
                #expect(ids.count == 3 && ids[0] == first.source.id)
                #expect(reports.allSatisfy { $0["joinedAt"] != nil && $0["recordedAt"] != nil && $0["knownAt"] != nil && $0["title"] as? String != nil })
                // The list shows the storm as one row with its count.
                let (_, list, _) = try await call(.get, "/v1/cases?limit=10", csirt)
                let rows = try #require(list["cases"] as? [[String: Any]])
                #expect(rows.first { $0["caseNumber"] as? String == storming }?["reportCount"] as? Int == 3)
                #expect(rows.first { $0["caseNumber"] as? String == other.caseNumber }?["reportCount"] as? Int == 1)

                // Split: refusals first.
                func split(_ id: String, reason: String = "another system's alert", _ token: String? = nil) async throws -> (HTTPResponse.Status, [String: Any], String?) {
                    try await call(.post, "/v1/cases/\(storming)/split", token ?? csirt, #"{"sourceKind":"incident-report","sourceId":"\#(id)","reason":"\#(reason)"}"#)
                }
                var (splitStatus, problem, type) = try await split(ids[1], chief)
                #expect(splitStatus == .forbidden && type == "application/problem+json", "\(problem)")
                (splitStatus, problem, _) = try await split(ids[0])
                #expect(splitStatus == .conflict, "splitting the opening report: \(problem)")
                (splitStatus, problem, _) = try await split(UUID().lowercasedString)
                #expect(splitStatus == .notFound, "\(problem)")
                (splitStatus, problem, _) = try await split(ids[1], reason: "   ")
                #expect(splitStatus == .unprocessableContent, "a blank reason: \(problem)")
                (splitStatus, problem, _) = try await split(String(repeating: "x", count: 101))
                #expect(splitStatus == .unprocessableContent, "a sourceId of 101 characters: \(problem)")
                (splitStatus, problem, _) = try await call(.post, "/v1/cases/\(storming)/split", csirt, #"{"sourceKind":"incident-report","reason":"x"}"#)
                #expect(splitStatus == .badRequest, "no sourceId: \(problem)")
                (splitStatus, problem, _) = try await call(.post, "/v1/cases/\(storming)/split", csirt, #"{"sourceKind":"email","sourceId":"x","reason":"x"}"#)
                #expect(splitStatus == .badRequest, "an unknown sourceKind: \(problem)")

                // Split the second report (named in capitals: the same intake id) into a new case.
                let (created, opened, _) = try await split(ids[1].uppercased())
                #expect(created == .created, "\(opened)")
                let newNumber = try #require(opened["caseNumber"] as? String)
                #expect(newNumber != storming && opened["reportCount"] as? Int == 1)
                let (_, afterSplit, _) = try await call(.get, "/v1/cases/\(storming)", csirt)
                #expect((afterSplit["case"] as? [String: Any])?["reportCount"] as? Int == 2)
                #expect((afterSplit["reports"] as? [[String: Any]])?.compactMap { ($0["source"] as? [String: Any])?["id"] as? String } == [ids[0], ids[2]])
                #expect((afterSplit["history"] as? [[String: Any]])?.contains { $0["action"] as? String == "split" } == true)
                let (_, newDetail, _) = try await call(.get, "/v1/cases/\(newNumber)", csirt)
                #expect((newDetail["reports"] as? [[String: Any]])?.map { $0["rule"] as? String } == ["split"])

                // Merge: refusals first.
                func merge(_ number: String, into: String, _ token: String? = nil) async throws -> (HTTPResponse.Status, [String: Any], String?) {
                    try await call(.post, "/v1/cases/\(number)/merge", token ?? csirt, #"{"into":"\#(into)","reason":"one campaign after all"}"#)
                }
                var (mergeStatus, answer, _) = try await merge(newNumber, into: storming, chief)
                #expect(mergeStatus == .forbidden, "\(answer)")
                (mergeStatus, answer, _) = try await merge(newNumber, into: newNumber)
                #expect(mergeStatus == .unprocessableContent, "into itself: \(answer)")
                (mergeStatus, answer, _) = try await merge(newNumber, into: discardedNumber)
                #expect(mergeStatus == .conflict, "into a discarded case: \(answer)")
                (mergeStatus, answer, _) = try await merge(newNumber, into: "INC-2099-999999")
                #expect(mergeStatus == .notFound, "into a case that does not exist: \(answer)")
                (mergeStatus, answer, _) = try await call(.post, "/v1/cases/\(newNumber)/merge", csirt, #"{"into":"\#(storming)","reason":""}"#)
                #expect(mergeStatus == .unprocessableContent, "no reason: \(answer)")
                (mergeStatus, answer, _) = try await call(.post, "/v1/cases/\(newNumber)/merge", csirt, #"{"reason":"x"}"#)
                #expect(mergeStatus == .badRequest, "no into: \(answer)")

                // Merge the split-out case back: the survivor holds all three again.
                let (merged, survivor, _) = try await merge(newNumber, into: storming)
                #expect(merged == .ok, "\(survivor)")
                #expect(survivor["caseNumber"] as? String == storming && survivor["reportCount"] as? Int == 3)
                let (_, gone, _) = try await call(.get, "/v1/cases/\(newNumber)", csirt)
                let goneRecord = try #require(gone["case"] as? [String: Any])
                #expect(goneRecord["state"] as? String == "merged" && goneRecord["mergedInto"] as? String == storming)
                #expect((gone["reports"] as? [Any])?.isEmpty == true)
                #expect((gone["allowedActions"] as? [Any])?.isEmpty == true)
                let (_, back, _) = try await call(.get, "/v1/cases/\(storming)", csirt)
                #expect(Set((back["reports"] as? [[String: Any]])?.compactMap { ($0["source"] as? [String: Any])?["id"] as? String } ?? []) == Set(ids))
                // Merged is final: once more is a conflict, and so is merging another case into it.
                (mergeStatus, answer, _) = try await merge(newNumber, into: storming)
                #expect(mergeStatus == .conflict, "merged twice: \(answer)")
                (mergeStatus, answer, _) = try await merge(other.caseNumber, into: newNumber)
                #expect(mergeStatus == .conflict, "into a merged case: \(answer)")
                // The list can ask for merged cases.
                let (_, mergedList, _) = try await call(.get, "/v1/cases?state=merged", csirt)
                #expect((mergedList["cases"] as? [[String: Any]])?.compactMap { $0["caseNumber"] as? String } == [newNumber])
            }
        }
    }
}
