public import Contracts
public import Foundation
public import Postgres

/// One of the ward's information assets (Arts. 4, 9, 18; issue #18 item 0).
///
/// The register is the ward's answer to "how sensitive is this?": a report that names a
/// registered asset is classified by the register, not by the reporter's guess (Art. 9(2)).
public struct RegisteredAsset: Sendable, Hashable, Codable {
    /// How an asset is named everywhere (reports, risks, findings, restrictions, contracts).
    public var id: String
    public var name: String
    public var nameEn: String?
    /// The owning section: its information security officer answers for the asset (Art. 18).
    public var sectionCode: String
    /// Confidentiality, integrity and availability on the MIC levels (Art. 9(2)).
    public var classification: AssetClassification
    /// Set when the asset holds My Number data (管理特定個人情報等, Art. 3(10)): who may handle
    /// it and where (Art. 18(8)).
    public var myNumber: MyNumberHandling?
    /// The information systems the asset lives in.
    public var systems: [String]
    /// The contractors that handle it (contractor codes of the contractor registry).
    public var contractors: [String]
    /// A retired asset stays, since risks and cases name it, but no new reference may.
    public var retired: Bool
    public var updatedAt: Date?
    public var updatedBy: String?

    /// Who handles an asset's My Number data, and where (Art. 18(8)(1)-(2)).
    public struct MyNumberHandling: Sendable, Hashable, Codable {
        /// Person ids of the designated handlers (事務取扱担当者).
        public var handlers: [String]
        /// The handling area (取扱区域).
        public var area: String

        public init(handlers: [String], area: String) {
            self.handlers = handlers
            self.area = area
        }
    }

    public init(
        id: String, name: String, nameEn: String? = nil, sectionCode: String, classification: AssetClassification,
        myNumber: MyNumberHandling? = nil, systems: [String] = [], contractors: [String] = [], retired: Bool = false,
        updatedAt: Date? = nil, updatedBy: String? = nil
    ) {
        self.id = id
        self.name = name
        self.nameEn = nameEn
        self.sectionCode = sectionCode
        self.classification = classification
        self.myNumber = myNumber
        self.systems = systems
        self.contractors = contractors
        self.retired = retired
        self.updatedAt = updatedAt
        self.updatedBy = updatedBy
    }

    /// Whether `id` is a well-formed asset id: 1-64 ASCII letters, digits, `.`, `_` or `-`,
    /// starting with a letter or digit (it appears in URLs and in reports' JSON).
    public static func isValidID(_ id: String) -> Bool {
        guard let first = id.unicodeScalars.first, id.unicodeScalars.count <= 64, isAlphanumeric(first) else { return false }
        return id.unicodeScalars.allSatisfy { isAlphanumeric($0) || $0 == "." || $0 == "_" || $0 == "-" }
    }

    private static func isAlphanumeric(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
    }

    /// What is wrong with the asset against the stored directory: the section must exist and each
    /// designated handler must be a person holding `designatedHandler` at that section
    /// (Art. 18(8)(1)). Each problem names the field it is about.
    public func problems(in directory: DirectoryStore, on connection: PostgresConnection) throws -> [(field: String, message: String)] {
        var problems: [(field: String, message: String)] = []
        if try directory.section(code: sectionCode, on: connection) == nil {
            problems.append(("sectionCode", "no section '\(sectionCode)' in the directory"))
        }
        if let myNumber {
            let designated = Set(try directory.people(role: .designatedHandler, unitCode: sectionCode, on: connection).map(\.id))
            for handler in myNumber.handlers where !designated.contains(handler) {
                problems.append(("myNumber.handlers", "'\(handler)' is not a designated handler of section '\(sectionCode)' (Art. 18(8)(1))"))
            }
        }
        return problems
    }
}

/// The information asset register, kept in the directory schema beside the organisation so that
/// every service reads it with the access it already has (issue #18 item 0).
public struct AssetRegister: Sendable {
    public let directory: DirectoryStore

    public init(directory: DirectoryStore = DirectoryStore()) {
        self.directory = directory
    }

    private var table: String { directory.table("assets") }

    /// What ``save(_:by:on:)`` did with each asset.
    public enum SaveOutcome: String, Sendable, Hashable, Codable {
        case created, updated, unchanged
    }

