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
}
