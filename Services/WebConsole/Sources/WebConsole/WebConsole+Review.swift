import Contracts
import Directory
import Foundation
import Hummingbird
import HTTPTypes
import ServiceClient
import WardCalendar

/// The management review (Art. 11(5), Art. 29) for the CISO and the general security officer:
/// the pack of the nine items assembled from the services' APIs, its charts, the general
/// security officer's proposals and the CISO's decisions and approval, which the audit
/// scheduler keeps as versioned, hashed snapshots. Printable to A4 from the browser, and
/// downloadable as one self-contained HTML file for the minutes.
extension WebConsole {
    /// Who sees and works the review (Art. 11(5)): the CISO approves, the general security officer prepares.
    static let reviewRoles: Set<DirectoryRole> = [.ciso, .generalSecurityOfficer]

    /// The stored version as the scheduler answers it (`GET /v1/management-reviews/{fy}`).
    struct StoredReviewView: Decodable {
        var version: Int
        var status: String
        var from: String
        var to: String
        var pack: ReviewPack?
        var proposals: String
        var decisions: String
        var documentHash: String
        var draftedAt: String?
        var updatedAt: String?
        var approvedAt: String?
    }

    struct ReviewVersionsView: Decodable {
        struct Version: Decodable {
            var version: Int
            var status: String
            var approvedAt: String?
        }

        var versions: [Version]
    }

