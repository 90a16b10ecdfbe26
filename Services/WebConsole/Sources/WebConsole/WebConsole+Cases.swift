import Acknowledgement
import Contracts
import Directory
import Foundation
import Hummingbird
import Logging
import Postgres
import ServiceClient
import WardCalendar

/// CSIRT's pages: the queue of cases nobody has acknowledged, the case list and the case page
/// with every action the person's role may take from the case's state.
extension WebConsole {
    /// Triage's case states (CSIRTTriage's `CaseState`, which the console does not link).
    static let caseStates = ["reported", "triaged", "acknowledged", "investigating", "contained", "recovered", "closed", "discarded", "reopened", "merged"]
    /// How a report came into a case that has a label of its own; a correlation rule's id is
    /// shown as it is written in deploy/config/correlation-rules.yaml.
    static let reportRules = ["opened", "merge", "split"]
    /// How many of a case's reports its page lists (triage answers the first 1000; a storm's
    /// case may hold 100,000): the count says how many there are.
    static let reportsShown = 200
    /// The contract's categories, in its order.
    static let categories = IncidentCategory.allCases.map(\.rawValue)
    static let verdictNames = [
        "personalData", "myNumber", "sensitiveData", "propertyDamage", "wrongfulIntent", "unspecifiedViewers", "moreThan100Persons", "strongEncryption",
    ]

