import Directory
import Foundation
import Hummingbird
import ServiceClient

extension ConsoleAccess {
    /// Who is offered the risk register (Art. 26): the ward's officers who run risk management
    /// and read its results (Arts. 11, 13-16), the department security officer who approves
    /// them (Art. 17(6)(6)) and the section's officer who owns the section's risks (Art. 18).
    static let riskReaders: Set<DirectoryRole> = [
        .ciso, .cisoAdvisor, .auditChief, .generalSecurityOfficer, .generalSecurityManager, .generalSystemAdministrator, .departmentSecurityOfficer,
        .sectionSecurityOfficer,
    ]
    /// Who registers risks: the section's officer for the section, the ward's risk managers for any.
    static let riskRegistrars: Set<DirectoryRole> = [.ciso, .generalSecurityOfficer, .generalSecurityManager, .generalSystemAdministrator, .sectionSecurityOfficer]
}

/// The risk register's pages (issue #18 item 1): the list with a heat map (an HTML table of
/// counts; the SVG chart is drawn elsewhere), the register form, and a risk's page with its
/// hash-chained history and the treat, accept and review forms. Everything goes through
/// audit-scheduler's `/v1/risks` API with the person's token, so the scheduler decides who may
/// do what — including that only the CISO accepts above the appetite — and the page shows its
/// refusal at the form.
extension WebConsole {
    func addRiskRoutes(to router: some RouterMethods<ConsoleRequestContext>) {
        router.get("/risks") { request, context in try await riskList(request, context) }
        router.get("/risks/new") { request, context in
            _ = try session(request, context, roles: ConsoleAccess.riskRegistrars)
            return try await riskForm(request, context, form: FormData(), errors: [:], formError: nil)
        }
        router.post("/risks") { request, context in
            let session = try session(request, context, roles: ConsoleAccess.riskRegistrars)
            let form = context.form
            var body: [String: Any] = [
                "assetId": form["assetId"] ?? "", "title": form["title"] ?? "", "threat": form["threat"] ?? "", "vulnerability": form["vulnerability"] ?? "",
                "likelihood": Self.number(form["likelihood"]), "impact": Self.number(form["impact"]),
            ]
            if let section = form["sectionCode"] ?? session.current.unitCode { body["sectionCode"] = section }
            if let review = form["reviewDate"], !review.isEmpty { body["reviewDate"] = review }
            if let kind = form["sourceKind"], let reference = form["sourceReference"], !kind.isEmpty, !reference.isEmpty {
                body["sources"] = [["kind": kind, "reference": reference]]
            }
            switch try await api(session).send(.audit, "POST", "/v1/risks", json: body) {
            case .success(let data):
                guard let detail = try? JSONDecoder().decode(RiskDetailView.self, from: data) else { throw ConsolePageError.serviceUnavailable }
                return ConsolePageMiddleware.redirect("/risks/\(detail.risk.id)?notice=notice_done")
            case .failure(let problem):
                if problem.isAuthorisation && problem.status == 401 { throw ConsolePageError.forbidden }
                var (errors, rest) = Self.riskFieldErrors(problem)
                // A section's officer has no section input: the asset is what belongs elsewhere.
                if session.current.role == .sectionSecurityOfficer, let message = errors.removeValue(forKey: "sectionCode") { errors["assetId"] = message }
                return try await riskForm(request, context, form: form, errors: errors, formError: rest, status: .init(code: problem.status))
            }
        }
        router.get("/risks/:id") { request, context in
            try await riskPage(request, context, id: try context.parameters.require("id"))
        }
        router.post("/risks/:id/treat") { request, context in try await riskAction("treat", request, context) }
        router.post("/risks/:id/accept") { request, context in try await riskAction("accept", request, context) }
        router.post("/risks/:id/review") { request, context in try await riskAction("review", request, context) }
    }

    /// A treat, accept or review form sent to the scheduler; its refusal is shown at the form.
    func riskAction(_ action: String, _ request: Request, _ context: ConsoleRequestContext) async throws -> Response {
        let session = try session(request, context, roles: ConsoleAccess.riskReaders)
        let id = try context.parameters.require("id")
        let form = context.form
        var body: [String: Any] = [:]
        for name in ["treatment", "measures", "ownerRole", "ownerUnit", "dueDate", "transferTo", "reason", "notes", "nextReviewDate"] {
            if let value = form[name], !value.isEmpty { body[name] = value }
        }
        for name in ["residualLikelihood", "residualImpact"] {
            if let value = form[name], !value.isEmpty { body[name] = Self.number(value) }
        }
        if action == "accept" { body["reason"] = form["reason"] ?? "" }
        if action == "review" { body["notes"] = form["notes"] ?? "" }
        switch try await api(session).send(.audit, "POST", "/v1/risks/\(ConsoleAPI.segment(id))/\(action)", json: body) {
        case .success:
            return ConsolePageMiddleware.redirect("/risks/\(FormData.encode(id))?notice=notice_done")
        case .failure(let problem):
            let (errors, rest) = Self.riskFieldErrors(problem)
            return try await riskPage(
                request, context, id: id, action: action, form: form, errors: errors, actionError: rest ?? problem.detail ?? problem.title,
                status: .init(code: problem.status))
        }
    }

