import AMQP
import Foundation
import Logging
import Postgres
import ServiceClient

/// Where the benchmark runs: its own vhost and database on the test stack, so it never disturbs
/// anybody else's queues or tables.
struct BenchSetup: Sendable {
    /// `amqp://user:pass@host:port/bench`
    var amqpURL: String
    /// The broker user (intake trusts `user_id` as the producer).
    var amqpUser: String
    /// Superuser URL of the bench database (services migrate their schemas with it at start).
    var databaseURL: String
    /// Superuser URL of the stack's maintenance database (to create the bench database).
    var adminDatabaseURL: String
    /// `http://user:pass@host:port` of the management API.
    var managementURL: String
    var vhost: String
    var database: String
    /// The repository root (configuration files, init.sql).
    var root: String

    static func fromEnvironment(vhost: String = "bench", database: String = "isms_bench") throws -> BenchSetup {
        let environment = ProcessInfo.processInfo.environment
        guard let amqp = environment["ISMS_TEST_AMQP_URL"], let db = environment["ISMS_TEST_DATABASE_URL"] else {
            throw BenchError("set ISMS_TEST_AMQP_URL and ISMS_TEST_DATABASE_URL: eval \"$(deploy/local/stack.sh --profile test env)\"")
        }
        let management = environment["ISMS_TEST_MANAGEMENT_URL"] ?? "http://isms:isms@127.0.0.1:46721"
        // Replace the vhost (the path) of the AMQP URL and the database of the PostgreSQL URL.
        guard let amqpBase = amqp.range(of: "/", options: .backwards, range: amqp.index(amqp.startIndex, offsetBy: 8)..<amqp.endIndex),
              let dbBase = db.range(of: "/", options: .backwards, range: db.index(db.startIndex, offsetBy: 14)..<db.endIndex)
        else { throw BenchError("cannot parse the test URLs") }
        let configuration = try AMQPConfiguration(url: amqp)
        var root = environment["ISMS_BENCH_ROOT"] ?? FileManager.default.currentDirectoryPath
        if !FileManager.default.fileExists(atPath: root + "/deploy/postgres/init.sql") {
            // Running from a scratch package: its deploy/ is a link to the repository's.
            root = (try? FileManager.default.destinationOfSymbolicLink(atPath: root + "/deploy")).map { URL(fileURLWithPath: $0).deletingLastPathComponent().path } ?? root
        }
        return BenchSetup(
            amqpURL: String(amqp[..<amqpBase.lowerBound]) + "/" + vhost,
            amqpUser: configuration.user,
            databaseURL: String(db[..<dbBase.lowerBound]) + "/" + database,
            adminDatabaseURL: String(db[..<dbBase.lowerBound]) + "/postgres",
            managementURL: management,
            vhost: vhost,
            database: database,
            root: root
        )
    }

    /// A fresh database from init.sql and a fresh vhost with the user's permissions.
    func prepare(logger: Logger) async throws {
        let admin = PostgresPool(configuration: PostgresConfiguration(url: adminDatabaseURL, applicationName: "isms-bench"), size: 1, logger: logger)
        let database = self.database
        try await admin.withConnection { connection in
            try connection.execute("DROP DATABASE IF EXISTS \(database) WITH (FORCE)")
            try connection.execute("CREATE DATABASE \(database) ENCODING 'UTF8' TEMPLATE template0")
        }
        await admin.close()
        let initSQL = try String(contentsOfFile: root + "/deploy/postgres/init.sql", encoding: .utf8)
        let pool = PostgresPool(configuration: PostgresConfiguration(url: databaseURL, applicationName: "isms-bench"), size: 1, logger: logger)
        try await pool.withConnection { try $0.execute(initSQL) }
        await pool.close()

        try await management("DELETE", "/api/vhosts/\(vhost)", allow: [404])
        try await management("PUT", "/api/vhosts/\(vhost)", body: "{}")
        try await management("PUT", "/api/permissions/\(vhost)/\(amqpUser)", body: #"{"configure":".*","write":".*","read":".*"}"#)
    }

    /// Removes the vhost and the database.
    func cleanUp(logger: Logger) async {
        _ = try? await management("DELETE", "/api/vhosts/\(vhost)", allow: [404])
        let admin = PostgresPool(configuration: PostgresConfiguration(url: adminDatabaseURL, applicationName: "isms-bench"), size: 1, logger: logger)
        let database = self.database
        _ = try? await admin.withConnection { try $0.execute("DROP DATABASE IF EXISTS \(database) WITH (FORCE)") }
        await admin.close()
    }

    @discardableResult
    func management(_ method: String, _ path: String, body: String? = nil, allow: Set<Int> = []) async throws -> Data {
        guard let base = URL(string: managementURL), let user = base.user, let password = base.password,
              var components = URLComponents(url: base, resolvingAgainstBaseURL: false)
        else { throw BenchError("bad management URL") }
        components.user = nil
        components.password = nil
        components.percentEncodedPath = path
        var headers = [(name: "Authorization", value: "Basic " + Data("\(user):\(password)".utf8).base64EncodedString())]
        if body != nil { headers.append((name: "Content-Type", value: "application/json")) }
        let answer = try await HTTPFetch.send(method, url: components.url!.absoluteString, headers: headers, body: body.map { Data($0.utf8) }, timeout: .seconds(30))
        let (data, status) = (answer.body, answer.status)
        guard (200..<300).contains(status) || allow.contains(status) else {
            throw BenchError("management \(method) \(path): HTTP \(status) \(String(decoding: data, as: UTF8.self))")
        }
        return data
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Wall-clock and monotonic helpers.
enum Clock {
    static func elapsed(since start: ContinuousClock.Instant) -> Double {
        let duration = ContinuousClock.now - start
        return Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

/// Percentiles of a sample in milliseconds.
struct LatencySummary: Codable, Sendable {
    var count: Int
    var p50: Double
    var p90: Double
    var p95: Double
    var p99: Double
    var max: Double
    var mean: Double

    init?(milliseconds values: [Double]) {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        func percentile(_ p: Double) -> Double { sorted[min(sorted.count - 1, Int((p * Double(sorted.count)).rounded(.up)) - 1)] }
        count = sorted.count
        p50 = percentile(0.50)
        p90 = percentile(0.90)
        p95 = percentile(0.95)
        p99 = percentile(0.99)
        max = sorted.last!
        mean = sorted.reduce(0, +) / Double(sorted.count)
    }
}
