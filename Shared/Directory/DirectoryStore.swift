public import Foundation
public import Postgres
public import PostgresMigrations

/// The result of ``DirectoryStore/replace(with:on:)``.
public struct DirectoryChange: Sendable, Hashable {
    /// The directory version after the call; it grows by one whenever the content changes.
    public var version: Int
    /// Whether the content differed from what was stored (and so was rewritten).
    public var changed: Bool
    /// ``Organisation/checksum`` of the stored content.
    public var checksum: String
    /// When the stored content was last written.
    public var importedAt: Date
    /// How many departments, sections, people and assignments are stored now.
    public var departments: Int
    /// See ``departments``.
    public var sections: Int
    /// See ``departments``.
    public var people: Int
    /// See ``departments``.
    public var assignments: Int

    public init(
        version: Int, changed: Bool, checksum: String, importedAt: Date,
        departments: Int, sections: Int, people: Int, assignments: Int
    ) {
        self.version = version
        self.changed = changed
        self.checksum = checksum
        self.importedAt = importedAt
        self.departments = departments
        self.sections = sections
        self.people = people
        self.assignments = assignments
    }
}

/// The stored directory's version; version 0 means nothing was imported yet.
public struct DirectoryVersion: Sendable, Hashable {
    /// Grows by one with every import that changed the content.
    public var version: Int
    /// ``Organisation/checksum`` of the stored content; empty before the first import.
    public var checksum: String
    /// When the content was last written; `nil` before the first import.
    public var importedAt: Date?

    public init(version: Int, checksum: String, importedAt: Date?) {
        self.version = version
        self.checksum = checksum
        self.importedAt = importedAt
    }
}

/// The organisation and API tokens in PostgreSQL, in one schema (`directory` by default; tests
/// use a schema of their own).
///
/// Every call runs on a connection the caller holds, inside the caller's transaction; all SQL
/// is parameterised, and the schema name is checked to be a plain identifier.
public struct DirectoryStore: Sendable {
    /// The schema the tables live in.
    public let schema: String

    /// - Precondition: `schema` is a lowercase SQL identifier (`[a-z_][a-z0-9_]*`, at most 63
    ///   bytes); it comes from configuration, never from a request.
    public init(schema: String = "directory") {
        precondition(Self.isPlainIdentifier(schema), "directory schema '\(schema)' is not a plain lowercase identifier")
        self.schema = schema
    }

    static func isPlainIdentifier(_ name: String) -> Bool {
        guard let first = name.utf8.first, name.utf8.count <= 63 else { return false }
        let lower = UInt8(ascii: "a")...UInt8(ascii: "z")
        let digit = UInt8(ascii: "0")...UInt8(ascii: "9")
        let underscore = UInt8(ascii: "_")
        return (lower.contains(first) || first == underscore)
            && name.utf8.allSatisfy { lower.contains($0) || digit.contains($0) || $0 == underscore }
    }

    /// The bearer tokens kept in the same schema.
    public var tokens: DirectoryTokens { DirectoryTokens(store: self) }

    /// `"schema".name`, for splicing into SQL (the schema is checked in `init`).
    func table(_ name: String) -> String { "\"\(schema)\".\(name)" }

    // MARK: Migrations

