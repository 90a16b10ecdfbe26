import Contracts
import Directory
import Foundation
import Hummingbird
import Logging
import Postgres
import ServiceRuntime

/// The producers' HTTP API (issue #3 item 6, documented in docs/openapi.yaml):
/// `POST /v1/incident-reports`, `GET /v1/incident-reports`, `GET /v1/incident-reports/{intakeId}`,
/// and `GET /v1/incident-reports/{intakeId}/original` (issue #4 item 9). Every request carries a
/// bearer token bound to a role and an org unit; a department sees and files only its own reports.
struct IntakeRoutes: Sendable {
    let processor: IntakeProcessor
    let database: PostgresPool
    let logger: Logger

    func add(to routes: APIRoutes) {
        routes.post("/v1/incident-reports") { request, context in try await submit(request, context: context) }
        routes.get("/v1/incident-reports") { request, context in try await list(request, grant: context.requireGrant()) }
        routes.get("/v1/incident-reports/:intakeId") { _, context in
            try await show(context.uuid("intakeId", "report"), grant: context.requireGrant())
        }
        routes.get("/v1/incident-reports/:intakeId/original") { _, context in
            try await original(context.uuid("intakeId", "report"), grant: context.requireGrant())
        }
    }

    private func submit(_ request: Request, context: APIRequestContext) async throws -> Response {
        let grant = try context.requireGrant()
        var request = request
        let data = Array(buffer: try await request.collectBody(upTo: context.maxUploadSize))
        guard case .object = try? JSONValue(parsing: data) else {
            throw APIProblem.badRequest("Send the report as a JSON object (application/json; see docs/openapi.yaml).")
        }
        let producer = Producer(token: grant)
        let processor = processor
        let now = Date()
        let outcome = try await database.withTransaction(emittingAs: .incidentIntake, schema: IncidentIntakeService.schema, logger: logger, now: now) { context in
            let outcome = try processor.submit(data: data, producer: producer, reportedAt: now, now: now, cause: nil, on: context.connection)
            if case .success(let accepted) = outcome, let event = accepted.event { try context.emit(event) }
            return outcome
        }
        switch outcome {
        case .success(let accepted):
            let body: JSONValue = [
                "intakeId": .string(accepted.intakeID.lowercasedString),
                "reportId": .string(accepted.reportID.lowercasedString),
                "receivedAt": .string(ContractsJSON.formatTimestamp(accepted.receivedAt)),
                "duplicate": .bool(accepted.duplicate),
                "status": "accepted",
            ]
            return try APIResponse.json(body, status: .accepted, headers: [.location: "/v1/incident-reports/\(accepted.intakeID.lowercasedString)"])
        case .failure(let rejection):
            let status: HTTPResponse.Status = rejection.isConflict ? .conflict : rejection.isForbidden ? .forbidden : .unprocessableContent
            let title = rejection.isConflict ? "The reportId was already used for a different report"
                : rejection.isForbidden ? "This token may not report for that section"
                : "The report is invalid"
            throw APIProblem(
                status, title: title, detail: "\(rejection.errors.count) problem(s); see errors.",
                extensions: [
                    "errors": .array(rejection.errors.map { ["field": .string($0.field), "code": .string($0.code.rawValue), "message": .string($0.message)] })
                ].merging(rejection.reportID.map { ["reportId": .string($0.lowercasedString)] } ?? [:]) { $1 })
        }
    }

    private func list(_ request: Request, grant: TokenGrant) async throws -> Response {
        let page = try PageRequest(APIQuery(request))
        let (units, after) = (grant.unitCode.map { [$0] }, try page.afterTimeAndID())
        let summaries = try await database.withConnection { connection in
            try ReportStore.summaries(unitCodes: units, limit: page.limit + 1, after: after.map { ($0.0, $0.1) }, on: connection)
        }
        let (items, next) = page.page(summaries) { PageCursor(time: $0.recordedAt, id: $0.intakeId) }
        return try APIResponse.page(items, key: "reports", next: next)
    }

    private func show(_ intakeID: UUID, grant: TokenGrant) async throws -> Response {
        let summary = try await database.withConnection { connection in
            try ReportStore.summary(intakeID: intakeID, on: connection)
        }
        guard let summary, Self.visible(summary, to: grant) else { throw Self.notFound }
        return try APIResponse.json(summary)
    }

    /// The unmasked text of a report in which a My Number was found. Only a designated handler of
    /// My Number data (事務取扱担当者, Art. 3(9), 18(8)) of the reporting section may read it; each
    /// reading is logged here and announced, in the same transaction, for the case's history.
    private func original(_ intakeID: UUID, grant: TokenGrant) async throws -> Response {
        let original = try await database.withTransaction(emittingAs: .incidentIntake, schema: IncidentIntakeService.schema, logger: logger) { context in
            guard let summary = try ReportStore.summary(intakeID: intakeID, on: context.connection), Self.visible(summary, to: grant) else {
                throw Self.notFound
            }
            guard grant.role == .designatedHandler, grant.unitCode == summary.sectionCode else {
                throw APIProblem.forbidden(
                    "Only a designated handler of My Number data (事務取扱担当者) of section \(summary.sectionCode) may read the original.")
            }
            guard let original = try ReportStore.readOriginal(intakeID: intakeID, grant: grant, now: context.now, on: context.connection) else {
                throw APIProblem(.notFound, title: "No restricted original", detail: "No My Number was found in this report: its stored text is the original.")
            }
            try context.emit(IncidentReportOriginalViewed(
                intakeId: intakeID, tokenId: grant.id, tokenLabel: grant.label, role: grant.role.rawValue, unitCode: grant.unitCode, viewedAt: context.now))
            return original
        }
        logger.notice(
            "restricted original read",
            metadata: ["intake.id": "\(intakeID)", "token.id": "\(grant.id)", "token.role": "\(grant.role.rawValue)"])
        return try APIResponse.json(original, headers: [.cacheControl: "no-store"])
    }

    static let notFound = APIProblem.notFound("No report with this intake id is visible to this token.")

    /// A report of another unit is answered like a missing one: its existence is not disclosed.
    static func visible(_ summary: ReportStore.Summary, to grant: TokenGrant) -> Bool {
        grant.unitCode == nil || grant.unitCode == summary.sectionCode || grant.unitCode == summary.departmentCode
    }
}
