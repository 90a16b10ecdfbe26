import Directory
import Foundation
import Hummingbird
import ServiceClient

/// Duties on demand (issue #18 item 3): the ward-wide officers order an extra education,
/// self-inspection or audit for a unit with a reason (Arts. 23-25 "as needed", 必要に応じて),
/// and follow the duties that did not come from the calendar: orders, contractor education
/// (Art. 23) and improvement actions after low self-inspection scores (Art. 24).
extension WebConsole {
    /// Who orders: the officers who run education and self-inspection (Art. 11, 14, 16), CSIRT
    /// after an incident (Art. 22), and the audit chief for audits (Art. 13(3)). The scheduler
    /// decides which kinds each may order.
    static let dutyOrderers: Set<DirectoryRole> = [.ciso, .generalSecurityOfficer, .generalSecurityManager, .csirt, .auditChief]
    static let orderKinds = ["education", "self-inspection", "audit"]
    static let dutyOrigins = ["on-demand", "improvement", "contract", "finding", "calendar"]

    func addDutyRoutes(to router: some RouterMethods<ConsoleRequestContext>) {
        router.get("/duties") { request, context in try await dutyList(request, context) }
        router.get("/duties/order") { request, context in
            _ = try session(request, context, roles: Self.dutyOrderers)
            return orderForm(request, context, form: FormData(), errors: [:], formError: nil)
        }
        router.post("/duties/order") { request, context in try await orderDuty(request, context) }
    }

    struct DutyListView: Decodable {
        struct Item: Decodable {
            var id: String
            var kind: String
            var title: String
            var unitCode: String?
            var dueDate: String
            var status: String
            var overdue: Bool
            var origin: String?
            var reason: String?
            var caseNumber: String?
        }

        var duties: [Item]
    }

    /// The duties of this fiscal year of one origin (on demand by default), by due date.
    func dutyList(_ request: Request, _ context: ConsoleRequestContext) async throws -> Response {
        let session = try session(request, context, roles: Self.dutyOrderers)
        let language = context.language
        let origin = request.uri.queryParameters.get("origin").flatMap { Self.dutyOrigins.contains(String($0)) ? String($0) : nil } ?? "on-demand"
        let list: DutyListView = try await api(session).get(.audit, "/v1/duties", query: [("origin", origin), ("limit", "500")])
        let rows: [[String: Any]] = list.duties.map { duty in
            [
                "id": duty.id, "dueDate": duty.dueDate, "unit": duty.unitCode ?? Labels.text("dutyWard", language),
                "kind": Labels.text("dutyKind_" + duty.kind, language), "title": duty.title,
                "status": Labels.text(duty.overdue ? "dutyStatus_overdue" : "dutyStatus_" + duty.status, language), "overdue": duty.overdue,
                "origin": Labels.text("dutyOrigin_" + (duty.origin ?? "calendar"), language), "reason": duty.reason ?? "",
                "caseNumber": duty.caseNumber ?? "", "caseHref": duty.caseNumber.map { "/cases/\(FormData.encode($0))" } as Any,
            ]
        }
        return page(
            "duties", title: "dutiesTitle", request, context,
            data: [
                "rows": rows, "empty": rows.isEmpty,
                "origins": Self.options(Self.dutyOrigins, selected: origin) { Labels.text("dutyOrigin_" + $0, language) },
            ])
    }

    func orderForm(
        _ request: Request, _ context: ConsoleRequestContext, form: FormData, errors: [String: String], formError: String?, status: HTTPResponse.Status = .ok
    ) -> Response {
        let language = context.language
        func field(_ name: String) -> [String: Any] { ["value": form.raw(name), "error": errors[name] as Any] }
        let data: [String: Any] = [
            "kinds": Self.options(Self.orderKinds, selected: form["kind"] ?? "education") { Labels.text("dutyKind_" + $0, language) },
            "kindError": errors["kind"] as Any,
            "unitCode": field("unitCode"), "dueDate": field("dueDate"), "reason": field("reason"), "caseNumber": field("caseNumber"),
            "auditorPersonId": field("auditorPersonId"), "formError": formError as Any,
        ]
        return page("duty-order", title: "orderDutyTitle", request, context, data: data, status: status)
    }

    func orderDuty(_ request: Request, _ context: ConsoleRequestContext) async throws -> Response {
        let session = try session(request, context, roles: Self.dutyOrderers)
        let form = context.form
        var body: [String: Any] = [
            "kind": form["kind"] ?? "", "unitCode": form["unitCode"] ?? "", "dueDate": form["dueDate"] ?? "", "reason": form["reason"] ?? "",
        ]
        if let number = form["caseNumber"] { body["caseNumber"] = number }
        if let person = form["auditorPersonId"] { body["auditorPersonId"] = person }
        let result = try await api(session).send(.audit, "POST", "/v1/duties/on-demand", json: body)
        switch result {
        case .success:
            return ConsolePageMiddleware.redirect("/duties?origin=on-demand&notice=notice_dutyOrdered")
        case .failure(let problem):
            // A role that may not order this kind sees why next to the form, not a blank refusal.
            var errors: [String: String] = [:]
            var rest: [String] = []
            for entry in problem.fieldErrors {
                let input = String(entry.field.dropFirst())
                if ["unitCode", "dueDate", "reason", "caseNumber", "auditorPersonId", "kind"].contains(input) {
                    errors[input] = errors[input].map { $0 + " " + entry.message } ?? entry.message
                } else {
                    rest.append(entry.message)
                }
            }
            if problem.status == 409, form["auditorPersonId"] != nil {
                errors["auditorPersonId"] = problem.detail ?? problem.title
            } else if problem.fieldErrors.isEmpty {
                rest.append(problem.detail ?? problem.title)
            }
            let formError = ([Labels.text("orderProblems", context.language)] + rest).joined(separator: " ")
            return orderForm(request, context, form: form, errors: errors, formError: formError, status: .unprocessableContent)
        }
    }
}