    /// The versioned migrations that create the directory's tables.
    public var migrations: MigrationSet {
        let s = "\"\(schema)\""
        return MigrationSet(schema: schema, migrations: [
            Migration(version: 10, name: "organisation and tokens", sql: """
                CREATE TABLE \(s).departments (
                    code text PRIMARY KEY,
                    name text NOT NULL,
                    name_en text
                );

                CREATE TABLE \(s).sections (
                    code text PRIMARY KEY,
                    name text NOT NULL,
                    name_en text,
                    department_code text NOT NULL REFERENCES \(s).departments (code),
                    committee_member boolean NOT NULL DEFAULT false
                );
                CREATE INDEX sections_department_code_idx ON \(s).sections (department_code);

                CREATE TABLE \(s).people (
                    id text PRIMARY KEY,
                    name text NOT NULL,
                    email text,
                    language text NOT NULL CHECK (language IN ('ja', 'en')),
                    -- Deferred: a whole organisation is replaced in one transaction, deputies first or not.
                    deputy_id text REFERENCES \(s).people (id) DEFERRABLE INITIALLY DEFERRED
                );

                CREATE TABLE \(s).person_channels (
                    person_id text NOT NULL REFERENCES \(s).people (id) ON DELETE CASCADE,
                    position integer NOT NULL,
                    kind text NOT NULL CHECK (kind IN ('email', 'webhook', 'file')),
                    address text NOT NULL,
                    format text CHECK (format IN ('generic', 'slack', 'teams')),
                    PRIMARY KEY (person_id, position)
                );

                -- unit_code names a section or a department (one namespace), or is NULL for ward-wide roles.
                CREATE TABLE \(s).assignments (
                    person_id text NOT NULL REFERENCES \(s).people (id) ON DELETE CASCADE,
                    role text NOT NULL CHECK (role IN (
                        'ciso', 'cisoAdvisor', 'auditChief', 'generalSecurityOfficer', 'generalSystemAdministrator',
                        'generalSecurityManager', 'departmentSecurityOfficer', 'sectionSecurityOfficer',
                        'sectionSecurityStaff', 'designatedHandler', 'securityCommittee', 'csirt', 'itPromotionHQ')),
                    unit_code text,
                    UNIQUE NULLS NOT DISTINCT (person_id, role, unit_code)
                );
                CREATE INDEX assignments_role_unit_idx ON \(s).assignments (role, unit_code);

                -- Only the SHA-256 of a token is kept; the token itself is shown once, at issue.
                CREATE TABLE \(s).tokens (
                    id uuid PRIMARY KEY,
                    token_sha256 text NOT NULL UNIQUE,
                    role text NOT NULL,
                    unit_code text,
                    label text NOT NULL,
                    created_at timestamptz NOT NULL DEFAULT now(),
                    expires_at timestamptz,
                    revoked_at timestamptz
                );

                CREATE TABLE \(s).meta (
                    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
                    version integer NOT NULL,
                    checksum text NOT NULL,
                    imported_at timestamptz
                );
                INSERT INTO \(s).meta (version, checksum) VALUES (0, '');
                """),
            // The web console issues each signed-in person a short-lived token and revokes it at
            // sign-out: it may add tokens and end them, nothing else (its role exists wherever
            // deploy/postgres/init.sql ran; elsewhere there is nobody to grant).
            Migration(version: 11, name: "the web console issues and ends tokens", sql: """
                DO $grant$
                BEGIN
                    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'console') THEN
                        GRANT INSERT, UPDATE (expires_at, revoked_at) ON \(s).tokens TO console;
                    END IF;
                END
                $grant$;
                """),
            // The information asset register (issue #18 item 0; Arts. 4, 9, 18). It sits beside the
            // organisation so that every service reads it with the grant it has; the audit
            // scheduler keeps it through its API, so it alone may write it (no DELETE: risks and
            // cases name assets, which leave by being retired).
            Migration(version: 12, name: "information asset register", sql: """
                CREATE TABLE \(s).assets (
                    id text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
                    name text NOT NULL CHECK (name <> ''),
                    name_en text,
                    -- Not a foreign key: an organisation import replaces the sections, and an asset
                    -- of a section that left stays until it is moved (the API shows it).
                    section_code text NOT NULL,
                    confidentiality text NOT NULL CHECK (confidentiality IN ('3A', '3B', '3C', '2', '1')),
                    integrity text NOT NULL CHECK (integrity IN ('2', '1')),
                    availability text NOT NULL CHECK (availability IN ('2', '1')),
                    -- Both or neither: My Number data has designated handlers and a handling area (Art. 18(8)).
                    my_number_handlers text[],
                    my_number_area text,
                    systems text[] NOT NULL DEFAULT '{}',
                    contractors text[] NOT NULL DEFAULT '{}',
                    retired boolean NOT NULL DEFAULT false,
                    updated_at timestamptz NOT NULL DEFAULT now(),
                    updated_by text NOT NULL,
                    CHECK ((my_number_handlers IS NULL) = (my_number_area IS NULL)),
                    CHECK (my_number_handlers IS NULL OR cardinality(my_number_handlers) > 0)
                );
                CREATE INDEX assets_section_code_idx ON \(s).assets (section_code);
                DO $grant$
                BEGIN
                    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'audit') THEN
                        GRANT INSERT, UPDATE ON \(s).assets TO audit;
                    END IF;
                END
                $grant$;
                """),
        ])
    }

