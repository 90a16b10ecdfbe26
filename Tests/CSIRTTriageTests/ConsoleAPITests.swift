import Contracts
import CSIRTTriage
import Directory
import Foundation
import ISMSTesting
import Hummingbird
import HummingbirdTesting
import Postgres
import PostgresMigrations
import ServiceRuntime
import Testing

/// What the web console reads from csirt-triage, against the real database: the case list's
/// filters with keyset paging and the next escalation, a case's allowed actions and the check of
/// its history, and the approvers' list of restrictions waiting for a decision.
@Suite(.serialized, .tags(.integration), .needsTestServers) struct ConsoleAPITests {
    /// Every severity tells the section's officer at once and the next level ten minutes later,
    /// so every case has a pending escalation timer.
    static let policy = EscalationPolicy(
        version: "test", steps: Dictionary(uniqueKeysWithValues: (1...4).map { ($0, EscalationPolicy.Step(immediateThrough: 1, delay: .seconds(600), stopAt: 5)) }))

    static func router(_ fixture: TriageFixture) -> Router<APIRequestContext> {
        APIRoutes.router(database: fixture.pool, tokens: fixture.directory.tokens) { routes in
            CSIRTTriageService.addRoutes(to: routes, engine: fixture.engine, database: fixture.pool, ackSecret: "test-secret", logger: TestServers.logger("routes"))
        }
    }

    static func token(_ fixture: TriageFixture, _ role: DirectoryRole, unit: String? = nil) async throws -> String {
        let tokens = fixture.directory.tokens
        return try await fixture.pool.withTransaction { try tokens.issue(role: role, unitCode: unit, label: role.rawValue, on: $0).token }
    }

    static func object(_ response: TestResponse) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8)) as? [String: Any])
    }

    /// The case numbers of every page of `query`, joined by their cursor.
    static func numbers(_ client: some TestClientProtocol, _ query: String, token: String, limit: Int = 2) async throws -> [String] {
        var seen: [String] = []
        var cursor: String?
        repeat {
            let uri = "/v1/cases?limit=\(limit)" + (query.isEmpty ? "" : "&" + query) + (cursor.map { "&cursor=\($0)" } ?? "")
            let (numbers, next) = try await client.execute(uri: uri, method: .get, headers: [.authorization: "Bearer \(token)"]) { response in
                #expect(response.status == .ok, "\(uri): \(String(buffer: response.body))")
                let object = try object(response)
                let cases = try #require(object["cases"] as? [[String: Any]])
                return (cases.compactMap { $0["caseNumber"] as? String }, object["nextCursor"] as? String)
            }
            seen += numbers
            cursor = next
        } while cursor != nil && seen.count < 50
        return seen
    }

    @Test func theCaseListFiltersCombineWithPagingAndShowTheNextEscalation() async throws {
        try await TriageFixture.with(policy: Self.policy) { fixture in
            // Whole seconds, so a bound equal to an opening time is exact.
            let base = Date(timeIntervalSince1970: (Date().timeIntervalSince1970).rounded(.down) - 4 * 3600)
            var made: [String] = []
            var sources: [String] = []
            for (index, category) in [IncidentCategory.lossOrTheft, .malware, .malware, .lossOrTheft].enumerated() {
                var new = NewCase(reported: reported(category: category, knownAt: base.addingTimeInterval(-600)))
                if index == 2 { new.title = "Phishing mail 100% to all staff" }
                sources.append(new.source.id)
                let (newCase, opened) = (new, base.addingTimeInterval(Double(index) * 3600))
                let (record, _) = try await fixture.transaction(now: opened) { engine, context in try engine.open(newCase, causedBy: nil, context: &context) }
                made.append(record.caseNumber)
            }
            let csirtActor = TriageActor(id: "person:p-csirt-1", role: .csirt)
            let numbers = made
            let reportIDs = sources
            let (acknowledgedCase, assignedCase) = (numbers[1], numbers[2])
            try await fixture.transaction(now: base.addingTimeInterval(4 * 3600)) { engine, context in
                try engine.perform(.acknowledge, caseNumber: acknowledgedCase, actor: csirtActor, reason: nil, context: &context)
                try engine.assign(personID: "p-csirt-2", caseNumber: assignedCase, actor: csirtActor, reason: nil, context: &context)
            }
            let csirt = try await Self.token(fixture, .csirt)
            // A second department, whose officer must see none of kumin's cases.
            var organisation = TriageFixture.organisation
            organisation.departments.append(.init(code: "somu", name: "総務部"))
            organisation.people.append(.init(id: "p-somu-head", name: "p-somu-head"))
            organisation.assignments.append(.init(personID: "p-somu-head", role: .departmentSecurityOfficer, unitCode: "somu"))
            let (directory, withSomu) = (fixture.directory, organisation)
            _ = try await fixture.pool.withTransaction { try directory.replace(with: withSomu, on: $0) }
            let otherUnit = try await Self.token(fixture, .departmentSecurityOfficer, unit: "somu")
            try await Application(router: Self.router(fixture)).test(.router) { client in
                let newestFirst = Array(numbers.reversed())
                #expect(try await Self.numbers(client, "", token: csirt) == newestFirst)
                #expect(try await Self.numbers(client, "category=malware", token: csirt) == [numbers[2], numbers[1]])
                #expect(try await Self.numbers(client, "category=malware&acknowledged=false", token: csirt) == [numbers[2]])
                #expect(try await Self.numbers(client, "acknowledged=true", token: csirt) == [numbers[1]])
                #expect(try await Self.numbers(client, "assignee=p-csirt-2", token: csirt) == [numbers[2]])
                // A section follows its report to the case it became.
                #expect(try await Self.numbers(client, "source=\(reportIDs[3])", token: csirt) == [numbers[3]])
                #expect(try await Self.numbers(client, "source=\(reportIDs[3])", token: otherUnit).isEmpty)
                #expect(try await Self.numbers(client, "assignee=p-csirt-1", token: csirt).isEmpty)
                #expect(try await Self.numbers(client, "section=koseki-jumin&department=kumin", token: csirt, limit: 1) == newestFirst)
                #expect(try await Self.numbers(client, "department=somu", token: csirt).isEmpty)
                // from inclusive, to exclusive, on the opening time.
                let from = ContractsJSON.formatTimestamp(base.addingTimeInterval(3600))
                let to = ContractsJSON.formatTimestamp(base.addingTimeInterval(3 * 3600))
                #expect(try await Self.numbers(client, "from=\(from)&to=\(to)", token: csirt, limit: 1) == [numbers[2], numbers[1]])
                // q is a substring without regard to case; % and _ are text, not wildcards.
                #expect(try await Self.numbers(client, "q=PHISHING%20MAIL%20100%25", token: csirt) == [numbers[2]])
                #expect(try await Self.numbers(client, "q=100%25%20_o", token: csirt).isEmpty)
                #expect(try await Self.numbers(client, "q=mail%25", token: csirt).isEmpty)
                // The severity the rules gave the first case finds it among its equals.
                let severity = try await client.execute(uri: "/v1/cases/\(numbers[0])", method: .get, headers: [.authorization: "Bearer \(csirt)"]) { response in
                    try #require(((try Self.object(response))["case"] as? [String: Any])?["severity"] as? [String: Any])["severity"] as? Int
                }
                let sameSeverity = try await Self.numbers(client, "severity=\(try #require(severity))&state=reported", token: csirt)
                #expect(sameSeverity.contains(numbers[0]) && !sameSeverity.contains(numbers[1]))
                // A unit's token sees only its unit, whatever it filters by.
                #expect(try await Self.numbers(client, "category=malware", token: otherUnit).isEmpty)

                // The summary tells the level reached and, unless acknowledged, when the next is told.
                try await client.execute(uri: "/v1/cases?limit=10", method: .get, headers: [.authorization: "Bearer \(csirt)"]) { response in
                    let cases = try #require((try Self.object(response))["cases"] as? [[String: Any]])
                    let byNumber = Dictionary(uniqueKeysWithValues: cases.map { ($0["caseNumber"] as? String ?? "", $0) })
                    let first = try #require(byNumber[numbers[0]])
                    #expect(first["escalationLevel"] as? Int == 1)
                    #expect(first["nextEscalationAt"] as? String == ContractsJSON.formatTimestamp(base.addingTimeInterval(600)))
                    let acknowledged = try #require(byNumber[numbers[1]])
                    #expect(acknowledged["escalationLevel"] as? Int == 1)
                    #expect(acknowledged["nextEscalationAt"] == nil)
                }

                // Malformed or unknown values are a 400 that names the parameter.
                for (query, name) in [
                    ("severity=5", "severity"), ("category=fire", "category"), ("from=yesterday", "from"), ("acknowledged=yes", "acknowledged"),
                    ("to=2026-13-01T00:00:00Z", "to"), ("state=open", "state"), ("section=a&section=b", "section"),
                    ("source=" + String(repeating: "0", count: 101), "source"),
                    // 101 code points in one grapheme cluster: JSON Schema counts code points.
                    ("q=e" + String(repeating: "%CC%81", count: 200), "q"),
                ] {
                    try await client.execute(uri: "/v1/cases?\(query)", method: .get, headers: [.authorization: "Bearer \(csirt)"]) { response in
                        #expect(response.status == .badRequest, "\(query)")
                        #expect(String(buffer: response.body).contains(name), "\(query)")
                    }
                }
                // A time far outside the ward's years is accepted and simply bounds nothing.
                #expect(try await Self.numbers(client, "from=0001-01-01T00:00:00%2B05:00", token: csirt, limit: 10) == newestFirst)
            }
        }
    }

    @Test func aCaseTellsWhichActionsTheRoleMayTakeAndWhetherItsHistoryVerifies() async throws {
        try await TriageFixture.with(policy: Self.policy) { fixture in
            let now = Date()
            let (record, _) = try await fixture.transaction(now: now) { engine, context in
                try engine.open(NewCase(reported: reported(knownAt: now.addingTimeInterval(-600))), causedBy: nil, context: &context)
            }
            let csirt = try await Self.token(fixture, .csirt)
            let officer = try await Self.token(fixture, .sectionSecurityOfficer, unit: "koseki-jumin")
            let staff = try await Self.token(fixture, .sectionSecurityStaff, unit: "koseki-jumin")
            try await Application(router: Self.router(fixture)).test(.router) { client in
                func detail(_ token: String) async throws -> [String: Any] {
                    try await client.execute(uri: "/v1/cases/\(record.caseNumber)", method: .get, headers: [.authorization: "Bearer \(token)"]) { response in
                        #expect(response.status == .ok)
                        return try Self.object(response)
                    }
                }
                #expect(try await detail(csirt)["allowedActions"] as? [String] == ["confirm", "discard", "acknowledge"])
                #expect(try await detail(officer)["allowedActions"] as? [String] == ["acknowledge"])
                #expect(try await detail(staff)["allowedActions"] as? [String] == [])
                #expect(try await detail(csirt)["historyVerified"] as? Bool == true)

                // Acknowledged but not yet confirmed: investigation waits for the confirmation.
                try await client.execute(uri: "/v1/cases/\(record.caseNumber)/acknowledgement", method: .post, headers: [.authorization: "Bearer \(csirt)"]) {
                    #expect($0.status == .ok)
                }
                #expect(try await detail(csirt)["allowedActions"] as? [String] == ["confirm", "discard"])

                // A history row edited behind the trigger's back no longer verifies.
                let table = "\(Migrator.quoted(fixture.schema)).case_history"
                _ = try await fixture.pool.withTransaction { connection in
                    _ = try connection.query("SET LOCAL session_replication_role = replica")
                    return try connection.query(
                        "UPDATE \(unescaped: table) SET reason = 'rewritten' WHERE seq = (SELECT max(seq) FROM \(unescaped: table) WHERE case_id = \(record.id))"
                    ).affectedRows
                }
                #expect(try await detail(csirt)["historyVerified"] as? Bool == false)
            }
        }
    }

    /// Pure: the allowed actions follow the life cycle's rules for every state and role.
    @Test func allowedActionsAreExactlyTheActionsTheLifeCycleAccepts() {
        for state in CaseState.allCases {
            for qualification in [nil, CaseQualification.incident, .notIncident] {
                for role in DirectoryRole.allCases {
                    let allowed = CaseLifecycle.allowedActions(state: state, qualification: qualification, role: role)
                    for action in CaseAction.allCases {
                        let accepted = if case .success = CaseLifecycle.apply(action, state: state, qualification: qualification, role: role, reason: "r") { true } else { false }
                        #expect(allowed.contains(action) == accepted, "\(state) \(role) \(action)")
                    }
                }
            }
        }
    }

    @Test func theApproversListTheRestrictionsWaitingForThem() async throws {
        try await TriageFixture.with(policy: Self.policy) { fixture in
            let now = Date()
            var made: [String] = []
            for index in 0..<3 {
                let (record, _) = try await fixture.transaction(now: now.addingTimeInterval(Double(index))) { engine, context in
                    try engine.open(NewCase(reported: reported(knownAt: now.addingTimeInterval(-600))), causedBy: nil, context: &context)
                }
                made.append(record.caseNumber)
            }
            let numbers = made
            let csirtActor = TriageActor(id: "person:p-csirt-1", role: .csirt)
            let cisoActor = TriageActor(id: "person:p-ciso", role: .ciso)
            var ordered: [UUID] = []
            for (index, number) in numbers.enumerated() {
                let order = UseRestrictionOrder(targets: [.init(kind: .account, name: "account-\(index)")], reason: "contain \(index)")
                let restriction = try await fixture.transaction(now: now.addingTimeInterval(Double(60 + index))) { engine, context in
                    try engine.orderRestriction(order, caseNumber: number, actor: csirtActor, context: &context)
                }
                ordered.append(restriction.id)
            }
            let ids = ordered
            let (decided, decidedCase) = (ids[1], numbers[1])
            try await fixture.transaction(now: now.addingTimeInterval(120)) { engine, context in
                try engine.decideRestriction(id: decided, caseNumber: decidedCase, approve: true, reason: nil, actor: cisoActor, context: &context)
            }
            let gso = try await Self.token(fixture, .generalSecurityOfficer)
            let csirt = try await Self.token(fixture, .csirt)
            try await Application(router: Self.router(fixture)).test(.router) { client in
                var seen: [(String, String)] = []
                var cursor: String?
                repeat {
                    let uri = "/v1/restrictions?status=awaiting-approval&limit=1" + (cursor.map { "&cursor=\($0)" } ?? "")
                    let (page, next) = try await client.execute(uri: uri, method: .get, headers: [.authorization: "Bearer \(gso)"]) { response in
                        #expect(response.status == .ok)
                        let object = try Self.object(response)
                        var page: [(String, String)] = []
                        for item in try #require(object["restrictions"] as? [[String: Any]]) {
                            let restriction = try #require(item["restriction"] as? [String: Any])
                            #expect(restriction["status"] as? String == "awaiting-approval")
                            #expect(item["caseTitle"] as? String != nil && item["severity"] as? Int != nil)
                            page.append((try #require(item["caseNumber"] as? String), try #require(restriction["id"] as? String)))
                        }
                        return (page, object["nextCursor"] as? String)
                    }
                    seen += page
                    cursor = next
                } while cursor != nil && seen.count < 10
                // Oldest order first, the decided one gone.
                #expect(seen.map(\.0) == [numbers[0], numbers[2]])
                #expect(seen.map(\.1) == [ids[0].lowercasedString, ids[2].lowercasedString])
                try await client.execute(uri: "/v1/restrictions", method: .get, headers: [.authorization: "Bearer \(gso)"]) { response in
                    let items = try #require(try Self.object(response)["restrictions"] as? [Any])
                    #expect(items.count == 3)
                }
                try await client.execute(uri: "/v1/restrictions?status=in-force", method: .get, headers: [.authorization: "Bearer \(gso)"]) { response in
                    let items = try #require(try Self.object(response)["restrictions"] as? [[String: Any]])
                    #expect(items.map { $0["caseNumber"] as? String } == [numbers[1]])
                }
                try await client.execute(uri: "/v1/restrictions?status=waiting", method: .get, headers: [.authorization: "Bearer \(gso)"]) { response in
                    #expect(response.status == .badRequest)
                }
                // Only the approvers decide, so only they list.
                try await client.execute(uri: "/v1/restrictions?status=awaiting-approval", method: .get, headers: [.authorization: "Bearer \(csirt)"]) { response in
                    #expect(response.status == .forbidden)
                }
            }
        }
    }
}
