import CSIRTTriage
import Contracts
import Directory
import Foundation
import Glibc
import HummingbirdOTP
import Logging
import Postgres
import PostgresMigrations
import ServiceClient
import ServiceRuntime
import WardCalendar
import WebConsole

/// The web console's pages with 10,000 cases in triage (issue #15: "every page answers in
/// ≤ 100 ms at the median with 10,000 cases in the database").
///
/// The cases are opened in this process with triage's own engine, the way csirt-triage opens
/// one per `incident.reported` (same statements, history chain, obligations and timers), then
/// moved through the life cycle as CSIRT would; the console and the services it calls run as
/// their release executables and are timed through HTTP like a browser: sequential GETs on one
/// kept-alive connection, with the session cookie of a person who enrolled and signed in
/// through the console's own pages.
struct ConsoleBench: Sendable {
    var setup: BenchSetup
    var pool: PostgresPool
    var binDirectory: String
    /// Triage +2, audit +3, notifier +5, console +6 (intake, +1, is already running).
    var portBase: Int
    var logger: Logger

    static let triageSchema = CSIRTTriageService.schema
    static let password = "isms-bench console password"
    /// Who acts on the seeded cases, as triage records a person acting without a console token.
    static let csirt = TriageActor(id: "person:csirt-lead", role: .csirt)

    // MARK: Seeding

    struct Seeded: Sendable {
        var cases = 0
        var unacknowledged = 0
        var linkedReports = 0
        var restrictions = 0
        var seconds = 0.0
        /// Case numbers to open in turn on the case page: every state, every severity.
        var sample: [String] = []
    }

    /// What happens to case `index` (of the acknowledged ones) after it is opened, cycling over
    /// 20: 1 discarded, 2 acknowledged, 1 acknowledged and confirmed, 3 investigating,
    /// 1 contained, 1 recovered, 11 closed.
    static func actions(for index: Int) -> [CaseAction] {
        switch index % 20 {
        case 0: [.discard]
        case 1, 2: [.acknowledge]
        case 3: [.acknowledge, .confirm]
        case 4, 5, 6: [.acknowledge, .confirm, .investigate]
        case 7: [.acknowledge, .confirm, .investigate, .contain]
        case 8: [.acknowledge, .confirm, .investigate, .contain, .recover]
        default: [.acknowledge, .confirm, .investigate, .contain, .recover, .close]
        }
    }

    /// The lessons a closed case of the bench gives: a cause and one measure of its section.
    static func lessons(section: String, at: Date) -> LessonsDraft {
        LessonsDraft(
            cause: "isms-bench: 手順が守られなかった",
            measures: [.init(
                description: "isms-bench: 手順を再周知する", ownerRole: "sectionSecurityOfficer", ownerUnit: section,
                dueDate: CivilDate.inTokyo(at).adding(days: 30).iso)],
            erpChange: .init(needed: false))
    }

    /// The report of case `index`: sections in turn, categories in turn, and answers that give
    /// severities 1 : 2 : 3 : 4 as 1 : 2 : 3 : 4 under the shipped severity rules, changing
    /// every 20 cases so that every severity meets every fate of ``actions(for:)``.
    static func report(
        index: Int, section: Organisation.Section, intakeID: UUID, openedAt: Date
    ) -> IncidentReported {
        let categories = IncidentCategory.allCases
        let category = categories[index % categories.count]
        let (personal, myNumber, sensitive, wrongful): (Verdict, Verdict, Verdict, Verdict) = switch index / 20 % 10 {
        case 0: (.yes, .yes, .no, .yes)  // my-number-wrongful-intent: 1
        case 1, 2: (.yes, .no, .yes, .no)  // sensitive-personal-data: 2
        case 3, 4, 5: (.yes, .no, .no, .no)  // personal-data: 3
        default: (.no, .no, .no, .no)  // 4, or 3 for malware and unauthorised access
        }
        return IncidentReported(
            intakeID: intakeID, reportID: UUID(), producer: "urn:isms:producer:isms-bench",
            reporter: .init(name: "ベンチ 太郎", contact: "内線 \(1000 + index % 9000)"),
            sectionCode: section.code, departmentCode: section.departmentCode,
            occurredAt: openedAt.addingTimeInterval(-3 * 3600), detectedAt: openedAt.addingTimeInterval(-2 * 3600),
            knownAt: openedAt.addingTimeInterval(-3600), reportedAt: openedAt.addingTimeInterval(-120), recordedAt: openedAt.addingTimeInterval(-60),
            category: category,
            affectedAssets: [AffectedAsset(name: "業務端末 \(index % 50)", classification: .init(confidentiality: .level2, integrity: .level1, availability: .level1))],
            answers: IncidentAnswers(
                personalData: personal, myNumber: myNumber, sensitivePersonalData: sensitive, wrongfulIntent: wrongful, unspecifiedViewers: .no,
                dataEncrypted: .unknown),
            affectedPersons: .count(index / 20 % 10 == 0 ? 150 : index % 40),
            title: "ベンチの事案 \(index): \(category.rawValue)",
            description: "isms-bench が開いた事案。画面の応答時間の測定用 (\(section.code))。",
            myNumberDetected: false, attachments: [])
    }