    // MARK: Import

    /// Makes the stored organisation equal to `organisation`, inside the caller's transaction.
    ///
    /// The organisation is validated first (``Organisation/validate(file:)``). When its
    /// ``Organisation/checksum`` equals the stored one nothing is written and the version stays;
    /// otherwise every table but `tokens` is emptied and refilled and the version grows by one.
    /// Concurrent imports serialise on the `meta` row.
    public func replace(with organisation: Organisation, on connection: PostgresConnection) throws -> DirectoryChange {
        try organisation.validate()
        let canonical = organisation.canonicalised()
        let checksum = canonical.checksum
        let current = try connection.query(
            "SELECT version, checksum, imported_at FROM \(unescaped: table("meta")) FOR UPDATE")
        guard let row = current.rows.first else {
            throw DirectoryError(code: .corruptData, detail: "\(table("meta")) has no row; were the migrations applied?")
        }
        let counts = (
            canonical.departments.count, canonical.sections.count, canonical.people.count, canonical.assignments.count
        )
        if try row.decode("checksum", as: String.self) == checksum, let importedAt = try row.decode("imported_at", as: Date?.self) {
            return DirectoryChange(
                version: try row.decode("version", as: Int.self), changed: false, checksum: checksum, importedAt: importedAt,
                departments: counts.0, sections: counts.1, people: counts.2, assignments: counts.3)
        }

        // Children first; tokens stay (they name units by code and are checked at use).
        for name in ["assignments", "person_channels", "people", "sections", "departments"] {
            _ = try connection.query("DELETE FROM \(unescaped: table(name))")
        }
        for department in canonical.departments {
            _ = try connection.query("""
                INSERT INTO \(unescaped: table("departments")) (code, name, name_en)
                VALUES (\(department.code), \(department.name), \(department.nameEn))
                """)
        }
        for section in canonical.sections {
            _ = try connection.query("""
                INSERT INTO \(unescaped: table("sections")) (code, name, name_en, department_code, committee_member)
                VALUES (\(section.code), \(section.name), \(section.nameEn), \(section.departmentCode), \(section.committeeMember))
                """)
        }
        for person in canonical.people {
            _ = try connection.query("""
                INSERT INTO \(unescaped: table("people")) (id, name, email, language, deputy_id)
                VALUES (\(person.id), \(person.name), \(person.email), \(person.language.rawValue), \(person.deputyID))
                """)
            for (position, channel) in person.channels.enumerated() {
                _ = try connection.query("""
                    INSERT INTO \(unescaped: table("person_channels")) (person_id, position, kind, address, format)
                    VALUES (\(person.id), \(position), \(channel.kind.rawValue), \(channel.address), \(channel.format?.rawValue))
                    """)
            }
        }
        for assignment in canonical.assignments {
            _ = try connection.query("""
                INSERT INTO \(unescaped: table("assignments")) (person_id, role, unit_code)
                VALUES (\(assignment.personID), \(assignment.role.rawValue), \(assignment.unitCode))
                """)
        }
        let updated = try connection.query("""
            UPDATE \(unescaped: table("meta")) SET version = version + 1, checksum = \(checksum), imported_at = now()
            RETURNING version, imported_at
            """)
        guard let after = updated.rows.first else {
            throw DirectoryError(code: .corruptData, detail: "\(table("meta")) lost its row during the import")
        }
        return DirectoryChange(
            version: try after.decode("version", as: Int.self), changed: true, checksum: checksum,
            importedAt: try after.decode("imported_at", as: Date.self),
            departments: counts.0, sections: counts.1, people: counts.2, assignments: counts.3)
    }