    /// A number typed in a form, or the text itself so the scheduler names what is wrong.
    static func number(_ text: String?) -> Any {
        guard let text, !text.isEmpty else { return NSNull() }
        return Int(text).map { $0 as Any } ?? text as Any
    }

    /// The scheduler's field errors (JSON pointers) by input name, and a message for the rest.
    static func riskFieldErrors(_ problem: ServiceProblem) -> (fields: [String: String], rest: String?) {
        var fields: [String: String] = [:]
        for entry in problem.fieldErrors {
            fields[String(entry.field.drop { $0 == "/" })] = entry.message
        }
        return (fields, fields.isEmpty ? (problem.detail ?? problem.title) : nil)
    }

    func riskList(_ request: Request, _ context: ConsoleRequestContext) async throws -> Response {
        let session = try session(request, context, roles: ConsoleAccess.riskReaders)
        let api = api(session)
        let language = context.language
        let query = request.uri.queryParameters
        let listed: RiskPageView = try await api.get(
            .audit, "/v1/risks",
            query: [("limit", "200"), ("treatment", query.get("treatment").flatMap { $0.isEmpty ? nil : $0 }), ("aboveAppetite", query.get("aboveAppetite") == "true" ? "true" : nil)])
        let summary: RiskSummaryView = try await api.get(.audit, "/v1/risks/summary")
        let scale: RiskScaleView = try await api.get(.audit, "/v1/risks/scale")
        let rows: [[String: Any]] = listed.risks.map { risk in
            [
                "id": risk.id, "href": "/risks/\(FormData.encode(risk.id))", "title": risk.title, "section": risk.sectionCode, "asset": risk.assetId,
                "inherent": scale.label(level: risk.inherentLevel, language), "inherentLevel": risk.inherentLevel,
                "current": scale.label(level: risk.currentLevel, language), "currentLevel": risk.currentLevel, "above": risk.aboveAppetite,
                "treatment": Labels.text("treatment_" + (risk.treatment ?? "untreated"), language), "review": risk.reviewDate, "reviewOverdue": risk.reviewOverdue,
            ]
        }
        return page(
            "risks", title: "risksTitle", request, context,
            data: [
                "risks": rows, "empty": rows.isEmpty, "canRegister": ConsoleAccess.riskRegistrars.contains(session.current.role),
                "heatMaps": [
                    ["id": "heatmap-residual", "caption": Labels.text("riskHeatResidual", language), "rows": heatRows(summary.heatMap.residual, scale, language)],
                    ["id": "heatmap-inherent", "caption": Labels.text("riskHeatInherent", language), "rows": heatRows(summary.heatMap.inherent, scale, language)],
                ],
                "impactLabels": scale.impact.map { language == .ja ? $0.ja : $0.en },
                "summary": [
                    "total": summary.total, "aboveAppetite": summary.aboveAppetite, "acceptedByCISO": summary.acceptedByCISO, "reviewsDue": summary.reviewsDue,
                    "reviewsOverdue": summary.reviewsOverdue, "appetite": scale.label(level: scale.appetite, language),
                ],
            ])
    }

    /// Rows from the highest likelihood down, as a heat map is read; each cell its count and level.
    func heatRows(_ counts: [[Int]], _ scale: RiskScaleView, _ language: ConsoleLanguage) -> [[String: Any]] {
        scale.likelihood.indices.reversed().map { l in
            [
                "label": language == .ja ? scale.likelihood[l].ja : scale.likelihood[l].en,
                "cells": scale.impact.indices.map { i in
                    let count = counts.indices.contains(l) && counts[l].indices.contains(i) ? counts[l][i] : 0
                    return ["count": count, "level": scale.matrix[l][i], "likelihood": l + 1, "impact": i + 1] as [String: Any]
                },
            ] as [String: Any]
        }
    }

