import Directory
import Foundation
import Hummingbird
import ServiceClient

/// The departments' pages: filing a report (every field of `incident-report.submit.v1`) and
/// following their own reports. Intake and triage decide what a section may see.
extension WebConsole {
    static let answerNames = ["personalData", "myNumber", "sensitivePersonalData", "wrongfulIntent", "unspecifiedViewers", "dataEncrypted"]
    static let assetRows = 3

    func addReportRoutes(to router: some RouterMethods<ConsoleRequestContext>) {
        router.get("/reports/new") { request, context in
            let session = try session(request, context, roles: ConsoleAccess.reporters)
            return reportForm(request, context, form: FormData(), errors: [:], formError: nil, registered: await registeredAssets(session))
        }
        router.post("/reports") { request, context in try await submitReport(request, context) }
        router.get("/reports") { request, context in try await reportList(request, context) }
        router.get("/reports/:id") { request, context in try await reportPage(request, context, id: context.parameters.require("id")) }
        router.post("/reports/:id/original") { request, context in
            let session = try session(request, context, roles: [.designatedHandler])
            let id = try context.parameters.require("id")
            // Reading the original is logged and announced by intake (My Number Act Art. 29-4 records).
            let original: OriginalView = try await api(session).get(.intake, "/v1/incident-reports/\(ConsoleAPI.segment(id))/original")
            return page(
                "original", title: "original", request, context,
                data: ["intakeId": id, "title": original.title, "description": original.description, "assetNames": original.assetNames])
        }
    }

    struct OriginalView: Decodable {
        var title: String
        var description: String
        var assetNames: [String]
    }

    // MARK: The form

    /// The section's registered assets, offered as suggestions for the asset id (issue #18 item
    /// 0): a report that names one is classified by the register. Without the scheduler the form
    /// still works, with no suggestions.
    func registeredAssets(_ session: ConsoleSession) async -> [AssetView] {
        guard let unit = session.current.unitCode else { return [] }
        let list = try? await api(session).get(.audit, "/v1/assets", query: [("section", unit)], as: AssetListView.self)
        return (list?.assets ?? []).filter { !$0.retired }
    }

    func reportForm(
        _ request: Request, _ context: ConsoleRequestContext, form: FormData, errors: [String: String], formError: String?, registered: [AssetView] = [],
        status: HTTPResponse.Status = .ok
    ) -> Response {
        let language = context.language
        let now = ConsoleFormat.inputValue(Date())
        func field(_ name: String, default value: String = "") -> [String: Any] {
            ["value": form.raw(name).isEmpty ? value : form.raw(name), "error": errors[name] as Any]
        }
        let answers: [[String: Any]] = Self.answerNames.map { name in
            [
                "name": name, "label": Labels.text("q_" + name, language), "error": errors[name] as Any,
                "options": Self.options(["unknown", "yes", "no"], selected: form[name] ?? "unknown") { Labels.text("verdict_" + $0, language) },
            ]
        }
        let assets: [[String: Any]] = (0..<Self.assetRows).map { index in
            let prefix = "asset\(index)"
            return [
                "index": index, "number": index + 1,
                "name": field(prefix + "Name"), "id": field(prefix + "Id"),
                "c": ["name": prefix + "C", "options": Self.options(["", "3A", "3B", "3C", "2", "1"], selected: form[prefix + "C"] ?? "") { $0.isEmpty ? "—" : $0 }],
                "i": ["name": prefix + "I", "options": Self.options(["", "2", "1"], selected: form[prefix + "I"] ?? "") { $0.isEmpty ? "—" : $0 }],
                "a": ["name": prefix + "A", "options": Self.options(["", "2", "1"], selected: form[prefix + "A"] ?? "") { $0.isEmpty ? "—" : $0 }],
                "error": (errors[prefix + "Name"] ?? errors[prefix + "Id"] ?? errors[prefix + "C"]) as Any? as Any,
            ]
        }
        let reportID = form["reportId"].flatMap(UUID.init(uuidString:)) ?? UUID()
        let data: [String: Any] = [
            // Fixed when the form is drawn: a double click or a reload files one report, not two.
            "reportId": reportID.uuidString.lowercased(),
            "title": field("title"), "description": field("description"), "reporterName": field("reporterName"),
            "reporterContact": field("reporterContact"), "affectedPersons": field("affectedPersons"),
            "occurredAt": field("occurredAt", default: now), "detectedAt": field("detectedAt", default: now), "knownAt": field("knownAt", default: now),
            "categories": Self.options(Self.categories, selected: form["category"]) { Labels.text("cat_" + $0, language) },
            "categoryError": errors["category"] as Any,
            "answers": answers, "assets": assets, "formError": formError as Any,
            "registered": registered.map { ["id": $0.id, "label": "\($0.displayName(language)) (\($0.classification.text))"] },
        ]
        return page("report-form", title: "newReportTitle", request, context, data: data, status: status)
    }

