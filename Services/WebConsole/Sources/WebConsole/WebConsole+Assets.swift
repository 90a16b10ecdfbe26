import Directory
import Foundation
import Hummingbird
import ServiceClient

/// The information asset register's pages (Arts. 4, 9, 18; issue #18 item 0): the list a role
/// may see, one asset, and the form that keeps it. The audit scheduler's API decides who sees
/// and keeps what; the console only offers the form to those it would accept.
extension WebConsole {
    func addAssetRoutes(to router: some RouterMethods<ConsoleRequestContext>) {
        router.get("/assets") { request, context in
            let session = try session(request, context, roles: ConsoleAccess.assetReaders)
            let section = request.uri.queryParameters.get("section").flatMap { $0.isEmpty ? nil : String($0) }
            let list: AssetListView = try await api(session).get(.audit, "/v1/assets", query: [("section", section)])
            let language = context.language
            let rows: [[String: Any]] = list.assets.map { asset in
                [
                    "id": asset.id, "name": asset.displayName(language), "section": asset.sectionCode, "c": asset.classification.confidentiality,
                    "i": asset.classification.integrity, "a": asset.classification.availability, "myNumber": asset.myNumber != nil, "retired": asset.retired,
                ]
            }
            return page(
                "assets", title: "assetsTitle", request, context,
                data: ["assets": rows, "empty": rows.isEmpty, "canCreate": ConsoleAccess.assetKeepers.contains(session.current.role) || session.current.role == .sectionSecurityOfficer, "section": section as Any])
        }
        router.get("/assets/new") { request, context in
            let session = try session(request, context, roles: ConsoleAccess.assetEditors)
            var form = FormData()
            if session.current.role == .sectionSecurityOfficer, let unit = session.current.unitCode { form = FormData(pairs: [("sectionCode", unit)]) }
            return assetForm(request, context, asset: nil, form: form, errors: [:], formError: nil)
        }
        router.get("/assets/:id") { request, context in
            let session = try session(request, context, roles: ConsoleAccess.assetReaders)
            let id = try context.parameters.require("id")
            let asset: AssetView = try await api(session).get(.audit, "/v1/assets/\(ConsoleAPI.segment(id))")
            return assetForm(request, context, asset: asset, form: FormData(), errors: [:], formError: nil, editable: Self.mayKeep(asset, session))
        }
        router.post("/assets") { request, context in try await saveAsset(request, context, id: context.form["id"] ?? "") }
        router.post("/assets/:id") { request, context in try await saveAsset(request, context, id: try context.parameters.require("id")) }
    }

    /// Whether the audit scheduler would accept this person's change to the asset (the keepers
    /// of the register, or the owning section's information security officer, Art. 18).
    static func mayKeep(_ asset: AssetView, _ session: ConsoleSession) -> Bool {
        ConsoleAccess.assetKeepers.contains(session.current.role)
            || (session.current.role == .sectionSecurityOfficer && session.current.unitCode == asset.sectionCode)
    }

    /// The asset's page; its fields are a form when the person may keep it (or it is new).
    func assetForm(
        _ request: Request, _ context: ConsoleRequestContext, asset: AssetView?, form: FormData, errors: [String: String], formError: String?,
        editable: Bool = true, status: HTTPResponse.Status = .ok
    ) -> Response {
        let language = context.language
        func value(_ name: String, _ stored: String?) -> [String: Any] {
            ["value": form[name] ?? stored ?? "", "error": errors[name] as Any]
        }
        func levels(_ name: String, _ all: [String], _ stored: String?) -> [[String: Any]] {
            let selected = form[name] ?? stored ?? all.last ?? ""
            return all.map { ["value": $0, "label": $0, "selected": $0 == selected] }
        }
        let c = asset?.classification
        let data: [String: Any] = [
            "isNew": asset == nil, "editable": editable, "formError": formError as Any,
            "action": asset.map { "/assets/\(FormData.encode($0.id))" } ?? "/assets",
            "asset": asset.map { asset in
                [
                    "id": asset.id, "name": asset.displayName(language), "section": asset.sectionCode,
                    "classification": "\(asset.classification.confidentiality)/\(asset.classification.integrity)/\(asset.classification.availability)",
                    "myNumber": asset.myNumber.map { ["handlers": $0.handlers.joined(separator: ", "), "area": $0.area] } as Any,
                    "systems": asset.systems.joined(separator: ", "), "contractors": asset.contractors.joined(separator: ", "),
                    "retired": asset.retired, "updatedBy": asset.updatedBy ?? "", "updatedAt": ConsoleFormat.date(asset.updatedAt),
                ] as [String: Any]
            } as Any,
            "id": value("id", asset?.id), "name": value("name", asset?.name), "nameEn": value("nameEn", asset?.nameEn),
            "sectionCode": value("sectionCode", asset?.sectionCode),
            "confidentiality": levels("confidentiality", ["3A", "3B", "3C", "2", "1"], c?.confidentiality),
            "integrity": levels("integrity", ["2", "1"], c?.integrity), "availability": levels("availability", ["2", "1"], c?.availability),
            "classificationError": errors["classification"] as Any,
            "handlers": value("handlers", asset?.myNumber?.handlers.joined(separator: ", ")),
            "area": value("area", asset?.myNumber?.area),
            "systems": value("systems", asset?.systems.joined(separator: ", ")),
            "contractors": value("contractors", asset?.contractors.joined(separator: ", ")),
            "retiredChecked": form["retired"] != nil || (form["name"] == nil && asset?.retired == true),
        ]
        return page("asset", title: asset == nil ? "assetNewTitle" : "assetTitle", request, context, data: data, status: status)
    }

