import Directory
import Testing

@Suite struct DirectoryRoleTests {
    @Test func rawValuesAreTheNamesInDomainMD() {
        #expect(DirectoryRole.allCases.map(\.rawValue) == [
            "ciso", "cisoAdvisor", "auditChief", "generalSecurityOfficer", "generalSystemAdministrator",
            "generalSecurityManager", "departmentSecurityOfficer", "sectionSecurityOfficer", "sectionSecurityStaff",
            "designatedHandler", "securityCommittee", "csirt", "itPromotionHQ",
        ])
    }

    @Test func unitKinds() {
        #expect(DirectoryRole.departmentSecurityOfficer.unitKind == .department)  // Art. 17(2)
        #expect(DirectoryRole.sectionSecurityOfficer.unitKind == .section)  // Art. 18(2)
        #expect(DirectoryRole.sectionSecurityStaff.unitKind == .section)  // Art. 19(1)
        #expect(DirectoryRole.designatedHandler.unitKind == .section)  // Art. 18(8)(1)
        let wardWide: [DirectoryRole] = [
            .ciso, .cisoAdvisor, .auditChief, .generalSecurityOfficer, .generalSystemAdministrator, .generalSecurityManager,
            .securityCommittee, .csirt, .itPromotionHQ,
        ]
        #expect(wardWide.allSatisfy { $0.isWardWide })
    }

    @Test func escalationChainRunsFromStaffToCISO() {
        #expect(DirectoryRole.escalationChain == [
            .sectionSecurityStaff, .sectionSecurityOfficer, .departmentSecurityOfficer,
            .generalSecurityManager, .generalSecurityOfficer, .ciso,
        ])
    }
}
