public import Contracts
public import Foundation

/// Checks a submitted report before anything is stored: the JSON Schema of
/// `incident-report.submit.v1` (every violation, with its JSON pointer), then the rules a schema
/// cannot express. Needs no database; the directory checks come after it in ``IntakeProcessor``.
public struct ReportValidator: Sendable {
    /// How far in the future a time stamp may lie before it is refused (producers' clocks drift).
    public var clockSkew: Duration

    public init(clockSkew: Duration = .seconds(300)) {
        self.clockSkew = clockSkew
    }

    private static let validator: JSONSchemaValidator? = {
        guard let schema = try? Schemas.schema(for: MessageTypes.submitIncidentReport) else { return nil }
        return JSONSchemaValidator(schema: schema)
    }()

    /// The report, or every reason it is refused.
    public func validate(data: [UInt8], now: Date) -> Result<SubmitIncidentReport, Rejection> {
        // Art. 27: a report must be answerable; one oversize description gets one clear reason.
        guard let validator = Self.validator else {
            return .failure(Rejection(errors: [.init(field: "", code: "internal", message: "the report schema is missing from this build")]))
        }
        let violations = validator.validate(jsonBytes: data)
        guard violations.isEmpty else {
            return .failure(Rejection(reportID: Self.reportID(in: data), errors: violations.map(IncidentReportRejected.FieldError.init)))
        }
        let report: SubmitIncidentReport
        do {
            report = try ContractsJSON.decoder().decode(SubmitIncidentReport.self, from: Data(data))
        } catch {
            return .failure(Rejection(reportID: Self.reportID(in: data), errors: [.init(field: "", code: .type, message: "the report does not decode: \(error)")]))
        }
        let errors = ruleViolations(report, now: now)
        return errors.isEmpty ? .success(report) : .failure(Rejection(reportID: report.reportID, errors: errors))
    }

    /// Rules beyond the schema: sizes in bytes, time stamps in order and not in the future.
    public func ruleViolations(_ report: SubmitIncidentReport, now: Date) -> [IncidentReportRejected.FieldError] {
        var errors: [IncidentReportRejected.FieldError] = []
        let descriptionBytes = report.description.utf8.count
        if descriptionBytes > SubmitIncidentReport.maximumDescriptionBytes {
            errors.append(.init(field: "/description", code: .tooLarge, message: "description is \(descriptionBytes) bytes; at most \(SubmitIncidentReport.maximumDescriptionBytes) bytes (64 KiB) are accepted"))
        }
        let latest = now.addingTimeInterval(clockSkew.timeInterval)
        for (field, value) in [("/occurredAt", report.occurredAt), ("/detectedAt", report.detectedAt), ("/knownAt", report.knownAt)] where value > latest {
            errors.append(.init(field: field, code: .future, message: "\(field.dropFirst()) is in the future (\(ContractsJSON.formatTimestamp(value)) is later than now plus \(Int(clockSkew.timeInterval)) s of allowed clock skew)"))
        }
        if report.detectedAt < report.occurredAt {
            errors.append(.init(field: "/detectedAt", code: .order, message: "detectedAt is before occurredAt: an incident cannot be detected before it happened"))
        }
        if report.knownAt < report.occurredAt {
            errors.append(.init(field: "/knownAt", code: .order, message: "knownAt is before occurredAt: the ward cannot learn of an incident before it happened"))
        }
        return errors
    }

    /// The reportId of a document that failed validation, when it can be read at all.
    static func reportID(in data: [UInt8]) -> UUID? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(data)) as? [String: Any],
              let text = object["reportId"] as? String else { return nil }
        return UUID(uuidString: text)
    }
}

/// Why a report was refused, field by field.
public struct Rejection: Error, Sendable, Hashable {
    public var reportID: UUID?
    public var errors: [IncidentReportRejected.FieldError]

    public init(reportID: UUID? = nil, errors: [IncidentReportRejected.FieldError]) {
        self.reportID = reportID
        self.errors = errors
    }

    /// A `reportId` reused with a different payload (HTTP 409).
    public var isConflict: Bool { errors.contains { $0.code == .conflict } }
    /// The producer may not report for the section (HTTP 403).
    public var isForbidden: Bool { errors.contains { $0.code == .forbidden } }
}

extension Duration {
    var timeInterval: TimeInterval {
        let (seconds, attoseconds) = components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }
}
