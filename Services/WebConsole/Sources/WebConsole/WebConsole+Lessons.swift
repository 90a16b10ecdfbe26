import Directory
import Foundation
import Hummingbird
import Postgres
import ServiceClient

/// The lessons of a case as triage's detail gives them (issue #18; Art. 27(1), 27(2)).
struct LessonsView: Decodable {
    struct Measure: Decodable {
        var id: String
        var description: String
        var ownerRole: String
        var ownerUnit: String
        var dueDate: String
    }

    struct ERP: Decodable {
        var needed: Bool
        var note: String?
    }

    var cause: String
    var measures: [Measure]
    var erpChange: ERP
    var recordedAt: String
}

/// Closing a case with its lessons, and showing them (issue #18 item 2). The close form asks for
/// the cause (Art. 27(1)), up to ``measureRows`` recurrence-prevention measures (rows left empty
/// are ignored; no JavaScript adds rows) and whether the emergency response plan needs a change
/// (Art. 27(2)). Triage decides; its field errors come back at the inputs, as on the report form.
extension WebConsole {
    /// How many measure rows the close form offers.
    static let measureRows = 3

    /// The roles a measure may be owed by, in the order of the chain.
    static let measureRoles: [DirectoryRole] = [
        .sectionSecurityOfficer, .sectionSecurityStaff, .departmentSecurityOfficer, .generalSecurityManager, .generalSystemAdministrator,
        .generalSecurityOfficer, .csirt, .ciso,
    ]

    /// `POST /cases/{number}/close`: the form as triage's `close` transition with its lessons.
    func closeAction(_ request: Request, _ context: ConsoleRequestContext, session: ConsoleSession, number: String) async throws -> Response {
        let form = context.form
        let (lessons, rows) = Self.lessonsBody(form)
        var body: [String: Any] = ["action": "close", "lessons": lessons]
        if let reason = form["reason"] { body["reason"] = reason }
        let result = try await api(session).send(.triage, "POST", "/v1/cases/\(ConsoleAPI.segment(number))/transitions", json: body)
        guard case .failure(let problem) = result, !problem.isAuthorisation, !problem.fieldErrors.isEmpty else {
            return try await afterCaseAction(request, context, number: number, result: result)
        }
        let (errors, rest) = Self.lessonsErrors(problem, rows: rows, language: context.language)
        let message = ([Labels.text("lessonsProblems", context.language)] + rest).joined(separator: " ")
        return try await casePage(
            request, context, number: number, actionError: message, status: .init(code: problem.status), closeForm: (form, errors))
    }

    /// The lessons of the form as triage takes them, and which form row each measure came from:
    /// a row with no description, unit and date is left out.
    static func lessonsBody(_ form: FormData) -> (lessons: [String: Any], rows: [Int]) {
        var measures: [[String: Any]] = []
        var rows: [Int] = []
        for row in 0..<measureRows {
            let prefix = "m\(row)"
            guard form[prefix + "Description"] != nil || form[prefix + "Unit"] != nil || form[prefix + "Due"] != nil else { continue }
            measures.append([
                "description": form.raw(prefix + "Description"), "ownerRole": form[prefix + "Role"] ?? "", "ownerUnit": form[prefix + "Unit"] ?? "",
                "dueDate": form[prefix + "Due"] ?? "",
            ])
            rows.append(row)
        }
        var lessons: [String: Any] = ["cause": form.raw("cause"), "measures": measures]
        switch form["erp"] {
        case "needed": lessons["erpChange"] = ["needed": true, "note": form.raw("erpNote")]
        case "none": lessons["erpChange"] = ["needed": false]
        default: break
        }
        return (lessons, rows)
    }