    /// The stored version, checksum and import time.
    public func version(on connection: PostgresConnection) throws -> DirectoryVersion {
        let result = try connection.query("SELECT version, checksum, imported_at FROM \(unescaped: table("meta"))")
        guard let row = result.rows.first else {
            throw DirectoryError(code: .corruptData, detail: "\(table("meta")) has no row; were the migrations applied?")
        }
        return DirectoryVersion(
            version: try row.decode("version"), checksum: try row.decode("checksum"), importedAt: try row.decode("imported_at"))
    }

    // MARK: Queries

    /// The department with this code.
    public func department(code: String, on connection: PostgresConnection) throws -> Organisation.Department? {
        try connection.query("SELECT code, name, name_en FROM \(unescaped: table("departments")) WHERE code = \(code)")
            .rows.first.map(Self.department(from:))
    }

    /// Every department, by code.
    public func departments(on connection: PostgresConnection) throws -> [Organisation.Department] {
        try connection.query("SELECT code, name, name_en FROM \(unescaped: table("departments")) ORDER BY code")
            .rows.map(Self.department(from:))
    }

    /// The section with this code.
    public func section(code: String, on connection: PostgresConnection) throws -> Organisation.Section? {
        try connection.query("""
            SELECT code, name, name_en, department_code, committee_member FROM \(unescaped: table("sections")) WHERE code = \(code)
            """).rows.first.map(Self.section(from:))
    }

