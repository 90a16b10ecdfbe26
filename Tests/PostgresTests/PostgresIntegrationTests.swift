import ClientSupport
import Foundation
import ISMSTesting
import Testing

@testable import Postgres

/// Against the PostgreSQL at `ISMS_TEST_DATABASE_URL`; every test works in a schema of its own.
@Suite(.tags(.integration), .needsTestServers) struct PostgresIntegrationTests {
    struct Settings: Codable, Sendable, Equatable {
        var name: String
        var limits: [Int]
        var nested: [String: Bool]
        var at: Date
    }

    @Test func everyTypeRoundTrips() async throws {
        try await TestDatabase.withSchema { pool, schema in
            try await pool.withConnection { connection in
                try connection.execute(
                    """
                    CREATE TABLE \(schema).everything (
                        id int PRIMARY KEY, t text, i bigint, i4 int, i2 smallint, f double precision, b boolean,
                        u uuid, ts timestamptz, by bytea, data bytea, j jsonb, ta text[], ia bigint[], ua uuid[]
                    )
                    """
                )
            }
            let text = "日本語 🎌 é\ttab\nnew line 'single' \"double\" \\back"
            let id = UUID()
            let at = Date(timeIntervalSinceReferenceDate: 736_248_600.123456)
            let bytes: [UInt8] = [0, 1, 0, 255, 0, 128, 0]
            let settings = Settings(name: "名前", limits: [1, 2], nested: ["on": true], at: Date(timeIntervalSince1970: 1_714_555_800.5))
            let strings = ["a,b", "say \"hi\"", "back\\slash", "", "NULL", " spaced ", "{braces}", "日本"]
            let ids = [UUID(), UUID()]
            try await pool.query(
                """
                INSERT INTO \(unescaped: schema).everything VALUES
                (1, \(text), \(Int.max), \(Int32.min), \(Int16.max), \(0.1), \(true), \(id), \(at), \(bytes), \(Data(bytes)),
                 \(PostgresJSON(settings)), \(strings), \([Int.min, 0, 7]), \(ids))
                """
            )
            let row = try #require(try await pool.query("SELECT * FROM \(unescaped: schema).everything WHERE id = 1").first)
            #expect(try row.decode("t", as: String.self) == text)
            #expect(try row.decode("i", as: Int.self) == Int.max)
            #expect(try row.decode("i", as: Int64.self) == Int64.max)
            #expect(try row.decode("i4", as: Int32.self) == Int32.min)
            #expect(try row.decode("i2", as: Int16.self) == Int16.max)
            #expect(try row.decode("f", as: Double.self) == 0.1)
            #expect(try row.decode("b", as: Bool.self) == true)
            #expect(try row.decode("u", as: UUID.self) == id)
            #expect(try row.decode("ts", as: Date.self) == at)
            #expect(row["ts"] == "2024-05-01 09:30:00.123456+00")
            #expect(try row.decode("by", as: [UInt8].self) == bytes)
            #expect(try row.decode("data", as: Data.self) == Data(bytes))
            #expect(try row.decode("j", as: PostgresJSON<Settings>.self).value == settings)
            #expect(try row.decode("ta", as: [String].self) == strings)
            #expect(try row.decode("ia", as: [Int].self) == [Int.min, 0, 7])
            #expect(try row.decode("ia", as: [Int64].self) == [Int64.min, 0, 7])
            #expect(try row.decode("ua", as: [UUID].self) == ids)
            #expect(try row.decode(1, as: String.self) == text)

            // The same values compared by the server, so the encoding is what PostgreSQL understands.
            let same = try await pool.query(
                """
                SELECT t = \(text) AND ts = \(at) AND by = \(bytes) AND ta = \(strings) AND u = \(id)
                   AND j = \(PostgresJSON(settings)) AND ia = \([Int.min, 0, 7]) AS same
                FROM \(unescaped: schema).everything WHERE id = 1
                """
            )
            #expect(try same.first?.decode("same", as: Bool.self) == true)
        }
    }

    @Test func bodiesRunOnTheConnectionsOwnThreads() async throws {
        try await TestDatabase.withPool(size: 2) { pool in
            let seen = try await withThrowingTaskGroup(of: (task: ObjectIdentifier, body: ObjectIdentifier).self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        let task = currentThread()
                        let body = try await pool.withConnection { connection in
                            try connection.query("SELECT pg_sleep(0.02)")
                            return currentThread()
                        }
                        return (task, body)
                    }
                }
                return try await group.reduce(into: [(task: ObjectIdentifier, body: ObjectIdentifier)]()) { $0.append($1) }
            }
            let bodyThreads = Set(seen.map(\.body))
            #expect(bodyThreads.count == 2)
            #expect(bodyThreads.isDisjoint(with: seen.map(\.task)))
        }
    }

    @Test func nullsDecodeAsNilAndRefuseNonOptionals() async throws {
        try await TestDatabase.withSchema { pool, schema in
            try await pool.withConnection { connection in
                try connection.execute("CREATE TABLE \(schema).nullable (id int, t text, ts timestamptz, ta text[], j jsonb)")
                let none: String? = nil
                let noDate: Date? = nil
                let noArray: [String]? = nil
                let noJSON: PostgresJSON<Settings>? = nil
                try connection.query("INSERT INTO \(unescaped: schema).nullable VALUES (1, \(none), \(noDate), \(noArray), \(noJSON))")
                let some: String? = "present"
                try connection.query("INSERT INTO \(unescaped: schema).nullable (id, t, ta) VALUES (2, \(some), \(["x", nil] as [String?]))")
                let rows = try connection.query("SELECT * FROM \(unescaped: schema).nullable ORDER BY id").rows
                #expect(try rows[0].decode("t", as: String?.self) == nil)
                #expect(try rows[0].decode("ts", as: Date?.self) == nil)
                #expect(try rows[0].decode("ta", as: [String]?.self) == nil)
                #expect(try rows[0].decode("j", as: PostgresJSON<Settings>?.self) == nil)
                #expect(rows[0]["t"] == nil)
                #expect(try rows[1].decode("t", as: String?.self) == "present")
                #expect(try rows[1].decode("ta", as: [String?].self) == ["x", nil])
                let error = #expect(throws: PostgresError.self) { try rows[0].decode("t", as: String.self) }
                #expect(error?.code == .decoding)
                #expect(error?.message.contains("\"t\"") == true)
                #expect(throws: PostgresError.self) { try rows[0].decode("missing", as: String?.self) }
            }
        }
    }

    @Test func serverComputedTimestampsAreReadInUTC() async throws {
        try await TestDatabase.withPool { pool in
            let row = try #require(
                try await pool.query("SELECT '2024-02-29 12:34:56.789012+05:30'::timestamptz AS ts, now() AS now, current_setting('TimeZone') AS zone").first
            )
            #expect(row["zone"] == "UTC")
            #expect(row["ts"] == "2024-02-29 07:04:56.789012+00")
            #expect(try row.decode("ts", as: Date.self) == Date(timeIntervalSince1970: 1_709_190_296.789012))
            #expect(abs(try row.decode("now", as: Date.self).timeIntervalSinceNow) < 60)
        }
    }

    @Test func bindingNeverSplicesValues() async throws {
        try await TestDatabase.withSchema { pool, schema in
            let hostile = "'); DROP TABLE \(schema).x; --"
            try await pool.withConnection { connection in
                try connection.execute("CREATE TABLE \(schema).x (v text)")
                try connection.query("INSERT INTO \(unescaped: schema).x (v) VALUES (\(hostile))")
                let stored = try connection.query("SELECT v FROM \(unescaped: schema).x").first?.decode("v", as: String.self)
                #expect(stored == hostile)
                let found = try connection.query("SELECT count(*) AS n FROM \(unescaped: schema).x WHERE v = \(hostile)")
                #expect(try found.first?.decode("n", as: Int.self) == 1)
            }
        }
    }

    @Test func arraysOfDocumentsAndOfByteStringsRoundTripAndANULIsRefused() async throws {
        try await TestDatabase.withSchema { pool, _ in
            try await pool.withConnection { connection in
                // The outbox's shape: bodies as bytea[], documents with and without quotes.
                let bodies: [[UInt8]] = [Array(#"{"a":"b\\c"}"#.utf8), [0, 255, 0], []]
                let unnested = try connection.query("SELECT b FROM unnest(\(bodies)::bytea[]) WITH ORDINALITY AS u (b, n) ORDER BY n")
                    .map { try $0.decode("b", as: [UInt8].self) }
                #expect(unnested == bodies)
                let texts: [String?] = [#"{"k":"say \"hi\""}"#, "plain", nil, ""]
                let back = try connection.query("SELECT \(texts)::text[] AS t").first?.decode("t", as: [String?].self)
                #expect(back == texts)
                #expect(throws: PostgresError.self) { try connection.query("SELECT \("a\u{0}b")::text") }
            }
        }
    }

    @Test func serverErrorsCarrySQLState() async throws {
        try await TestDatabase.withSchema { pool, schema in
            try await pool.withConnection { try $0.execute("CREATE TABLE \(schema).k (id int CONSTRAINT k_pkey PRIMARY KEY)") }
            try await pool.query("INSERT INTO \(unescaped: schema).k VALUES (\(1))")
            let error = await #expect(throws: PostgresError.self) {
                try await pool.query("INSERT INTO \(unescaped: schema).k VALUES (\(1))")
            }
            #expect(error?.code == .server)
            #expect(error?.sqlState == "23505")
            #expect(error?.isUniqueViolation == true)
            #expect(error?.isRetriable == false)
            #expect(error?.isConnectionProblem == false)
            #expect(error?.constraint == "k_pkey")
            #expect(error?.detail?.contains("(id)=(1)") == true)

            let syntax = await #expect(throws: PostgresError.self) { try await pool.query("SELEKT 1") }
            #expect(syntax?.sqlState == "42601")
            // The connection that saw the errors is still usable.
            #expect(try await pool.query("SELECT 1 AS one").first?.decode("one", as: Int.self) == 1)
        }
    }

    @Test func executeRunsSeveralStatements() async throws {
        try await TestDatabase.withSchema { pool, schema in
            try await pool.withConnection { connection in
                try connection.execute(
                    """
                    CREATE TABLE \(schema).m (id int);
                    INSERT INTO \(schema).m VALUES (1), (2);
                    UPDATE \(schema).m SET id = id + 10;
                    """
                )
                let result = try connection.query("UPDATE \(unescaped: schema).m SET id = id + 1")
                #expect(result.affectedRows == 2)
                #expect(try connection.query("SELECT id FROM \(unescaped: schema).m ORDER BY id").map { try $0.decode(0, as: Int.self) } == [12, 13])
            }
        }
    }

    @Test func transactionRollsBackWhenTheBodyThrows() async throws {
        try await TestDatabase.withSchema(size: 1) { pool, schema in
            try await pool.withConnection { try $0.execute("CREATE TABLE \(schema).t (v text)") }
            await #expect(throws: TestFailure.self) {
                try await pool.withTransaction { connection in
                    try connection.query("INSERT INTO \(unescaped: schema).t VALUES ('lost')")
                    #expect(connection.isInTransaction)
                    throw TestFailure()
                }
            }
            let committed = try await pool.withTransaction { connection in
                try connection.query("INSERT INTO \(unescaped: schema).t VALUES ('kept')")
                return connection.isInTransaction
            }
            #expect(committed)
            let values = try await pool.query("SELECT v FROM \(unescaped: schema).t").map { try $0.decode("v", as: String.self) }
            #expect(values == ["kept"])
            #expect(try await pool.withConnection { $0.isInTransaction } == false)
        }
    }

    @Test func transactionLeftOpenByWithConnectionIsRolledBack() async throws {
        try await TestDatabase.withSchema(size: 1) { pool, schema in
            try await pool.withConnection { connection in
                try connection.execute("CREATE TABLE \(schema).t (v text)")
                try connection.execute("BEGIN")
                try connection.query("INSERT INTO \(unescaped: schema).t VALUES ('dangling')")
            }
            let count = try await pool.query("SELECT count(*) AS n FROM \(unescaped: schema).t").first?.decode("n", as: Int.self)
            #expect(count == 0)
        }
    }

    @Test func swallowedStatementErrorDoesNotCommitSilently() async throws {
        try await TestDatabase.withSchema(size: 1) { pool, schema in
            try await pool.withConnection { try $0.execute("CREATE TABLE \(schema).t (id int PRIMARY KEY)") }
            let error = await #expect(throws: PostgresError.self) {
                try await pool.withTransaction { connection in
                    try connection.query("INSERT INTO \(unescaped: schema).t VALUES (1)")
                    _ = try? connection.query("INSERT INTO \(unescaped: schema).t VALUES (1)")
                }
            }
            #expect(error?.sqlState == "25P02")
            #expect(try await pool.query("SELECT count(*) AS n FROM \(unescaped: schema).t").first?.decode("n", as: Int.self) == 0)
        }
    }

    @Test func savepointRollbackKeepsOuterWork() async throws {
        try await TestDatabase.withSchema { pool, schema in
            try await pool.withConnection { try $0.execute("CREATE TABLE \(schema).t (id int PRIMARY KEY)") }
            try await pool.withTransaction { connection in
                try connection.query("INSERT INTO \(unescaped: schema).t VALUES (1)")
                #expect(throws: TestFailure.self) {
                    try connection.withSavepoint {
                        try connection.query("INSERT INTO \(unescaped: schema).t VALUES (2)")
                        throw TestFailure()
                    }
                }
                // A failing statement inside a savepoint does not abort the outer transaction.
                let duplicate = #expect(throws: PostgresError.self) {
                    try connection.withSavepoint {
                        try connection.query("INSERT INTO \(unescaped: schema).t VALUES (1)")
                    }
                }
                #expect(duplicate?.isUniqueViolation == true)
                let nested = try connection.withSavepoint {
                    try connection.query("INSERT INTO \(unescaped: schema).t VALUES (3)")
                    return try connection.withSavepoint { try connection.query("INSERT INTO \(unescaped: schema).t VALUES (4)").affectedRows }
                }
                #expect(nested == 1)
            }
            let ids = try await pool.query("SELECT id FROM \(unescaped: schema).t ORDER BY id").map { try $0.decode("id", as: Int.self) }
            #expect(ids == [1, 3, 4])
        }
    }

    @Test func serializationFailureIsRetriedAutomatically() async throws {
        try await TestDatabase.withSchema { pool, schema in
            try await pool.withConnection { connection in
                try connection.execute("CREATE TABLE \(schema).duty (class int, value int); INSERT INTO \(schema).duty VALUES (1, 10), (2, 20)")
            }
            let barrier = ThreadBarrier(parties: 2)
            let attempts = Shared(0)
            // Classic write skew: each reads one class and writes the other; SERIALIZABLE lets
            // only one commit, so the other body must run again.
            @Sendable func skew(read: Int, write: Int) async throws -> Int {
                try await pool.withTransaction(isolation: .serializable) { connection in
                    attempts.update { $0 += 1 }
                    let sum = try connection.query("SELECT sum(value) AS s FROM \(unescaped: schema).duty WHERE class = \(read)")
                        .first?.decode("s", as: Int.self) ?? 0
                    barrier.arriveAndWait()
                    try connection.query("INSERT INTO \(unescaped: schema).duty VALUES (\(write), \(sum))")
                    return sum
                }
            }
            async let first = skew(read: 1, write: 2)
            async let second = skew(read: 2, write: 1)
            let sums = try await (first, second)
            #expect(attempts.value >= 3)
            // The retried body saw the other's committed row.
            #expect(sums.0 != 10 || sums.1 != 20)
            #expect(try await pool.query("SELECT count(*) AS n FROM \(unescaped: schema).duty").first?.decode("n", as: Int.self) == 4)
        }
    }

    @Test func retriesStopAfterMaxAttempts() async throws {
        try await TestDatabase.withPool(size: 1) { pool in
            let attempts = Shared(0)
            let error = await #expect(throws: PostgresError.self) {
                try await pool.withTransaction(maxAttempts: 3) { connection in
                    attempts.update { $0 += 1 }
                    try connection.execute("DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = '40001'; END $$")
                }
            }
            #expect(error?.isRetriable == true)
            #expect(attempts.value == 3)
        }
    }

    @Test func poolNeverExceedsItsSize() async throws {
        let application = TestDatabase.uniqueName("pgbound")
        try await TestDatabase.withPool(size: 2, applicationName: application) { pool in
            let inUse = Shared((now: 0, most: 0, backends: 0))
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<10 {
                    group.addTask {
                        try await pool.withConnection { connection in
                            let backends = try connection.query(
                                "SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = \(application)"
                            ).first?.decode("n", as: Int.self) ?? 0
                            inUse.update {
                                $0.now += 1
                                $0.most = max($0.most, $0.now)
                                $0.backends = max($0.backends, backends)
                            }
                            try connection.query("SELECT pg_sleep(0.05)")
                            inUse.update { $0.now -= 1 }
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(inUse.value.most == 2)
            #expect(inUse.value.backends <= 2)
            #expect(inUse.value.backends >= 1)
        }
    }

    @Test func waitingLeasesAreServedInOrderAndCanBeCancelled() async throws {
        try await TestDatabase.withPool(size: 1) { pool in
            let holding = ThreadBarrier(parties: 2)
            let release = ThreadBarrier(parties: 2)
            let holder = Task {
                try await pool.withConnection { _ in
                    holding.arriveAndWait()
                    release.arriveAndWait()
                }
            }
            holding.arriveAndWait()
            let order = Shared<[Int]>([])
            var waiters: [Task<Void, any Error>] = []
            for number in 1...4 {
                waiters.append(Task { try await pool.withConnection { _ in order.update { $0.append(number) } } })
                #expect(await eventually { pool.waitingCount == number })
            }
            let cancelled = Task { try await pool.withConnection { _ in order.update { $0.append(99) } } }
            #expect(await eventually { pool.waitingCount == 5 })
            cancelled.cancel()
            await #expect(throws: CancellationError.self) { try await cancelled.value }
            #expect(pool.waitingCount == 4)
            release.arriveAndWait()
            try await holder.value
            for waiter in waiters { try await waiter.value }
            #expect(order.value == [1, 2, 3, 4])
        }
    }

    @Test func connectionTerminatedDuringUseIsDetectedAndReplaced() async throws {
        try await TestDatabase.withPool(size: 1) { pool in
            let before = try await pool.withConnection { $0.backendProcessID }
            let error = await #expect(throws: PostgresError.self) {
                try await pool.withConnection { connection in
                    try connection.query("SELECT pg_terminate_backend(pg_backend_pid())")
                }
            }
            #expect(error?.isConnectionProblem == true)
            let after = try await pool.withConnection { connection in
                (connection.backendProcessID, try connection.query("SELECT 1 AS one").first?.decode("one", as: Int.self))
            }
            #expect(after.0 != before)
            #expect(after.1 == 1)
        }
    }

    @Test func connectionTerminatedWhileIdleIsReplacedOnNextLease() async throws {
        let application = TestDatabase.uniqueName("pgidle")
        try await TestDatabase.withPool(size: 1, applicationName: application) { pool in
            let before = try await pool.withConnection { $0.backendProcessID }
            try await TestDatabase.withPool(size: 1) { admin in
                _ = try await admin.query("SELECT pg_terminate_backend(\(before), 5000)")
            }
            // The stale session is noticed when leased, so the lease after the kill succeeds.
            let after = try await pool.withConnection { connection in
                (connection.backendProcessID, try connection.query("SELECT current_setting('TimeZone') AS zone").first?["zone"])
            }
            #expect(after.0 != before)
            #expect(after.1 == "UTC")
        }
    }

    @Test func unreachableServerIsAConnectionProblem() async throws {
        var configuration = PostgresConfiguration(url: "postgresql://postgres@127.0.0.1:1/isms_test")
        configuration.connectTimeout = .seconds(2)
        let pool = PostgresPool(configuration: configuration, size: 1, logger: TestDatabase.logger)
        let error = await #expect(throws: PostgresError.self) { try await pool.query("SELECT 1") }
        #expect(error?.code == .connectionFailed)
        #expect(error?.isConnectionProblem == true)
        let started = ContinuousClock.now
        #expect(await pool.isReachable(timeout: .seconds(1)) == false)
        #expect(ContinuousClock.now - started < .seconds(5))
        await pool.close()
    }

    @Test func reachabilityAndClose() async throws {
        let pool = PostgresPool(configuration: TestDatabase.configuration(), size: 2, logger: TestDatabase.logger)
        #expect(await pool.isReachable())
        let holder = Task { try await pool.withConnection { _ in Thread.sleep(forTimeInterval: 0.2) } }
        try await Task.sleep(for: .milliseconds(50))
        await pool.close()
        // close() waited for the lease in flight.
        try await holder.value
        let error = await #expect(throws: PostgresError.self) { try await pool.query("SELECT 1") }
        #expect(error?.code == .poolClosed)
        #expect(await pool.isReachable() == false)
    }

    @Test func listenerDeliversNotificationsAndSurvivesTermination() async throws {
        let channel = TestDatabase.uniqueName("pgchan")
        let application = TestDatabase.uniqueName("pglisten")
        let listener = PostgresListener(
            configuration: TestDatabase.configuration(applicationName: application),
            channels: [channel, "other channel"],
            logger: TestDatabase.logger,
            backoff: .init(initial: .milliseconds(50), maximum: .milliseconds(500))
        )
        let received = Shared<[PostgresNotification]>([])
        let consumer = Task {
            for await notification in listener.notifications {
                received.update { $0.append(notification) }
            }
        }
        let runner = Task { await listener.run() }

        try await TestDatabase.withPool(size: 1) { pool in
            // LISTEN starts asynchronously; probe until the first notification arrives.
            func probeUntilDelivered(_ prefix: String) async throws -> Bool {
                var sent = 0
                return try await eventually {
                    sent += 1
                    let payload = "\(prefix)-\(sent)"
                    try await pool.withConnection { try $0.notify(channel: channel, payload: payload) }
                    try await Task.sleep(for: .milliseconds(100))
                    return received.value.contains { $0.payload.hasPrefix(prefix) }
                }
            }
            #expect(try await probeUntilDelivered("probe"))

            let payload = "hello, 世界 \"quoted\""
            let sender = try await pool.withConnection { connection in
                try connection.notify(channel: channel, payload: payload)
                try connection.notify(channel: "other channel")
                return connection.backendProcessID
            }
            #expect(await eventually { received.value.contains { $0.payload == payload } })
            #expect(received.value.contains(PostgresNotification(channel: channel, payload: payload, processID: sender)))
            #expect(await eventually { received.value.contains { $0.channel == "other channel" && $0.payload == "" } })

            // Notifications sent in a transaction arrive only at commit.
            try await pool.withTransaction { try $0.notify(channel: channel, payload: "committed") }
            #expect(await eventually { received.value.contains { $0.payload == "committed" } })

            let terminated = try await pool.query(
                "SELECT count(pg_terminate_backend(pid, 5000)) AS n FROM pg_stat_activity WHERE application_name = \(application)"
            )
            #expect(try terminated.first?.decode("n", as: Int.self) == 1)
            #expect(try await probeUntilDelivered("after-reconnect"))
        }

        let cancelled = ContinuousClock.now
        runner.cancel()
        await runner.value
        await consumer.value
        #expect(ContinuousClock.now - cancelled < .seconds(2))
    }
}
