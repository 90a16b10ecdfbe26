import Directory
import Foundation
import ISMSTesting
import Logging
import Postgres
import PostgresMigrations
import Testing

/// The test database (`ISMS_TEST_DATABASE_URL`) and a migrated directory in a schema of its own.
enum DirectoryTestDatabase {
    static var url: String {
        ProcessInfo.processInfo.environment["ISMS_TEST_DATABASE_URL"] ?? "postgresql://postgres@127.0.0.1:45432/isms_test"
    }

    static let logger = Logger(label: "directory-tests") { _ in SwiftLogNoOpLogHandler() }

    /// Runs `body` with a store in a fresh, migrated schema, dropped afterwards.
    static func withStore<T>(_ body: (DirectoryStore, PostgresPool) async throws -> T) async throws -> T {
        let schema = "directory_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
        let pool = PostgresPool(configuration: PostgresConfiguration(url: url, applicationName: "isms-directory-tests"), size: 2, logger: logger)
        let store = DirectoryStore(schema: schema)
        do {
            try await pool.withConnection { try $0.execute("CREATE SCHEMA \(schema)") }
            try await Migrator.apply(store.migrations, on: pool, logger: logger)
            let value = try await body(store, pool)
            try await pool.withConnection { try $0.execute("DROP SCHEMA \(schema) CASCADE") }
            await pool.close()
            return value
        } catch {
            _ = try? await pool.withConnection { try $0.execute("DROP SCHEMA \(schema) CASCADE") }
            await pool.close()
            throw error
        }
    }
}