    /// Opens `total` cases spread over the last 300 days, the newest `unacknowledged` left
    /// unacknowledged (reported or triaged) and the rest moved on by ``actions(for:)``; a use
    /// restriction awaiting approval on one case in 500 (an investigating one). The cases of
    /// family-registry take the ids of intake's reports of that section, oldest first, so the
    /// section's report list finds their cases.
    func seed(total: Int, unacknowledged: Int, say: (String) -> Void) async throws -> Seeded {
        let start = ContinuousClock.now
        for (set, owner) in CSIRTTriageService.migrationSets { try await Migrator.apply(set, on: pool, as: owner, logger: logger) }
        let engine = try CSIRTTriageService.loadEngine(environment: ServiceHandle.environment(setup, port: 0, extra: [:]))
        let ward = try DirectoryDocument.load(path: setup.root + "/deploy/config/ward.yaml")
        let sections = ward.sections.sorted { $0.code < $1.code }
        var intakeIDs = try await pool.query(
            "SELECT intake_id FROM intake.reports WHERE section_code = 'family-registry' ORDER BY recorded_at, intake_id"
        ).rows.map { try $0.decode(0, as: UUID.self) }[...]

        var seeded = Seeded()
        let span: TimeInterval = 300 * 86_400
        let first = Date().addingTimeInterval(-span - 86_400)
        let schema = Self.triageSchema
        let quiet = Logger(label: "isms-bench.seed") { _ in SwiftLogNoOpLogHandler() }
        let batch = 50
        for chunk in stride(from: 0, to: total, by: batch) {
            var plans: [(IncidentReported, Date, [CaseAction], Bool)] = []
            for index in chunk..<min(chunk + batch, total) {
                let section = sections[index % sections.count]
                var intakeID = UUID()
                if section.code == "family-registry", let linked = intakeIDs.popFirst() {
                    intakeID = linked
                    seeded.linkedReports += 1
                }
                let openedAt = first.addingTimeInterval(span * Double(index) / Double(total))
                let waiting = index >= total - unacknowledged
                let actions: [CaseAction] = waiting ? (index % 2 == 0 ? [] : [.confirm]) : Self.actions(for: index)
                let restrict = !waiting && index % 500 == 4
                plans.append((Self.report(index: index, section: section, intakeID: intakeID, openedAt: openedAt), openedAt, actions, restrict))
            }
            let planned = plans
            let numbers = try await pool.withTransaction { connection in
                var numbers: [String] = []
                for (report, openedAt, actions, restrict) in planned {
                    let opened = try connection.emitting(as: .csirtTriage, schema: schema, logger: quiet, now: openedAt) { context in
                        try engine.open(NewCase(reported: report), causedBy: nil, context: &context).record
                    }
                    var at = openedAt
                    for action in actions {
                        at = at.addingTimeInterval(3600)
                        let reason: String? = action == .discard ? "isms-bench: not an incident" : nil
                        // Closing needs its lessons (Art. 27(1), issue #18): one measure, due a month on.
                        let lessons: LessonsDraft? = action == .close ? Self.lessons(section: report.sectionCode, at: at) : nil
                        _ = try connection.emitting(as: .csirtTriage, schema: schema, logger: quiet, now: at) { context in
                            try engine.perform(action, caseNumber: opened.caseNumber, actor: Self.csirt, reason: reason, lessons: lessons, context: &context)
                        }
                    }
                    if restrict {
                        _ = try connection.emitting(as: .csirtTriage, schema: schema, logger: quiet, now: at.addingTimeInterval(600)) { context in
                            try engine.orderRestriction(
                                UseRestrictionOrder(targets: [.init(kind: .asset, name: "業務端末 \(opened.caseNumber)")], reason: "isms-bench: contain the incident"),
                                caseNumber: opened.caseNumber, actor: Self.csirt, context: &context)
                        }
                    }
                    numbers.append(opened.caseNumber)
                }
                return numbers
            }
            seeded.cases += numbers.count
            seeded.restrictions += plans.filter { $0.3 }.count
            // Every 487th case (a prime, so the fates and severities vary): about 20 cases of
            // many states and severities, old and new, for the case page in turn.
            for (offset, number) in numbers.enumerated() where (chunk + offset) % 487 == 0 { seeded.sample.append(number) }
            if seeded.cases % 1000 == 0 { say("  \(seeded.cases) cases opened (\(Int(Clock.elapsed(since: start))) s)") }
        }
        seeded.unacknowledged = min(unacknowledged, total)
        // What the seeding emitted (the chain told, tens of thousands of events) is history: mark
        // it sent so the notifier does not deliver it while pages are timed; the timers due in the
        // past (escalations, reminders of back-dated obligations) move a day ahead for the same
        // reason. Then statistics, as autovacuum would gather them after such a load.
        try await pool.withConnection { connection in
            try connection.execute("UPDATE \(schema).outbox SET published_at = now() WHERE published_at IS NULL")
            try connection.execute("UPDATE \(schema).timers SET due_at = now() + interval '1 day' WHERE due_at < now() + interval '1 day'")
            try connection.execute("ANALYZE")
        }
        seeded.seconds = Clock.elapsed(since: start)
        return seeded
    }

