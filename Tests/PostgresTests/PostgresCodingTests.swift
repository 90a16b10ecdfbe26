import Foundation
import Testing

@testable import Postgres

/// Value coding, query building, errors and configuration: no server needed.
@Suite struct PostgresCodingTests {
    @Test func interpolationBindsValuesAndNeverSplicesThem() {
        let id = 42
        let name: String? = nil
        let hostile = "'); DROP TABLE x; --"
        let table = "intake.incident"
        let query: PostgresQuery = "SELECT * FROM \(unescaped: table) WHERE id = \(id) AND name = \(name) OR note = \(hostile)"
        #expect(query.sql == "SELECT * FROM intake.incident WHERE id = $1 AND name = $2 OR note = $3")
        #expect(query.binds == ["42", nil, hostile])
        #expect(!query.description.contains("DROP"))
    }

    @Test func literalQueryHasNoBinds() {
        let query: PostgresQuery = "SELECT 1"
        #expect(query.sql == "SELECT 1")
        #expect(query.binds.isEmpty)
    }

    @Test func scalarsEncode() {
        #expect(true.postgresText == "true")
        #expect(Int64.min.postgresText == "-9223372036854775808")
        #expect(Double.infinity.postgresText == "Infinity")
        #expect((-Double.infinity).postgresText == "-Infinity")
        #expect(Double.nan.postgresText == "NaN")
        #expect(0.1.postgresText == "0.1")
        #expect(Optional<Int>.none.postgresText == nil)
        #expect(UUID(uuidString: "E621E1F8-C36C-495A-93FC-0C247A3E6E5F")!.postgresText == "e621e1f8-c36c-495a-93fc-0c247a3e6e5f")
    }

    @Test func scalarsDecode() throws {
        #expect(try Bool(postgresText: "t") == true)
        #expect(try Bool(postgresText: "f") == false)
        #expect(try Int16(postgresText: "-32768") == Int16.min)
        #expect(throws: PostgresError.self) { try Int16(postgresText: "32768") }
        #expect(throws: PostgresError.self) { try Int(postgresText: "1.5") }
        #expect(try Double(postgresText: "-Infinity") == -.infinity)
        #expect(try Double(postgresText: "NaN").isNaN)
        #expect(try Double(postgresText: "1e-7") == 1e-7)
        #expect(try UUID(postgresText: "e621e1f8-c36c-495a-93fc-0c247a3e6e5f") == UUID(uuidString: "E621E1F8-C36C-495A-93FC-0C247A3E6E5F"))
    }

    @Test func byteaUsesHexWithZeroBytes() throws {
        let bytes: [UInt8] = [0, 1, 0x7f, 0x80, 0xff, 0]
        #expect(bytes.postgresText == "\\x00017f80ff00")
        #expect(try [UInt8](postgresText: "\\x00017F80ff00") == bytes)
        #expect(try Data(postgresText: "\\x") == Data())
        #expect(Data([0xde, 0xad]).postgresText == "\\xdead")
        #expect(throws: PostgresError.self) { try [UInt8](postgresText: "\\x0") }
        #expect(throws: PostgresError.self) { try [UInt8](postgresText: "abc") }
    }

    @Test func arrayLiteralQuotesEverything() throws {
        let values = ["a,b", "say \"hi\"", "back\\slash", "", "NULL", " spaced ", "{braces}", "日本"]
        let text = try #require(values.postgresText)
        #expect(text == #"{"a,b","say \"hi\"","back\\slash","","NULL"," spaced ","{braces}","日本"}"#)
        #expect(try [String](postgresText: text) == values)
        #expect([Int]().postgresText == "{}")
        #expect(try [Int](postgresText: "{}") == [])
        #expect([1, 2, 3].postgresText == #"{"1","2","3"}"#)
    }

    @Test func arrayLiteralDecodesServerOutput() throws {
        #expect(try [Int](postgresText: "{1,2,3}") == [1, 2, 3])
        #expect(try [String?](postgresText: #"{a,NULL,"NULL",null}"#) == ["a", nil, "NULL", nil])
        #expect(try [Int](postgresText: "[0:2]={7,8,9}") == [7, 8, 9])
        #expect(try [[Int]](postgresText: "{{1,2},{3,4}}") == [[1, 2], [3, 4]])
        #expect(throws: PostgresError.self) { try [Int](postgresText: "{1,NULL}") }
        #expect(throws: PostgresError.self) { try [String](postgresText: #"{"unterminated}"#) }
        let ids = [UUID(), UUID()]
        #expect(try [UUID](postgresText: "{\(ids.map { $0.uuidString.lowercased() }.joined(separator: ","))}") == ids)
    }

    @Test func timestampsFormatWithMicroseconds() throws {
        let date = Date(timeIntervalSince1970: 1_714_555_800.123456)
        #expect(date.postgresText == "2024-05-01 09:30:00.123456+00")
        #expect(Date(timeIntervalSince1970: 0).postgresText == "1970-01-01 00:00:00+00")
        #expect(Date(timeIntervalSince1970: -0.5).postgresText == "1969-12-31 23:59:59.5+00")
    }

