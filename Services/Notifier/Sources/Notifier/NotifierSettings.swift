public import Foundation
public import Acknowledgement

/// The notifier's own settings, read from `ISMS_NOTIFIER_*` (and the shared `ISMS_ACK_*`).
public struct NotifierSettings: Sendable {
    /// The routing file. `ISMS_NOTIFIER_ROUTES`, default `deploy/config/notification-routes.yaml`.
    public var routesPath: String
    /// The template folder. `ISMS_NOTIFIER_TEMPLATES`, default `deploy/config/templates`.
    public var templatesPath: String
    /// The SMTP server, `smtp://[user:password@]host[:port][?starttls=required|opportunistic|never]`.
    /// `ISMS_NOTIFIER_SMTP_URL`; when unset, e-mail is written to ``fileDirectory`` as a mail drop.
    public var smtp: SMTPConfiguration?
    /// Folder of the file channel and the mail drop. `ISMS_NOTIFIER_FILE_DIR`, default
    /// `deploy/local/run/notifications`.
    public var fileDirectory: String
    /// Signing secret of webhook endpoints that name none. `ISMS_NOTIFIER_WEBHOOK_SECRET`,
    /// default `whsec_ZGV2LXdlYmhvb2stc2VjcmV0` (base64 of `dev-webhook-secret`).
    public var defaultWebhookSecret: String
    /// The webhook secret when `ISMS_NOTIFIER_WEBHOOK_SECRET` is unset (base64 of `dev-webhook-secret`):
    /// for development only, refused in production.
    public static let developmentWebhookSecret = "whsec_ZGV2LXdlYmhvb2stc2VjcmV0"
    /// Acknowledgement link secret, shared with triage. `ISMS_ACK_SECRET`, default `dev-ack-secret`.
    public var acknowledgementSecret: String
    /// Where acknowledgement links point. `ISMS_TRIAGE_PUBLIC_URL`, default `http://127.0.0.1:8082`.
    public var triagePublicURL: String
    /// The web console's public base. `ISMS_CONSOLE_PUBLIC_URL`, default unset. When set,
    /// acknowledgement links open the console (`<console>/acknowledge/<token>`), where the person
    /// sees the case before acknowledging, instead of triage's bare page.
    public var consolePublicURL: String?
    /// How long an acknowledgement link works. `ISMS_ACK_TTL_HOURS`, default 168.
    public var acknowledgementLifetime: Duration
    /// Attempts per channel before falling back. `ISMS_NOTIFIER_MAX_ATTEMPTS`, default 5.
    public var maxAttempts: Int
    /// Back-off of retries: `ISMS_NOTIFIER_RETRY_INITIAL_S` (default 30) doubling up to
    /// `ISMS_NOTIFIER_RETRY_MAX_S` (default 1800), with full jitter.
    public var retryInitial: Duration
    public var retryMaximum: Duration
    /// How long a claimed send may take before another worker may take it over.
    /// `ISMS_NOTIFIER_LEASE_S`, default 120 (longer than any channel time-out).
    public var lease: Duration
    /// Sends in flight per process. `ISMS_NOTIFIER_SEND_CONCURRENCY`, default 4.
    public var sendConcurrency: Int
    /// Time-out of one SMTP or webhook exchange. `ISMS_NOTIFIER_SEND_TIMEOUT_S`, default 30.
    public var sendTimeout: Duration
    /// The schema of the organisation directory. `ISMS_NOTIFIER_DIRECTORY_SCHEMA`, default `directory`.
    public var directorySchema: String
    /// Extra environment for `secretEnv` look-ups (tests); the process environment otherwise.
    public var environment: [String: String]