    // MARK: The run

    /// Seeds, starts the services and the console, signs three people in and times the pages.
    /// Never throws: a failure is written into the result, and every process it started stops.
    func run(cases total: Int, unacknowledged: Int, requests: Int, warmUp: Int, say: (String) -> Void) async -> (ConsoleResult, [MemoryResult]) {
        var result = ConsoleResult(cases: 0, requestsPerPage: requests, warmUpRequests: warmUp)
        var handles: [ServiceHandle] = []
        var memory: [MemoryResult] = []
        do {
            say("console: \(total) cases into triage's schema (in-process, triage's engine), \(unacknowledged) left unacknowledged")
            let seeded = try await seed(total: total, unacknowledged: unacknowledged, say: say)
            result.cases = seeded.cases
            result.unacknowledged = seeded.unacknowledged
            result.linkedReports = seeded.linkedReports
            result.restrictionsAwaitingApproval = seeded.restrictions
            result.seedSeconds = seeded.seconds
            let counts = try await pool.query(
                "SELECT (SELECT count(*) FROM triage.cases), (SELECT count(*) FROM triage.case_history), (SELECT count(*) FROM intake.reports)"
            ).rows.first!
            result.totalCases = try counts.decode(0, as: Int.self)
            result.historyRows = try counts.decode(1, as: Int.self)
            result.intakeReports = try counts.decode(2, as: Int.self)
            say("  \(seeded.cases) cases (\(result.totalCases ?? 0) in the table, \(result.historyRows ?? 0) history rows) in \(Int(seeded.seconds)) s; \(result.intakeReports ?? 0) intake reports")

            // The services the pages call, then the console (its schema: it migrates it at start).
            let triage = try await ServiceHandle.start("csirt-triage", setup: setup, port: portBase + 2, binDirectory: binDirectory, logger: logger)
            handles.append(triage)
            let notifier = try await ServiceHandle.start("notifier", setup: setup, port: portBase + 5, binDirectory: binDirectory, logger: logger)
            handles.append(notifier)
            if FileManager.default.isExecutableFile(atPath: binDirectory + "/audit-scheduler") {
                handles.append(try await ServiceHandle.start("audit-scheduler", setup: setup, port: portBase + 3, binDirectory: binDirectory, logger: logger))
            } else {
                result.notes.append("audit-scheduler not built: /decisions ran without its findings (the console shows none)")
            }
            guard FileManager.default.isExecutableFile(atPath: binDirectory + "/web-console") else {
                throw BenchError("web-console is not built in \(binDirectory): swift build -c release --product web-console")
            }
            try await pool.withConnection { try $0.execute("CREATE SCHEMA IF NOT EXISTS console") }
            let base = "http://127.0.0.1:"
            let console = try await ServiceHandle.start(
                "web-console", setup: setup, port: Self.freePort(from: portBase + 6), binDirectory: binDirectory,
                extra: [
                    "ISMS_INCIDENT_INTAKE_URL": base + "\(portBase + 1)", "ISMS_CSIRT_TRIAGE_URL": base + "\(portBase + 2)",
                    "ISMS_AUDIT_SCHEDULER_URL": base + "\(portBase + 3)", "ISMS_CONTRACTOR_MONITOR_URL": base + "\(portBase + 4)",
                    "ISMS_NOTIFIER_URL": base + "\(portBase + 5)", "ISMS_CONSOLE_BCRYPT_COST": "10",
                ],
                logger: logger)
            handles.append(console)
            say("  csirt-triage, notifier\(handles.contains { $0.name == "audit-scheduler" } ? ", audit-scheduler" : "") and web-console ready")

            // Three people enrol and sign in through the pages.
            var csirt = try await signIn("csirt-lead", console: console)
            var section = try await signIn("family-registry-staff", console: console)
            var ciso = try await signIn("deputy-mayor", console: console)
            say("  csirt-lead (TOTP), family-registry-staff and deputy-mayor (TOTP) signed in")

            let caseNumber = { (turn: Int) in seeded.sample[turn % seeded.sample.count] }
            let pages: [(String, String, (Int) -> String)] = [
                ("queue", "csirt-lead", { _ in "/queue" }),
                ("case list", "csirt-lead", { _ in "/cases" }),
                ("case list, filtered", "csirt-lead", { _ in "/cases?state=investigating&severity=2" }),
                ("case page", "csirt-lead", { "/cases/\(caseNumber($0))" }),
                ("report form", "family-registry-staff", { _ in "/reports/new" }),
                ("section's reports", "family-registry-staff", { _ in "/reports" }),
                ("decisions", "deputy-mayor", { _ in "/decisions" }),
            ]
            // A page that answers anything but 200 fails the part; the other pages are still timed.
            let cpu = CPUAccount.now()
            for (name, person, path) in pages {
                do {
                    let timing: PageTiming
                    switch person {
                    case "csirt-lead": timing = try await time(name, person: person, requests: requests, warmUp: warmUp, path: path) { try await csirt.get($0) }
                    case "deputy-mayor": timing = try await time(name, person: person, requests: requests, warmUp: warmUp, path: path) { try await ciso.get($0) }
                    default: timing = try await time(name, person: person, requests: requests, warmUp: warmUp, path: path) { try await section.get($0) }
                    }
                    result.pages.append(timing)
                    say(timing.summary)
                } catch {
                    result.failures.append("\(error)")
                    say("  FAILED \(error)")
                }
            }
            result.cpuCores = CPUAccount.now().cores(since: cpu)

            // The same reads straight from the services, with tokens of the same roles and units.
            say("  the services' APIs the pages call, alone")
            let tokens = try await pool.withConnection { connection in
                let store = DirectoryStore()
                let expiry = Date().addingTimeInterval(3600)
                return (
                    csirt: try store.tokens.issue(role: .csirt, unitCode: nil, label: "isms-bench:csirt", expiresAt: expiry, on: connection).token,
                    section: try store.tokens.issue(role: .sectionSecurityStaff, unitCode: "family-registry", label: "isms-bench:section", expiresAt: expiry, on: connection).token,
                    ciso: try store.tokens.issue(role: .ciso, unitCode: nil, label: "isms-bench:ciso", expiresAt: expiry, on: connection).token
                )
            }
            let triageURL = base + "\(portBase + 2)"
            let calls: [(String, String, String, (Int) -> String)] = [
                ("queue → triage", "csirt", triageURL, { _ in "/v1/cases?acknowledged=false&limit=500" }),
                ("case list → triage", "csirt", triageURL, { _ in "/v1/cases?limit=50" }),
                ("filtered list → triage", "csirt", triageURL, { _ in "/v1/cases?state=investigating&severity=2&limit=50" }),
                ("case page → triage", "csirt", triageURL, { "/v1/cases/\(caseNumber($0))" }),
                ("case page → notifier", "csirt", base + "\(portBase + 5)", { "/v1/notifications?caseNumber=\(caseNumber($0))&limit=100" }),
                ("reports → intake", "section", base + "\(portBase + 1)", { _ in "/v1/incident-reports?limit=50" }),
                ("reports → triage", "section", triageURL, { _ in "/v1/cases?limit=500" }),
                ("decisions → triage", "ciso", triageURL, { _ in "/v1/restrictions?status=awaiting-approval&limit=200" }),
                ("decisions → audit", "ciso", base + "\(portBase + 3)", { _ in "/v1/findings?status=treated&limit=200" }),
            ]
            for (name, who, service, path) in calls {
                let token = who == "csirt" ? tokens.csirt : who == "section" ? tokens.section : tokens.ciso
                let headers = [(name: "Authorization", value: "Bearer \(token)")]
                do {
                    let timing = try await time(name, person: who, requests: requests, warmUp: warmUp, path: path) { path in
                        try await HTTPFetch.send(url: service + path, headers: headers, timeout: .seconds(30))
                    }
                    result.apiCalls.append(timing)
                    say(timing.summary)
                } catch {
                    result.failures.append("\(error)")
                    say("  FAILED \(error)")
                }
            }
            for handle in handles {
                guard let now = handle.memory() else { continue }
                memory.append(MemoryResult(service: handle.name + " (console part)", idleKiB: handle.idleRSSKiB, peakKiB: now.hwm, endKiB: now.rss))
            }
        } catch {
            result.failures.append("\(error)")
            say("console part failed: \(error)")
        }
        for handle in handles.reversed() { await handle.stop() }
        return (result, memory)
    }

