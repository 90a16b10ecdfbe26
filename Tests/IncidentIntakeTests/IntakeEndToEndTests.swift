import AMQP
import Configuration
import Contracts
import Directory
import Foundation
@testable import IncidentIntake
import ISMSTesting
import Postgres
import Prometheus
import ServiceClient
import ServiceRuntime
import Testing

/// Intake through the real servers: the CLI (`isms report`, the built executable) and HTTP each
/// end as one stored report and one `incident.reported` event.
@Suite(.serialized, .tags(.integration), .needsTestServers) final class IntakeEndToEndTests {
    let port = freeTCPPort()
    let pool = TestServers.pool()
    var service: Task<Void, any Error>?
    var events: AMQPConnection?
    let eventQueue = TestServers.uniqueName("intake-events")
    var sectionToken = ""

    static let section = "family-registry"
    static let otherSection = "personnel"

    init() async throws {
        let events = try await AMQPConnection.connect(TestServers.amqpConfiguration(name: "intake-tests"), logger: TestServers.logger("amqp"))
        try await events.declare(Topology.forService(.incidentIntake))
        try await events.declare(AMQPQueue(name: eventQueue, durable: false, exclusive: true, autoDelete: true))
        try await events.bind(AMQPBinding(queue: eventQueue, exchange: BusLayout.eventsExchange, routingKey: MessageTypes.incidentReported.routingKey))
        try await events.bind(AMQPBinding(queue: eventQueue, exchange: BusLayout.eventsExchange, routingKey: MessageTypes.incidentReportOriginalViewed.routingKey))
        _ = try await events.consume(queue: eventQueue, prefetch: 100)
        self.events = events

        // The service migrates its schema and the directory's at start.
        var configuration = ServiceConfiguration(reader: ConfigReader(provider: InMemoryProvider(values: [:])), defaultPort: port)
        configuration.amqpURL = TestServers.amqpURL
        configuration.databaseURL = TestServers.databaseURL
        configuration.outboxPollInterval = .milliseconds(200)
        let port = port
        service = Task {
            try await ServiceRunner.run(IncidentIntakeService.definition(), configuration: configuration, registry: PrometheusCollectorRegistry(), logger: TestServers.logger("intake"))
        }
        let ready = await TestServers.eventually(timeout: .seconds(60), interval: .milliseconds(200)) { await Self.status(port: port) == 200 }
        guard ready else { throw StartFailure(description: "incident-intake did not become ready on port \(port)") }

        // The organisation of the seed, a producer grant for the broker user, and a token.
        let ward = try DirectoryDocument.load(path: TestServers.repositoryRoot.appendingPathComponent("deploy/config/ward.yaml").path)
        let amqpUser = try TestServers.amqpConfiguration().user
        sectionToken = try await pool.withTransaction { connection in
            _ = try DirectoryStore().replace(with: ward, on: connection)
            try ProducerGrants.grant(amqpUser: amqpUser, unitCode: nil, note: "tests", on: connection)
            return try DirectoryTokens().issue(role: .sectionSecurityStaff, unitCode: Self.section, label: "intake tests", on: connection).token
        }
    }

    deinit {
        service?.cancel()
        if let events { Task { await events.close() } }
    }

    // MARK: - Helpers

    static func status(port: Int) async -> Int? {
        await TestServers.httpStatus("http://127.0.0.1:\(port)/readyz")
    }

    func post(_ body: [UInt8], token: String?) async throws -> (status: Int, json: [String: Any], headers: [String: String]) {
        var headers = [(name: "Content-Type", value: "application/json")]
        if let token { headers.append((name: "Authorization", value: "Bearer \(token)")) }
        let answer = try await HTTPFetch.send("POST", url: "http://127.0.0.1:\(port)/v1/incident-reports", headers: headers, body: Data(body))
        let json = (try? JSONSerialization.jsonObject(with: answer.body) as? [String: Any]) ?? [:]
        return (answer.status, json, Self.lowercasedHeaders(answer))
    }

    /// Runs the built `isms` executable as a producer, with the test stack's broker and database.
    func isms(_ arguments: [String], stdin: String? = nil) async throws -> (status: Int32, output: String) {
        try await ISMSExecutable.run(arguments, environment: ["ISMS_AMQP_URL": TestServers.amqpURL, "ISMS_DATABASE_URL": TestServers.databaseURL], stdin: stdin)
    }

    func storedReports(reportID: UUID) async throws -> [(intakeID: UUID, description: String, myNumber: Bool)] {
        try await pool.query("SELECT intake_id, description, my_number_detected FROM intake.reports WHERE report_id = \(reportID)").rows.map {
            (try $0.decode("intake_id"), try $0.decode("description"), try $0.decode("my_number_detected"))
        }
    }

    /// The `incident.reported` events of one report that arrive within `wait`.
    func reportedEvents(reportID: UUID, wait: Duration = .seconds(3)) async throws -> [RawEnvelope] {
        try await receivedEvents(wait: wait) { raw in
            guard raw.type == MessageTypes.incidentReported.wireName, let event = try? raw.decode(as: IncidentReported.self) else { return false }
            return event.data.reportID == reportID
        }
    }

    /// The events on the test's queue that arrive within `wait` and match.
    func receivedEvents(wait: Duration = .seconds(3), where matches: (RawEnvelope) -> Bool) async throws -> [RawEnvelope] {
        var found: [RawEnvelope] = []
        let deadline = ContinuousClock.now + wait
        while ContinuousClock.now < deadline {
            for delivery in try await events!.nextDeliveries(max: 100, timeout: .milliseconds(200)) {
                try await events!.ack(delivery.deliveryTag)
                let raw = try RawEnvelope(delivery: delivery)
                if matches(raw) { found.append(raw) }
            }
        }
        return found
    }

    func get(_ path: String, token: String) async throws -> (status: Int, body: String, headers: [String: String]) {
        let answer = try await HTTPFetch.send(url: "http://127.0.0.1:\(port)\(path)", headers: [(name: "Authorization", value: "Bearer \(token)")])
        return (answer.status, answer.text, Self.lowercasedHeaders(answer))
    }

    static func lowercasedHeaders(_ answer: HTTPResult) -> [String: String] {
        Dictionary(answer.headers.map { ($0.name.lowercased(), $0.value) }, uniquingKeysWith: { first, _ in first })
    }

    static func report(reportID: UUID = UUID(), section: String = section, title: String = "USB メモリの紛失", description: String = "窓口で USB メモリを紛失した。", myNumber: String = "unknown") -> [UInt8] {
        ReportValidatorTests.report { object in
            object["reportId"] = reportID.uuidString.lowercased()
            object["reporter"] = ["sectionCode": section, "name": "山田 太郎", "contact": "内線 1234"]
            object["title"] = title
            object["description"] = description
            object["occurredAt"] = ContractsJSON.formatTimestamp(Date().addingTimeInterval(-3600))
            object["detectedAt"] = ContractsJSON.formatTimestamp(Date().addingTimeInterval(-1800))
            object["knownAt"] = ContractsJSON.formatTimestamp(Date().addingTimeInterval(-600))
            var answers = object["answers"] as! [String: Any]
            answers["myNumber"] = myNumber
            object["answers"] = answers
        }
    }

    // MARK: - Tests

    /// A batch from the broker takes a handful of statements for all its reports; each report
    /// must end exactly as if it had come alone.
    @Test func aBatchEndsForEachReportAsIfItCameAlone() async throws {
        let producer = Producer(key: "amqp:batch-\(UUID().uuidString.prefix(8))", scope: [.ward])
        let (first, repeated, secret) = (UUID(), UUID(), UUID())
        let myNumber = "住民の個人番号 １２３４－５６７８－９０１８ を記載した書類を誤送付した"
        let processor = IntakeProcessor()
        let submission = { @Sendable (data: [UInt8]) in IntakeProcessor.Submission(data: data, producer: producer, reportedAt: Date(), cause: nil) }
        // The same bytes for the copies: a report's times are part of its content.
        let (firstData, repeatedData) = (Self.report(reportID: first), Self.report(reportID: repeated))
        // Stored earlier, alone.
        let earlier = submission(repeatedData)
        _ = try await pool.withTransaction { connection in
            try processor.submit([earlier], now: Date(), on: connection)
        }
        let batch = [
            firstData,  // 0: new
            firstData,  // 1: the same again in this batch: a duplicate of 0
            Self.report(reportID: first, title: "別の件"),  // 2: another report under 0's id: a conflict
            repeatedData,  // 3: stored earlier: a duplicate
            Self.report(reportID: repeated, title: "別の件"),  // 4: a conflict with the stored one
            Self.report(reportID: UUID(), section: "nowhere"),  // 5: unknown section
            Array("{".utf8),  // 6: not JSON
            Self.report(reportID: secret, description: myNumber),  // 7: new, with a My Number
        ]
        let submissions = batch.map(submission)
        let results = try await pool.withTransaction { connection in
            try processor.submit(submissions, now: Date(), on: connection)
        }
        #expect(results.count == batch.count)
        let accepted = results.map { try? $0.get() }
        let refused = results.map { result -> String? in
            guard case .failure(let rejection) = result else { return nil }
            return rejection.errors.first?.code.rawValue
        }
        #expect(accepted[0]?.duplicate == false && accepted[0]?.event != nil)
        #expect(accepted[1]?.duplicate == true && accepted[1]?.intakeID == accepted[0]?.intakeID && accepted[1]?.event == nil)
        #expect(refused[2] == "conflict")
        #expect(accepted[3]?.duplicate == true && accepted[3]?.event == nil)
        #expect(refused[4] == "conflict")
        #expect(refused[5] == "unknownSection")
        #expect(refused[6] != nil)
        #expect(accepted[7]?.event?.data.myNumberDetected == true)
        #expect(accepted[7]?.event.map { !$0.data.description.contains("９０１８") } == true)

        let stored = try await pool.query("SELECT report_id, my_number_detected FROM intake.reports WHERE producer = \(producer.key) ORDER BY recorded_at").rows
        #expect(stored.count == 3)
        let original = try await pool.query("SELECT description FROM intake.report_originals WHERE intake_id = \(accepted[7]?.intakeID)").rows.first
        #expect(try original?.decode("description", as: String.self) == myNumber)
        let rejections = try await pool.query("SELECT count(*) AS n FROM intake.rejections WHERE producer = \(producer.key)").rows.first
        #expect(try rejections?.decode("n", as: Int.self) == 4)
    }

    @Test func aReportThroughTheCLIEndsAsOneStoredReportAndOneEvent() async throws {
        let reportID = UUID()
        let result = try await isms([
            "report", "--report-id", reportID.uuidString, "--section", Self.section, "--name", "山田 太郎", "--contact", "内線 1234",
            "--category", "loss-or-theft", "--title", "USB メモリの紛失", "--description", "窓口で紛失", "--personal-data", "yes",
            "--affected-persons", "150", "--asset", "住民記録システム=3A/2/2",
        ])
        #expect(result.status == 0, "\(result.output)")
        let stored = try await storedReports(reportID: reportID)
        #expect(stored.count == 1)
        #expect(result.output.contains(stored.first?.intakeID.uuidString.lowercased() ?? "?"))
        let events = try await reportedEvents(reportID: reportID)
        #expect(events.count == 1)
        #expect(events.first?.dataClassification == .confidential)
    }

    @Test func aRepeatedReportIDStaysOne() async throws {
        let reportID = UUID()
        let body = String(decoding: Self.report(reportID: reportID), as: UTF8.self)
        let first = try await isms(["report", "--ndjson"], stdin: body + "\n")
        let second = try await isms(["report", "--ndjson"], stdin: body + "\n" + body + "\n")
        #expect(first.status == 0, "\(first.output)")
        #expect(second.status == 0, "\(second.output)")
        #expect(second.output.contains("already filed"))
        #expect(try await storedReports(reportID: reportID).count == 1)
        #expect(try await reportedEvents(reportID: reportID).count == 1)
    }

    @Test func aDifferentReportUnderAUsedReportIDIsAConflict() async throws {
        let reportID = UUID()
        #expect(try await post(Self.report(reportID: reportID), token: sectionToken).status == 202)
        let conflict = try await post(Self.report(reportID: reportID, title: "別の件"), token: sectionToken)
        #expect(conflict.status == 409)
        #expect(conflict.headers["content-type"] == "application/problem+json")
        #expect(try await storedReports(reportID: reportID).count == 1)
    }

    @Test func aReportThroughHTTPEndsAsOneStoredReportAndOneEvent() async throws {
        let reportID = UUID()
        let body = Self.report(reportID: reportID)
        let response = try await post(body, token: sectionToken)
        #expect(response.status == 202)
        let intakeID = try #require(response.json["intakeId"] as? String)
        #expect(response.headers["location"] == "/v1/incident-reports/\(intakeID)")
        #expect(try await storedReports(reportID: reportID).map { $0.intakeID.uuidString.lowercased() } == [intakeID])
        #expect(try await reportedEvents(reportID: reportID).count == 1)
        // The same request again: the same intake id, nothing new.
        let again = try await post(body, token: sectionToken)
        #expect(again.status == 202)
        #expect(again.json["intakeId"] as? String == intakeID)
        #expect(again.json["duplicate"] as? Bool == true)
    }

    @Test func everyClassOfInvalidInputGetsItsPreciseErrorAndStoresNothing() async throws {
        let reportID = UUID()
        let missing = try await post(Self.report(reportID: reportID).replacing("\"title\"", with: "\"titel\""), token: sectionToken)
        #expect(missing.status == 422)
        let fields = (missing.json["errors"] as? [[String: Any]] ?? []).compactMap { $0["field"] as? String }
        #expect(Set(fields) == ["/title", "/titel"])

        let future = try await post(ReportValidatorTests.report { $0["reportId"] = reportID.uuidString.lowercased(); $0["reporter"] = ["sectionCode": Self.section, "name": "x", "contact": "y"]; $0["knownAt"] = "2099-01-01T00:00:00Z" }, token: sectionToken)
        #expect(future.status == 422)
        #expect((future.json["errors"] as? [[String: Any]])?.first?["code"] as? String == "future")

        let unknown = try await post(Self.report(reportID: reportID, section: "no-such-section"), token: sectionToken)
        #expect(unknown.status == 422)
        #expect((unknown.json["errors"] as? [[String: Any]])?.first?["code"] as? String == "unknownSection")

        let oversize = try await post(Self.report(reportID: reportID, description: String(repeating: "x", count: 300_000)), token: sectionToken)
        #expect(oversize.status == 413)

        let malformed = try await post(Array("{not json".utf8), token: sectionToken)
        #expect(malformed.status == 400)

        // A member name with a NUL (schemathesis found this one): refused with its pointer, and
        // the refusal is recorded although jsonb cannot hold a NUL.
        let nulKey = try await post(
            Array(String(decoding: Self.report(reportID: reportID), as: UTF8.self).replacingOccurrences(of: "\"sectionCode\"", with: "\"\\u0000\u{10FFFF}\":1,\"sectionCode\"").utf8),
            token: sectionToken)
        #expect(nulKey.status == 422)

        #expect(try await post(Self.report(reportID: reportID), token: nil).status == 401)
        #expect(try await post(Self.report(reportID: reportID), token: "isms_forged").status == 401)
        #expect(try await storedReports(reportID: reportID).isEmpty)
    }

    /// Issue #16: a producer's correlationKey reaches triage with the report; a key holding what
    /// looks like a My Number is refused at the field, never stored or sent on.
    @Test func aCorrelationKeyTravelsWithTheReportAndOneHoldingAMyNumberIsRefused() async throws {
        let reportID = UUID()
        func withKey(_ key: String, _ report: [UInt8]) throws -> [UInt8] {
            var object = try #require(try JSONSerialization.jsonObject(with: Data(report)) as? [String: Any])
            object["correlationKey"] = key
            return Array(try JSONSerialization.data(withJSONObject: object))
        }
        let body = try withKey("edr:campaign-7", Self.report(reportID: reportID))
        #expect(try await post(body, token: sectionToken).status == 202)
        let event = try #require(try await reportedEvents(reportID: reportID).first)
        #expect(try event.decode(as: IncidentReported.self).data.correlationKey == "edr:campaign-7")

        let refusedID = UUID()
        let refused = try await post(try withKey("host-123456789018", Self.report(reportID: refusedID)), token: sectionToken)
        #expect(refused.status == 422)
        let error = try #require((refused.json["errors"] as? [[String: Any]])?.first)
        #expect(error["field"] as? String == "/correlationKey")
        #expect(error["code"] as? String == "personalData")
        #expect(try await storedReports(reportID: refusedID).isEmpty)
    }

    @Test func aTokenOfOneSectionCannotReportForAnother() async throws {
        let reportID = UUID()
        let response = try await post(Self.report(reportID: reportID, section: Self.otherSection), token: sectionToken)
        #expect(response.status == 403)
        #expect((response.json["errors"] as? [[String: Any]])?.first?["code"] as? String == "forbidden")
        #expect(try await storedReports(reportID: reportID).isEmpty)
    }

    @Test func aFullWidthMyNumberNextToTheKeywordIsMaskedEverywhereDownstream() async throws {
        let reportID = UUID()
        let description = "住民の個人番号 １２３４－５６７８－９０１８ を記載した書類を誤送付した"
        #expect(try await post(Self.report(reportID: reportID, description: description), token: sectionToken).status == 202)
        let stored = try #require(try await storedReports(reportID: reportID).first)
        #expect(stored.myNumber)
        #expect(!stored.description.contains("９０１８"))
        let event = try #require(try await reportedEvents(reportID: reportID).first)
        #expect(event.dataClassification == .restricted)
        let text = String(decoding: event.data ?? [], as: UTF8.self)
        #expect(!text.contains("９０１８") && !text.contains("9018"))
        // Only the restricted table keeps the original.
        let original = try await pool.query("SELECT description FROM intake.report_originals WHERE intake_id = \(stored.intakeID)").rows.first?.decode("description", as: String.self)
        #expect(original == description)
    }

    /// Issue #4 item 9: only a designated handler of My Number data of the reporting section reads
    /// the original; every reading is logged and announced for the case history.
    @Test func theRestrictedOriginalIsForTheSectionsDesignatedHandlersOnlyAndEveryViewingIsLogged() async throws {
        let reportID = UUID()
        let description = "住民の個人番号 １２３４－５６７８－９０１８ を記載した書類を誤送付した"
        #expect(try await post(Self.report(reportID: reportID, description: description), token: sectionToken).status == 202)
        let stored = try #require(try await storedReports(reportID: reportID).first)
        let (handler, handlerID, csirt, otherHandler) = try await pool.withTransaction { connection in
            let handler = try DirectoryTokens().issue(role: .designatedHandler, unitCode: Self.section, label: "事務取扱担当者 戸籍", on: connection)
            let csirt = try DirectoryTokens().issue(role: .csirt, unitCode: nil, label: "csirt", on: connection).token
            let other = try DirectoryTokens().issue(role: .designatedHandler, unitCode: Self.otherSection, label: "事務取扱担当者 人事", on: connection).token
            return (handler.token, handler.id, csirt, other)
        }
        let path = "/v1/incident-reports/\(stored.intakeID.uuidString.lowercased())/original"

        #expect(try await get(path, token: csirt).status == 403)
        #expect(try await get(path, token: sectionToken).status == 403)
        #expect(try await get(path, token: otherHandler).status == 404)
        let read = try await get(path, token: handler)
        #expect(read.status == 200)
        #expect(read.body.contains("９０１８"))
        #expect(read.headers["cache-control"] == "no-store")

        // Only the successful reading is logged, with the token, and announced without the text.
        let views = try await pool.query("SELECT token_id, role FROM intake.original_views WHERE intake_id = \(stored.intakeID)").rows
        #expect(views.count == 1)
        #expect(try views.first?.decode("token_id", as: UUID.self) == handlerID)
        let announced = try await receivedEvents { $0.type == MessageTypes.incidentReportOriginalViewed.wireName }
        let viewed = try #require(announced.first { (try? $0.decode(as: IncidentReportOriginalViewed.self).data.intakeId) == stored.intakeID })
        #expect(try viewed.decode(as: IncidentReportOriginalViewed.self).data.tokenId == handlerID)
        #expect(!String(decoding: viewed.data ?? [], as: UTF8.self).contains("9018"))

        // A report without a My Number has no restricted original.
        let plainID = UUID()
        #expect(try await post(Self.report(reportID: plainID), token: sectionToken).status == 202)
        let plain = try #require(try await storedReports(reportID: plainID).first)
        #expect(try await get("/v1/incident-reports/\(plain.intakeID.uuidString.lowercased())/original", token: handler).status == 404)
    }

    @Test func numbersWithoutContextOrWithAWrongCheckDigitAreNotFlagged() async throws {
        for description in ["受付番号 123456789018 の件", "個人番号 123456789017 の件"] {
            let reportID = UUID()
            #expect(try await post(Self.report(reportID: reportID, description: description), token: sectionToken).status == 202)
            let stored = try #require(try await storedReports(reportID: reportID).first)
            #expect(!stored.myNumber, "\(description)")
            #expect(stored.description == description)
        }
    }

    @Test func aBrokerProducerWithoutAGrantIsRefused() async throws {
        // The CLI publishes as the broker user; revoke its grant for the duration of the check.
        let user = try TestServers.amqpConfiguration().user
        _ = try await pool.query("DELETE FROM intake.producer_grants WHERE amqp_user = \(user)")
        let result = try await isms(["report", "--ndjson", "--timeout", "10"], stdin: String(decoding: Self.report(), as: UTF8.self) + "\n")
        try await pool.withTransaction { connection in try ProducerGrants.grant(amqpUser: user, unitCode: nil, note: "tests", on: connection) }
        #expect(result.status == 2, "\(result.output)")
        #expect(result.output.contains("no reporting grant"))
    }
}

struct StartFailure: Error, CustomStringConvertible {
    var description: String
}

extension [UInt8] {
    func replacing(_ target: String, with replacement: String) -> [UInt8] {
        Array(String(decoding: self, as: UTF8.self).replacingOccurrences(of: target, with: replacement).utf8)
    }
}
