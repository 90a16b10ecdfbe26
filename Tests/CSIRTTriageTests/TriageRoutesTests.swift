import Acknowledgement
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

/// The CSIRT HTTP API against the real database: tokens, visibility, acknowledgement links,
/// the chain's verification.
@Suite(.serialized, .tags(.integration), .needsTestServers) struct TriageRoutesTests {
    @Test func departmentsSeeTheirOwnCasesAndLinksAcknowledge() async throws {
        try await TriageFixture.with { fixture in
            let now = Date()
            let (record, _) = try await fixture.transaction(now: now) { engine, context in
                try engine.open(NewCase(reported: reported(knownAt: now.addingTimeInterval(-600))), causedBy: nil, context: &context)
            }
            let tokens = fixture.directory.tokens
            let csirt = try await fixture.pool.withTransaction { try tokens.issue(role: .csirt, unitCode: nil, label: "csirt", on: $0).token }
            let kumin = try await fixture.pool.withTransaction { try tokens.issue(role: .departmentSecurityOfficer, unitCode: "kumin", label: "kumin", on: $0).token }
            let router = APIRoutes.router(database: fixture.pool, tokens: tokens) { routes in
                CSIRTTriageService.addRoutes(to: routes, engine: fixture.engine, database: fixture.pool, ackSecret: "test-secret", logger: TestServers.logger("routes"))
            }
            let app = Application(router: router)
            try await app.test(.router) { client in
                try await client.execute(uri: "/v1/cases", method: .get) { response in
                    #expect(response.status == .unauthorized)
                }
                try await client.execute(uri: "/v1/cases", method: .get, headers: [.authorization: "Bearer \(kumin)"]) { response in
                    #expect(response.status == .ok)
                    #expect(String(buffer: response.body).contains(record.caseNumber))
                }
                // A department may not confirm; CSIRT may.
                let confirm = ByteBuffer(string: #"{"decision":"incident","reason":"confirmed by phone"}"#)
                try await client.execute(uri: "/v1/cases/\(record.caseNumber)/qualification", method: .post, headers: [.authorization: "Bearer \(kumin)"], body: confirm) { response in
                    #expect(response.status == .forbidden)
                }
                try await client.execute(uri: "/v1/cases/\(record.caseNumber)/qualification", method: .post, headers: [.authorization: "Bearer \(csirt)"], body: confirm) { response in
                    #expect(response.status == .ok)
                    #expect(String(buffer: response.body).contains(#""state":"triaged""#))
                }
                let discardWithoutReason = ByteBuffer(string: #"{"decision":"not-incident"}"#)
                try await client.execute(uri: "/v1/cases/\(record.caseNumber)/qualification", method: .post, headers: [.authorization: "Bearer \(csirt)"], body: discardWithoutReason) { response in
                    #expect(response.status == .unprocessableContent)
                }
                // The department head acknowledges from a notification link.
                let link = AcknowledgementToken.sign(caseNumber: record.caseNumber, personID: "p-head", expires: Date().addingTimeInterval(3600), secret: "test-secret")
                let forged = AcknowledgementToken.sign(caseNumber: record.caseNumber, personID: "p-head", expires: Date().addingTimeInterval(3600), secret: "wrong")
                try await client.execute(uri: "/v1/acknowledgements/\(forged)", method: .post) { response in
                    #expect(response.status == .forbidden)
                }
                try await client.execute(uri: "/v1/acknowledgements/\(link)", method: .post) { response in
                    #expect(response.status == .ok)
                    #expect(String(buffer: response.body).contains(#""state":"acknowledged""#))
                }
                try await client.execute(uri: "/v1/cases/\(record.caseNumber)", method: .get, headers: [.authorization: "Bearer \(csirt)"]) { response in
                    let body = String(buffer: response.body)
                    #expect(body.contains("person:p-head"))
                    #expect(body.contains("my-number-29-4-preliminary"))
                }
                try await client.execute(uri: "/v1/history/verification", method: .get, headers: [.authorization: "Bearer \(csirt)"]) { response in
                    #expect(response.status == .ok)
                    #expect(String(buffer: response.body).contains(#""brokenLink""#) == false)
                }
                try await client.execute(uri: "/v1/history/verification", method: .get, headers: [.authorization: "Bearer \(kumin)"]) { response in
                    #expect(response.status == .forbidden)
                }
            }
        }
    }

    /// The shared HTTP layer's rules on a real list: pages joined by their cursor hold every case
    /// once; a limit above the maximum, an undeclared method and an unknown path are problems.
    @Test func listsArePagesJoinedByTheirCursor() async throws {
        try await TriageFixture.with { fixture in
            let now = Date()
            for _ in 0..<5 {
                _ = try await fixture.transaction(now: now) { engine, context in
                    try engine.open(NewCase(reported: reported(knownAt: now.addingTimeInterval(-600))), causedBy: nil, context: &context)
                }
            }
            let tokens = fixture.directory.tokens
            let csirt = try await fixture.pool.withTransaction { try tokens.issue(role: .csirt, unitCode: nil, label: "csirt", on: $0).token }
            let router = APIRoutes.router(database: fixture.pool, tokens: tokens) { routes in
                CSIRTTriageService.addRoutes(to: routes, engine: fixture.engine, database: fixture.pool, ackSecret: "test-secret", logger: TestServers.logger("routes"))
            }
            try await Application(router: router).test(.router) { client in
                var seen: [String] = []
                var cursor: String?
                repeat {
                    let uri = "/v1/cases?limit=2" + (cursor.map { "&cursor=\($0)" } ?? "")
                    let (numbers, next) = try await client.execute(uri: uri, method: .get, headers: [.authorization: "Bearer \(csirt)"]) { response in
                        #expect(response.status == .ok)
                        let object = try #require(try JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8)) as? [String: Any])
                        let cases = try #require(object["cases"] as? [[String: Any]])
                        #expect(cases.count <= 2)
                        return (cases.compactMap { $0["caseNumber"] as? String }, object["nextCursor"] as? String)
                    }
                    seen += numbers
                    cursor = next
                } while cursor != nil && seen.count < 20
                #expect(seen.count == 5 && Set(seen).count == 5, "\(seen)")
                try await client.execute(uri: "/v1/cases?limit=501", method: .get, headers: [.authorization: "Bearer \(csirt)"]) { response in
                    #expect(response.status == .badRequest)
                    #expect(response.headers[.contentType] == "application/problem+json")
                }
                try await client.execute(uri: "/v1/cases", method: .patch, headers: [.authorization: "Bearer \(csirt)"]) { response in
                    #expect(response.status == .methodNotAllowed)
                    #expect(response.headers[.allow] == "GET")
                }
                try await client.execute(uri: "/v1/nothing-here", method: .get) { response in
                    #expect(response.status == .notFound)
                    #expect(response.headers[.contentType] == "application/problem+json")
                }
                try await client.execute(uri: "/v1/cases/\(seen[0])", method: .get, headers: [.authorization: "Bearer \(csirt)"]) { response in
                    let body = String(buffer: response.body)
                    #expect(body.range(of: #""id":"[0-9a-f-]{36}""#, options: .regularExpression) != nil, "\(body.prefix(300))")
                    // Every UUID lowercase (a digits-only prefix must not pass for an uppercase one).
                    let uuids = body.matches(of: /[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}/).map { String($0.output) }
                    #expect(!uuids.isEmpty)
                    #expect(uuids.allSatisfy { $0 == $0.lowercased() }, "\(uuids.filter { $0 != $0.lowercased() })")
                }
            }
        }
    }
}
