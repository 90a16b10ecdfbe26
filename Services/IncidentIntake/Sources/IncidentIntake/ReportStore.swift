import Contracts
import Directory
import Foundation
import Postgres

/// SQL of the `intake` schema.
enum ReportStore {
    struct Existing {
        var intakeID: UUID
        var fingerprint: String
        var recordedAt: Date
    }

    struct NewReport {
        var intakeID: UUID
        var producer: String
        var fingerprint: String
        var section: Organisation.Section
        /// The report as every later reader sees it: My Numbers masked.
        var masked: SubmitIncidentReport
        /// The report as submitted, kept only when a My Number was found (restricted table).
        var original: SubmitIncidentReport?
        var reasons: [String]
        var reportedAt: Date
        var correlationID: String?
    }

    static func find(producer: String, reportID: UUID, on connection: PostgresConnection) throws -> Existing? {
        try connection.query(
            "SELECT intake_id, payload_sha256, recorded_at FROM intake.reports WHERE producer = \(producer) AND report_id = \(reportID)"
        ).rows.first.map { row in
            Existing(intakeID: try row.decode("intake_id"), fingerprint: try row.decode("payload_sha256"), recordedAt: try row.decode("recorded_at"))
        }
    }

    /// Inserts the report unless a concurrent transaction stored the same (producer, reportId)
    /// first; returns the row that holds it.
    static func insert(_ report: NewReport, on connection: PostgresConnection) throws -> (inserted: Bool, intakeID: UUID, recordedAt: Date) {
        let masked = report.masked
        let rows = try connection.query(
            """
            INSERT INTO intake.reports (
                intake_id, producer, report_id, payload_sha256, section_code, department_code, category,
                title, description, occurred_at, detected_at, known_at, reported_at,
                my_number_detected, my_number_reasons, submission, correlation_id
            ) VALUES (
                \(report.intakeID), \(report.producer), \(masked.reportID), \(report.fingerprint), \(report.section.code),
                \(report.section.departmentCode), \(masked.category.rawValue), \(masked.title), \(masked.description),
                \(masked.occurredAt), \(masked.detectedAt), \(masked.knownAt), \(report.reportedAt),
                \(report.original != nil), \(report.reasons), \(PostgresJSON(masked)), \(report.correlationID)
            )
            ON CONFLICT (producer, report_id) DO NOTHING
            RETURNING recorded_at
            """
        )
        if let row = rows.rows.first {
            if let original = report.original {
                _ = try connection.query(
                    """
                    INSERT INTO intake.report_originals (intake_id, title, description, asset_names)
                    VALUES (\(report.intakeID), \(original.title), \(original.description), \(original.affectedAssets.compactMap(\.name)))
                    """
                )
            }
            return (true, report.intakeID, try row.decode("recorded_at"))
        }
        guard let existing = try find(producer: report.producer, reportID: masked.reportID, on: connection) else {
            throw PostgresError(code: .server, message: "report \(masked.reportID) conflicted but cannot be found")
        }
        return (false, existing.intakeID, existing.recordedAt)
    }

    static func recordRejection(_ rejection: Rejection, producer: String, on connection: PostgresConnection) throws {
        _ = try connection.query(
            """
            INSERT INTO intake.rejections (producer, report_id, errors)
            VALUES (\(producer), \(rejection.reportID), \(PostgresJSON(rejection.errors)))
            """
        )
    }

    /// A stored report as its producer may see it (masked).
    struct Summary: Codable, Sendable {
        var intakeId: UUID
        var reportId: UUID
        var sectionCode: String
        var departmentCode: String
        var category: String
        var title: String
        var recordedAt: Date
        var myNumberDetected: Bool
        var submission: SubmitIncidentReport?
    }

    static func summary(intakeID: UUID, on connection: PostgresConnection) throws -> Summary? {
        try connection.query(
            """
            SELECT intake_id, report_id, section_code, department_code, category, title, recorded_at, my_number_detected, submission
            FROM intake.reports WHERE intake_id = \(intakeID)
            """
        ).rows.first.map { try summary(from: $0, withSubmission: true) }
    }

    /// The latest reports of the sections (or departments) a producer covers; nil means all.
    static func summaries(unitCodes: [String]?, limit: Int, on connection: PostgresConnection) throws -> [Summary] {
        let rows: PostgresResult
        if let unitCodes {
            rows = try connection.query(
                """
                SELECT intake_id, report_id, section_code, department_code, category, title, recorded_at, my_number_detected
                FROM intake.reports
                WHERE section_code = ANY(\(unitCodes)) OR department_code = ANY(\(unitCodes))
                ORDER BY recorded_at DESC LIMIT \(limit)
                """
            )
        } else {
            rows = try connection.query(
                """
                SELECT intake_id, report_id, section_code, department_code, category, title, recorded_at, my_number_detected
                FROM intake.reports ORDER BY recorded_at DESC LIMIT \(limit)
                """
            )
        }
        return try rows.map { try summary(from: $0, withSubmission: false) }
    }

    private static func summary(from row: PostgresRow, withSubmission: Bool) throws -> Summary {
        Summary(
            intakeId: try row.decode("intake_id"),
            reportId: try row.decode("report_id"),
            sectionCode: try row.decode("section_code"),
            departmentCode: try row.decode("department_code"),
            category: try row.decode("category"),
            title: try row.decode("title"),
            recordedAt: try row.decode("recorded_at"),
            myNumberDetected: try row.decode("my_number_detected"),
            submission: withSubmission ? try row.decode("submission", as: PostgresJSON<SubmitIncidentReport>.self).value : nil
        )
    }

    /// The restricted original of a report in which a My Number was found.
    struct Original: Codable, Sendable {
        /// Lowercase, as in the events (Swift's UUID encodes uppercase outside the contracts).
        var intakeId: String
        var title: String
        var description: String
        var assetNames: [String]
        var viewedAt: Date
    }

    /// Reads a report's original and logs the reading, in the caller's transaction; nil when the
    /// report has no original (nothing was masked: its stored text is the original).
    static func readOriginal(intakeID: UUID, grant: TokenGrant, now: Date, on connection: PostgresConnection) throws -> Original? {
        guard let row = try connection.query(
            "SELECT title, description, asset_names FROM intake.report_originals WHERE intake_id = \(intakeID)"
        ).rows.first else { return nil }
        _ = try connection.query(
            """
            INSERT INTO intake.original_views (intake_id, token_id, token_label, role, unit_code, viewed_at)
            VALUES (\(intakeID), \(grant.id), \(grant.label), \(grant.role.rawValue), \(grant.unitCode), \(now))
            """
        )
        return Original(
            intakeId: intakeID.uuidString.lowercased(), title: try row.decode("title"), description: try row.decode("description"),
            assetNames: try row.decode("asset_names"), viewedAt: now)
    }
}