    func riskForm(
        _ request: Request, _ context: ConsoleRequestContext, form: FormData, errors: [String: String], formError: String?,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let session = try session(request, context, roles: ConsoleAccess.riskRegistrars)
        let scale: RiskScaleView = try await api(session).get(.audit, "/v1/risks/scale")
        let language = context.language
        func field(_ name: String) -> [String: Any] { ["value": form[name] ?? "", "error": errors[name] as Any] }
        func options(_ name: String, _ steps: [RiskScaleView.Step]) -> [[String: Any]] {
            steps.map { step in ["value": step.value, "label": "\(step.value): " + (language == .ja ? step.ja : step.en), "selected": form[name] == String(step.value)] }
        }
        var data: [String: Any] = [
            "assetId": field("assetId"), "title": field("title"), "threat": field("threat"), "vulnerability": field("vulnerability"),
            "reviewDate": field("reviewDate"), "sourceReference": field("sourceReference"),
            "likelihoodOptions": options("likelihood", scale.likelihood), "impactOptions": options("impact", scale.impact),
            "likelihoodError": errors["likelihood"] as Any, "impactError": errors["impact"] as Any, "sourcesError": errors["sources"] as Any,
            "sourceKinds": ["finding", "incident", "self-inspection"].map { kind in
                ["value": kind, "label": Labels.text("source_" + kind, language), "selected": form["sourceKind"] == kind] as [String: Any]
            },
            "formError": formError as Any,
        ]
        if session.current.unitCode == nil || session.current.role != .sectionSecurityOfficer {
            data["sectionCode"] = field("sectionCode")
        }
        return page("risk-form", title: "riskNewTitle", request, context, data: data, status: status)
    }

    func riskPage(
        _ request: Request, _ context: ConsoleRequestContext, id: String, action: String? = nil, form: FormData = FormData(), errors: [String: String] = [:],
        actionError: String? = nil, status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let session = try session(request, context, roles: ConsoleAccess.riskReaders)
        let api = api(session)
        let language = context.language
        let detail: RiskDetailView = try await api.get(.audit, "/v1/risks/\(ConsoleAPI.segment(id))")
        let scale: RiskScaleView = try await api.get(.audit, "/v1/risks/scale")
        let risk = detail.risk
        func input(_ formName: String, _ name: String) -> [String: Any] {
            ["value": action == formName ? (form[name] ?? "") : "", "error": (action == formName ? errors[name] : nil) as Any]
        }
        func options(_ formName: String, _ name: String, _ steps: [RiskScaleView.Step], current: Int?) -> [[String: Any]] {
            let chosen = action == formName ? form[name].flatMap(Int.init) : current
            return steps.map { step in ["value": step.value, "label": "\(step.value): " + (language == .ja ? step.ja : step.en), "selected": chosen == step.value] }
        }
        let residualL = risk.residualLikelihood ?? risk.inherentLikelihood
        let residualI = risk.residualImpact ?? risk.inherentImpact
        func residualInputs(_ formName: String) -> [String: Any] {
            [
                "likelihoodOptions": options(formName, "residualLikelihood", scale.likelihood, current: residualL),
                "impactOptions": options(formName, "residualImpact", scale.impact, current: residualI),
                "likelihoodError": (action == formName ? errors["residualLikelihood"] : nil) as Any,
                "impactError": (action == formName ? errors["residualImpact"] : nil) as Any,
            ]
        }
        let history: [[String: Any]] = detail.history.map { entry in
            [
                "action": Labels.text("riskEntry_" + entry.entryType, language), "type": entry.entryType, "at": ConsoleFormat.date(entry.recordedAt),
                "actor": Labels.roleName(DirectoryRole(rawValue: entry.actorRole) ?? .ciso, language) + (entry.actorUnit.map { " (\($0))" } ?? ""),
                "reason": entry.body.reason as Any, "level": entry.body.risk.map { scale.label(level: $0.currentLevel, language) } as Any, "hash": String(entry.hash.prefix(12)),
            ]
        }
        let allowed = Set(detail.allowedActions)
        var data: [String: Any] = [
            "risk": [
                "id": risk.id, "title": risk.title, "asset": risk.assetId, "section": risk.sectionCode, "department": risk.departmentCode, "threat": risk.threat,
                "vulnerability": risk.vulnerability,
                "inherent": "\(risk.inherentLikelihood) × \(risk.inherentImpact) = " + scale.label(level: risk.inherentLevel, language),
                "inherentLevel": risk.inherentLevel,
                "residual": risk.residualLevel.map { "\(residualL) × \(residualI) = " + scale.label(level: $0, language) } as Any,
                "currentLevel": risk.currentLevel, "above": risk.aboveAppetite,
                "treatment": Labels.text("treatment_" + (risk.treatment ?? "untreated"), language), "measuresText": (risk.measures.isEmpty ? nil : risk.measures) as Any,
                "owner": risk.treatmentOwnerRole.flatMap(DirectoryRole.init(rawValue:)).map { Labels.roleName($0, language) + (risk.treatmentOwnerUnit.map { " (\($0))" } ?? "") } as Any,
                "due": risk.treatmentDueDate as Any, "transferText": risk.transferTo as Any,
                "acceptedBy": risk.acceptedByRole.flatMap(DirectoryRole.init(rawValue:)).map { Labels.roleName($0, language) } as Any,
                "acceptedReason": risk.acceptedReason as Any, "review": risk.reviewDate, "reviewOverdue": risk.reviewOverdue,
                "sources": risk.sources.map { ["kind": Labels.text("source_" + $0.kind, language), "reference": $0.reference] },
            ] as [String: Any],
            "appetite": scale.label(level: scale.appetite, language),
            "history": history, "verified": detail.historyVerified, "broken": !detail.historyVerified,
            "canTreat": allowed.contains("treat"), "canAccept": allowed.contains("accept"), "canReview": allowed.contains("review"),
            "treatError": (action == "treat" ? actionError : nil) as Any, "acceptError": (action == "accept" ? actionError : nil) as Any,
            "reviewError": (action == "review" ? actionError : nil) as Any,
            "treatmentOptions": ["reduce", "transfer", "avoid"].map { value in
                ["value": value, "label": Labels.text("treatment_" + value, language), "selected": (action == "treat" ? form["treatment"] : risk.treatment) == value] as [String: Any]
            },
            "treatmentError": (action == "treat" ? errors["treatment"] : nil) as Any,
            "measures": input("treat", "measures"), "ownerUnit": input("treat", "ownerUnit"), "dueDate": input("treat", "dueDate"),
            "transferTo": input("treat", "transferTo"), "treatReason": input("treat", "reason"),
            "acceptReason": input("accept", "reason"), "notes": input("review", "notes"), "nextReviewDate": input("review", "nextReviewDate"),
            "treatResidual": residualInputs("treat"), "acceptResidual": residualInputs("accept"), "reviewResidual": residualInputs("review"),
        ]
        if action != nil { data["focus"] = action }
        return page("risk", title: "riskTitle", request, context, data: data, status: status)
    }
}