    func addCaseRoutes(to router: some RouterMethods<ConsoleRequestContext>) {
        router.get("/queue") { request, context in
            let session = try session(request, context, roles: ConsoleAccess.handlers)
            let rows = try await queueRows(session, context.language)
            return page("queue", title: "queueTitle", request, context, data: ["rows": rows, "empty": rows.isEmpty])
        }
        // The queue's rows alone: console.js swaps them in every 15 s (the page refreshes itself).
        router.get("/queue/rows") { request, context in
            let session = try session(request, context, roles: ConsoleAccess.handlers)
            let rows = try await queueRows(session, context.language)
            let html = renderer.fragment(
                "queue-rows", data: ["rows": rows, "empty": rows.isEmpty, "csrf": context.csrfToken, "t": Labels.all(context.language)])
            return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: .init(string: html)))
        }
        router.get("/cases") { request, context in try await caseList(request, context) }
        router.post("/cases/bulk") { request, context in try await bulk(request, context) }
        router.get("/cases/:number") { request, context in
            try await casePage(request, context, number: context.parameters.require("number"))
        }
        router.post("/cases/:number/:action") { request, context in
            try await caseAction(request, context, number: context.parameters.require("number"), action: context.parameters.require("action"))
        }
        // Named apart from `:action`: the router prefers the constant `restrictions` segment of
        // the route below and would not fall back to the parameter.
        router.post("/cases/:number/restrictions") { request, context in
            try await caseAction(request, context, number: context.parameters.require("number"), action: "restrictions")
        }
        router.post("/cases/:number/restrictions/:id/:step") { request, context in
            try await restrictionStep(
                request, context, number: context.parameters.require("number"), id: context.parameters.require("id"), step: context.parameters.require("step"))
        }
        router.post("/cases/:number/obligations/:id/filing") { request, context in
            let session = try context.requireSession(request)
            let (number, id) = (try context.parameters.require("number"), try context.parameters.require("id"))
            let result = try await api(session).send(
                .triage, "POST", "/v1/cases/\(ConsoleAPI.segment(number))/obligations/\(ConsoleAPI.segment(id))/filing",
                json: ["reference": context.form["reference"] ?? ""])
            return try await afterCaseAction(request, context, number: number, result: result)
        }
        router.get("/acknowledge/:token") { request, context in
            let token = try context.parameters.require("token")
            try Self.requireOwnLink(token, session: try context.requireSession(request))
            return page("acknowledge", title: "acknowledge", request, context, data: ["token": token])
        }
        router.post("/acknowledge/:token") { request, context in
            let token = try context.parameters.require("token")
            try Self.requireOwnLink(token, session: try context.requireSession(request))
            // The signed link names the case and the person; triage checks it as for the mail's page.
            let result = try await api(nil).send(.triage, "POST", "/v1/acknowledgements/\(ConsoleAPI.segment(token))", json: [:])
            guard let caseNumber = AcknowledgementToken.claim(token)?.caseNumber else { throw ConsolePageError.notFound }
            // Acknowledged now, or already (by the person or somebody else): either way the
            // link's purpose is the case, whose page shows where it stands.
            let notice = if case .success = result { "?notice=notice_done" } else { "" }
            return ConsolePageMiddleware.redirect("/cases/\(FormData.encode(caseNumber))" + notice)
        }
    }

    /// A mailed link acknowledges as the person it was sent to (`<case>.<person>.<expiry>.<mac>`,
    /// triage checks the signature); here it works only in that person's own session, so a
    /// forwarded mail does not let someone else act in their name.
    static func requireOwnLink(_ token: String, session: ConsoleSession) throws {
        guard AcknowledgementToken.claim(token)?.personID == session.personID else { throw ConsolePageError.notFound }
    }

    // MARK: Queue

    func queueRows(_ session: ConsoleSession, _ language: ConsoleLanguage) async throws -> [[String: Any]] {
        let page: CasePageView = try await api(session).get(.triage, "/v1/cases", query: [("acknowledged", "false"), ("limit", "500")])
        let now = Date()
        let waiting = page.cases
            .filter { ["reported", "triaged"].contains($0.state) }
            .sorted { ($0.severity, $0.openedAt, $0.caseNumber) < ($1.severity, $1.openedAt, $1.caseNumber) }
        return waiting.map { summary in
            var row = Self.caseRow(summary, language)
            row["age"] = ConsoleFormat.parse(summary.openedAt).map { ConsoleFormat.duration(now.timeIntervalSince($0), language) } ?? ""
            row["escalationLevel"] = Labels.escalationLevel(summary.escalationLevel ?? -1, language)
            if let next = ConsoleFormat.parse(summary.nextEscalationAt) {
                row["nextIn"] = ConsoleFormat.duration(next.timeIntervalSince(now), language)
                row["nextOverdue"] = next < now
            }
            return row
        }
    }

    static func caseRow(_ summary: CaseSummaryView, _ language: ConsoleLanguage) -> [String: Any] {
        [
            "caseNumber": summary.caseNumber, "title": summary.title, "severity": summary.severity, "state": summary.state,
            "stateLabel": Labels.text("state_" + summary.state, language), "category": Labels.text("cat_" + summary.category, language),
            "section": summary.sectionCode, "department": summary.departmentCode, "openedAt": ConsoleFormat.date(summary.openedAt),
            "acknowledgedAt": ConsoleFormat.date(summary.acknowledgedAt), "canAcknowledge": ["reported", "triaged"].contains(summary.state),
            // A storm is one row: its count shows only when more than one report is in it (a
            // merged case keeps the count it had, but its reports are in the survivor now).
            "reportCount": (summary.reportCount ?? 1) > 1 && summary.state != "merged" ? summary.reportCount as Any : NSNull(),
        ]
    }

    // MARK: Case list

    func caseList(_ request: Request, _ context: ConsoleRequestContext) async throws -> Response {
        let session = try session(request, context, roles: ConsoleAccess.handlers.union(ConsoleAccess.unitReaders))
        let parameters = request.uri.queryParameters
        func value(_ name: String) -> String? { parameters.get(name).flatMap { $0.isEmpty ? nil : $0 } }
        // The period is chosen in days of the ward; the API takes instants.
        let from = value("from").flatMap { ConsoleFormat.parseInput($0 + "T00:00") }.map(ConsoleFormat.wire)
        let to = value("to").flatMap { ConsoleFormat.parseInput($0 + "T00:00") }.map { ConsoleFormat.wire($0.addingTimeInterval(86_400)) }
        let query: [(String, String?)] = [
            ("state", value("state")), ("severity", value("severity")), ("section", value("section")), ("department", value("department")),
            ("category", value("category")), ("assignee", value("assignee")), ("q", value("q")), ("from", from), ("to", to),
            ("cursor", value("cursor")), ("limit", "50"),
        ]
        let page: CasePageView = try await api(session).get(.triage, "/v1/cases", query: query)
        let language = context.language
        let csirt = try await database.withConnection { [directory] connection in try directory.people(role: .csirt, on: connection) }
        var nextQuery = query.compactMap { name, value in value.map { (name, $0) } }.filter { $0.0 != "cursor" && $0.0 != "limit" && $0.0 != "from" && $0.0 != "to" }
        if let from = value("from") { nextQuery.append(("from", from)) }
        if let to = value("to") { nextQuery.append(("to", to)) }
        let nextLink = page.nextCursor.map { cursor in
            "/cases?" + (nextQuery + [("cursor", cursor)]).map { "\($0.0)=\(FormData.encode($0.1))" }.joined(separator: "&")
        }
        let data: [String: Any] = [
            "rows": page.cases.map { Self.caseRow($0, language) },
            "empty": page.cases.isEmpty,
            "nextLink": nextLink as Any,
            "isHandler": ConsoleAccess.handlers.contains(session.current.role),
            "filter": [
                "q": value("q") ?? "", "section": value("section") ?? "", "department": value("department") ?? "", "from": value("from") ?? "",
                "to": value("to") ?? "",
            ],
            "states": Self.options(Self.caseStates, selected: value("state")) { Labels.text("state_" + $0, language) },
            "severities": Self.options(["1", "2", "3", "4"], selected: value("severity")) { $0 },
            "categories": Self.options(Self.categories, selected: value("category")) { Labels.text("cat_" + $0, language) },
            "assignees": Self.options(csirt.map(\.id), selected: value("assignee")) { id in csirt.first { $0.id == id }?.name ?? id },
            "people": csirt.map { ["id": $0.id, "name": $0.name] },
        ]
        return self.page("cases", title: "casesTitle", request, context, data: data)
    }

    static func options(_ values: [String], selected: String?, label: (String) -> String) -> [[String: Any]] {
        values.map { ["value": $0, "label": label($0), "selected": $0 == selected] }
    }

    func bulk(_ request: Request, _ context: ConsoleRequestContext) async throws -> Response {
        let session = try session(request, context, roles: ConsoleAccess.handlers)
        let numbers = context.form.all("case")
        let api = api(session)
        var refused = 0
        for number in numbers {
            let path = "/v1/cases/\(ConsoleAPI.segment(number))"
            let result: Result<Data, ServiceProblem>
            switch context.form["action"] {
            case "acknowledge":
                result = try await api.send(.triage, "POST", path + "/acknowledgement", json: [:])
            case "assign":
                guard let person = context.form["personId"] else { throw ConsolePageError.forbidden }
                result = try await api.send(.triage, "POST", path + "/assignees", json: ["personId": person])
            default:
                throw ConsolePageError.forbidden
            }
            // One case that cannot take the action (already acknowledged, say) does not stop the rest.
            if case .failure = result { refused += 1 }
        }
        return ConsolePageMiddleware.redirect("/cases?notice=" + (refused == 0 ? "notice_done" : "notice_bulkPartial"))
    }

    // MARK: Case page

    func casePage(
        _ request: Request, _ context: ConsoleRequestContext, number: String, actionError: String? = nil, status: HTTPResponse.Status = .ok,
        closeForm: (form: FormData, errors: [String: String])? = nil
    ) async throws -> Response {
        let session = try context.requireSession(request)
        let api = api(session)
        let detail: CaseDetailView = try await api.get(.triage, "/v1/cases/\(ConsoleAPI.segment(number))")
        let language = context.language
        let record = detail.case
        let role = session.current.role
        let isHandler = ConsoleAccess.handlers.contains(role)
        let isDecider = ConsoleAccess.deciders.contains(role)

        var notifications: [NotificationView] = []
        if isHandler {
            // The case page still works when the notifier does not answer; the gap is logged.
            do {
                notifications = try await api.get(.notifier, "/v1/notifications", query: [("caseNumber", record.caseNumber), ("limit", "100")], as: NotificationPageView.self).notifications
            } catch {
                logger.warning("notifications of a case not shown", metadata: ["case": "\(record.caseNumber)", "error": "\(error)"])
            }
        }
        let csirt = try await database.withConnection { [directory] connection in try directory.people(role: .csirt, on: connection) }
        let allowed = detail.allowedActions
        let now = Date()
        let actors = try await actorNames(detail.history.map(\.actor) + detail.restrictions.map(\.orderedBy))

        let calendar = WardCalendar()
        let today = CivilDate.todayInTokyo(now: now)
        let obligations: [[String: Any]] = detail.obligations.map { obligation in
            let due = ConsoleFormat.parse(obligation.dueAt)
            let left = due.map { $0.timeIntervalSince(now) }
            // Red from two opening days before the deadline: the days the ward can still act
            // (weekends, holidays and the year-end closure do not count).
            let openingDaysLeft = due.map { calendar.openingDays(after: today, through: CivilDate.inTokyo($0)) }
            return [
                "id": obligation.id, "kind": Labels.text("ob_" + obligation.kind, language), "recipient": obligation.recipient,
                "status": Labels.text("obligation_" + obligation.status, language), "law": obligation.law,
                "due": ConsoleFormat.date(obligation.dueAt), "left": left.map { ConsoleFormat.duration($0, language) } ?? "",
                "urgent": openingDaysLeft.map { $0 <= 2 } ?? false, "overdue": left.map { $0 < 0 } ?? false,
                "openingDaysLeft": openingDaysLeft as Any,
                "filed": obligation.filedAt != nil, "filedAt": ConsoleFormat.date(obligation.filedAt), "reference": obligation.filingReference ?? "",
                "canFile": isHandler && obligation.filedAt == nil && ["required", "to-decide"].contains(obligation.status),
            ]
        }
        let restrictions: [[String: Any]] = detail.restrictions.map { restriction in
            [
                "id": restriction.id, "status": restriction.status, "statusLabel": Labels.text("restriction_" + restriction.status, language),
                "targets": restriction.targets.map { ["kind": Labels.text("kind_" + $0.kind, language), "name": $0.name] },
                "reason": restriction.reason, "orderedBy": actors[restriction.orderedBy] ?? restriction.orderedBy, "orderedAt": ConsoleFormat.date(restriction.orderedAt),
                "decisionReason": restriction.decisionReason as Any,
                "canDecide": isDecider && restriction.status == "awaiting-approval",
                "canLift": isHandler && restriction.status == "in-force",
            ]
        }
        let history: [[String: Any]] = detail.history.map { entry in
            [
                "seq": entry.seq, "action": entry.action, "actor": actors[entry.actor] ?? entry.actor, "role": entry.role.flatMap { $0.isEmpty ? nil : $0 } as Any, "at": ConsoleFormat.date(entry.at),
                "reason": entry.reason.flatMap { $0.isEmpty ? nil : $0 } as Any, "hash": String(entry.hash.prefix(12)),
            ]
        }
        // Closing has a form of its own: it asks for the lessons (issue #18).
        let transitions = allowed.filter { !["acknowledge", "confirm", "discard", "close"].contains($0) }.map { action in
            ["action": action, "label": Labels.text("action_" + action, language)]
        }
        let verdicts: [[String: Any]] = Self.verdictNames.map { name in
            let value = record.verdicts[name] ?? "unknown"
            return [
                "name": name, "label": Labels.text("verdictName_" + name, language), "value": Labels.text("verdict_" + value, language),
                "options": Self.options(["yes", "no", "unknown"], selected: value) { Labels.text("verdict_" + $0, language) },
            ]
        }
        let isMerged = record.state == "merged"
        let reportCount = record.reportCount ?? detail.reports?.count ?? 0
        let reports = Self.reportRows(record, detail.reports ?? [], isHandler: isHandler, language)
        let classifications = (record.facts.classifications ?? []).map(\.text)
        // Each named asset with what the register says; a reporter's differing guess is shown
        // beside it, since the register decided the severity (issue #18 item 0).
        let assets: [[String: Any]] = (record.facts.assets ?? []).map { check in
            [
                "id": check.id as Any, "name": check.name as Any, "registered": check.registered?.text as Any,
                "reported": check.reported?.text as Any, "differs": check.differs == true,
            ]
        }
        let t = record.timestamps
        var data: [String: Any] = [
            "case": [
                "number": record.caseNumber, "title": record.title, "description": record.description, "state": record.state,
                "stateLabel": Labels.text("state_" + record.state, language), "severity": record.severity.severity,
                "severityRule": record.severity.rule, "severityReason": record.severity.reason,
                "category": Labels.text("cat_" + record.category, language), "section": record.sectionCode, "department": record.departmentCode,
                "qualification": record.qualification.map { Labels.text("qual_" + $0, language) } ?? Labels.text("none", language),
                "qualificationReason": record.qualificationReason as Any,
                "myNumberDetected": record.myNumberDetected, "source": record.source.id,
                "classifications": classifications.joined(separator: ", "), "namedAssets": assets, "hasNamedAssets": !assets.isEmpty,
                "affectedPersons": record.facts.affectedPersons?.count.map(String.init) ?? Labels.text("unknown", language),
                "escalationLevel": Labels.escalationLevel(record.escalationLevel, language),
                "reportCount": reportCount, "mergedInto": record.mergedInto as Any,
                "firstSeenAt": ConsoleFormat.date(record.firstSeenAt), "lastSeenAt": ConsoleFormat.date(record.lastSeenAt),
            ],
            "reports": reports, "reportsPartial": reportCount > reports.count && !isMerged, "reportsShown": reports.count,
            "canMerge": isHandler && !isMerged,
            "timestamps": [
                ["label": Labels.text("occurredAt", language), "value": ConsoleFormat.date(t.occurredAt)],
                ["label": Labels.text("detectedAt", language), "value": ConsoleFormat.date(t.detectedAt)],
                ["label": Labels.text("knownAt", language), "value": ConsoleFormat.date(t.knownAt)],
                ["label": Labels.text("reportedAt", language), "value": ConsoleFormat.date(t.reportedAt)],
                ["label": Labels.text("recordedAt", language), "value": ConsoleFormat.date(t.recordedAt)],
                ["label": Labels.text("openedAt", language), "value": ConsoleFormat.date(t.openedAt)],
                ["label": Labels.text("acknowledgedAt", language), "value": ConsoleFormat.date(t.acknowledgedAt)],
                ["label": Labels.text("firstSeenAt", language), "value": ConsoleFormat.date(record.firstSeenAt)],
                ["label": Labels.text("lastSeenAt", language), "value": ConsoleFormat.date(record.lastSeenAt)],
            ],
            "obligations": obligations, "restrictions": restrictions, "history": history, "verdicts": verdicts,
            "assignees": detail.assignees.map { assignee in
                ["person": csirt.first { $0.id == assignee.personID }?.name ?? assignee.personID, "at": ConsoleFormat.date(assignee.assignedAt)]
            },
            "comments": detail.history.compactMap { entry in
                entry.commentText.map { ["text": $0, "actor": actors[entry.actor] ?? entry.actor, "at": ConsoleFormat.date(entry.at)] }
            },
            "notifications": notifications.map { n in
                [
                    "recipient": n.recipientName ?? n.recipient, "channel": n.channelKind, "state": n.state,
                    // A row waiting for its group's summary has no subject of its own yet.
                    "event": n.subject.flatMap { $0.isEmpty ? nil : $0 } ?? String(n.eventType.dropFirst(n.eventType.hasPrefix("jp.ward.isms.") ? 13 : 0)),
                    "at": ConsoleFormat.date(n.sentAt ?? n.createdAt),
                ]
            },
            "verified": detail.historyVerified, "broken": !detail.historyVerified,
            "canAcknowledge": allowed.contains("acknowledge"),
            "canQualify": allowed.contains("confirm") || allowed.contains("discard"),
            "transitions": transitions, "hasTransitions": !transitions.isEmpty,
            "isHandler": isHandler,
            "canRestrict": isHandler && !["closed", "discarded", "merged"].contains(record.state),
            "people": csirt.map { ["id": $0.id, "name": $0.name] },
            "canSeeOriginal": role == .designatedHandler && record.myNumberDetected && record.source.kind == "incident-report",
            "actionError": actionError as Any,
        ]
        data.merge(try await lessonsPageData(detail, canClose: allowed.contains("close"), closeForm: closeForm, language: language)) { $1 }
        return page("case", title: "caseTitle", request, context, data: data, status: status)
    }

    /// The first ``reportsShown`` reports of a case as its page lists them: the rule that joined
    /// each by its label (`opened`, `merge`, `split`) or as written in the rules file, and a
    /// split form for a handler on every report but the one that opened the case (triage keeps
    /// that one in it) while the case is not merged.
    static func reportRows(_ record: CaseRecordView, _ reports: [CaseReportView], isHandler: Bool, _ language: ConsoleLanguage) -> [[String: Any]] {
        reports.prefix(reportsShown).map { report in
            let opener = report.source.kind == record.source.kind && report.source.id == record.source.id
            return [
                "kind": report.source.kind, "id": report.source.id, "rule": report.rule,
                "ruleLabel": reportRules.contains(report.rule) ? Labels.text("reportRule_" + report.rule, language) : report.rule,
                "isCorrelation": !reportRules.contains(report.rule),
                "title": report.title, "joinedAt": ConsoleFormat.date(report.joinedAt), "recordedAt": ConsoleFormat.date(report.recordedAt),
                "opener": opener, "canSplit": isHandler && record.state != "merged" && !opener,
            ]
        }
    }

    /// Who acted, by name: triage records the acting token (`token:<id>`); the console's own
    /// tokens are labelled `console:<person>`, so a person who acted here is shown by name.
    func actorNames(_ actors: [String]) async throws -> [String: String] {
        let ids = Set(actors.filter { $0.hasPrefix("token:") }.compactMap { UUID(uuidString: String($0.dropFirst(6))) })
        guard !ids.isEmpty else { return [:] }
        let directory = directory
        return try await database.withConnection { connection in
            var names: [String: String] = [:]
            for (id, label) in try directory.tokens.labels(ids: Array(ids), on: connection) where label.hasPrefix("console:") {
                let personID = String(label.dropFirst("console:".count))
                names["token:\(id.uuidString.lowercased())"] = try directory.person(id: personID, on: connection)?.name ?? personID
            }
            return names
        }
    }

    /// One form of the case page, passed on to triage as the same-named API call.
    func caseAction(_ request: Request, _ context: ConsoleRequestContext, number: String, action: String) async throws -> Response {
        let session = try context.requireSession(request)
        if action == "merge" || action == "split" { return try await correlationAction(request, context, session: session, number: number, action: action) }
        if action == "close" { return try await closeAction(request, context, session: session, number: number) }
        let form = context.form
        let path = "/v1/cases/\(ConsoleAPI.segment(number))"
        let reason: Any = form["reason"] ?? NSNull()
        let (method, suffix, body): (String, String, [String: Any]) = switch action {
        case "acknowledgement": ("POST", "/acknowledgement", ["reason": reason])
        case "assignees": ("POST", "/assignees", ["personId": form["personId"] ?? "", "reason": reason])
        case "qualification": ("POST", "/qualification", ["decision": form["decision"] ?? "", "reason": reason])
        case "transitions": ("POST", "/transitions", ["action": form["action"] ?? "", "reason": reason])
        case "comments": ("POST", "/comments", ["text": form["text"] ?? ""])
        case "restrictions": ("POST", "/restrictions", ["targets": [["kind": form["kind"] ?? "asset", "name": form["target"] ?? ""]], "reason": form["reason"] ?? ""])
        case "verdicts":
            ("PUT", "/verdicts", [
                "verdicts": Dictionary(uniqueKeysWithValues: Self.verdictNames.map { ($0, form[$0] ?? "unknown") }), "reason": form["reason"] ?? "",
            ])
        default: throw ConsolePageError.notFound
        }
        let result = try await api(session).send(.triage, method, path + suffix, json: body)
        return try await afterCaseAction(request, context, number: number, result: result)
    }

    func restrictionStep(_ request: Request, _ context: ConsoleRequestContext, number: String, id: String, step: String) async throws -> Response {
        let session = try context.requireSession(request)
        let path = "/v1/cases/\(ConsoleAPI.segment(number))/restrictions/\(ConsoleAPI.segment(id))"
        let result: Result<Data, ServiceProblem> = switch step {
        case "decision":
            try await api(session).send(.triage, "POST", path + "/decision", json: ["decision": context.form["decision"] ?? "", "reason": context.form["reason"] ?? NSNull()])
        case "lifting":
            try await api(session).send(.triage, "POST", path + "/lifting", json: ["reason": context.form["reason"] ?? ""])
        default:
            throw ConsolePageError.notFound
        }
        return try await afterCaseAction(request, context, number: number, result: result)
    }

    /// Back to the case page: with a notice when it worked, with the service's own words
    /// (escaped by the template) when it did not.
    func afterCaseAction(_ request: Request, _ context: ConsoleRequestContext, number: String, result: Result<Data, ServiceProblem>) async throws -> Response {
        switch result {
        case .success:
            let back = context.form["back"].flatMap { $0 == "/queue" ? $0 : nil }
            return ConsolePageMiddleware.redirect((back ?? "/cases/\(FormData.encode(number))") + "?notice=notice_done")
        case .failure(let problem):
            if problem.isAuthorisation { throw ConsolePageError.forbidden }
            let message = problem.detail ?? problem.title
            return try await casePage(request, context, number: number, actionError: message, status: .init(code: problem.status))
        }
    }
}