    /// `warmUp` untimed requests, then `requests` timed ones, one after the other; any answer
    /// but 200 stops this page with the page, the status and the start of the body.
    func time(
        _ name: String, person: String, requests: Int, warmUp: Int, path: (Int) -> String, _ get: (String) async throws -> HTTPResult
    ) async throws -> PageTiming {
        var values: [Double] = []
        var bytes = 0
        for turn in 0..<(warmUp + requests) {
            let target = path(turn)
            let started = ContinuousClock.now
            let answer = try await get(target)
            let elapsed = Clock.elapsed(since: started) * 1000
            guard answer.status == 200 else {
                throw BenchError("\(name): GET \(target) as \(person) answered \(answer.status): \(answer.text.prefix(300))")
            }
            if turn >= warmUp {
                values.append(elapsed)
                bytes = answer.body.count
            }
        }
        return PageTiming(name: name, path: path(0), person: person, bytes: bytes, latency: LatencySummary(milliseconds: values))
    }

    // MARK: A browser of one

    /// Enrols `person` through the invitation page (with a TOTP code when the role is
    /// ward-wide), then signs in through /sign-in; the returned browser holds the session.
    func signIn(_ person: String, console: ServiceHandle) async throws -> ConsoleBrowser {
        let token = try await pool.withConnection { connection in
            try Credentials(bcryptCost: 10).invite(personID: person, on: connection)
        }
        var browser = ConsoleBrowser(base: "http://127.0.0.1:\(console.port)")
        let form = try await browser.get("/enrol/\(token)")
        guard form.status == 200 else { throw BenchError("GET /enrol for \(person) answered \(form.status)") }
        var fields = [("password", Self.password), ("password2", Self.password)]
        let secret = form.text.firstMatch(of: /name="totpSecret" value="([^"]+)"/).map { String($0.output.1) }
        if let secret { fields += [("totpSecret", secret), ("code", Self.code(secret, at: Date()))] }
        let enrolled = try await browser.post("/enrol/\(token)", fields)
        guard enrolled.status == 303 else { throw BenchError("enrolling \(person) answered \(enrolled.status): \(enrolled.text.prefix(300))") }

