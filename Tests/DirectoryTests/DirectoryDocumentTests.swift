import ConfigFiles
import Foundation
import Directory
import Testing

/// The smallest organisation that passes every rule, for tests to change one thing at a time.
let minimalWard = """
    departments:
      - code: planning
        name: 企画部
    sections:
      - code: info-policy
        name: 情報政策課
        department: planning
    people:
      - id: boss
        name: 副区長
      - id: chief
        name: 情報政策課長
        language: en
        channels:
          - { kind: email, address: chief@ward.example }
    assignments:
      - { person: boss, role: ciso }
      - { person: boss, role: generalSecurityOfficer }
      - { person: chief, role: generalSecurityManager }
      - { person: boss, role: departmentSecurityOfficer, unit: planning }
      - { person: chief, role: sectionSecurityOfficer, unit: info-policy }
      - { person: chief, role: sectionSecurityStaff, unit: info-policy }
    """

/// The problems `yaml` has (none when it parses).
func problems(_ yaml: String) -> [DirectoryImportError.Problem] {
    do {
        _ = try DirectoryDocument.parse(yaml: yaml, fileName: "test.yaml")
        return []
    } catch {
        return error.problems
    }
}

/// The 1-based line of the `occurrence`-th line containing `needle`.
func line(of needle: String, in yaml: String, occurrence: Int = 1) -> Int {
    var seen = 0
    for (index, text) in yaml.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where text.contains(needle) {
        seen += 1
        if seen == occurrence { return index + 1 }
    }
    return -1
}

extension String {
    /// The text with `old` replaced once; traps when `old` is absent, so a test cannot silently test nothing.
    func replacing(_ old: String, with new: String) -> String {
        guard let range = range(of: old) else { fatalError("'\(old)' is not in the fixture") }
        return replacingCharacters(in: range, with: new)
    }
}

@Suite struct DirectoryDocumentTests {
    @Test func minimalWardParses() throws {
        let organisation = try DirectoryDocument.parse(yaml: minimalWard, fileName: "test.yaml")
        #expect(organisation.departments == [.init(code: "planning", name: "企画部")])
        #expect(organisation.sections == [.init(code: "info-policy", name: "情報政策課", departmentCode: "planning")])
        #expect(organisation.person(id: "chief")?.language == .en)
        #expect(organisation.person(id: "boss")?.language == .ja)
        #expect(organisation.person(id: "chief")?.channels == [.init(kind: .email, address: "chief@ward.example")])
        #expect(organisation.assignments.count == 6)
        #expect(organisation.assignments[3] == .init(personID: "boss", role: .departmentSecurityOfficer, unitCode: "planning"))
    }

    @Test func unknownSectionInAnAssignment() throws {
        let yaml = minimalWard + "\n  - { person: chief, role: designatedHandler, unit: nowhere }"
        let found = problems(yaml)
        try #require(found.count == 1)
        #expect(found[0].line == line(of: "unit: nowhere", in: yaml))
        #expect(found[0].message.contains("unknown section 'nowhere'"))
        #expect(found[0].file == "test.yaml")
    }

    @Test func unknownDepartmentOfASection() throws {
        let yaml = minimalWard.replacing("department: planning", with: "department: nowhere")
        let found = problems(yaml).filter { $0.message.contains("unknown department 'nowhere'") }
        try #require(found.count == 1)
        #expect(found[0].line == line(of: "department: nowhere", in: yaml))
        #expect(found[0].column == 17)
    }

    @Test func unknownDepartmentInAnAssignment() throws {
        let yaml = minimalWard + "\n  - { person: boss, role: departmentSecurityOfficer, unit: nowhere }"
        let found = problems(yaml)
        try #require(found.count == 1)
        #expect(found[0].line == line(of: "unit: nowhere", in: yaml))
        #expect(found[0].message.contains("unknown department 'nowhere'"))
    }