    func addReviewRoutes(to router: some RouterMethods<ConsoleRequestContext>) {
        router.get("/management-review") { request, context in
            _ = try session(request, context, roles: Self.reviewRoles)
            return ConsolePageMiddleware.redirect("/management-review/\(Self.fiscalYear(of: Date()))")
        }
        router.get("/management-review/:fy") { request, context in
            try await reviewPage(request, context)
        }
        router.get("/management-review/:fy/document.html") { request, context in
            let session = try session(request, context, roles: Self.reviewRoles)
            let year = try Self.reviewYear(context)
            let data = try await reviewData(request, context, session: session, year: year)
            let html = renderer.fragment("review-document", data: data.merging(["t": Labels.all(context.language), "lang": context.language.rawValue]) { first, _ in first })
            let version = (data["stored"] as? [String: Any])?["version"].map { "-v\($0)" } ?? ""
            var response = Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: .init(string: html)))
            // A file for the minutes, not a page of the console: saved, never shown in the
            // console's origin. Its one <style> element is why it gets a policy of its own.
            response.headers[.contentDisposition] = "attachment; filename=\"management-review-FY\(year)\(version).html\""
            response.headers[.contentSecurityPolicy] = Self.reviewDocumentPolicy
            return response
        }
        router.post("/management-review/:fy/snapshot") { request, context in
            let session = try session(request, context, roles: Self.reviewRoles)
            let year = try Self.reviewYear(context)
            let (from, to) = Self.fiscalYearPeriod(year)
            let pack = await assembleReviewPack(api(session), fiscalYear: year, from: from, to: to, now: Date())
            var body: [String: JSONValue] = ["from": .string(from), "to": .string(to), "pack": try CanonicalJSON.value(of: pack)]
            if session.current.role == .generalSecurityOfficer { body["proposals"] = .string(context.form["proposals"] ?? "") }
            return try await reviewChange(request, context, session: session, year: year, path: "", method: "PUT", body: .object(body))
        }
        router.post("/management-review/:fy/decisions") { request, context in
            let session = try session(request, context, roles: [.ciso])
            let year = try Self.reviewYear(context)
            return try await reviewChange(
                request, context, session: session, year: year, path: "/decisions", method: "POST", body: ["decisions": .string(context.form["decisions"] ?? "")])
        }
        router.post("/management-review/:fy/approval") { request, context in
            let session = try session(request, context, roles: [.ciso])
            let year = try Self.reviewYear(context)
            return try await reviewChange(request, context, session: session, year: year, path: "/approval", method: "POST", body: .object([:]))
        }
    }

    /// The downloaded document's policy: nothing loads from anywhere (no script at all, images
    /// only inline), its own `<style>` element applies, and it is never framed.
    static let reviewDocumentPolicy = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    func reviewPage(_ request: Request, _ context: ConsoleRequestContext, actionError: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let session = try session(request, context, roles: Self.reviewRoles)
        let year = try Self.reviewYear(context)
        var data = try await reviewData(request, context, session: session, year: year)
        if let actionError { data["actionError"] = actionError }
        return page("review", title: "reviewTitle", request, context, data: data, status: status)
    }

    /// Saves, decides or approves through the scheduler, then shows the page again.
    func reviewChange(
        _ request: Request, _ context: ConsoleRequestContext, session: ConsoleSession, year: Int, path: String, method: String, body: JSONValue
    ) async throws -> Response {
        let result = try await api(session).exchange(.audit, method, "/v1/management-reviews/\(year)\(path)", body: body.canonicalData)
        if (200..<300).contains(result.status) { return ConsolePageMiddleware.redirect("/management-review/\(year)?notice=notice_done") }
        let problem = ServiceProblem(status: result.status, body: result.body)
        if problem.isAuthorisation { throw ConsolePageError.forbidden }
        return try await reviewPage(request, context, actionError: problem.detail ?? problem.title, status: .init(code: result.status))
    }

    /// Everything the page and the document show: the pack (the stored version asked for, the
    /// latest stored one, or one assembled now), the version's state and the forms allowed.
    func reviewData(_ request: Request, _ context: ConsoleRequestContext, session: ConsoleSession, year: Int) async throws -> [String: Any] {
        let api = api(session)
        let query = request.uri.queryParameters
        let custom = query.get("from").flatMap { CivilDate(iso: $0) }.flatMap { from in query.get("to").flatMap { CivilDate(iso: $0) }.map { (from, $0) } }
        if let custom, custom.0 > custom.1 || custom.0.days(until: custom.1) > 3 * 366 { throw ConsolePageError.notFound }
        var stored: StoredReviewView?
        var versions: [ReviewVersionsView.Version] = []
        if custom == nil {
            let path = query.get("version").flatMap(Int.init).map { "/v1/management-reviews/\(year)/versions/\($0)" } ?? "/v1/management-reviews/\(year)"
            stored = try await optional { try await api.get(.audit, path, as: StoredReviewView.self) }
            versions = try await optional { try await api.get(.audit, "/v1/management-reviews/\(year)/versions", as: ReviewVersionsView.self) }?.versions ?? []
        }
        let live = query.get("live") == "1" || stored?.pack == nil
        let (from, to) = custom.map { ($0.0.iso, $0.1.iso) } ?? Self.fiscalYearPeriod(year)
        let pack: ReviewPack
        if let kept = stored?.pack, !live {
            pack = kept
        } else {
            pack = await assembleReviewPack(api, fiscalYear: year, from: from, to: to, now: Date())
        }
        let language = context.language
        let role = session.current.role
        var data: [String: Any] = [
            "fiscalYear": year, "from": pack.from, "to": pack.to, "assembledAt": ConsoleFormat.date(pack.assembledAt), "items": ReviewPackView(pack: pack, language: language).items(),
            "isLive": live, "isCustomPeriod": custom != nil, "previousYear": year - 1, "nextYear": year + 1,
            "downloadHref": "/management-review/\(year)/document.html" + (request.uri.query.map { "?\($0)" } ?? ""),
            "versions": versions.map { ["version": $0.version, "status": Labels.text("reviewStatus_" + $0.status, language), "href": "/management-review/\(year)?version=\($0.version)"] as [String: Any] },
            "hasVersions": !versions.isEmpty,
        ]
        if let stored {
            data["stored"] = [
                "version": stored.version, "status": Labels.text("reviewStatus_" + stored.status, language), "isApproved": stored.status == "approved",
                "isDraft": stored.status == "draft", "proposals": stored.proposals, "decisions": stored.decisions, "documentHash": stored.documentHash,
                "updatedAt": ConsoleFormat.date(stored.updatedAt), "approvedAt": ConsoleFormat.date(stored.approvedAt), "hasProposals": !stored.proposals.isEmpty,
                "hasDecisions": !stored.decisions.isEmpty,
            ] as [String: Any]
        }
        let latestIsDraft = versions.last?.status == "draft"
        data["canSnapshot"] = custom == nil
        data["canPropose"] = custom == nil && role == .generalSecurityOfficer
        data["canDecide"] = custom == nil && role == .ciso && latestIsDraft
        data["draftProposals"] = stored?.proposals ?? ""
        data["draftDecisions"] = stored?.decisions ?? ""
        return data
    }

    /// A 404 from the scheduler is "none yet", not the page's not-found.
    private func optional<T>(_ call: () async throws -> T) async throws -> T? {
        do {
            return try await call()
        } catch ConsolePageError.notFound {
            return nil
        }
    }

    static func reviewYear(_ context: ConsoleRequestContext) throws -> Int {
        guard let year = context.parameters.get("fy").flatMap(Int.init), (2000...2200).contains(year) else { throw ConsolePageError.notFound }
        return year
    }

    /// The ward's fiscal year (April–March) of a moment, in Japan time.
    static func fiscalYear(of date: Date) -> Int {
        let day = CivilDate.inTokyo(date)
        return day.month >= 4 ? day.year : day.year - 1
    }

    static func fiscalYearPeriod(_ year: Int) -> (String, String) {
        (CivilDate(year: year, month: 4, day: 1).iso, CivilDate(year: year + 1, month: 3, day: 31).iso)
    }
}
