import Contracts
import Directory
import Foundation
import Hummingbird
import Postgres
import ServiceRuntime

/// The information asset register through the API (Arts. 4, 9, 18; issue #18 item 0). The
/// register lives in the directory schema, which every service reads; the scheduler is the one
/// service that may write it (directory migration 12), since it runs the management cycle the
/// register feeds (risks, audits, findings).
///
/// - `GET /v1/assets?section=` — ward-wide roles see every asset; a section's token its section's,
///   a department's token its sections'.
/// - `GET /v1/assets/{id}`
/// - `PUT /v1/assets/{id}` `{name, nameEn?, sectionCode, classification, myNumber?, systems?, contractors?, retired?}` —
///   the general security officer and manager for any asset (Arts. 14, 16), a section's
///   information security officer for the section's own (Art. 18); an asset does not change
///   section by its officer's hand.
struct AssetRoutes: Sendable {
    let register: AssetRegister
    let database: PostgresPool

    /// Who keeps any asset of the register.
    static let keepers: Set<DirectoryRole> = [.generalSecurityOfficer, .generalSecurityManager]

    func add(to routes: APIRoutes) {
        routes.get("/v1/assets") { request, context in
            let actor = DutyActor(grant: try context.requireGrant())
            let section = try APIQuery(request).string("section")
            let (register, database) = (register, database)
            let assets = try await database.withConnection { connection in
                let visible = try Self.visibleSections(actor, register: register, on: connection)
                return try register.all(sectionCode: section, on: connection).filter { visible?.contains($0.sectionCode) ?? true }
            }
            return try APIResponse.json(AssetList(assets: assets))
        }
        routes.get("/v1/assets/:id") { _, context in
            let actor = DutyActor(grant: try context.requireGrant())
            let id = context.parameters.get("id") ?? ""
            let (register, database) = (register, database)
            let asset = try await database.withConnection { connection in
                let visible = try Self.visibleSections(actor, register: register, on: connection)
                return try register.asset(id: id, on: connection).flatMap { visible?.contains($0.sectionCode) ?? true ? $0 : nil }
            }
            guard let asset else { throw AuditSchedulerError(.notFound, "no asset '\(id)' is visible to this token") }
            return try APIResponse.json(asset)
        }
        routes.put("/v1/assets/:id") { request, context in
            let grant = try context.requireGrant()
            let actor = DutyActor(grant: grant)
            let id = context.parameters.get("id") ?? ""
            guard RegisteredAsset.isValidID(id) else {
                throw AuditSchedulerError(.invalid, "an asset id is 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit")
            }
            let body = try await request.decodeJSON(as: AssetBody.self, context: context)
            let asset = RegisteredAsset(
                id: id, name: body.name, nameEn: body.nameEn, sectionCode: body.sectionCode, classification: body.classification,
                myNumber: body.myNumber, systems: body.systems ?? [], contractors: body.contractors ?? [], retired: body.retired ?? false)
            let (register, database) = (register, database)
            let saved = try await database.withTransaction { connection in
                let existing = try register.asset(id: id, on: connection)
                guard Self.keepers.contains(actor.role)
                    || (actor.role == .sectionSecurityOfficer && actor.unitCode == asset.sectionCode
                        && (existing == nil || existing?.sectionCode == asset.sectionCode))
                else {
                    throw AuditSchedulerError(
                        .forbidden, "the general security officer keeps the register; a section's information security officer keeps the section's own assets (Art. 18)")
                }
                let problems = body.problems + (try asset.problems(in: register.directory, on: connection))
                guard problems.isEmpty else { throw AssetProblems(problems: problems) }
                let outcome = try register.save([asset], by: "token:\(grant.id.lowercasedString)", on: connection)
                return (try register.asset(id: id, on: connection), outcome.first ?? .unchanged)
            }
            guard let stored = saved.0 else { throw AuditSchedulerError(.conflict, "the asset was not saved") }
            return try APIResponse.json(stored, status: saved.1 == .created ? .created : .ok)
        }
    }

    /// The sections whose assets `actor` sees: nil (all) for ward-wide roles, a section's own, a
    /// department's sections (read once per request, not per asset).
    static func visibleSections(_ actor: DutyActor, register: AssetRegister, on connection: PostgresConnection) throws -> Set<String>? {
        guard let unit = actor.unitCode else { return nil }
        return Set(try register.directory.sections(on: connection).filter { $0.departmentCode == unit }.map(\.code)).union([unit])
    }
}

/// A PUT's body: the asset without its id (the path names it).
struct AssetBody: Decodable {
    var name: String
    var nameEn: String?
    var sectionCode: String
    var classification: AssetClassification
    var myNumber: RegisteredAsset.MyNumberHandling?
    var systems: [String]?
    var contractors: [String]?
    var retired: Bool?

    /// What breaks the documented limits (docs/openapi.yaml), in code points like every length
    /// rule of the API.
    var problems: [(field: String, message: String)] {
        var problems: [(field: String, message: String)] = []
        func text(_ value: String, _ field: String, max: Int) {
            let length = value.unicodeScalars.count
            if value.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                problems.append((field, "is blank"))
            } else if length > max {
                problems.append((field, "is longer than \(max) characters"))
            }
        }
        func list(_ values: [String], _ field: String, max: Int, minItems: Int = 0) {
            if values.count < minItems { problems.append((field, "needs at least \(minItems)")) }
            if values.count > 50 { problems.append((field, "has more than 50 entries")) }
            for (index, value) in values.enumerated() { text(value, "\(field).\(index)", max: max) }
        }
        text(name, "name", max: 200)
        if let nameEn, nameEn.unicodeScalars.count > 200 { problems.append(("nameEn", "is longer than 200 characters")) }
        text(sectionCode, "sectionCode", max: 100)
        if let myNumber {
            // Art. 18(8): My Number data has named handlers and a defined handling area.
            list(myNumber.handlers, "myNumber.handlers", max: 100, minItems: 1)
            text(myNumber.area, "myNumber.area", max: 200)
        }
        list(systems ?? [], "systems", max: 200)
        list(contractors ?? [], "contractors", max: 100)
        return problems
    }
}

struct AssetList: Encodable {
    var assets: [RegisteredAsset]
}

/// What is wrong with an asset, field by field: a 422 whose `errors` carry JSON pointers, as
/// intake's report errors do, so a form can place each at its input.
struct AssetProblems: Error, APIProblemConvertible {
    var problems: [(field: String, message: String)]

    var problem: APIProblem {
        APIProblem(
            .unprocessableContent, title: "The asset is invalid", detail: problems.map { "\($0.field): \($0.message)" }.joined(separator: "; "),
            extensions: [
                "errors": .array(problems.map { ["field": .string("/" + $0.field.replacingOccurrences(of: ".", with: "/")), "message": .string($0.message)] })
            ])
    }
}