    @Test func duplicateCodes() throws {
        let yaml = minimalWard
            .replacing("sections:", with: "  - code: planning\n    name: 企画部 again\nsections:")
            .replacing("people:", with: "  - code: info-policy\n    name: copy\n    department: planning\npeople:")
            .replacing("assignments:", with: "  - { id: boss, name: again }\nassignments:")
        let found = problems(yaml)
        try #require(found.count == 3)
        #expect(found[0].line == line(of: "- code: planning", in: yaml, occurrence: 2))
        #expect(found[0].message == "duplicate department code 'planning' (first defined at line 2)")
        #expect(found[1].line == line(of: "- code: info-policy", in: yaml, occurrence: 2))
        #expect(found[1].message.hasPrefix("duplicate section code 'info-policy'"))
        #expect(found[2].line == line(of: "{ id: boss, name: again }", in: yaml))
        #expect(found[2].message.hasPrefix("duplicate person id 'boss'"))
    }

    @Test func aSectionCodeMayNotRepeatADepartmentCode() throws {
        let yaml = minimalWard.replacing("code: info-policy", with: "code: planning")
            .replacingOccurrences(of: "unit: info-policy", with: "unit: planning")
        let found = problems(yaml).filter { $0.message.contains("duplicate section code 'planning'") }
        try #require(found.count == 1)
        #expect(found[0].message.contains("a department already uses it"))
    }

    @Test func sectionWithoutAnOfficer() throws {
        let yaml = minimalWard
            .replacing("people:", with: "  - code: orphan\n    name: 孤立課\n    department: planning\npeople:")
            + "\n  - { person: chief, role: sectionSecurityStaff, unit: orphan }"
        let found = problems(yaml)
        try #require(found.count == 1)
        #expect(found[0].line == line(of: "- code: orphan", in: yaml))
        #expect(found[0].message.contains("has no sectionSecurityOfficer"))
        #expect(found[0].message.contains("Art. 18(2)"))
    }

    @Test func sectionWithoutStaff() throws {
        let yaml = minimalWard.replacing("  - { person: chief, role: sectionSecurityStaff, unit: info-policy }", with: "")
        let found = problems(yaml)
        try #require(found.count == 1)
        #expect(found[0].line == line(of: "- code: info-policy", in: yaml))
        #expect(found[0].message.contains("Art. 19(1)"))
    }

    @Test func missingWardWideChainRoles() throws {
        let yaml = minimalWard.replacing("  - { person: boss, role: ciso }\n", with: "")
        let found = problems(yaml)
        try #require(found.count == 1)
        #expect(found[0].line == line(of: "assignments:", in: yaml))
        #expect(found[0].message.contains("nobody holds ciso"))
    }

    @Test func aRoleTheGuidelineDoesNotDefine() throws {
        // The typo drops the officer, but only the typo is reported, not a missing officer as well.
        let yaml = minimalWard.replacing("role: sectionSecurityOfficer", with: "role: sectionChief")
        let found = problems(yaml)
        try #require(found.count == 1)
        #expect(found[0].line == line(of: "role: sectionChief", in: yaml))
        #expect(found[0].message.hasPrefix("'sectionChief' is not a role the guideline defines; expected one of ciso, "))
    }

    @Test func aWardWideRoleGivenAUnit() throws {
        let yaml = minimalWard + "\n  - { person: chief, role: csirt, unit: info-policy }"
        let found = problems(yaml)
        try #require(found.count == 1)
        #expect(found[0].line == line(of: "role: csirt", in: yaml))
        #expect(found[0].message == "csirt is a ward-wide role (Art. 22) and takes no unit, but unit 'info-policy' is given")
    }

    @Test func aSectionRoleGivenADepartment() throws {
        let yaml = minimalWard + "\n  - { person: boss, role: sectionSecurityStaff, unit: planning }"
        let found = problems(yaml)
        try #require(found.count == 1)
        #expect(found[0].line == line(of: "role: sectionSecurityStaff, unit: planning", in: yaml))
        #expect(found[0].message == "sectionSecurityStaff is held at a section (Art. 19), but 'planning' is a department")
    }