    public init(
        routesPath: String = "deploy/config/notification-routes.yaml",
        templatesPath: String = "deploy/config/templates",
        smtp: SMTPConfiguration? = nil,
        fileDirectory: String = "deploy/local/run/notifications",
        defaultWebhookSecret: String = NotifierSettings.developmentWebhookSecret,
        acknowledgementSecret: String = AcknowledgementToken.developmentSecret,
        triagePublicURL: String = "http://127.0.0.1:8082",
        consolePublicURL: String? = nil,
        acknowledgementLifetime: Duration = .seconds(168 * 3600),
        maxAttempts: Int = 5,
        retryInitial: Duration = .seconds(30),
        retryMaximum: Duration = .seconds(1800),
        lease: Duration = .seconds(120),
        sendConcurrency: Int = 4,
        sendTimeout: Duration = .seconds(30),
        directorySchema: String = "directory",
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) {
        self.routesPath = routesPath
        self.templatesPath = templatesPath
        self.smtp = smtp
        self.fileDirectory = fileDirectory
        self.defaultWebhookSecret = defaultWebhookSecret
        self.acknowledgementSecret = acknowledgementSecret
        self.triagePublicURL = triagePublicURL
        self.consolePublicURL = consolePublicURL
        self.acknowledgementLifetime = acknowledgementLifetime
        self.maxAttempts = maxAttempts
        self.retryInitial = retryInitial
        self.retryMaximum = retryMaximum
        self.lease = lease
        self.sendConcurrency = sendConcurrency
        self.sendTimeout = sendTimeout
        self.directorySchema = directorySchema
        self.environment = environment
    }

    /// Reads every key above from the process environment.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws(NotifierError) -> NotifierSettings {
        func int(_ key: String, _ fallback: Int) throws(NotifierError) -> Int {
            guard let text = environment[key] else { return fallback }
            guard let value = Int(text), value > 0 else { throw NotifierError(.invalidSettings, detail: "\(key) must be a positive whole number, not '\(text)'") }
            return value
        }
        var settings = NotifierSettings(environment: environment)
        if let value = environment["ISMS_NOTIFIER_ROUTES"] { settings.routesPath = value }
        if let value = environment["ISMS_NOTIFIER_TEMPLATES"] { settings.templatesPath = value }
        if let value = environment["ISMS_NOTIFIER_SMTP_URL"], !value.isEmpty { settings.smtp = try SMTPConfiguration(url: value, from: environment["ISMS_NOTIFIER_MAIL_FROM"]) }
        if let value = environment["ISMS_NOTIFIER_FILE_DIR"] { settings.fileDirectory = value }
        if let value = environment["ISMS_NOTIFIER_WEBHOOK_SECRET"] { settings.defaultWebhookSecret = value }
        if let value = environment["ISMS_ACK_SECRET"] { settings.acknowledgementSecret = value }
        if let value = environment["ISMS_TRIAGE_PUBLIC_URL"] { settings.triagePublicURL = value }
        if let value = environment["ISMS_CONSOLE_PUBLIC_URL"], !value.isEmpty { settings.consolePublicURL = value }
        if let value = environment["ISMS_NOTIFIER_DIRECTORY_SCHEMA"] { settings.directorySchema = value }
        settings.acknowledgementLifetime = .seconds(try int("ISMS_ACK_TTL_HOURS", 168) * 3600)
        settings.maxAttempts = try int("ISMS_NOTIFIER_MAX_ATTEMPTS", 5)
        settings.retryInitial = .seconds(try int("ISMS_NOTIFIER_RETRY_INITIAL_S", 30))
        settings.retryMaximum = .seconds(try int("ISMS_NOTIFIER_RETRY_MAX_S", 1800))
        settings.lease = .seconds(try int("ISMS_NOTIFIER_LEASE_S", 120))
        settings.sendConcurrency = try int("ISMS_NOTIFIER_SEND_CONCURRENCY", 4)
        settings.sendTimeout = .seconds(try int("ISMS_NOTIFIER_SEND_TIMEOUT_S", 30))
        return settings
    }
}

extension NotifierSettings {
    /// The acknowledgement link of a signed token: the console's page when
    /// ``consolePublicURL`` is set, otherwise triage's own (`/v1/acknowledgements/<token>`).
    public func acknowledgementLink(token: String) -> String {
        func base(_ url: String) -> String { url.hasSuffix("/") ? String(url.dropLast()) : url }
        if let console = consolePublicURL { return "\(base(console))/acknowledge/\(token)" }
        return "\(base(triagePublicURL))/v1/acknowledgements/\(token)"
    }
}
