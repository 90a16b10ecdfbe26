public import Contracts
import Directory
public import Foundation
public import Postgres
import ServiceRuntime
public import WardCalendar

/// The management review (Art. 11(5), Art. 29) as versioned snapshots: the console assembles the
/// pack from the services' APIs and saves it here (the scheduler keeps the snapshot, not the
/// figures' sources); the general security officer adds proposals, the CISO records the
/// decisions and approves. Approval appends `management-review.approved` with the version's hash
/// to the duty ledger; the approved row is immutable and a later change is a new version.
extension AuditSchedulerStore {
    /// Who saves a snapshot of the pack: the general security officer and the CISO.
    static let reviewDrafters: Set<DirectoryRole> = [.generalSecurityOfficer, .ciso]
    /// At most this many characters of proposals or decisions.
    static let reviewTextLimit = 20_000

    /// What the version's hash covers, in canonical JSON.
    struct ReviewDocument: Encodable {
        var fiscalYear: Int
        var version: Int
        var from: String
        var to: String
        var pack: JSONValue
        var proposals: String
        var decisions: String
    }

    /// Saves the assembled `pack` for the period as the year's draft (replacing the draft, or
    /// starting the next version after an approved one). `proposals` (Art. 29 changes) are the
    /// general security officer's to write; nil keeps the draft's.
    @discardableResult
    public func saveManagementReviewDraft(
        fiscalYear: Int, from: CivilDate, to: CivilDate, pack: JSONValue, proposals: String?, by actor: DutyActor, now: Date,
        on connection: PostgresConnection
    ) throws -> ManagementReviewVersion {
        guard Self.reviewDrafters.contains(actor.role), actor.unitCode == nil else {
            throw AuditSchedulerError(.forbidden, "the general security officer or the CISO saves the management review pack (Art. 11(5))")
        }
        if proposals != nil, actor.role != .generalSecurityOfficer {
            throw AuditSchedulerError(.forbidden, "the general security officer writes the proposals for Art. 29 changes")
        }
        guard case .object = pack else { throw AuditSchedulerError(.invalid, "pack must be a JSON object") }
        guard from <= to, from.days(until: to) <= 3 * 366 else { throw AuditSchedulerError(.invalid, "from must not be after to, and the period at most three years") }
        if let proposals { try Self.checkReviewText(proposals, "proposals") }
        _ = try connection.query("SELECT pg_advisory_xact_lock(hashtext(\(schema + ".management_reviews")), \(fiscalYear))")
        let latest = try managementReviewVersions(fiscalYear: fiscalYear, withPack: false, on: connection).last
        let at = Self.millisecondPrecision(now)
        let packText = pack.canonicalText
        if let latest, latest.status == .draft {
            let document = ReviewDocument(
                fiscalYear: fiscalYear, version: latest.version, from: from.iso, to: to.iso, pack: pack, proposals: proposals ?? latest.proposals,
                decisions: latest.decisions)
            let text = try CanonicalJSON.text(of: document)
            _ = try connection.query(
                """
                UPDATE \(unescaped: table("management_reviews"))
                SET period_from = \(from.iso)::date, period_to = \(to.iso)::date, pack = \(packText), proposals = \(document.proposals),
                    document_hash = encode(sha256(convert_to(\(text), 'UTF8')), 'hex'), updated_at = \(at)
                WHERE id = \(latest.id)
                """)
        } else {
            let version = (latest?.version ?? 0) + 1
            // A new version starts from the approved one's proposals, so they are not typed again.
            let document = ReviewDocument(
                fiscalYear: fiscalYear, version: version, from: from.iso, to: to.iso, pack: pack, proposals: proposals ?? latest?.proposals ?? "",
                decisions: "")
            let text = try CanonicalJSON.text(of: document)
            _ = try connection.query(
                """
                INSERT INTO \(unescaped: table("management_reviews")) (
                    id, fiscal_year, version, status, period_from, period_to, pack, proposals, decisions, document_hash, drafted_at, drafted_by_role, updated_at)
                VALUES (
                    \(UUID()), \(fiscalYear), \(version), 'draft', \(from.iso)::date, \(to.iso)::date, \(packText), \(document.proposals), '',
                    encode(sha256(convert_to(\(text), 'UTF8')), 'hex'), \(at), \(actor.role.rawValue), \(at))
                """)
        }
        return try managementReviewVersions(fiscalYear: fiscalYear, withPack: true, on: connection).last!
    }

    /// The CISO records the review's decisions on the year's draft (Art. 11(5)).
    @discardableResult
    public func recordManagementReviewDecisions(
        fiscalYear: Int, decisions: String, by actor: DutyActor, now: Date, on connection: PostgresConnection
    ) throws -> ManagementReviewVersion {
        guard Self.approvers.contains(actor.role) else { throw AuditSchedulerError(.forbidden, "only the CISO records the review's decisions (Art. 11(5))") }
        try Self.checkReviewText(decisions, "decisions")
        let draft = try reviewDraft(fiscalYear: fiscalYear, on: connection)
        let document = ReviewDocument(
            fiscalYear: fiscalYear, version: draft.version, from: draft.from, to: draft.to, pack: draft.pack ?? .object([:]), proposals: draft.proposals,
            decisions: decisions)
        let text = try CanonicalJSON.text(of: document)
        _ = try connection.query(
            """
            UPDATE \(unescaped: table("management_reviews"))
            SET decisions = \(decisions), document_hash = encode(sha256(convert_to(\(text), 'UTF8')), 'hex'), updated_at = \(Self.millisecondPrecision(now))
            WHERE id = \(draft.id)
            """)
        return try managementReviewVersions(fiscalYear: fiscalYear, withPack: true, on: connection).last!
    }