    func saveAsset(_ request: Request, _ context: ConsoleRequestContext, id: String) async throws -> Response {
        let session = try session(request, context, roles: ConsoleAccess.assetEditors)
        let form = context.form
        func list(_ name: String) -> [String] {
            form.raw(name).split(whereSeparator: { $0 == "," || $0 == "\n" || $0 == "、" }).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        var body: [String: Any] = [
            "name": form["name"] ?? "", "sectionCode": form["sectionCode"] ?? "",
            "classification": ["confidentiality": form["confidentiality"] ?? "", "integrity": form["integrity"] ?? "", "availability": form["availability"] ?? ""],
            "systems": list("systems"), "contractors": list("contractors"), "retired": form["retired"] != nil,
        ]
        if let nameEn = form["nameEn"] { body["nameEn"] = nameEn }
        // My Number data is declared by naming its handlers or its area; the service requires both.
        if !list("handlers").isEmpty || form["area"] != nil { body["myNumber"] = ["handlers": list("handlers"), "area": form["area"] ?? ""] }
        // The stored asset, for drawing the form again after a refusal (a new one has none).
        func existing() async -> AssetView? {
            form["isNew"] == nil ? try? await api(session).get(.audit, "/v1/assets/\(ConsoleAPI.segment(id))") : nil
        }
        guard RegisteredAsset.isValidID(id) else {
            return assetForm(
                request, context, asset: await existing(), form: form, errors: ["id": Labels.text("assetIdInvalid", context.language)],
                formError: Labels.text("assetProblems", context.language), status: .unprocessableContent)
        }
        let result = try await api(session).send(.audit, "PUT", "/v1/assets/\(ConsoleAPI.segment(id))", json: body)
        switch result {
        case .success: return ConsolePageMiddleware.redirect("/assets/\(FormData.encode(id))?notice=notice_saved")
        case .failure(let problem):
            if problem.status == 401 { throw ConsolePageError.forbidden }
            var errors: [String: String] = [:]
            let inputs = ["/name": "name", "/sectionCode": "sectionCode", "/myNumber/handlers": "handlers", "/myNumber": "handlers", "/classification": "classification"]
            for entry in problem.fieldErrors {
                let input = inputs[entry.field] ?? (entry.field.hasPrefix("/classification") ? "classification" : "name")
                errors[input] = errors[input].map { $0 + " " + entry.message } ?? entry.message
            }
            let detail = problem.fieldErrors.isEmpty ? (problem.detail ?? problem.title) : Labels.text("assetProblems", context.language)
            return assetForm(request, context, asset: await existing(), form: form, errors: errors, formError: detail, status: .init(code: problem.status))
        }
    }
}

struct AssetListView: Decodable {
    var assets: [AssetView]
}

/// An asset as the audit scheduler answers it.
struct AssetView: Decodable {
    var id: String
    var name: String
    var nameEn: String?
    var sectionCode: String
    var classification: ClassificationView
    var myNumber: MyNumberView?
    var systems: [String]
    var contractors: [String]
    var retired: Bool
    var updatedAt: String?
    var updatedBy: String?

    struct MyNumberView: Decodable {
        var handlers: [String]
        var area: String
    }

    func displayName(_ language: ConsoleLanguage) -> String {
        language == .en ? nameEn ?? name : name
    }
}