// MARK: What the pages read from audit-scheduler

struct RiskView: Decodable {
    struct Source: Decodable {
        var kind: String
        var reference: String
    }

    var id: String
    var assetId: String
    var sectionCode: String
    var departmentCode: String
    var title: String
    var threat: String
    var vulnerability: String
    var inherentLikelihood: Int
    var inherentImpact: Int
    var inherentLevel: String
    var treatment: String?
    var measures: String
    var treatmentOwnerRole: String?
    var treatmentOwnerUnit: String?
    var treatmentDueDate: String?
    var transferTo: String?
    var residualLikelihood: Int?
    var residualImpact: Int?
    var residualLevel: String?
    var currentLevel: String
    var aboveAppetite: Bool
    var acceptedByRole: String?
    var acceptedReason: String?
    var reviewDate: String
    var reviewOverdue: Bool
    var sources: [Source]
}

struct RiskPageView: Decodable {
    var risks: [RiskView]
}

struct RiskDetailView: Decodable {
    struct Entry: Decodable {
        struct Body: Decodable {
            struct State: Decodable {
                var currentLevel: String
            }

            var risk: State?
            var reason: String?
        }

        var seq: Int64
        var recordedAt: String
        var entryType: String
        var actorRole: String
        var actorUnit: String?
        var body: Body
        var hash: String
    }

    var risk: RiskView
    var history: [Entry]
    var historyVerified: Bool
    var allowedActions: [String]
}

struct RiskScaleView: Decodable {
    struct Step: Decodable {
        var value: Int
        var ja: String
        var en: String
    }

    struct Level: Decodable {
        var id: String
        var ja: String
        var en: String
    }

    var likelihood: [Step]
    var impact: [Step]
    var levels: [Level]
    var matrix: [[String]]
    var appetite: String

    func label(level id: String, _ language: ConsoleLanguage) -> String {
        guard let level = levels.first(where: { $0.id == id }) else { return id }
        return language == .ja ? level.ja : level.en
    }
}

struct RiskSummaryView: Decodable {
    struct HeatMap: Decodable {
        var inherent: [[Int]]
        var residual: [[Int]]
    }

    var total: Int
    var heatMap: HeatMap
    var aboveAppetite: Int
    var acceptedByCISO: Int
    var reviewsDue: Int
    var reviewsOverdue: Int
}
