import Foundation
import ServiceClient
import Testing

/// The shared HTTP client's pure parts, and its answer when nothing listens; no server needed.
@Suite struct ServiceClientTests {
    @Test func aProblemDocumentBecomesAnErrorWithItsTitleAndDetail() {
        let body = Data(#"{"type":"https://isms.ward.example/problems/403","title":"forbidden","status":403,"detail":"only CSIRT confirms","errors":["a: b"]}"#.utf8)
        let problem = ServiceProblem(status: 403, body: body)
        #expect(problem.title == "forbidden")
        #expect(problem.detail == "only CSIRT confirms")
        #expect(problem.errors == ["a: b"])
        #expect(problem.isAuthorisation)
        #expect(problem.description == "forbidden (403): only CSIRT confirms")
    }

    @Test func aBodyThatIsNoProblemStillSaysSomething() {
        let problem = ServiceProblem(status: 502, body: Data("upstream down\n".utf8))
        #expect(problem.title == "Bad Gateway")
        #expect(problem.detail == "upstream down")
        #expect(!problem.isAuthorisation)
        #expect(ServiceProblem(status: 404, body: Data()).detail == nil)
    }

    @Test func queriesAreEncodedAndAbsentValuesLeftOut() {
        let client = ServiceClient(baseURL: "http://127.0.0.1:8082/", token: "t")
        #expect(client.url("/v1/cases", query: [("state", nil), ("limit", "5")]) == "http://127.0.0.1:8082/v1/cases?limit=5")
        #expect(client.url("/v1/notifications", query: [("recipient", "山田 花子")]) == "http://127.0.0.1:8082/v1/notifications?recipient=%E5%B1%B1%E7%94%B0%20%E8%8A%B1%E5%AD%90")
        #expect(client.url("/v1/cases") == "http://127.0.0.1:8082/v1/cases")
    }

    @Test func nothingListeningIsATransportErrorWithinTheTimeOut() async throws {
        let start = ContinuousClock.now
        // Port 9 (discard) is closed on loopback: the connection is refused at once.
        await #expect(throws: HTTPTransportError.self) {
            _ = try await HTTPFetch.send(url: "http://127.0.0.1:9/readyz", timeout: .seconds(2))
        }
        #expect(await HTTPFetch.status(of: "http://127.0.0.1:9/readyz", timeout: .seconds(2)) == nil)
        #expect(ContinuousClock.now - start < .seconds(2))
    }
}