    /// The CISO approves the year's draft, which must carry decisions: the ledger records its hash.
    @discardableResult
    public func approveManagementReview(fiscalYear: Int, by actor: DutyActor, now: Date, on connection: PostgresConnection) throws -> ManagementReviewVersion {
        guard Self.approvers.contains(actor.role) else { throw AuditSchedulerError(.forbidden, "only the CISO approves the management review (Art. 11(5))") }
        let draft = try reviewDraft(fiscalYear: fiscalYear, on: connection)
        guard !draft.decisions.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw AuditSchedulerError(.invalid, "the review's decisions are recorded before it is approved")
        }
        let at = Self.millisecondPrecision(now)
        let seq = try appendLedger(
            type: "management-review.approved", subject: draft.id, actor: actor,
            body: LedgerApproval(fiscalYear: fiscalYear, version: draft.version, documentHash: draft.documentHash), at: at, on: connection)
        _ = try connection.query(
            "UPDATE \(unescaped: table("management_reviews")) SET status = 'approved', approved_at = \(at), approval_seq = \(seq) WHERE id = \(draft.id)")
        return try managementReviewVersions(fiscalYear: fiscalYear, withPack: true, on: connection).last!
    }

    /// The year's draft, locked for the change; a 404 without one, a 409 when the latest is approved.
    func reviewDraft(fiscalYear: Int, on connection: PostgresConnection) throws -> ManagementReviewVersion {
        _ = try connection.query("SELECT pg_advisory_xact_lock(hashtext(\(schema + ".management_reviews")), \(fiscalYear))")
        guard let latest = try managementReviewVersions(fiscalYear: fiscalYear, withPack: true, on: connection).last else {
            throw AuditSchedulerError(.notFound, "no management review for fiscal year \(fiscalYear)")
        }
        guard latest.status == .draft else {
            throw AuditSchedulerError(.conflict, "version \(latest.version) is approved and immutable; save the pack again to start the next version")
        }
        return latest
    }

    static func checkReviewText(_ text: String, _ name: String) throws {
        guard text.unicodeScalars.count <= reviewTextLimit else { throw AuditSchedulerError(.invalid, "\(name) are at most \(reviewTextLimit) characters") }
    }

    /// Every version of the year's review, oldest first; the pack only when `withPack`.
    public func managementReviewVersions(fiscalYear: Int, withPack: Bool, on connection: PostgresConnection) throws -> [ManagementReviewVersion] {
        try connection.query(
            """
            SELECT id, fiscal_year, version, status, period_from::text AS period_from, period_to::text AS period_to,
                   CASE WHEN \(withPack) THEN pack END AS pack, proposals, decisions, document_hash, drafted_at, drafted_by_role, updated_at,
                   approved_at, approval_seq
            FROM \(unescaped: table("management_reviews")) WHERE fiscal_year = \(fiscalYear) ORDER BY version
            """
        ).rows.map { row in
            let pack: String? = try row.decode("pack")
            return ManagementReviewVersion(
                id: try row.decode("id"), fiscalYear: try row.decode("fiscal_year"), version: try row.decode("version"),
                status: OperationPlanVersion.Status(rawValue: try row.decode("status")) ?? .draft, from: try row.decode("period_from"),
                to: try row.decode("period_to"), pack: try pack.map { try JSONValue(parsing: $0) }, proposals: try row.decode("proposals"),
                decisions: try row.decode("decisions"), documentHash: try row.decode("document_hash"), draftedAt: try row.decode("drafted_at"),
                draftedByRole: try row.decode("drafted_by_role"), updatedAt: try row.decode("updated_at"), approvedAt: try row.decode("approved_at"),
                approvalLedgerSeq: try row.decode("approval_seq"))
        }
    }

    /// Checks the year's approved versions: each stored document hashes to what its row and its
    /// ledger entry say, and the ledger's rows for it are unedited and chained.
    public func verifyManagementReviews(fiscalYear: Int, on connection: PostgresConnection) throws -> ManagementReviewVerification {
        let ledger = Self.ledger(schema: schema)
        let chain = try ledger.verify(on: connection)
        var versions: [ManagementReviewVerification.Version] = []
        for version in try managementReviewVersions(fiscalYear: fiscalYear, withPack: true, on: connection) where version.status == .approved {
            let document = ReviewDocument(
                fiscalYear: version.fiscalYear, version: version.version, from: version.from, to: version.to, pack: version.pack ?? .object([:]),
                proposals: version.proposals, decisions: version.decisions)
            let text = try CanonicalJSON.text(of: document)
            let recomputed: String = try connection.query("SELECT encode(sha256(convert_to(\(text), 'UTF8')), 'hex') AS hash").rows[0].decode("hash")
            var ledgerHash: String?
            if let seq = version.approvalLedgerSeq {
                let body: String? = try connection.query("SELECT body FROM \(unescaped: table("ledger")) WHERE seq = \(seq)").rows.first?.decode("body")
                if let body, case .object(let fields) = try JSONValue(parsing: body), case .string(let hash)? = fields["documentHash"] { ledgerHash = hash }
            }
            let rowsIntact = try ledger.verifyRows(where: "subject_id", equals: version.id, on: connection) == nil
            versions.append(.init(
                version: version.version, storedHash: version.documentHash, recomputedHash: recomputed, ledgerHash: ledgerHash,
                intact: rowsIntact && recomputed == version.documentHash && ledgerHash == recomputed))
        }
        return ManagementReviewVerification(
            fiscalYear: fiscalYear, ledgerIntact: chain.isIntact, ledgerEntries: chain.rowsChecked, versions: versions,
            intact: chain.isIntact && versions.allSatisfy(\.intact))
    }
}
