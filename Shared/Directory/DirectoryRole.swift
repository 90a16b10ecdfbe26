/// The kind of organisational unit a role is held at.
public enum DirectoryUnitKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// The ward as a whole: the role has no unit.
    case ward
    /// A department (部, Art. 3(4)).
    case department
    /// A section (課, Art. 3(5)).
    case section
}

/// A role that the guideline defines (Art. 3(9), 11-22).
///
/// The raw values are the names used in code, files, tokens and the database; see DOMAIN.md.
public enum DirectoryRole: String, Sendable, Hashable, Codable, CaseIterable {
    /// 最高情報セキュリティ責任者, the deputy mayor for the planning department. Art. 11.
    case ciso
    /// 最高情報セキュリティアドバイザー, an optional outside expert. Art. 12.
    case cisoAdvisor
    /// 情報セキュリティ監査責任者, appointed by the CISO. Art. 13.
    case auditChief
    /// 統括情報セキュリティ管理責任者, the head of the planning department. Art. 14.
    case generalSecurityOfficer
    /// 統括情報システム管理者, per the management rules. Art. 15.
    case generalSystemAdministrator
    /// 統括情報セキュリティ管理者, the chief of the information policy section. Art. 16.
    case generalSecurityManager
    /// 情報セキュリティ管理責任者, each department head. Art. 17.
    case departmentSecurityOfficer
    /// 情報セキュリティ責任者, each section chief. Art. 18.
    case sectionSecurityOfficer
    /// 情報セキュリティ担当者, one or more per section. Art. 19.
    case sectionSecurityStaff
    /// 事務取扱担当者, staff handling My Number data. Art. 3(9), 18(8).
    case designatedHandler
    /// 情報セキュリティ委員会. Art. 21.
    case securityCommittee
    /// CSIRT. Art. 22.
    case csirt
    /// IT推進本部. Art. 20.
    case itPromotionHQ

    /// Where the role is held: ward-wide roles take no unit; the others name a unit of this kind.
    public var unitKind: DirectoryUnitKind {
        switch self {
        case .departmentSecurityOfficer: .department
        case .sectionSecurityOfficer, .sectionSecurityStaff, .designatedHandler: .section
        case .ciso, .cisoAdvisor, .auditChief, .generalSecurityOfficer, .generalSystemAdministrator,
            .generalSecurityManager, .securityCommittee, .csirt, .itPromotionHQ:
            .ward
        }
    }

    /// Whether the role is held for the whole ward (no unit).
    public var isWardWide: Bool { unitKind == .ward }

    /// The article of the guideline that defines the role, e.g. `"Art. 18"`.
    public var article: String {
        switch self {
        case .ciso: "Art. 11"
        case .cisoAdvisor: "Art. 12"
        case .auditChief: "Art. 13"
        case .generalSecurityOfficer: "Art. 14"
        case .generalSystemAdministrator: "Art. 15"
        case .generalSecurityManager: "Art. 16"
        case .departmentSecurityOfficer: "Art. 17"
        case .sectionSecurityOfficer: "Art. 18"
        case .sectionSecurityStaff: "Art. 19"
        case .designatedHandler: "Art. 3(9)"
        case .securityCommittee: "Art. 21"
        case .csirt: "Art. 22"
        case .itPromotionHQ: "Art. 20"
        }
    }

    /// The role's name in the guideline.
    public var japaneseName: String {
        switch self {
        case .ciso: "最高情報セキュリティ責任者"
        case .cisoAdvisor: "最高情報セキュリティアドバイザー"
        case .auditChief: "情報セキュリティ監査責任者"
        case .generalSecurityOfficer: "統括情報セキュリティ管理責任者"
        case .generalSystemAdministrator: "統括情報システム管理者"
        case .generalSecurityManager: "統括情報セキュリティ管理者"
        case .departmentSecurityOfficer: "情報セキュリティ管理責任者"
        case .sectionSecurityOfficer: "情報セキュリティ責任者"
        case .sectionSecurityStaff: "情報セキュリティ担当者"
        case .designatedHandler: "事務取扱担当者"
        case .securityCommittee: "情報セキュリティ委員会"
        case .csirt: "CSIRT"
        case .itPromotionHQ: "IT推進本部"
        }
    }

    /// The reporting chain for a section's matter, lowest first: section staff → section chief →
    /// department head → information policy chief → planning department head → CISO
    /// (Art. 14, 16-19). CSIRT works beside this chain for incidents.
    public static let escalationChain: [DirectoryRole] = [
        .sectionSecurityStaff,
        .sectionSecurityOfficer,
        .departmentSecurityOfficer,
        .generalSecurityManager,
        .generalSecurityOfficer,
        .ciso,
    ]
}