        let page = try await browser.get("/sign-in")
        guard page.status == 200 else { throw BenchError("GET /sign-in answered \(page.status)") }
        var credentials = [("person", person), ("password", Self.password)]
        // The next 30 s step: the enrolment's code is never offered twice, whatever the console stores.
        if let secret { credentials.append(("code", Self.code(secret, at: Date().addingTimeInterval(30)))) }
        let signedIn = try await browser.post("/sign-in", credentials)
        guard signedIn.status == 303, browser.cookies["isms_session"] != nil else {
            throw BenchError("signing in \(person) answered \(signedIn.status): \(signedIn.text.prefix(300))")
        }
        return browser
    }

    /// The first port from `first` that nothing holds on 127.0.0.1. The bench's ports lie in
    /// Linux's ephemeral range (32768–60999), so another program's outgoing connection can
    /// hold one; the console, started last, takes the next free one instead of failing.
    static func freePort(from first: Int) -> Int {
        for port in first..<(first + 20) {
            let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard socket >= 0 else { return first }
            defer { close(socket) }
            if withLoopback(port: port, { bind(socket, $0, $1) }) == 0 { return port }
        }
        return first
    }

    static func code(_ secret: String, at date: Date) -> String {
        String(format: "%06d", TOTP(secret: secret).compute(date: date))
    }
}

