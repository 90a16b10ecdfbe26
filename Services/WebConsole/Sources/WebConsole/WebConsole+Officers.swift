import Directory
import Postgres
import Foundation
import Hummingbird
import ServiceClient

/// The officers' and operators' pages: decisions waiting for the CISO and the general security
/// officer, the sign-in log, and the state of the queues and services.
extension WebConsole {
    func addOfficerRoutes(to router: some RouterMethods<ConsoleRequestContext>) {
        router.get("/decisions") { request, context in try await decisions(request, context) }
        router.post("/findings/:id/review") { request, context in
            let session = try session(request, context, roles: [.departmentSecurityOfficer])
            let id = try context.parameters.require("id")
            let result = try await api(session).send(
                .audit, "POST", "/v1/findings/\(ConsoleAPI.segment(id))/review",
                json: ["approve": context.form["approve"] == "true", "comment": context.form["comment"] ?? NSNull()])
            switch result {
            case .success: return ConsolePageMiddleware.redirect("/decisions?notice=notice_done")
            case .failure(let problem):
                if problem.isAuthorisation { throw ConsolePageError.forbidden }
                return try await decisions(request, context, actionError: problem.detail ?? problem.title, status: .init(code: problem.status))
            }
        }
        router.get("/security/sign-ins") { request, context in
            _ = try session(request, context, roles: [.generalSecurityOfficer])
            let before = request.uri.queryParameters.get("before").flatMap(Int64.init)
            let credentials = credentials
            let entries = try await database.withConnection { connection in try credentials.logEntries(limit: 101, beforeID: before, on: connection) }
            let language = context.language
            let rows: [[String: Any]] = entries.prefix(100).map { entry in
                [
                    "at": ConsoleFormat.date(ConsoleFormat.wire(entry.at)), "person": entry.personID, "event": entry.event,
                    "eventLabel": Labels.text("event_" + entry.event, language), "address": entry.address ?? "", "agent": entry.userAgent ?? "",
                    "role": entry.role ?? "",
                ]
            }
            let next = entries.count > 100 ? entries[99].id : nil
            return page("sign-ins", title: "signInsTitle", request, context, data: ["rows": rows, "nextLink": next.map { "/security/sign-ins?before=\($0)" } as Any])
        }
        router.get("/operations") { request, context in
            _ = try session(request, context, roles: [.generalSystemAdministrator])
            return page("operations", title: "operationsTitle", request, context, data: try await operations())
        }
    }

    /// What waits for this person: use restrictions to approve (CISO and general security
    /// officer, Art. 27(3)) and treated audit findings, which the department security officer
    /// approves or returns (Art. 17(6)(6)); the CISO and the general security officer see
    /// those too, to follow them.
    func decisions(_ request: Request, _ context: ConsoleRequestContext, actionError: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let session = try session(request, context, roles: ConsoleAccess.deciders.union([.departmentSecurityOfficer]))
        let api = api(session)
        let language = context.language
        var decisions: [[String: Any]] = []
        if ConsoleAccess.deciders.contains(session.current.role) {
            let restrictions: RestrictionPageView = try await api.get(.triage, "/v1/restrictions", query: [("status", "awaiting-approval"), ("limit", "200")])
            decisions += restrictions.restrictions.map { item in
                [
                    "kind": Labels.text("restrictionToApprove", language), "href": "/cases/\(FormData.encode(item.caseNumber))#restrictions",
                    "label": "\(item.caseNumber) \(item.caseTitle) — " + item.restriction.targets.map(\.name).joined(separator: ", "),
                    "detail": item.restriction.reason, "at": ConsoleFormat.date(item.restriction.orderedAt), "severity": item.severity,
                ]
            }
        }
        let findings = (try? await api.get(.audit, "/v1/findings", query: [("status", "treated"), ("limit", "200")], as: FindingPageView.self))?.findings ?? []
        let reviewer = session.current.role == .departmentSecurityOfficer
        decisions += findings.map { finding in
            [
                "kind": Labels.text(reviewer ? "findingToApprove" : "findingWaiting", language), "label": finding.sectionCode + " — " + finding.title,
                "detail": finding.treatmentPlan ?? "", "at": finding.dueDate ?? "", "findingId": finding.id, "canReview": reviewer,
            ]
        }
        return page("decisions", title: "decisionsTitle", request, context, data: ["decisions": decisions, "empty": decisions.isEmpty, "actionError": actionError as Any], status: status)
    }

    /// What `isms status` shows: each work queue's figures and dead letters, each service's readiness.
    func operations() async throws -> [String: Any] {
        var data: [String: Any] = [:]
        do {
            let queues = try await BrokerManagement.queues(managementURL: configuration.managementURL)
            data["queues"] = queues.keys.filter { !$0.hasSuffix(".dlq") && !$0.hasPrefix("amq.") }.sorted().map { name in
                let figures = queues[name]!
                let dead = queues[name + ".dlq"]?.messages ?? 0
                return [
                    "name": name, "ready": figures.ready, "unacked": figures.unacked, "consumers": figures.consumers, "dead": dead,
                    "alarm": dead > 0 || figures.consumers == 0,
                ] as [String: Any]
            }
        } catch {
            data["managementDown"] = true
        }
        var services: [[String: Any]] = []
        for service in ConsoleService.allCases {
            let base = configuration.serviceURLs[service] ?? service.localDefault
            let (ready, detail) = await BrokerManagement.readiness(baseURL: base)
            services.append(["name": service.rawValue, "ready": ready, "detail": detail, "url": base])
        }
        data["services"] = services
        return data
    }
}
