import Directory
import Foundation
import Testing

/// The default data set, deploy/config/ward.yaml.
@Suite struct WardFileTests {
    static var wardFile: String {
        // Resolved through symbolic links, so a scratch package that links this folder finds it too.
        URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("deploy/config/ward.yaml").path
    }

    static func load() throws -> Organisation {
        try DirectoryDocument.load(path: wardFile)
    }

    @Test func parsesAndPassesItsOwnValidation() throws {
        let organisation = try Self.load()
        #expect(organisation.problems().isEmpty)
    }

    @Test func hasTheThirteenCommitteeSectionsOfTheAnnexedTable() throws {
        let organisation = try Self.load()
        let committee = organisation.sections.filter(\.committeeMember)
        #expect(committee.count == 13)
        #expect(Set(committee.map(\.name)) == [
            "広聴広報課", "危機管理課", "総務課", "文書法務課", "情報公開課", "経理用地課", "職員課", "人材育成課",
            "戸籍住民課", "管理課", "健康推進課", "教育総務課", "子育て支援課",
        ])
        #expect(organisation.section(code: "information-policy")?.departmentCode == "planning-dept")
    }

    @Test func everySectionHasAnOfficerAndStaff() throws {
        let organisation = try Self.load()
        for section in organisation.sections {
            #expect(!organisation.people(role: .sectionSecurityOfficer, unitCode: section.code).isEmpty, "\(section.code)")  // Art. 18(2)
            #expect(!organisation.people(role: .sectionSecurityStaff, unitCode: section.code).isEmpty, "\(section.code)")  // Art. 19(1)
        }
        for department in organisation.departments {
            #expect(!organisation.people(role: .departmentSecurityOfficer, unitCode: department.code).isEmpty, "\(department.code)")
        }
    }

    @Test func theChainResolvesForEverySection() throws {
        let organisation = try Self.load()
        for section in organisation.sections {
            let steps = try organisation.escalationTargets(sectionCode: section.code)
            #expect(steps.map(\.role) == DirectoryRole.escalationChain)
            #expect(steps.allSatisfy { !$0.people.isEmpty }, "\(section.code)")
            #expect(steps[2].unitCode == section.departmentCode)
        }
    }

    @Test func fixedRoleHolders() throws {
        let organisation = try Self.load()
        func holder(_ role: DirectoryRole) -> [String] { organisation.people(role: role).map(\.name) }
        #expect(holder(.ciso) == ["企画部担任副区長 (placeholder)"])  // Art. 11(3)
        #expect(holder(.generalSecurityOfficer) == ["企画部長 (placeholder)"])  // Art. 14(2)
        #expect(holder(.generalSecurityManager) == ["情報政策課長 (placeholder)"])  // Art. 16(2)
        #expect(holder(.auditChief).count == 1)
        #expect(holder(.generalSystemAdministrator).count == 1)
        #expect(!holder(.csirt).isEmpty)
        // Chair, vice chair and the 13 section chiefs of the annexed table (Art. 21(3)-(4)).
        #expect(organisation.people(role: .securityCommittee).count == 15)
        #expect(organisation.people.contains { $0.language == .en })
        #expect(organisation.people.allSatisfy { $0.email?.hasSuffix("@ward.example") ?? false })
    }
}