/// Cookies and the form token of one person, over HTTPFetch's kept-alive connections.
struct ConsoleBrowser: Sendable {
    let base: String
    var cookies: [String: String] = [:]
    var csrf = ""

    mutating func get(_ path: String) async throws -> HTTPResult {
        let answer = try await HTTPFetch.send(url: base + path, headers: headers(), timeout: .seconds(30))
        keep(answer)
        if let token = answer.text.firstMatch(of: /name="csrf" value="([^"]+)"/)?.output.1 { csrf = String(token) }
        return answer
    }

    mutating func post(_ path: String, _ fields: [(String, String)]) async throws -> HTTPResult {
        let body = ([("csrf", csrf)] + fields).map { "\(Self.encode($0.0))=\(Self.encode($0.1))" }.joined(separator: "&")
        let answer = try await HTTPFetch.send(
            "POST", url: base + path, headers: headers() + [(name: "Content-Type", value: "application/x-www-form-urlencoded")], body: Data(body.utf8),
            timeout: .seconds(30))
        keep(answer)
        return answer
    }

    func headers() -> [(name: String, value: String)] {
        var headers = [(name: "User-Agent", value: "isms-bench")]
        if !cookies.isEmpty { headers.append((name: "Cookie", value: cookies.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "; "))) }
        return headers
    }

    mutating func keep(_ answer: HTTPResult) {
        for header in answer.headers where header.name.lowercased() == "set-cookie" {
            let pair = header.value.split(separator: ";")[0].split(separator: "=", maxSplits: 1)
            guard let name = pair.first else { continue }
            cookies[String(name)] = pair.count > 1 ? String(pair[1]) : ""
        }
    }

    /// application/x-www-form-urlencoded: unreserved characters as they are, the rest as %XX.
    static func encode(_ value: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value
    }
}

/// One page (or API call) timed: the latency of `requests` sequential GETs after the warm-up.
struct PageTiming: Codable, Sendable {
    var name: String
    var path: String
    var person: String
    /// The size of the last answer's body.
    var bytes: Int
    var latency: LatencySummary?

    var summary: String {
        guard let latency else { return "  \(name): no figures" }
        return "  \(name) (\(person)): " + String(format: "p50 %.1f, p90 %.1f, p99 %.1f, max %.1f ms", latency.p50, latency.p90, latency.p99, latency.max) + ", \(bytes) bytes"
    }
}

/// The console part's figures.
struct ConsoleResult: Codable, Sendable {
    /// Cases this part opened.
    var cases: Int
    /// All cases in triage's table when the pages were timed (earlier parts may have added some).
    var totalCases: Int?
    var historyRows: Int?
    var unacknowledged: Int?
    var intakeReports: Int?
    /// Seeded cases whose source is one of intake's reports of family-registry.
    var linkedReports: Int?
    var restrictionsAwaitingApproval: Int?
    var seedSeconds: Double?
    var requestsPerPage: Int
    var warmUpRequests: Int
    var pages: [PageTiming] = []
    var apiCalls: [PageTiming] = []
    /// While the pages were timed.
    var cpuCores: [String: Double]?
    /// Why the part failed: a page or call that answered anything but 200, or a step before.
    var failures: [String] = []
    var notes: [String] = []
}

/// 127.0.0.1:`port` as the socket calls (`bind`, `connect`) take it.
func withLoopback<Result>(port: Int, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Result) -> Result {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
}
