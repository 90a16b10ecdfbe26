public import Directory

/// The ward-wide operator roles: CSIRT, the general security manager and officer, the system
/// administrator and the CISO. They manage notifications and work dead letters; every other
/// role is refused (403).
public enum OperatorRoles {
    public static let all: Set<DirectoryRole> = [.csirt, .generalSecurityManager, .generalSecurityOfficer, .generalSystemAdministrator, .ciso]

    /// The grant, if its role is an operator role; `doing` completes "Only ward-wide operator roles may …".
    public static func grant(_ context: APIRequestContext, doing: String) throws -> TokenGrant {
        let grant = try context.requireGrant()
        guard all.contains(grant.role) else { throw APIProblem.forbidden("Only ward-wide operator roles may \(doing).") }
        return grant
    }
}