    @Test func aDepartmentRoleGivenASectionOrNothing() throws {
        let yaml = minimalWard
            + "\n  - { person: chief, role: departmentSecurityOfficer, unit: info-policy }"
            + "\n  - { person: chief, role: departmentSecurityOfficer }"
        let found = problems(yaml)
        try #require(found.count == 2)
        #expect(found[0].line == line(of: "unit: info-policy }", in: yaml, occurrence: 3))
        #expect(found[0].message.contains("but 'info-policy' is a section"))
        #expect(found[1].line == line(of: "role: departmentSecurityOfficer }", in: yaml))
        #expect(found[1].message.contains("give the department code as 'unit'"))
    }

    @Test func missingRequiredFields() throws {
        let yaml = minimalWard.replacing("    name: 情報政策課\n", with: "")
        let found = problems(yaml)
        try #require(found.count == 1)
        #expect(found[0].line == line(of: "- code: info-policy", in: yaml))
        #expect(found[0].column == 5)
        #expect(found[0].message == "section 'info-policy' is missing required key 'name'")
    }

    @Test func anItemWithoutItsCodeIsReportedOnce() throws {
        let yaml = minimalWard.replacing("  - code: planning\n    name: 企画部\n", with: "  - name: 名無し\n  - code: planning\n    name: 企画部\n")
        let found = problems(yaml)
        try #require(found.count == 1)
        #expect(found[0].line == line(of: "- name: 名無し", in: yaml))
        #expect(found[0].message == "department is missing required key 'code'")
    }

    @Test func missingTopLevelList() throws {
        let yaml = minimalWard.replacing("departments:\n  - code: planning\n    name: 企画部\n", with: "")
        let found = problems(yaml)
        #expect(found.first?.message == "the file is missing required key 'departments'")
        #expect(found.first?.line == 1)
    }

    @Test func personReferencedButNotDefined() throws {
        let yaml = minimalWard + "\n  - { person: ghost, role: csirt }"
        let found = problems(yaml)
        try #require(found.count == 1)
        #expect(found[0].line == line(of: "person: ghost", in: yaml))
        #expect(found[0].message.contains("names person 'ghost', who is not defined under 'people'"))
    }

    @Test func unknownDeputy() throws {
        let yaml = minimalWard.replacing("    name: 副区長\n", with: "    name: 副区長\n    deputy: nobody\n")
        let found = problems(yaml)
        try #require(found.count == 1)
        #expect(found[0].line == line(of: "deputy: nobody", in: yaml))
    }

    @Test func unknownLanguage() throws {
        let yaml = minimalWard.replacing("language: en", with: "language: fr")
        let found = problems(yaml)
        try #require(found.count == 1)
        #expect(found[0].line == line(of: "language: fr", in: yaml))
        #expect(found[0].message == "unknown language 'fr' for person 'chief'; expected 'ja' or 'en'")
    }

    @Test func badChannelKindAndAddresses() throws {
        let yaml = minimalWard.replacing(
            "      - { kind: email, address: chief@ward.example }",
            with: """
                      - { kind: sms, address: "090-0000-0000" }
                      - { kind: webhook, address: chat.ward.example }
                      - { kind: email, address: chief, format: slack }
                """)
        let found = problems(yaml)
        try #require(found.count == 4)
        #expect(found[0].line == line(of: "kind: sms", in: yaml))
        #expect(found[0].message.contains("unknown channel kind 'sms'"))
        #expect(found[1].line == line(of: "kind: webhook", in: yaml))
        #expect(found[1].message.contains("needs an http:// or https:// URL"))
        #expect(found[2].line == line(of: "kind: email, address: chief,", in: yaml))
        #expect(found[2].message.contains("not an e-mail address"))
        #expect(found[3].message.contains("'format' applies to webhook channels only"))
    }

    @Test func unknownKeysAreReported() throws {
        let yaml = minimalWard.replacing("    name: 副区長\n", with: "    name: 副区長\n    emial: boss@ward.example\n")
        let found = problems(yaml)
        try #require(found.count == 1)
        #expect(found[0].line == line(of: "emial:", in: yaml))
        #expect(found[0].message.hasPrefix("unknown key 'emial' in person; expected one of id, name, email"))
    }