    /// The sections with these codes, by code (one round trip for a batch of reports).
    public func sections(codes: [String], on connection: PostgresConnection) throws -> [String: Organisation.Section] {
        guard !codes.isEmpty else { return [:] }
        let rows = try connection.query("""
            SELECT code, name, name_en, department_code, committee_member FROM \(unescaped: table("sections")) WHERE code = ANY(\(codes))
            """).rows.map(Self.section(from:))
        return Dictionary(rows.map { ($0.code, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// Every section, by code.
    public func sections(on connection: PostgresConnection) throws -> [Organisation.Section] {
        try connection.query("""
            SELECT code, name, name_en, department_code, committee_member FROM \(unescaped: table("sections")) ORDER BY code
            """).rows.map(Self.section(from:))
    }

    /// The person with this id, with their channels.
    public func person(id: String, on connection: PostgresConnection) throws -> Organisation.Person? {
        try people(.id(id), on: connection).first
    }

    /// Who holds `role` at `unitCode`, by id, as ``Organisation/people(role:unitCode:)`` answers
    /// it: ward-wide roles ignore the unit, a `nil` unit for other roles means at any unit, and
    /// the security committee includes the officers of committee-member sections (Art. 21(4)).
    public func people(role: DirectoryRole, unitCode: String? = nil, on connection: PostgresConnection) throws -> [Organisation.Person] {
        let unit = role.isWardWide ? nil : unitCode
        return try people(.holding(role, unit), on: connection)
    }

    /// The reporting chain for a matter of this section, lowest first: its staff and officer,
    /// its department's officer, then the ward-wide roles (``DirectoryRole/escalationChain``).
    /// Throws ``DirectoryError`` with ``DirectoryError/Code/unknownUnit`` for an unknown section.
    public func escalationTargets(sectionCode: String, on connection: PostgresConnection) throws -> [DirectoryEscalationStep] {
        guard let section = try section(code: sectionCode, on: connection) else {
            throw DirectoryError(code: .unknownUnit, detail: "no section '\(sectionCode)'")
        }
        let steps = DirectoryRole.escalationChain.map { role in (role: role, unit: Organisation.unit(of: role, section: section)) }
        let holders = try people(holding: steps.map { ($0.role, $0.unit) }, on: connection)
        return zip(steps, holders).map { step, people in DirectoryEscalationStep(role: step.role, unitCode: step.unit, people: people) }
    }

    /// The holders of each (role, unit) pair, in two queries however many pairs (a whole chain
    /// is looked up for every case and every escalation step). A ward-wide role ignores the unit.
    public func people(holding pairs: [(role: DirectoryRole, unitCode: String?)], on connection: PostgresConnection) throws -> [[Organisation.Person]] {
        guard !pairs.isEmpty else { return [] }
        if pairs.contains(where: { $0.role == .securityCommittee }) {
            return try pairs.map { try people(role: $0.role, unitCode: $0.unitCode, on: connection) }
        }
        let rows = try connection.query("""
            SELECT DISTINCT k.position, p.id, p.name, p.email, p.language, p.deputy_id
            FROM unnest(\(pairs.map(\.role.rawValue))::text[], \(pairs.map { $0.role.isWardWide ? nil : $0.unitCode })::text[])
                 WITH ORDINALITY AS k (role, unit, position)
            JOIN \(unescaped: table("assignments")) a ON a.role = k.role AND (k.unit IS NULL OR a.unit_code = k.unit)
            JOIN \(unescaped: table("people")) p ON p.id = a.person_id
            ORDER BY k.position, p.id
            """)
        var holders = [[Organisation.Person]](repeating: [], count: pairs.count)
        var everyone: [Organisation.Person] = []
        var positions: [Int] = []
        for row in rows.rows {
            positions.append(try row.decode("position", as: Int.self) - 1)
            everyone.append(try Self.person(from: row))
        }
        try attachChannels(to: &everyone, on: connection)
        for (position, person) in zip(positions, everyone) { holders[position].append(person) }
        return holders
    }

    /// The roles `personID` holds, ward-wide ones first, then by role and unit.
    public func assignments(personID: String, on connection: PostgresConnection) throws -> [Organisation.Assignment] {
        try connection.query("""
            SELECT person_id, role, unit_code FROM \(unescaped: table("assignments")) WHERE person_id = \(personID)
            ORDER BY unit_code NULLS FIRST, role
            """).rows.map { row in
            Organisation.Assignment(
                personID: try row.decode("person_id"), role: try Self.role(row.decode("role")), unitCode: try row.decode("unit_code"))
        }
    }

    /// The whole stored organisation, in canonical order (``Organisation/canonicalised()``).
    public func organisation(on connection: PostgresConnection) throws -> Organisation {
        let assignments = try connection.query("""
            SELECT person_id, role, unit_code FROM \(unescaped: table("assignments")) ORDER BY person_id, role, unit_code NULLS FIRST
            """).rows.map { row in
            Organisation.Assignment(
                personID: try row.decode("person_id"), role: try Self.role(row.decode("role")), unitCode: try row.decode("unit_code"))
        }
        return Organisation(
            departments: try departments(on: connection),
            sections: try sections(on: connection),
            people: try people(.all, on: connection),
            assignments: assignments
        ).canonicalised()
    }

    // MARK: Rows

    private enum PeopleFilter {
        case all
        case id(String)
        case holding(DirectoryRole, String?)
    }

    private func people(_ filter: PeopleFilter, on connection: PostgresConnection) throws -> [Organisation.Person] {
        let people = table("people")
        let assignments = table("assignments")
        let query: PostgresQuery
        switch filter {
        case .all:
            query = "SELECT id, name, email, language, deputy_id FROM \(unescaped: people) ORDER BY id"
        case .id(let id):
            query = "SELECT id, name, email, language, deputy_id FROM \(unescaped: people) WHERE id = \(id)"
        case .holding(.securityCommittee, _):
            // Art. 21(3)-(4): the chair and vice chair by assignment, the members by post.
            query = """
                SELECT id, name, email, language, deputy_id FROM \(unescaped: people)
                WHERE id IN (SELECT person_id FROM \(unescaped: assignments) WHERE role = \(DirectoryRole.securityCommittee.rawValue))
                   OR id IN (SELECT a.person_id FROM \(unescaped: assignments) a
                             JOIN \(unescaped: table("sections")) s ON s.code = a.unit_code
                             WHERE a.role = \(DirectoryRole.sectionSecurityOfficer.rawValue) AND s.committee_member)
                ORDER BY id
                """
        case .holding(let role, let unit):
            query = """
                SELECT id, name, email, language, deputy_id FROM \(unescaped: people)
                WHERE id IN (SELECT person_id FROM \(unescaped: assignments)
                             WHERE role = \(role.rawValue) AND (\(unit)::text IS NULL OR unit_code = \(unit)))
                ORDER BY id
                """
        }
        var found = try connection.query(query).rows.map(Self.person(from:))
        try attachChannels(to: &found, on: connection)
        return found
    }

    private static func person(from row: PostgresRow) throws -> Organisation.Person {
        let language: String = try row.decode("language")
        guard let value = Organisation.Language(rawValue: language) else {
            throw DirectoryError(code: .corruptData, detail: "stored language '\(language)' is unknown")
        }
        return Organisation.Person(
            id: try row.decode("id"), name: try row.decode("name"), email: try row.decode("email"), language: value,
            deputyID: try row.decode("deputy_id"))
    }

    /// Loads every person's delivery channels in one query.
    private func attachChannels(to people: inout [Organisation.Person], on connection: PostgresConnection) throws {
        guard !people.isEmpty else { return }
        let ids = Array(Set(people.map(\.id)))
        let channels = try connection.query("""
            SELECT person_id, kind, address, format FROM \(unescaped: table("person_channels"))
            WHERE person_id = ANY(\(ids)) ORDER BY person_id, position
            """)
        var byPerson: [String: [Organisation.Channel]] = [:]
        for row in channels.rows {
            let kind: String = try row.decode("kind")
            let format: String? = try row.decode("format")
            guard let kindValue = Organisation.Channel.Kind(rawValue: kind) else {
                throw DirectoryError(code: .corruptData, detail: "stored channel kind '\(kind)' is unknown")
            }
            let formatValue = try format.map { text in
                guard let value = Organisation.Channel.Format(rawValue: text) else {
                    throw DirectoryError(code: .corruptData, detail: "stored channel format '\(text)' is unknown")
                }
                return value
            }
            byPerson[try row.decode("person_id"), default: []].append(
                Organisation.Channel(kind: kindValue, address: try row.decode("address"), format: formatValue))
        }
        for index in people.indices {
            people[index].channels = byPerson[people[index].id] ?? []
        }
    }

    private static func department(from row: PostgresRow) throws -> Organisation.Department {
        Organisation.Department(code: try row.decode("code"), name: try row.decode("name"), nameEn: try row.decode("name_en"))
    }

    private static func section(from row: PostgresRow) throws -> Organisation.Section {
        Organisation.Section(
            code: try row.decode("code"), name: try row.decode("name"), nameEn: try row.decode("name_en"),
            departmentCode: try row.decode("department_code"), committeeMember: try row.decode("committee_member"))
    }

    static func role(_ text: String) throws -> DirectoryRole {
        guard let role = DirectoryRole(rawValue: text) else {
            throw DirectoryError(code: .corruptData, detail: "stored role '\(text)' is not one this version knows")
        }
        return role
    }
}
