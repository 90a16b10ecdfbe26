public import Foundation
public import ServiceRuntime

/// What the web console reads from its environment.
///
/// Keys (environment variables), with their defaults:
/// - `ISMS_HTTP_HOST` (string, `127.0.0.1`) and `ISMS_HTTP_PORT` (int, `8086`): where it listens.
/// - `ISMS_DATABASE_URL` (string, libpq's `PG*` variables when unset): the `console` role.
/// - `ISMS_INCIDENT_INTAKE_URL`, `ISMS_CSIRT_TRIAGE_URL`, `ISMS_AUDIT_SCHEDULER_URL`,
///   `ISMS_CONTRACTOR_MONITOR_URL`, `ISMS_NOTIFIER_URL` (strings, `http://127.0.0.1:8081` to
///   `8085`): the services it calls, the names the `isms` command uses.
/// - `ISMS_MANAGEMENT_URL` (string, `http://isms:isms@127.0.0.1:56721`): RabbitMQ's management
///   API, with user and password, for the operations page.
/// - `ISMS_CONSOLE_PUBLIC_URL` (string, `http://127.0.0.1:<port>`): the address people use; an
///   `https` address makes the session cookie `Secure`.
/// - `ISMS_CONSOLE_BCRYPT_COST` (int, `12`): the work factor of new password hashes.
/// - `ISMS_LOG_FORMAT`, `ISMS_LOG_LEVEL`, `ISMS_ENV`: as for every service.
public struct ConsoleConfiguration: Sendable {
    public var httpHost: String
    public var httpPort: Int
    public var databaseURL: String?
    public var serviceURLs: [ConsoleService: String]
    public var managementURL: String
    public var publicURL: String
    public var bcryptCost: UInt8
    public var runtime: ServiceConfiguration

    /// Whether cookies get `Secure`: only when people reach the console over TLS.
    public var secureCookies: Bool { publicURL.lowercased().hasPrefix("https://") }

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        runtime = ServiceConfiguration.fromEnvironment(defaultPort: 8086)
        httpHost = runtime.httpHost
        httpPort = runtime.httpPort
        databaseURL = runtime.databaseURL
        var urls: [ConsoleService: String] = [:]
        for service in ConsoleService.allCases {
            let value = environment[service.environmentKey].flatMap { $0.isEmpty ? nil : $0 } ?? service.localDefault
            urls[service] = value.hasSuffix("/") ? String(value.dropLast()) : value
        }
        serviceURLs = urls
        managementURL = environment["ISMS_MANAGEMENT_URL"].flatMap { $0.isEmpty ? nil : $0 } ?? "http://isms:isms@127.0.0.1:56721"
        let publicURL = environment["ISMS_CONSOLE_PUBLIC_URL"].flatMap { $0.isEmpty ? nil : $0 } ?? "http://127.0.0.1:\(runtime.httpPort)"
        self.publicURL = publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL
        bcryptCost = environment["ISMS_CONSOLE_BCRYPT_COST"].flatMap(UInt8.init).map { min(max($0, 10), 16) } ?? 12
    }
}

/// The services the console is a client of.
public enum ConsoleService: String, Sendable, CaseIterable {
    case intake = "incident-intake"
    case triage = "csirt-triage"
    case audit = "audit-scheduler"
    case contractors = "contractor-monitor"
    case notifier

    var environmentKey: String { "ISMS_" + rawValue.uppercased().replacingOccurrences(of: "-", with: "_") + "_URL" }

    var localDefault: String {
        switch self {
        case .intake: "http://127.0.0.1:8081"
        case .triage: "http://127.0.0.1:8082"
        case .audit: "http://127.0.0.1:8083"
        case .contractors: "http://127.0.0.1:8084"
        case .notifier: "http://127.0.0.1:8085"
        }
    }
}