    @Test func aDuplicateCodeAndAnUnknownSectionGiveTwoProblems() throws {
        let yaml = minimalWard
            .replacing("sections:", with: "  - code: planning\n    name: 企画部\nsections:")
            + "\n  - { person: chief, role: sectionSecurityStaff, unit: nowhere }"
        let found = problems(yaml)
        try #require(found.count == 2)
        #expect(found[0].line == line(of: "- code: planning", in: yaml, occurrence: 2))
        #expect(found[0].message.contains("duplicate department code"))
        #expect(found[1].line == line(of: "unit: nowhere", in: yaml))
        #expect(found[1].message.contains("unknown section 'nowhere'"))
        let error = DirectoryImportError(problems: found)
        #expect(error.description.hasPrefix("organisation data has 2 problems:\n  test.yaml:\(found[0].line):\(found[0].column): duplicate"))
        #expect(error.description.hasSuffix("test.yaml:\(found[1].line):\(found[1].column): \(found[1].message)"))
    }

    @Test func yamlSyntaxErrorsHaveAPosition() throws {
        let yaml = minimalWard.replacing("    name: 副区長", with: "    name: [副区長")
        let found = problems(yaml)
        try #require(found.count == 1)
        #expect(found[0].message.hasPrefix("YAML syntax:"))
        #expect(found[0].line > 0)
    }

    @Test func duplicateYAMLKeys() throws {
        let yaml = minimalWard.replacing("    name: 副区長\n", with: "    name: 副区長\n    name: 区長\n")
        let found = problems(yaml)
        try #require(found.count == 1)
        #expect(found[0].message == "key 'name' appears more than once in the same mapping")
        #expect(found[0].line == line(of: "name: 副区長", in: yaml))
    }

    @Test func emptyFile() {
        let found = problems("# nothing here\n")
        #expect(found.count == 1)
        #expect(found.first?.message.contains("expected a mapping") == true)
    }

    @Test func organisationsBuiltInCodeAreValidatedToo() {
        let organisation = Organisation(
            departments: [.init(code: "planning", name: "企画部")],
            sections: [.init(code: "s1", name: "課", departmentCode: "planning")])
        let found = organisation.problems()
        #expect(found.contains { $0.message.contains("has no sectionSecurityOfficer") })
        #expect(found.allSatisfy { $0.line == 0 })
        #expect(found[0].description == "organisation: \(found[0].message)")
    }

    @Test func checksumIgnoresLayoutAndOrderButNotContent() throws {
        let original = try DirectoryDocument.parse(yaml: minimalWard, fileName: "a.yaml")
        let reordered = minimalWard
            .replacing("  - { person: boss, role: ciso }\n", with: "")
            .appending("\n  - { person: boss, role: ciso }  # moved\n")
        let same = try DirectoryDocument.parse(yaml: "# a comment\n" + reordered, fileName: "b.yaml")
        #expect(same != original)
        #expect(same.checksum == original.checksum)
        #expect(same.canonicalised() == original.canonicalised())
        let changed = try DirectoryDocument.parse(yaml: minimalWard.replacing("name: 副区長", with: "name: 区長"), fileName: "c.yaml")
        #expect(changed.checksum != original.checksum)
        #expect(original.checksum.count == 64)
    }

    @Test func escalationTargetsInMemory() throws {
        let organisation = try DirectoryDocument.parse(yaml: minimalWard, fileName: "test.yaml")
        let steps = try organisation.escalationTargets(sectionCode: "info-policy")
        #expect(steps.map(\.role) == DirectoryRole.escalationChain)
        #expect(steps.map { $0.people.map(\.id) } == [["chief"], ["chief"], ["boss"], ["chief"], ["boss"], ["boss"]])
        #expect(steps.map(\.unitCode) == ["info-policy", "info-policy", "planning", nil, nil, nil])
        #expect(throws: DirectoryError.self) { try organisation.escalationTargets(sectionCode: "nowhere") }
    }
}
