import Contracts
import Directory
import Foundation
import Hummingbird
import Logging
import NIOCore
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

    /// A report is at most 64 KiB of description plus its other fields; anything much larger is
    /// refused before it is parsed.
    static let maximumBodyBytes = 256 * 1024

    func add(to router: Router<BasicRequestContext>) {
        router.post("/v1/incident-reports") { request, _ in
            try await submit(request)
        }
        router.get("/v1/incident-reports") { request, _ in
            try await list(request)
        }
        router.get("/v1/incident-reports/:intakeId") { request, context in
            try await show(request, intakeID: context.parameters.get("intakeId", as: UUID.self))
        }
        router.get("/v1/incident-reports/:intakeId/original") { request, context in
            try await original(request, intakeID: context.parameters.get("intakeId", as: UUID.self))
        }
    }

    private func submit(_ request: Request) async throws -> Response {
        let grant: TokenGrant
        switch try await authenticate(request) {
        case .success(let found): grant = found
        case .failure(let problem): return problem.response
        }
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: Self.maximumBodyBytes)
        } catch is NIOTooManyBytesError {
            return Problem(status: .contentTooLarge, title: "The report is too large", detail: "A request body may hold at most \(Self.maximumBodyBytes) bytes; a description at most 64 KiB.").response
        }
        let data = Array(buffer: body)
        guard (try? JSONSerialization.jsonObject(with: Data(data))) is [String: Any] else {
            return Problem(status: .badRequest, title: "The body is not a JSON object", detail: "Send the report as application/json (see docs/openapi.yaml).").response
        }
        let producer = Producer(token: grant)
        let processor = processor
        let now = Date()
        let outcome = try await database.withTransaction { connection in
            let outcome = try processor.submit(data: data, producer: producer, reportedAt: now, now: now, cause: nil, on: connection)
            if case .success(let accepted) = outcome, let event = accepted.event {
                try Outbox.enqueue([OutboxMessage(try event.amqpMessage(appID: ServiceName.incidentIntake.rawValue))], schema: IncidentIntakeService.schema, on: connection)
            }
            return outcome
        }
        switch outcome {
        case .success(let accepted):
            let body: [String: Any] = [
                "intakeId": accepted.intakeID.uuidString.lowercased(),
                "reportId": accepted.reportID.uuidString.lowercased(),
                "receivedAt": ContractsJSON.formatTimestamp(accepted.receivedAt),
                "duplicate": accepted.duplicate,
                "status": "accepted",
            ]
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            headers[.location] = "/v1/incident-reports/\(accepted.intakeID.uuidString.lowercased())"
            return Response(status: .accepted, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: json(body))))
        case .failure(let rejection):
            let status: HTTPResponse.Status = rejection.isConflict ? .conflict : rejection.isForbidden ? .forbidden : .unprocessableContent
            let title = rejection.isConflict ? "The reportId was already used for a different report"
                : rejection.isForbidden ? "This token may not report for that section"
                : "The report is invalid"
            return Problem(status: status, title: title, detail: "\(rejection.errors.count) problem(s); see errors.", reportID: rejection.reportID, errors: rejection.errors).response
        }
    }

    private func list(_ request: Request) async throws -> Response {
        let grant: TokenGrant
        switch try await authenticate(request) {
        case .success(let found): grant = found
        case .failure(let problem): return problem.response
        }
        let limit = min(max(request.uri.queryParameters.get("limit", as: Int.self) ?? 50, 1), 500)
        let units = grant.unitCode.map { [$0] }
        let summaries = try await database.withConnection { connection in
            try ReportStore.summaries(unitCodes: units, limit: limit, on: connection)
        }
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: try ContractsJSON.encoder().encode(["reports": summaries]))))
    }

    private func show(_ request: Request, intakeID: UUID?) async throws -> Response {
        let grant: TokenGrant
        switch try await authenticate(request) {
        case .success(let found): grant = found
        case .failure(let problem): return problem.response
        }
        guard let intakeID else { return Self.notFound.response }
        let summary = try await database.withConnection { connection in
            try ReportStore.summary(intakeID: intakeID, on: connection)
        }
        guard let summary, Self.visible(summary, to: grant) else { return Self.notFound.response }
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: try ContractsJSON.encoder().encode(summary))))
    }

    /// The unmasked text of a report in which a My Number was found. Only a designated handler of
    /// My Number data (事務取扱担当者, Art. 3(9), 18(8)) of the reporting section may read it; each
    /// reading is logged here and announced, in the same transaction, for the case's history.
    private func original(_ request: Request, intakeID: UUID?) async throws -> Response {
        let grant: TokenGrant
        switch try await authenticate(request) {
        case .success(let found): grant = found
        case .failure(let problem): return problem.response
        }
        guard let intakeID else { return Self.notFound.response }
        let result = try await database.withTransaction { connection -> Result<ReportStore.Original, Problem> in
            guard let summary = try ReportStore.summary(intakeID: intakeID, on: connection), Self.visible(summary, to: grant) else {
                return .failure(Self.notFound)
            }
            guard grant.role == .designatedHandler, grant.unitCode == summary.sectionCode else {
                return .failure(Problem(
                    status: .forbidden, title: "Not a designated handler of this section",
                    detail: "Only a designated handler of My Number data (事務取扱担当者) of section \(summary.sectionCode) may read the original."))
            }
            let now = Date()
            guard let original = try ReportStore.readOriginal(intakeID: intakeID, grant: grant, now: now, on: connection) else {
                return .failure(Problem(
                    status: .notFound, title: "No restricted original",
                    detail: "No My Number was found in this report: its stored text is the original."))
            }
            let viewed = IncidentReportOriginalViewed(
                intakeId: intakeID, tokenId: grant.id, tokenLabel: grant.label, role: grant.role.rawValue, unitCode: grant.unitCode, viewedAt: now)
            let message = try Envelope(source: ServiceName.incidentIntake.source, time: now, data: viewed)
                .amqpMessage(appID: ServiceName.incidentIntake.rawValue)
            try Outbox.enqueue([OutboxMessage(message)], schema: IncidentIntakeService.schema, on: connection)
            return .success(original)
        }
        switch result {
        case .failure(let problem):
            return problem.response
        case .success(let original):
            logger.notice(
                "restricted original read",
                metadata: ["intake.id": "\(intakeID)", "token.id": "\(grant.id)", "token.role": "\(grant.role.rawValue)"])
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            headers[.cacheControl] = "no-store"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: try ContractsJSON.encoder().encode(original))))
        }
    }

    static let notFound = Problem(status: .notFound, title: "No such report", detail: "No report with this intake id is visible to this token.")

    /// A report of another unit is answered like a missing one: its existence is not disclosed.
    static func visible(_ summary: ReportStore.Summary, to grant: TokenGrant) -> Bool {
        grant.unitCode == nil || grant.unitCode == summary.sectionCode || grant.unitCode == summary.departmentCode
    }

    private func authenticate(_ request: Request) async throws -> Result<TokenGrant, Problem> {
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else {
            return .failure(Problem(status: .unauthorized, title: "A bearer token is required", detail: "Send Authorization: Bearer <token>; `isms token issue` makes one."))
        }
        let token = String(header.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces)
        let grant = try await database.withConnection { connection in
            try DirectoryTokens().verify(token: token, on: connection)
        }
        guard let grant else {
            return .failure(Problem(status: .unauthorized, title: "The token is not valid", detail: "The token is unknown, revoked or expired."))
        }
        return .success(grant)
    }
}

/// An RFC 9457 problem document.
struct Problem: Error {
    var status: HTTPResponse.Status
    var title: String
    var detail: String
    var reportID: UUID? = nil
    var errors: [IncidentReportRejected.FieldError] = []

    var response: Response {
        var body: [String: Any] = [
            "type": "https://isms.ward.example/problems/\(status.code)",
            "title": title,
            "status": status.code,
            "detail": detail,
        ]
        if let reportID { body["reportId"] = reportID.uuidString.lowercased() }
        if !errors.isEmpty {
            body["errors"] = errors.map { ["field": $0.field, "code": $0.code.rawValue, "message": $0.message] }
        }
        var headers = HTTPFields()
        headers[.contentType] = "application/problem+json"
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer" }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: json(body))))
    }
}

private func json(_ object: [String: Any]) -> Data {
    (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
}