    /// Creates or updates each asset (an import never deletes: risks and cases name assets, so an
    /// asset leaves by being retired). An asset equal to the stored one is not written.
    public func save(_ assets: [RegisteredAsset], by actor: String, on connection: PostgresConnection) throws -> [SaveOutcome] {
        let stored = Dictionary(uniqueKeysWithValues: try self.assets(ids: assets.map(\.id), on: connection).map { ($0.id, $0) })
        var outcomes: [SaveOutcome] = []
        for asset in assets {
            if let old = stored[asset.id], old.withoutStamps == asset.withoutStamps {
                outcomes.append(.unchanged)
                continue
            }
            _ = try connection.query("""
                INSERT INTO \(unescaped: table) (
                    id, name, name_en, section_code, confidentiality, integrity, availability,
                    my_number_handlers, my_number_area, systems, contractors, retired, updated_at, updated_by)
                VALUES (
                    \(asset.id), \(asset.name), \(asset.nameEn), \(asset.sectionCode), \(asset.classification.confidentiality.rawValue),
                    \(asset.classification.integrity.rawValue), \(asset.classification.availability.rawValue),
                    \(asset.myNumber?.handlers)::text[], \(asset.myNumber?.area), \(asset.systems)::text[], \(asset.contractors)::text[],
                    \(asset.retired), now(), \(actor))
                ON CONFLICT (id) DO UPDATE SET
                    name = excluded.name, name_en = excluded.name_en, section_code = excluded.section_code,
                    confidentiality = excluded.confidentiality, integrity = excluded.integrity, availability = excluded.availability,
                    my_number_handlers = excluded.my_number_handlers, my_number_area = excluded.my_number_area,
                    systems = excluded.systems, contractors = excluded.contractors, retired = excluded.retired,
                    updated_at = excluded.updated_at, updated_by = excluded.updated_by
                """)
            outcomes.append(stored[asset.id] == nil ? .created : .updated)
        }
        return outcomes
    }

    /// The assets with these ids that are registered (retired ones included), in id order.
    public func assets(ids: [String], on connection: PostgresConnection) throws -> [RegisteredAsset] {
        guard !ids.isEmpty else { return [] }
        return try connection.query("SELECT \(unescaped: Self.columns) FROM \(unescaped: table) WHERE id = ANY(\(Array(Set(ids)))::text[]) ORDER BY id")
            .rows.map(Self.asset(from:))
    }

    /// The asset with this id.
    public func asset(id: String, on connection: PostgresConnection) throws -> RegisteredAsset? {
        try assets(ids: [id], on: connection).first
    }

    /// Every asset, or those of one section, by section then id.
    public func all(sectionCode: String? = nil, on connection: PostgresConnection) throws -> [RegisteredAsset] {
        try connection.query("""
            SELECT \(unescaped: Self.columns) FROM \(unescaped: table)
            WHERE \(sectionCode)::text IS NULL OR section_code = \(sectionCode)
            ORDER BY section_code, id
            """).rows.map(Self.asset(from:))
    }

    private static let columns = """
        id, name, name_en, section_code, confidentiality, integrity, availability, my_number_handlers, my_number_area,
        systems, contractors, retired, updated_at, updated_by
        """

    private static func asset(from row: PostgresRow) throws -> RegisteredAsset {
        func level<Level: RawRepresentable<String>>(_ column: String, as: Level.Type) throws -> Level {
            let text = try row.decode(column, as: String.self)
            guard let level = Level(rawValue: text) else {
                throw DirectoryError(code: .corruptData, detail: "asset \(column) '\(text)' is not a level this version knows")
            }
            return level
        }
        let handlers = try row.decode("my_number_handlers", as: [String]?.self)
        return RegisteredAsset(
            id: try row.decode("id"), name: try row.decode("name"), nameEn: try row.decode("name_en"),
            sectionCode: try row.decode("section_code"),
            classification: AssetClassification(
                confidentiality: try level("confidentiality", as: ConfidentialityLevel.self),
                integrity: try level("integrity", as: IntegrityLevel.self),
                availability: try level("availability", as: AvailabilityLevel.self)),
            myNumber: try handlers.map { RegisteredAsset.MyNumberHandling(handlers: $0, area: try row.decode("my_number_area") ?? "") },
            systems: try row.decode("systems"), contractors: try row.decode("contractors"), retired: try row.decode("retired"),
            updatedAt: try row.decode("updated_at"), updatedBy: try row.decode("updated_by"))
    }
}

extension RegisteredAsset {
    /// The asset without who changed it when: what decides whether a save changes anything.
    var withoutStamps: RegisteredAsset {
        var copy = self
        copy.updatedAt = nil
        copy.updatedBy = nil
        return copy
    }
}
