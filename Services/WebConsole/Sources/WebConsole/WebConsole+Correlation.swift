import Foundation
import Hummingbird
import ServiceClient

/// The case page's merge and split forms (issue #16): CSIRT makes two cases one, or takes a
/// report a correlation rule joined wrongly out into a case of its own. Triage decides who may
/// (the incident handlers) and when; its refusals show on the case page like any other.
extension WebConsole {
    /// `POST /cases/<n>/merge` (`into`, `reason`) and `POST /cases/<n>/split` (`sourceKind`,
    /// `sourceId`, `reason`). A merge lands on the survivor's page, a split on the new case's:
    /// where the reports are now.
    func correlationAction(_ request: Request, _ context: ConsoleRequestContext, session: ConsoleSession, number: String, action: String) async throws -> Response {
        let form = context.form
        let path = "/v1/cases/\(ConsoleAPI.segment(number))/\(action)"
        let body: [String: Any] = switch action {
        case "merge":
            // Typed by hand: `inc-2026-000042 ` names the same case.
            ["into": (form["into"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines).uppercased(), "reason": form["reason"] ?? ""]
        default:
            ["sourceKind": form["sourceKind"] ?? "incident-report", "sourceId": form["sourceId"] ?? "", "reason": form["reason"] ?? ""]
        }
        let json = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
        let result = try await api(session).exchange(.triage, "POST", path, body: json)
        if (200..<300).contains(result.status) {
            let record = (try? JSONDecoder().decode(CaseNumberView.self, from: result.body))?.caseNumber ?? number
            let notice = action == "merge" ? "notice_merged" : "notice_split"
            return ConsolePageMiddleware.redirect("/cases/\(FormData.encode(record))?notice=\(notice)")
        }
        let problem = ServiceProblem(status: result.status, body: result.body)
        if problem.isAuthorisation { throw ConsolePageError.forbidden }
        // A 404 here is the other case or the report, not this page: this page shows it (and is
        // itself the not-found page when this case is not the person's to see).
        if result.status == 404 {
            let message = Labels.text(action == "merge" ? "mergeTargetUnknown" : "splitReportUnknown", context.language)
            return try await casePage(request, context, number: number, actionError: message, status: .unprocessableContent)
        }
        return try await casePage(request, context, number: number, actionError: problem.detail ?? problem.title, status: .init(code: problem.status))
    }
}

/// The number of the case a change answered with.
struct CaseNumberView: Decodable {
    var caseNumber: String
}
