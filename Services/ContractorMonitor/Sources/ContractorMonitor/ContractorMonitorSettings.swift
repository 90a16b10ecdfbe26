public import Foundation

/// The contractor monitor's own settings, read from the environment.
public struct ContractorMonitorSettings: Sendable, Hashable {
    /// Days after an attestation's due date before a missing one is a violation.
    /// `ISMS_CONTRACTOR_GRACE_DAYS` (int), default 14.
    public var graceDays: Int
    /// Days after a contract's end within which the certificate of data return or deletion is
    /// due. `ISMS_CONTRACTOR_RETURN_CERTIFICATE_DAYS` (int), default 30.
    public var returnCertificateDays: Int
    /// Days before a due date that the reminder goes out. `ISMS_CONTRACTOR_REMINDER_DAYS` (int), default 14.
    public var reminderLeadDays: Int
    /// The baseline and checklists file. `ISMS_CONTRACTOR_BASELINE` (path), default
    /// `deploy/config/contractor-baseline.yaml`.
    public var baselinePath: String

    public init(graceDays: Int = 14, returnCertificateDays: Int = 30, reminderLeadDays: Int = 14, baselinePath: String = "deploy/config/contractor-baseline.yaml") {
        self.graceDays = graceDays
        self.returnCertificateDays = returnCertificateDays
        self.reminderLeadDays = reminderLeadDays
        self.baselinePath = baselinePath
    }

    /// Reads the `ISMS_CONTRACTOR_*` variables above from `environment`.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> ContractorMonitorSettings {
        let defaults = ContractorMonitorSettings()
        func int(_ key: String, _ fallback: Int) -> Int { environment[key].flatMap(Int.init).map { max(0, $0) } ?? fallback }
        return ContractorMonitorSettings(
            graceDays: int("ISMS_CONTRACTOR_GRACE_DAYS", defaults.graceDays),
            returnCertificateDays: int("ISMS_CONTRACTOR_RETURN_CERTIFICATE_DAYS", defaults.returnCertificateDays),
            reminderLeadDays: int("ISMS_CONTRACTOR_REMINDER_DAYS", defaults.reminderLeadDays),
            baselinePath: environment["ISMS_CONTRACTOR_BASELINE"] ?? defaults.baselinePath
        )
    }
}
