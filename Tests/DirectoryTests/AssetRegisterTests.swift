import ConfigFiles
import Contracts
import Directory
import Foundation
import ISMSTesting
import Postgres
import Testing

/// The information asset register file and store (issue #18 item 0).
@Suite struct AssetDocumentTests {
    static var assetsFile: String {
        URL(fileURLWithPath: WardFileTests.wardFile).deletingLastPathComponent().appendingPathComponent("assets.yaml").path
    }

    func problems(_ yaml: String) -> [FileProblem] {
        do {
            _ = try AssetDocument.parse(yaml: yaml, fileName: "assets.yaml")
            return []
        } catch {
            return error.problems
        }
    }

    @Test func theWardsSampleParses() throws {
        let parsed = try AssetDocument.load(path: Self.assetsFile)
        #expect(parsed.assets.count == 6)
        let registry = try #require(parsed.assets.first { $0.id == "family-registry-system" })
        #expect(registry.classification == AssetClassification(confidentiality: .level3A, integrity: .level2, availability: .level2))
        #expect(registry.myNumber?.handlers == ["family-registry-handler"])
        #expect(parsed.assets.filter { $0.myNumber != nil }.count == 1)
    }

    @Test func everyProblemIsReportedWithItsLine() {
        let yaml = """
            assets:
              - id: ok-asset
                name: 台帳
                section: s1
                classification: { confidentiality: "3A", integrity: "2", availability: "2" }
              - id: bad level
                name: x
                section: s1
                classification: { confidentiality: "4", integrity: "2", availability: "2" }
              - id: mn
                name: マイナンバー台帳
                section: s1
                colour: red
                classification: { confidentiality: "3A", integrity: "2", availability: "2" }
                myNumber: { handlers: [], area: 執務室 }
              - id: ok-asset
                name: again
                section: s1
                classification: { confidentiality: "1", integrity: "1", availability: "1" }
              - id: no-section
                name: y
                classification: { confidentiality: "1", integrity: "1", availability: "1" }
            """
        let found = problems(yaml)
        let byLine = Dictionary(grouping: found, by: \.line).mapValues { $0.map(\.message) }
        #expect(byLine[6]?.contains { $0.contains("asset id 'bad level'") } == true)
        #expect(byLine[13]?.contains { $0.contains("unknown key 'colour'") } == true)
        #expect(byLine[15]?.contains { $0.contains("at least one designated handler (Art. 18(8)(1))") } == true)
        #expect(byLine[16]?.contains { $0.contains("'ok-asset' is used twice (first on line 2)") } == true)
        #expect(byLine[20]?.contains { $0.contains("missing required key 'section'") } == true)
        #expect(found.allSatisfy { $0.file == "assets.yaml" && $0.line > 0 })
        // A level the MIC scheme does not have, where it was written.
        #expect(problems(yaml.replacing("id: bad level", with: "id: bad-level")).contains {
            $0.line == 9 && $0.message.contains("'4' is not a confidentiality level")
        })
    }
}

@Suite(.tags(.integration), .needsTestServers) struct AssetRegisterStoreTests {
    @Test func importChecksTheDirectoryAndSavesOnlyChanges() async throws {
        let ward = try WardFileTests.load()
        let parsed = try AssetDocument.load(path: AssetDocumentTests.assetsFile)
        try await DirectoryTestDatabase.withStore { store, pool in
            let register = AssetRegister(directory: store)
            _ = try await pool.withTransaction { try store.replace(with: ward, on: $0) }
            let problems = try await pool.withConnection { connection in
                try parsed.assets.flatMap { try $0.problems(in: store, on: connection) }.map(\.message)
            }
            #expect(problems.isEmpty)

            let first = try await pool.withTransaction { try register.save(parsed.assets, by: "test", on: $0) }
            #expect(first == Array(repeating: .created, count: 6))
            let again = try await pool.withTransaction { try register.save(parsed.assets, by: "test", on: $0) }
            #expect(again == Array(repeating: .unchanged, count: 6))
            var edited = parsed.assets[1]
            edited.classification.confidentiality = .level3A
            let changed = edited
            #expect(try await pool.withTransaction { try register.save([changed], by: "test", on: $0) } == [.updated])
            let stored = try await pool.withConnection { try register.asset(id: changed.id, on: $0) }
            #expect(stored?.classification.confidentiality == .level3A)
            #expect(stored?.updatedBy == "test")
            let family = try await pool.withConnection { try register.all(sectionCode: "family-registry", on: $0) }
            #expect(family.map(\.id) == ["family-registry-system", "resident-notices"])
            #expect(family.first?.myNumber?.area.isEmpty == false)

            // A handler who is not designated at the section, and a section that does not exist.
            let wrong = RegisteredAsset(
                id: "x", name: "x", sectionCode: "nowhere",
                classification: .init(confidentiality: .level1, integrity: .level1, availability: .level1),
                myNumber: .init(handlers: ["ciso-person"], area: "a"))
            let found = try await pool.withConnection { try wrong.problems(in: store, on: $0) }
            #expect(found.map(\.field) == ["sectionCode", "myNumber.handlers"])
        }
    }
}
