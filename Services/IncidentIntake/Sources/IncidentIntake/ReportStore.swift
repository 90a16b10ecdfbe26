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

    /// Reports are unique per producer and report id.
    struct Key: Hashable {
        var producer: String
        var reportID: UUID
    }

    /// The stored reports under these keys, in one round trip.
    static func find(_ keys: [Key], on connection: PostgresConnection) throws -> [Key: Existing] {
        guard !keys.isEmpty else { return [:] }
        let rows = try connection.query(
            """
            SELECT r.producer, r.report_id, r.intake_id, r.payload_sha256, r.recorded_at
            FROM unnest(\(keys.map(\.producer))::text[], \(keys.map(\.reportID))::uuid[]) AS k (producer, report_id)
            JOIN intake.reports r ON r.producer = k.producer AND r.report_id = k.report_id
            """
        )
        var found: [Key: Existing] = [:]
        for row in rows.rows {
            found[Key(producer: try row.decode("producer"), reportID: try row.decode("report_id"))] = Existing(
                intakeID: try row.decode("intake_id"), fingerprint: try row.decode("payload_sha256"), recordedAt: try row.decode("recorded_at"))
        }
        return found
    }

    /// Inserts the reports in one statement, and the originals of those in which a My Number was
    /// found in another. A report another transaction stored first under the same (producer,
    /// reportId) is not inserted: it is absent from the result, which maps each inserted
    /// report's key to its `recorded_at`.
    static func insert(_ reports: [NewReport], on connection: PostgresConnection) throws -> [Key: Date] {
        guard !reports.isEmpty else { return [:] }
        let rows = try connection.query(
            """
            INSERT INTO intake.reports (
                intake_id, producer, report_id, payload_sha256, section_code, department_code, category,
                title, description, occurred_at, detected_at, known_at, reported_at,
                my_number_detected, my_number_reasons, submission, correlation_id
            )
            SELECT intake_id, producer, report_id, payload_sha256, section_code, department_code, category,
                title, description, occurred_at, detected_at, known_at, reported_at,
                my_number_detected, ARRAY(SELECT jsonb_array_elements_text(reasons::jsonb)), submission::jsonb, correlation_id
            FROM unnest(
                \(reports.map(\.intakeID))::uuid[], \(reports.map(\.producer))::text[], \(reports.map(\.masked.reportID))::uuid[],
                \(reports.map(\.fingerprint))::text[], \(reports.map(\.section.code))::text[], \(reports.map(\.section.departmentCode))::text[],
                \(reports.map(\.masked.category.rawValue))::text[], \(reports.map(\.masked.title))::text[], \(reports.map(\.masked.description))::text[],
                \(reports.map(\.masked.occurredAt))::timestamptz[], \(reports.map(\.masked.detectedAt))::timestamptz[],
                \(reports.map(\.masked.knownAt))::timestamptz[], \(reports.map(\.reportedAt))::timestamptz[],
                \(reports.map { $0.original != nil })::boolean[], \(reports.map { PostgresJSON($0.reasons) })::text[],
                \(reports.map { PostgresJSON($0.masked) })::text[], \(reports.map(\.correlationID))::text[]
            ) WITH ORDINALITY AS r (
                intake_id, producer, report_id, payload_sha256, section_code, department_code, category, title, description,
                occurred_at, detected_at, known_at, reported_at, my_number_detected, reasons, submission, correlation_id, position
            )
            ORDER BY position
            ON CONFLICT (producer, report_id) DO NOTHING
            RETURNING producer, report_id, recorded_at
            """
        )
        var inserted: [Key: Date] = [:]
        for row in rows.rows {
            inserted[Key(producer: try row.decode("producer"), reportID: try row.decode("report_id"))] = try row.decode("recorded_at")
        }
        let originals = reports.filter { $0.original != nil && inserted[Key(producer: $0.producer, reportID: $0.masked.reportID)] != nil }
        if !originals.isEmpty {
            _ = try connection.query(
                """
                INSERT INTO intake.report_originals (intake_id, title, description, asset_names)
                SELECT intake_id, title, description, ARRAY(SELECT jsonb_array_elements_text(asset_names::jsonb))
                FROM unnest(\(originals.map(\.intakeID))::uuid[], \(originals.map { $0.original?.title })::text[],
                            \(originals.map { $0.original?.description })::text[],
                            \(originals.map { PostgresJSON($0.original?.affectedAssets.compactMap(\.name) ?? []) })::text[])
                     AS o (intake_id, title, description, asset_names)
                """
            )
        }
        return inserted
    }

    /// Records refusals, each with the producer it came from, in one statement.
    static func recordRejections(_ rejections: [(rejection: Rejection, producer: String)], on connection: PostgresConnection) throws {
        guard !rejections.isEmpty else { return }
        _ = try connection.query(
            """
            INSERT INTO intake.rejections (producer, report_id, errors)
            SELECT producer, report_id, errors::jsonb
            FROM unnest(\(rejections.map(\.producer))::text[], \(rejections.map(\.rejection.reportID))::uuid[],
                        \(rejections.map { PostgresJSON($0.rejection.errors.map(Self.storable)) })::text[]) WITH ORDINALITY AS j (producer, report_id, errors, position)
            ORDER BY position
            """
        )
    }

    /// A refusal as `jsonb` can hold it: a member name the producer sent may carry a NUL, which
    /// the error's pointer and message repeat, and PostgreSQL refuses `\u0000` in `jsonb` (the
    /// producer's answer keeps the name as sent; the record shows U+FFFD in its place).
    static func storable(_ error: IncidentReportRejected.FieldError) -> IncidentReportRejected.FieldError {
        var error = error
        error.field = error.field.replacingOccurrences(of: "\u{0}", with: "\u{FFFD}")
        error.message = error.message.replacingOccurrences(of: "\u{0}", with: "\u{FFFD}")
        return error
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
    /// A page of reports, newest first; `unitCodes` nil for every unit.
    static func summaries(unitCodes: [String]?, limit: Int, after: (recordedAt: Date, intakeID: UUID)?, on connection: PostgresConnection) throws -> [Summary] {
        let rows = try connection.query(
            """
            SELECT intake_id, report_id, section_code, department_code, category, title, recorded_at, my_number_detected
            FROM intake.reports
            WHERE (\(unitCodes)::text[] IS NULL OR section_code = ANY(\(unitCodes)) OR department_code = ANY(\(unitCodes)))
              AND (\(after?.recordedAt)::timestamptz IS NULL OR (recorded_at, intake_id) < (\(after?.recordedAt)::timestamptz, \(after?.intakeID)::uuid))
            ORDER BY recorded_at DESC, intake_id DESC LIMIT \(limit)
            """
        )
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
            intakeId: intakeID.lowercasedString, title: try row.decode("title"), description: try row.decode("description"),
            assetNames: try row.decode("asset_names"), viewedAt: now)
    }
}
