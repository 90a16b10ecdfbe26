public import Directory
public import Foundation

/// One role a person holds at one unit: what a session acts as (brief §7).
public struct RoleChoice: Sendable, Hashable, Codable {
    public var role: DirectoryRole
    public var unitCode: String?

    public init(role: DirectoryRole, unitCode: String?) {
        self.role = role
        self.unitCode = unitCode
    }

    /// `role@unit`, or `role@` for a ward-wide role: the value of the role switcher.
    public var key: String { "\(role.rawValue)@\(unitCode ?? "")" }

    public init?(key: String) {
        let parts = key.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, let role = DirectoryRole(rawValue: String(parts[0])) else { return nil }
        self.init(role: role, unitCode: parts[1].isEmpty ? nil : String(parts[1]))
    }
}

/// What a signed-in session carries, sealed in the session table (``SessionPersistDriver``).
public struct ConsoleSession: Sendable, Codable {
    public var personID: String
    public var personName: String
    /// Every role the person holds; the session acts as `current`.
    public var roles: [RoleChoice]
    public var current: RoleChoice
    /// The API token bound to `current`: the console calls the services with it, so the
    /// services' own need-to-know rules decide what the person sees.
    public var apiToken: String
    public var apiTokenID: UUID
    /// When the token (and with it the session) stops working unless the person acts.
    public var expiresAt: Date

    /// How long a session survives without a request (the issue's idle time-out).
    public static let idleTimeout: TimeInterval = 30 * 60
    /// How stale `expiresAt` may get before a request moves it (saves a write per click).
    public static let refreshSlack: TimeInterval = 60
}

/// What each role may open in the console. The services decide what data each role sees; this
/// only decides which pages and buttons to offer.
public enum ConsoleAccess {
    /// Incident handlers: the queue and the case list (Art. 22 CSIRT, and the officers above it).
    public static let handlers: Set<DirectoryRole> = [.csirt, .ciso, .generalSecurityOfficer, .generalSecurityManager, .generalSystemAdministrator]
    /// Who approves use restrictions and finding treatments (Art. 27(3), Art. 14).
    public static let deciders: Set<DirectoryRole> = [.ciso, .generalSecurityOfficer]
    /// Who files reports for a section (Art. 27(1)).
    public static let reporters: Set<DirectoryRole> = [.sectionSecurityStaff, .sectionSecurityOfficer, .designatedHandler]
    /// Who reads the reports of a unit.
    public static let unitReaders: Set<DirectoryRole> = reporters.union([.departmentSecurityOfficer])
    /// Who keeps the whole asset register (Arts. 14, 16); a section's officer keeps its own (Art. 18).
    public static let assetKeepers: Set<DirectoryRole> = [.generalSecurityOfficer, .generalSecurityManager]
    public static let assetEditors: Set<DirectoryRole> = assetKeepers.union([.sectionSecurityOfficer])
    /// Who reads the register: the management, CSIRT (classification decides severity), the
    /// auditors, and the officers of a department or section (their own assets).
    public static let assetReaders: Set<DirectoryRole> = assetEditors.union([.ciso, .csirt, .auditChief, .departmentSecurityOfficer])

    /// The page a role lands on after signing in.
    public static func home(for role: DirectoryRole) -> String {
        if role == .generalSystemAdministrator { return "/operations" }
        if deciders.contains(role) { return "/decisions" }
        if handlers.contains(role) { return "/queue" }
        if role == .departmentSecurityOfficer { return "/decisions" }
        // Sections start from their reports, with the way to file a new one at the top.
        return "/reports"
    }
}
