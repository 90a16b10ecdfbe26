public import Directory

/// Who may see and change what (issue #7 item 6): section security officers manage their own
/// section's contracts (Art. 18(6)(8)); the general security manager sees and manages all
/// (Art. 16); the CISO, the general security officer, CSIRT and the audit chief see all;
/// a department's officer sees the department's contracts (Art. 17).
public enum ContractorAccess {
    /// The contracts `grant` may read; nil when it may read none.
    public static func scope(for grant: TokenGrant) -> ContractorScope? {
        switch grant.role {
        case .ciso, .cisoAdvisor, .auditChief, .generalSecurityOfficer, .generalSystemAdministrator, .generalSecurityManager, .csirt,
            .securityCommittee:
            return .all
        case .departmentSecurityOfficer:
            return grant.unitCode.map(ContractorScope.department)
        case .sectionSecurityOfficer, .sectionSecurityStaff:
            return grant.unitCode.map(ContractorScope.section)
        case .designatedHandler, .itPromotionHQ:
            return nil
        }
    }

    /// Whether `grant` may read a contract of this section and department.
    public static func canRead(_ grant: TokenGrant, sectionCode: String, departmentCode: String) -> Bool {
        switch scope(for: grant) {
        case .all: true
        case .department(let code): code == departmentCode
        case .section(let code): code == sectionCode
        case nil: false
        }
    }

    /// Whether `grant` may register or change contracts of this section.
    public static func canManage(_ grant: TokenGrant, sectionCode: String) -> Bool {
        switch grant.role {
        case .generalSecurityManager: true
        case .sectionSecurityOfficer: grant.unitCode == sectionCode
        default: false
        }
    }

    /// Whether `grant` may register contractors and record their profiles and certifications.
    public static func canManageContractors(_ grant: TokenGrant) -> Bool {
        grant.role == .generalSecurityManager || grant.role == .sectionSecurityOfficer
    }

    /// Whether `grant` may mark a violation of this section resolved.
    public static func canResolve(_ grant: TokenGrant, sectionCode: String) -> Bool {
        grant.role == .csirt || canManage(grant, sectionCode: sectionCode)
    }

    /// Whether `grant` may verify the decision ledger and read the ward-wide measures.
    public static func canOversee(_ grant: TokenGrant) -> Bool {
        scope(for: grant) == .all
    }
}