@Suite(.tags(.integration), .needsTestServers) struct DirectoryStoreTests {
    @Test func importStoresExactlyTheFile() async throws {
        let ward = try WardFileTests.load()
        try await DirectoryTestDatabase.withStore { store, pool in
            let change = try await pool.withTransaction { try store.replace(with: ward, on: $0) }
            #expect(change.version == 1)
            #expect(change.changed)
            #expect(change.checksum == ward.checksum)
            #expect(change.departments == ward.departments.count)
            #expect(change.sections == 14)
            #expect(change.people == ward.people.count)
            #expect(change.assignments == ward.assignments.count)
            let stored = try await pool.withConnection { try store.organisation(on: $0) }
            #expect(stored == ward.canonicalised())
            let version = try await pool.withConnection { try store.version(on: $0) }
            #expect(version == DirectoryVersion(version: 1, checksum: ward.checksum, importedAt: change.importedAt))
        }
    }

    @Test func versionGrowsOnlyWhenTheContentChanges() async throws {
        let first = try DirectoryDocument.parse(yaml: minimalWard, fileName: "a.yaml")
        let reformatted = try DirectoryDocument.parse(yaml: "# reformatted\n" + minimalWard + "\n", fileName: "b.yaml")
        let changed = try DirectoryDocument.parse(
            yaml: minimalWard.replacing("  - id: boss\n", with: "  - id: deputy\n    name: 代理\n  - id: boss\n    deputy: deputy\n"),
            fileName: "c.yaml")
        try await DirectoryTestDatabase.withStore { store, pool in
            let one = try await pool.withTransaction { try store.replace(with: first, on: $0) }
            let again = try await pool.withTransaction { try store.replace(with: first, on: $0) }
            let same = try await pool.withTransaction { try store.replace(with: reformatted, on: $0) }
            #expect(one.version == 1)
            #expect(again.version == 1)
            #expect(!again.changed)
            #expect(again.importedAt == one.importedAt)
            #expect(same.version == 1)
            let two = try await pool.withTransaction { try store.replace(with: changed, on: $0) }
            #expect(two.version == 2)
            #expect(two.changed)
            #expect(try await pool.withConnection { try store.person(id: "boss", on: $0)?.deputyID } == "deputy")
            // And back: the deputy disappears again, the version still grows.
            let three = try await pool.withTransaction { try store.replace(with: first, on: $0) }
            #expect(three.version == 3)
            #expect(try await pool.withConnection { try store.person(id: "deputy", on: $0) } == nil)
            #expect(try await pool.withConnection { try store.organisation(on: $0) } == first.canonicalised())
        }
    }

    @Test func anInvalidOrganisationIsRefusedAndNothingChanges() async throws {
        let valid = try DirectoryDocument.parse(yaml: minimalWard, fileName: "a.yaml")
        var withoutOfficer = valid
        withoutOfficer.assignments.removeAll { $0.role == .sectionSecurityOfficer }
        let invalid = withoutOfficer
        try await DirectoryTestDatabase.withStore { store, pool in
            _ = try await pool.withTransaction { try store.replace(with: valid, on: $0) }
            await #expect(throws: DirectoryImportError.self) {
                try await pool.withTransaction { try store.replace(with: invalid, on: $0) }
            }
            #expect(try await pool.withConnection { try store.version(on: $0).version } == 1)
            #expect(try await pool.withConnection { try store.organisation(on: $0) } == valid.canonicalised())
        }
    }

    @Test func queries() async throws {
        let ward = try WardFileTests.load()
        try await DirectoryTestDatabase.withStore { store, pool in
            _ = try await pool.withTransaction { try store.replace(with: ward, on: $0) }
            try await pool.withConnection { connection in
                #expect(try store.section(code: "family-registry", on: connection)
                    == .init(code: "family-registry", name: "戸籍住民課", nameEn: "Family Registry and Resident Records Section",
                             departmentCode: "residents-dept", committeeMember: true))
                #expect(try store.section(code: "nowhere", on: connection) == nil)
                #expect(try store.department(code: "planning-dept", on: connection)?.name == "企画部")
                #expect(try store.sections(on: connection).map(\.code) == ward.sections.map(\.code).sorted())
                #expect(try store.people(role: .sectionSecurityOfficer, unitCode: "family-registry", on: connection).map(\.id)
                    == ["family-registry-chief"])
                // Ward-wide roles ignore the unit.
                #expect(try store.people(role: .ciso, unitCode: "family-registry", on: connection).map(\.id) == ["deputy-mayor"])
                #expect(try store.people(role: .csirt, on: connection).map(\.id) == ["csirt-analyst", "csirt-lead"])
                // Chair, vice chair and the chiefs of the 13 sections of the annexed table (Art. 21).
                #expect(try store.people(role: .securityCommittee, on: connection).count == 15)
                #expect(try store.people(role: .securityCommittee, on: connection) == ward.people(role: .securityCommittee))
                let lead = try #require(try store.person(id: "csirt-lead", on: connection))
                #expect(lead.channels.map(\.kind) == [.email, .webhook])
                #expect(lead.channels.last?.format == .teams)
                #expect(try store.person(id: "nobody", on: connection) == nil)
            }
        }
    }

    @Test func escalationTargetsRunUpTheChain() async throws {
        let ward = try WardFileTests.load()
        try await DirectoryTestDatabase.withStore { store, pool in
            _ = try await pool.withTransaction { try store.replace(with: ward, on: $0) }
            let steps = try await pool.withConnection { try store.escalationTargets(sectionCode: "family-registry", on: $0) }
            #expect(steps.map(\.role) == [
                .sectionSecurityStaff, .sectionSecurityOfficer, .departmentSecurityOfficer,
                .generalSecurityManager, .generalSecurityOfficer, .ciso,
            ])
            #expect(steps.map { $0.people.map(\.id) } == [
                ["family-registry-staff"], ["family-registry-chief"], ["residents-head"],
                ["information-policy-chief"], ["planning-head"], ["deputy-mayor"],
            ])
            #expect(steps.map(\.unitCode) == ["family-registry", "family-registry", "residents-dept", nil, nil, nil])
            #expect(steps == (try ward.escalationTargets(sectionCode: "family-registry")))
            await #expect(throws: DirectoryError.self) {
                try await pool.withConnection { try store.escalationTargets(sectionCode: "nowhere", on: $0) }
            }
        }
    }
}