    @Test func timestampsParseOffsetsAndFractions() throws {
        let expected = PostgresTimestamp.date(microsecondsSince1970: 1_714_555_800_123_456)
        #expect(try Date(postgresText: "2024-05-01 09:30:00.123456+00") == expected)
        #expect(try Date(postgresText: "2024-05-01 18:30:00.123456+09") == expected)
        #expect(try Date(postgresText: "2024-05-01 15:00:00.123456+05:30") == expected)
        #expect(try Date(postgresText: "2024-05-01 04:30:00.123456-05") == expected)
        #expect(try Date(postgresText: "2024-05-01 09:30:00.1+00") == PostgresTimestamp.date(microsecondsSince1970: 1_714_555_800_100_000))
        #expect(try Date(postgresText: "2024-05-01 09:30:00") == PostgresTimestamp.date(microsecondsSince1970: 1_714_555_800_000_000))
        #expect(try Date(postgresText: "2024-05-01") == PostgresTimestamp.date(microsecondsSince1970: 1_714_521_600_000_000))
        #expect(try Date(postgresText: "1900-02-28 23:59:59+00") == Date(timeIntervalSince1970: -2_203_891_201))
        #expect(try Date(postgresText: "infinity") == .distantFuture)
        #expect(throws: PostgresError.self) { try Date(postgresText: "0044-03-15 12:00:00+00 BC") }
        #expect(throws: PostgresError.self) { try Date(postgresText: "yesterday") }
    }

    @Test func timestampRoundTripIsExactToTheMicrosecond() throws {
        for micros: Int64 in [0, 1, -1, 999_999, 1_714_555_800_123_456, -2_203_891_201_000_001, 64_092_211_200_000_000] {
            let date = PostgresTimestamp.date(microsecondsSince1970: micros)
            #expect(PostgresTimestamp.microsecondsSince1970(date) == micros)
            let text = try #require(date.postgresText)
            #expect(try Date(postgresText: text) == date)
        }
    }

    struct Document: Codable, Sendable, Equatable {
        var title: String
        var tags: [String]
        var at: Date
    }

    @Test func jsonEncodesSortedKeysAndDates() throws {
        let document = PostgresJSON(Document(title: "件名", tags: ["a"], at: Date(timeIntervalSince1970: 1_714_555_800.25)))
        let text = try #require(document.postgresText)
        #expect(text == #"{"at":"2024-05-01T09:30:00.250Z","tags":["a"],"title":"件名"}"#)
        #expect(try PostgresJSON<Document>(postgresText: text) == document)
        #expect(throws: PostgresError.self) { try PostgresJSON<Document>(postgresText: "{}") }
    }

    @Test func errorPredicates() {
        #expect(PostgresError(code: .server, message: "", sqlState: "40001").isRetriable)
        #expect(PostgresError(code: .server, message: "", sqlState: "40P01").isRetriable)
        #expect(!PostgresError(code: .server, message: "", sqlState: "23505").isRetriable)
        #expect(PostgresError(code: .server, message: "", sqlState: "23505").isUniqueViolation)
        #expect(PostgresError(code: .connectionLost, message: "").isConnectionProblem)
        #expect(PostgresError(code: .connectionFailed, message: "").isConnectionProblem)
        #expect(PostgresError(code: .server, message: "", sqlState: "08006").isConnectionProblem)
        #expect(PostgresError(code: .server, message: "", sqlState: "57P01").isConnectionProblem)
        #expect(PostgresError(code: .server, message: "", sqlState: "53300").isConnectionProblem)
        #expect(!PostgresError(code: .server, message: "", sqlState: "42P01").isConnectionProblem)
        let error = PostgresError(code: .server, message: "duplicate key", sqlState: "23505", detail: "Key (id)=(secret) already exists.", constraint: "t_pkey")
        #expect(error.description == "PostgresError.server (23505): duplicate key [constraint t_pkey]")
    }

    @Test func redactedDescriptionHidesPasswords() {
        let uri = PostgresConfiguration(url: "postgresql://svc:s3cret@db1:5432,db2:5433/isms?sslmode=require&target_session_attrs=read-write")
        #expect(!uri.redactedDescription.contains("s3cret"))
        #expect(uri.redactedDescription.contains("host=db1,db2"))
        #expect(uri.redactedDescription.contains("target_session_attrs=read-write"))
        let keywords = PostgresConfiguration(url: "host=db user=svc password='x y' dbname=isms")
        #expect(!keywords.redactedDescription.contains("x y"))
        #expect(keywords.redactedDescription.contains("user=svc"))
        #expect(PostgresConfiguration(url: "postgresql://[broken").redactedDescription == "(unparsable connection string)")
    }

    @Test func environmentConfigurationLeavesEverythingToLibpq() {
        let configuration = PostgresConfiguration.environment(applicationName: "isms-test")
        #expect(configuration.conninfo == "")
        #expect(configuration.applicationName == "isms-test")
        let parameters = configuration.connectionParameters()
        #expect(parameters.contains { $0.keyword == "dbname" && $0.value == "" })
        #expect(parameters.last.map { $0.keyword == "application_name" && $0.value == "isms-test" } == true)
        #expect(configuration.redactedDescription.hasPrefix("environment"))
    }

    @Test func connectionParametersOrderDefaultsBeforeTheString() throws {
        var configuration = PostgresConfiguration(url: "postgresql://h/db?connect_timeout=7")
        configuration.connectTimeout = .milliseconds(500)
        let parameters = configuration.connectionParameters()
        let dbname = try #require(parameters.firstIndex { $0.keyword == "dbname" })
        let timeout = try #require(parameters.firstIndex { $0.keyword == "connect_timeout" })
        #expect(timeout < dbname)
        #expect(parameters[timeout].value == "2")
        #expect(!parameters.contains { $0.keyword == "application_name" })
    }
}
