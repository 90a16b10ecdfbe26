public import Directory
import Foundation
import PostgresMigrations

/// The contractor registry and its rules (issue #7): contractors, contracts, sub-contract
/// chains, attestations, certificates and violations, in the service's schema.
///
/// Every call runs on a connection the caller holds, inside the caller's transaction, so the
/// HTTP API, the timers and the `isms contractors ...` commands share one implementation.
/// Violations and reminders are written to the schema's outbox in the same transaction.
public struct ContractorRegistry: Sendable {
    /// The service's schema.
    public let schema: String
    /// Where sections and departments are looked up (Art. 18).
    public let directory: DirectoryStore
    public let baseline: ContractorBaseline
    public let settings: ContractorMonitorSettings

    public init(schema: String = ContractorMonitorService.schema, directory: DirectoryStore = DirectoryStore(), baseline: ContractorBaseline, settings: ContractorMonitorSettings = ContractorMonitorSettings()) {
        self.schema = schema
        self.directory = directory
        self.baseline = baseline
        self.settings = settings
    }

    func table(_ name: String) -> String { "\(Migrator.quoted(schema)).\(name)" }

    static func timerPayload(_ values: [String: String]) -> String {
        String(decoding: (try? JSONSerialization.data(withJSONObject: values, options: [.sortedKeys])) ?? Data("{}".utf8), as: UTF8.self)
    }
}

/// Which contracts a caller sees.
public enum ContractorScope: Sendable, Hashable {
    /// Every contract: the general security manager, the CISO, CSIRT (Art. 16, 22).
    case all
    /// The contracts of one department's sections: its security officer (Art. 17).
    case department(String)
    /// One section's contracts: its security officer and staff (Art. 18, 19).
    case section(String)
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