    func submitReport(_ request: Request, _ context: ConsoleRequestContext) async throws -> Response {
        let session = try session(request, context, roles: ConsoleAccess.reporters)
        let form = context.form
        let (body, assetIndexes) = Self.submission(form, sectionCode: session.current.unitCode ?? "")
        let result = try await api(session).send(.intake, "POST", "/v1/incident-reports", json: body)
        switch result {
        case .success(let data):
            guard let accepted = try? JSONDecoder().decode(AcceptedView.self, from: data) else { throw ConsolePageError.serviceUnavailable }
            return ConsolePageMiddleware.redirect("/reports/\(FormData.encode(accepted.intakeId))?notice=notice_reported")
        case .failure(let problem):
            if problem.isAuthorisation { throw ConsolePageError.forbidden }
            let (errors, rest) = Self.fieldErrors(problem, assetIndexes: assetIndexes, language: context.language)
            let formError = ([Labels.text("reportProblems", context.language)] + rest).joined(separator: " ")
            return reportForm(
                request, context, form: form, errors: errors, formError: formError, registered: await registeredAssets(session), status: .unprocessableContent)
        }
    }

    struct AcceptedView: Decodable {
        var intakeId: String
    }

    /// The form as intake's submit contract, and which form row each submitted asset came from.
    static func submission(_ form: FormData, sectionCode: String) -> (body: [String: Any], assetIndexes: [Int]) {
        func instant(_ name: String) -> String {
            ConsoleFormat.parseInput(form[name]).map(ConsoleFormat.wire) ?? (form[name] ?? "")
        }
        var assets: [[String: Any]] = []
        var indexes: [Int] = []
        for index in 0..<assetRows {
            let prefix = "asset\(index)"
            guard form[prefix + "Name"] != nil || form[prefix + "Id"] != nil else { continue }
            var asset: [String: Any] = [:]
            if let name = form[prefix + "Name"] { asset["name"] = name }
            if let id = form[prefix + "Id"] { asset["id"] = id }
            if let c = form[prefix + "C"], let i = form[prefix + "I"], let a = form[prefix + "A"] {
                asset["classification"] = ["confidentiality": c, "integrity": i, "availability": a]
            }
            assets.append(asset)
            indexes.append(index)
        }
        let persons: Any = form["affectedPersons"].map { Int($0).map { $0 as Any } ?? $0 as Any } ?? "unknown"
        let body: [String: Any] = [
            "reportId": form["reportId"].flatMap(UUID.init(uuidString:))?.uuidString.lowercased() ?? UUID().uuidString.lowercased(),
            "reporter": ["sectionCode": sectionCode, "name": form["reporterName"] ?? "", "contact": form["reporterContact"] ?? ""],
            "occurredAt": instant("occurredAt"), "detectedAt": instant("detectedAt"), "knownAt": instant("knownAt"),
            "category": form["category"] ?? "",
            "affectedAssets": assets,
            "answers": Dictionary(uniqueKeysWithValues: answerNames.map { ($0, form[$0] ?? "unknown") }),
            "affectedPersons": persons,
            "title": form["title"] ?? "",
            "description": form.raw("description"),
            "attachments": [] as [Any],
        ]
        return (body, indexes)
    }