@Suite(.tags(.integration), .needsTestServers) struct DirectoryTokensTests {
    @Test func onlyTheHashIsStored() async throws {
        let ward = try WardFileTests.load()
        try await DirectoryTestDatabase.withStore { store, pool in
            _ = try await pool.withTransaction { try store.replace(with: ward, on: $0) }
            let issued = try await pool.withTransaction {
                try store.tokens.issue(role: .sectionSecurityStaff, unitCode: "family-registry", label: "kiosk", on: $0)
            }
            #expect(issued.token.hasPrefix("isms_"))
            // 32 bytes in unpadded base64url are 43 characters.
            #expect(issued.token.count == 5 + 43)
            #expect(issued.token.dropFirst(5).allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
            let table = "\(store.schema).tokens"
            let rows = try await pool.withConnection { connection in
                try connection.query("SELECT * FROM \(unescaped: table)").rows.map { row in row.columnNames.map { row[$0] } }
            }
            try #require(rows.count == 1)
            let stored = try await pool.withConnection { connection in
                try connection.query("SELECT token_sha256 FROM \(unescaped: table)").rows.first?.decode("token_sha256", as: String.self)
            }
            #expect(stored == DirectoryTokens.hash(issued.token))
            #expect(stored?.count == 64)
            #expect(!rows[0].contains { $0?.contains(issued.token.dropFirst(5)) ?? false })
        }
    }

    @Test func verifyAndRevoke() async throws {
        let ward = try WardFileTests.load()
        try await DirectoryTestDatabase.withStore { store, pool in
            _ = try await pool.withTransaction { try store.replace(with: ward, on: $0) }
            let tokens = store.tokens
            let issued = try await pool.withTransaction {
                try tokens.issue(role: .sectionSecurityStaff, unitCode: "family-registry", label: "kiosk", on: $0)
            }
            let grant = try await pool.withConnection { try tokens.verify(token: issued.token, on: $0) }
            #expect(grant == TokenGrant(id: issued.id, role: .sectionSecurityStaff, unitCode: "family-registry", label: "kiosk"))
            #expect(try await pool.withConnection { try tokens.verify(token: issued.token + "x", on: $0) } == nil)
            #expect(try await pool.withConnection { try tokens.verify(token: "Bearer nonsense", on: $0) } == nil)

            let ward = try await pool.withTransaction { try tokens.issue(role: .csirt, unitCode: nil, label: "csirt", on: $0) }
            #expect(try await pool.withConnection { try tokens.verify(token: ward.token, on: $0)?.role } == .csirt)

            #expect(try await pool.withTransaction { try tokens.revoke(id: issued.id, on: $0) })
            #expect(try await pool.withConnection { try tokens.verify(token: issued.token, on: $0) } == nil)
            #expect(try await pool.withTransaction { try tokens.revoke(id: issued.id, on: $0) } == false)
            #expect(try await pool.withConnection { try tokens.verify(token: ward.token, on: $0) } != nil)
        }
    }

    @Test func expiredTokensAndTokensOfVanishedUnitsAreRefused() async throws {
        let ward = try WardFileTests.load()
        try await DirectoryTestDatabase.withStore { store, pool in
            _ = try await pool.withTransaction { try store.replace(with: ward, on: $0) }
            let tokens = store.tokens
            let expired = try await pool.withTransaction {
                try tokens.issue(role: .csirt, unitCode: nil, label: "old", expiresAt: Date(timeIntervalSinceNow: -60), on: $0)
            }
            #expect(try await pool.withConnection { try tokens.verify(token: expired.token, on: $0) } == nil)
            let future = Date(timeIntervalSinceNow: 3600)
            let current = try await pool.withTransaction {
                try tokens.issue(role: .csirt, unitCode: nil, label: "new", expiresAt: future, on: $0)
            }
            let grant = try await pool.withConnection { try tokens.verify(token: current.token, on: $0) }
            #expect(abs((grant?.expiresAt ?? .distantPast).timeIntervalSince(future)) < 0.001)

            let section = try await pool.withTransaction {
                try tokens.issue(role: .sectionSecurityOfficer, unitCode: "personnel", label: "personnel", on: $0)
            }
            var withoutPersonnel = ward
            withoutPersonnel.sections.removeAll { $0.code == "personnel" }
            withoutPersonnel.assignments.removeAll { $0.unitCode == "personnel" }
            let smaller = withoutPersonnel
            _ = try await pool.withTransaction { try store.replace(with: smaller, on: $0) }
            #expect(try await pool.withConnection { try tokens.verify(token: section.token, on: $0) } == nil)
        }
    }

    @Test func theUnitMustSuitTheRole() async throws {
        let ward = try WardFileTests.load()
        try await DirectoryTestDatabase.withStore { store, pool in
            _ = try await pool.withTransaction { try store.replace(with: ward, on: $0) }
            let tokens = store.tokens
            func issueError(_ role: DirectoryRole, _ unit: String?) async -> DirectoryError.Code? {
                do {
                    _ = try await pool.withTransaction { try tokens.issue(role: role, unitCode: unit, label: "t", on: $0) }
                    return nil
                } catch let error as DirectoryError {
                    return error.code
                } catch {
                    return nil
                }
            }
            #expect(await issueError(.sectionSecurityStaff, "nowhere") == .unknownUnit)
            #expect(await issueError(.sectionSecurityStaff, "residents-dept") == .roleUnitMismatch)
            #expect(await issueError(.departmentSecurityOfficer, "family-registry") == .roleUnitMismatch)
            #expect(await issueError(.sectionSecurityStaff, nil) == .roleUnitMismatch)
            #expect(await issueError(.ciso, "planning-dept") == .roleUnitMismatch)
            #expect(await issueError(.departmentSecurityOfficer, "residents-dept") == nil)
        }
    }
}