    /// Triage's pointers (`/lessons/measures/1/dueDate`) as the form's inputs (`m2Due` when the
    /// second measure sent came from the third row); those naming no input go above the form.
    static func lessonsErrors(_ problem: ServiceProblem, rows: [Int], language: ConsoleLanguage) -> (fields: [String: String], rest: [String]) {
        var fields: [String: String] = [:]
        var rest: [String] = []
        let direct = ["/lessons/cause": "cause", "/lessons/erpChange/needed": "erp", "/lessons/erpChange/note": "erpNote", "/lessons/measures": "measures", "/lessons": "cause"]
        let parts = ["description": "Description", "ownerRole": "Role", "ownerUnit": "Unit", "dueDate": "Due"]
        for entry in problem.fieldErrors {
            let label = "lessonsErr_" + entry.code
            let message = language == .ja && Labels.table[label] != nil ? Labels.text(label, .ja) : entry.message
            var input = direct[entry.field]
            let path = entry.field.split(separator: "/").map(String.init)
            if input == nil, path.count == 4, path[0] == "lessons", path[1] == "measures", let position = Int(path[2]), position < rows.count,
               let part = parts[path[3]] {
                input = "m\(rows[position])\(part)"
            }
            if let input {
                fields[input] = fields[input].map { $0 + " " + message } ?? message
            } else {
                rest.append(message)
            }
        }
        return (fields, rest)
    }

    /// What the case page shows of lessons and offers to close: the latest lessons and the earlier
    /// ones, and the close form (with what was typed and triage's errors after a refusal).
    func lessonsPageData(
        _ detail: CaseDetailView, canClose: Bool, closeForm: (form: FormData, errors: [String: String])?, language: ConsoleLanguage
    ) async throws -> [String: Any] {
        func lessons(_ view: LessonsView) -> [String: Any] {
            [
                "cause": view.cause, "recordedAt": ConsoleFormat.date(view.recordedAt), "erpNeeded": view.erpChange.needed,
                "erpNote": view.erpChange.note as Any,
                "measures": view.measures.map { measure in
                    [
                        "id": measure.id, "description": measure.description, "unit": measure.ownerUnit, "dueDate": measure.dueDate,
                        "role": DirectoryRole(rawValue: measure.ownerRole).map { Labels.roleName($0, language) } ?? measure.ownerRole,
                    ]
                },
            ]
        }
        var data: [String: Any] = [
            "lessons": detail.lessons.map(lessons) as Any, "earlierLessons": (detail.earlierLessons ?? []).map(lessons),
            "hasEarlierLessons": !(detail.earlierLessons ?? []).isEmpty, "canClose": canClose,
        ]
        guard canClose else { return data }
        let directory = directory
        let (sections, departments) = try await database.withConnection { connection in
            (try directory.sections(on: connection), try directory.departments(on: connection))
        }
        let form = closeForm?.form ?? FormData()
        let errors = closeForm?.errors ?? [:]
        let units: [(code: String, name: String)] = sections.map { ($0.code, $0.name) } + departments.map { ($0.code, $0.name) }
        data["close"] = [
            "cause": form.raw("cause"), "causeError": errors["cause"] as Any, "measuresError": errors["measures"] as Any,
            "reason": form.raw("reason"),
            "rows": (0..<Self.measureRows).map { row -> [String: Any] in
                let prefix = "m\(row)"
                let role = form[prefix + "Role"] ?? DirectoryRole.sectionSecurityOfficer.rawValue
                let unit = form[prefix + "Unit"] ?? ""
                return [
                    "index": row, "number": row + 1, "description": form.raw(prefix + "Description"), "due": form[prefix + "Due"] ?? "",
                    "roles": Self.measureRoles.map { ["value": $0.rawValue, "label": Labels.roleName($0, language), "selected": $0.rawValue == role] },
                    "units": units.map { ["value": $0.code, "label": "\($0.name) (\($0.code))", "selected": $0.code == unit] },
                    "descriptionError": errors[prefix + "Description"] as Any, "roleError": errors[prefix + "Role"] as Any,
                    "unitError": errors[prefix + "Unit"] as Any, "dueError": errors[prefix + "Due"] as Any,
                ]
            },
            "erpNeeded": form["erp"] == "needed", "erpNone": form["erp"] == "none", "erpError": errors["erp"] as Any,
            "erpNote": form.raw("erpNote"), "erpNoteError": errors["erpNote"] as Any,
        ] as [String: Any]
        return data
    }
}