    /// Intake's field errors (JSON pointers into the report) placed at the form's inputs; those
    /// that name no input are returned to be shown above the form.
    /// In Japanese each problem reads as its code's label (intake words them in English); in
    /// English, intake's own message, which names the value.
    static func fieldErrors(_ problem: ServiceProblem, assetIndexes: [Int], language: ConsoleLanguage = .en) -> (fields: [String: String], rest: [String]) {
        var fields: [String: String] = [:]
        var rest: [String] = []
        let direct = [
            "/title": "title", "/description": "description", "/category": "category", "/occurredAt": "occurredAt", "/detectedAt": "detectedAt",
            "/knownAt": "knownAt", "/reporter/name": "reporterName", "/reporter/contact": "reporterContact", "/affectedPersons": "affectedPersons",
        ]
        for entry in problem.fieldErrors {
            let message = language == .ja && Labels.table["err_" + entry.code] != nil ? Labels.text("err_" + entry.code, .ja) : entry.message
            var input = direct[entry.field]
            if input == nil, entry.field.hasPrefix("/answers/") { input = String(entry.field.dropFirst("/answers/".count)) }
            if input == nil, entry.field.hasPrefix("/affectedAssets/") {
                let parts = entry.field.split(separator: "/")
                if parts.count >= 2, let position = Int(parts[1]), position < assetIndexes.count {
                    let row = "asset\(assetIndexes[position])"
                    input = parts.count > 2 && parts[2] == "id" ? row + "Id" : parts.count > 2 && parts[2] == "classification" ? row + "C" : row + "Name"
                }
            }
            if let input {
                fields[input] = fields[input].map { $0 + " " + message } ?? message
            } else {
                rest.append(message)
            }
        }
        if problem.fieldErrors.isEmpty { rest.append(problem.detail ?? problem.title) }
        return (fields, rest)
    }

    // MARK: Our reports

    func reportList(_ request: Request, _ context: ConsoleRequestContext) async throws -> Response {
        let session = try session(request, context, roles: ConsoleAccess.unitReaders)
        let api = api(session)
        let cursor = request.uri.queryParameters.get("cursor")
        let reports: ReportPageView = try await api.get(.intake, "/v1/incident-reports", query: [("limit", "50"), ("cursor", cursor)])
        let cases: CasePageView = try await api.get(.triage, "/v1/cases", query: [("limit", "500")])
        let caseBySource = Dictionary(cases.cases.compactMap { summary in summary.source.map { ($0.id, summary) } }, uniquingKeysWith: { first, _ in first })
        let language = context.language
        let rows: [[String: Any]] = reports.reports.map { report in
            let found = caseBySource[report.intakeId]
            return [
                "intakeId": report.intakeId, "title": report.title ?? "", "section": report.sectionCode ?? "",
                "category": report.category.map { Labels.text("cat_" + $0, language) } ?? "", "recordedAt": ConsoleFormat.date(report.recordedAt),
                "caseNumber": found?.caseNumber as Any, "caseState": found.map { Labels.text("state_" + $0.state, language) } ?? Labels.text("notYetCase", language),
            ]
        }
        let next = reports.nextCursor.map { "/reports?cursor=\(FormData.encode($0))" }
        return page(
            "reports", title: "reportsTitle", request, context,
            data: ["rows": rows, "empty": rows.isEmpty, "nextLink": next as Any, "canReport": ConsoleAccess.reporters.contains(session.current.role)])
    }

    func reportPage(_ request: Request, _ context: ConsoleRequestContext, id: String) async throws -> Response {
        let session = try context.requireSession(request)
        guard UUID(uuidString: id) != nil else { throw ConsolePageError.notFound }
        let api = api(session)
        let report: ReportSummaryView = try await api.get(.intake, "/v1/incident-reports/\(ConsoleAPI.segment(id))")
        let cases: CasePageView? = try? await api.get(.triage, "/v1/cases", query: [("source", id), ("limit", "1")])
        let found = cases?.cases.first { $0.source?.id == report.intakeId }
        let language = context.language
        let data: [String: Any] = [
            "intakeId": report.intakeId, "title": report.title ?? "", "section": report.sectionCode ?? "",
            "category": report.category.map { Labels.text("cat_" + $0, language) } ?? "", "recordedAt": ConsoleFormat.date(report.recordedAt),
            "myNumberDetected": report.myNumberDetected ?? false,
            "caseNumber": found?.caseNumber as Any, "caseState": found.map { Labels.text("state_" + $0.state, language) } ?? Labels.text("notYetCase", language),
            "canSeeOriginal": session.current.role == .designatedHandler && (report.myNumberDetected ?? false),
        ]
        return page("report", title: "reportTitle", request, context, data: data)
    }
}
