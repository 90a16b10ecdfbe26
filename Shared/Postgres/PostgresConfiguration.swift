import CLibPQ
import ClientSupport
import Foundation

/// Where and how to connect: a libpq connection string plus the settings this client adds.
///
/// The connection string goes to libpq unchanged, so everything libpq understands works:
/// `postgresql://` and `postgres://` URIs, `key=value` strings, multi-host URIs with
/// `target_session_attrs=read-write` for fail-over, `sslmode`, and `PG*` environment variables
/// for whatever the string leaves out.
public struct PostgresConfiguration: Sendable {
    /// A libpq connection string (URI or `key=value` form); empty means "all from `PG*` variables".
    public var conninfo: String
    /// Sent as `application_name` (visible in `pg_stat_activity`); overrides the connection string.
    /// When nil, the connection string or `PGAPPNAME` decides, falling back to the process name.
    public var applicationName: String?
    /// How long to wait for each host to accept a connection (libpq `connect_timeout`, whole
    /// seconds, at least 2). The connection string's own `connect_timeout` takes precedence.
    public var connectTimeout: Duration = .seconds(10)

    /// A configuration from a `postgresql://` or `postgres://` URI (or any libpq connection string).
    public init(url: String, applicationName: String? = nil) {
        self.conninfo = url
        self.applicationName = applicationName
    }

    /// A configuration that takes everything from the `PG*` environment variables
    /// (`PGHOST`, `PGPORT`, `PGDATABASE`, `PGUSER`, `PGPASSWORD`, `PGSSLMODE`, ...), which libpq
    /// reads itself. `PGCONNECT_TIMEOUT`, when set, becomes ``connectTimeout``.
    public static func environment(applicationName: String? = nil) -> PostgresConfiguration {
        var configuration = PostgresConfiguration(url: "", applicationName: applicationName)
        if let text = ProcessInfo.processInfo.environment["PGCONNECT_TIMEOUT"], let seconds = Int(text) {
            configuration.connectTimeout = .seconds(seconds)
        }
        return configuration
    }

    /// The connection settings without passwords, for logs.
    public var redactedDescription: String {
        let settings: [(String, String)]
        if conninfo.trimmingWhitespace().isEmpty {
            let environment = ProcessInfo.processInfo.environment
            settings = ["PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGUSER", "PGSSLMODE", "PGTARGETSESSIONATTRS"]
                .compactMap { name in environment[name].map { (name, $0) } }
            return "environment" + (settings.isEmpty ? "" : " " + settings.map { "\($0)=\($1)" }.joined(separator: " "))
        }
        guard let parsed = Self.parse(conninfo) else { return "(unparsable connection string)" }
        return parsed
            .filter { !Self.secretKeywords.contains($0.keyword) }
            .map { "\($0.keyword)=\($0.value)" }
            .joined(separator: " ")
    }

    private static let secretKeywords: Set<String> = ["password", "sslpassword"]

    /// The keywords a connection string sets, in libpq's order; nil when libpq cannot parse it.
    static func parse(_ conninfo: String) -> [(keyword: String, value: String)]? {
        var errorMessage: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(conninfo, &errorMessage) else {
            if let errorMessage { PQfreemem(errorMessage) }
            return nil
        }
        defer { PQconninfoFree(options) }
        var result: [(keyword: String, value: String)] = []
        var option = options
        while let keyword = option.pointee.keyword {
            if let value = option.pointee.val {
                result.append((String(cString: keyword), String(cString: value)))
            }
            option += 1
        }
        return result
    }

    /// The `PQconnectdbParams` entries: defaults, then the expanded connection string, then overrides.
    func connectionParameters(connectTimeout override: Duration? = nil) -> [(keyword: String, value: String)] {
        let timeout = override ?? connectTimeout
        let timeoutSeconds = timeout <= .zero ? 0 : max(2, Int(timeout.seconds.rounded(.up)))
        var parameters: [(keyword: String, value: String)] = [
            ("connect_timeout", String(timeoutSeconds)),
            ("fallback_application_name", ProcessInfo.processInfo.processName),
            // Notice a dead peer within about a minute instead of the kernel's two hours.
            ("keepalives", "1"),
            ("keepalives_idle", "30"),
            ("keepalives_interval", "10"),
            ("keepalives_count", "3"),
            ("dbname", conninfo),
        ]
        if let override {
            // A probe's limit wins over the connection string's own connect_timeout.
            parameters.append(("connect_timeout", String(max(2, Int(override.seconds.rounded(.up))))))
        }
        if let applicationName {
            parameters.append(("application_name", applicationName))
        }
        return parameters
    }
}
