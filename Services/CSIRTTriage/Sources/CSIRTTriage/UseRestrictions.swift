import Contracts
public import Directory
public import Foundation
import MyNumber
public import Postgres
import PostgresMigrations
public import ServiceRuntime

/// A use restriction (Art. 27(3): the CISO may restrict the use of information assets to contain
/// an incident). An incident handler orders it; it takes effect only when the CISO or the general
/// security officer approves; lifting it is a decision of theirs too, or its period ends.
public struct UseRestriction: Sendable, Hashable, Codable {
    public enum Status: String, Sendable, Hashable, Codable, CaseIterable {
        case awaitingApproval = "awaiting-approval"
        case inForce = "in-force"
        case rejected
        case lifted
    }

    public enum TargetKind: String, Sendable, Hashable, Codable, CaseIterable {
        case asset, system, account
    }

    public struct Target: Sendable, Hashable, Codable {
        public var kind: TargetKind
        public var name: String
        /// For an asset, its id in the information asset register (issue #18 item 0), so the
        /// restriction names the asset the register classifies rather than a free-text name.
        public var assetID: String?

        public init(kind: TargetKind, name: String, assetID: String? = nil) {
            self.kind = kind
            self.name = name
            self.assetID = assetID
        }

        enum CodingKeys: String, CodingKey {
            case kind, name
            case assetID = "assetId"
        }
    }

    public var id: UUID
    public var caseID: UUID
    public var targets: [Target]
    public var reason: String
    public var effectiveFrom: Date
    public var effectiveUntil: Date?
    public var status: Status
    public var orderedBy: String
    public var orderedAt: Date
    public var decidedBy: String?
    public var decidedRole: String?
    public var decidedAt: Date?
    public var decisionReason: String?
    public var liftedBy: String?
    public var liftedAt: Date?
    public var liftReason: String?

    /// Who decides: the CISO, or the general security officer who assists and deputises (Art. 14, 15).
    public static let approvers: Set<DirectoryRole> = [.ciso, .generalSecurityOfficer]
}

/// A restriction with the case it belongs to, as the list of decisions shows it.
public struct CaseRestriction: Sendable, Hashable, Codable {
    public var caseNumber: String
    /// Masked.
    public var caseTitle: String
    public var severity: Int
    public var sectionCode: String
    public var departmentCode: String
    public var restriction: UseRestriction
}

/// What an incident handler asks for, checked before anything is stored.
public struct UseRestrictionOrder: Sendable, Hashable, Codable {
    public var targets: [UseRestriction.Target]
    public var reason: String
    /// Default: when approved.
    public var from: Date?
    /// Default: until lifted.
    public var until: Date?

    public init(targets: [UseRestriction.Target], reason: String, from: Date? = nil, until: Date? = nil) {
        self.targets = targets
        self.reason = reason
        self.from = from
        self.until = until
    }

    /// The order with its text screened (My Numbers masked, Art. 3(10)), or every problem at once.
    public func validated(now: Date) throws(TriageError) -> UseRestrictionOrder {
        var problems: [String] = []
        let screener = MyNumberScreener()
        let targets = targets.map {
            UseRestriction.Target(kind: $0.kind, name: screener.screen($0.name.trimmingCharacters(in: .whitespacesAndNewlines)).masked, assetID: $0.assetID)
        }
        if targets.contains(where: { $0.assetID != nil && $0.kind != .asset }) { problems.append("only an asset target names a registered asset (assetId)") }
        if targets.isEmpty || targets.count > 50 { problems.append("name 1 to 50 assets, systems or accounts") }
        if targets.contains(where: { $0.name.isEmpty || $0.name.unicodeScalars.count > 200 }) { problems.append("each target's name is 1 to 200 characters") }
        if Set(targets).count != targets.count { problems.append("a target is named twice") }
        let reason = screener.screen(reason.trimmingCharacters(in: .whitespacesAndNewlines)).masked
        if reason.isEmpty || reason.unicodeScalars.count > 2000 { problems.append("the reason is 1 to 2000 characters") }
        let start = from ?? now
        if let until, until <= start { problems.append("until must be after from") }
        if let until, until <= now { problems.append("until must be in the future") }
        guard problems.isEmpty else { throw TriageError(code: .invalidRequest, detail: problems.joined(separator: "; ")) }
        return UseRestrictionOrder(targets: targets, reason: reason, from: from, until: until)
    }
}

/// The `use_restrictions` table.
struct RestrictionStore: Sendable {
    let schema: String

    var table: String { "\(Migrator.quoted(schema)).use_restrictions" }

    private static let columns = """
        id, case_id, targets, reason, effective_from, effective_until, status, ordered_by, ordered_at, decided_by, decided_role,
        decided_at, decision_reason, lifted_by, lifted_at, lift_reason
        """

    func insert(_ restriction: UseRestriction, on connection: PostgresConnection) throws {
        _ = try connection.query(
            """
            INSERT INTO \(unescaped: table) (id, case_id, targets, reason, effective_from, effective_until, status, ordered_by, ordered_at)
            VALUES (\(restriction.id), \(restriction.caseID), \(PostgresJSON(restriction.targets)), \(restriction.reason),
                \(restriction.effectiveFrom), \(restriction.effectiveUntil), \(restriction.status.rawValue), \(restriction.orderedBy),
                \(restriction.orderedAt))
            """
        )
    }

    func update(_ restriction: UseRestriction, on connection: PostgresConnection) throws {
        _ = try connection.query(
            """
            UPDATE \(unescaped: table) SET status = \(restriction.status.rawValue), effective_from = \(restriction.effectiveFrom),
                decided_by = \(restriction.decidedBy), decided_role = \(restriction.decidedRole), decided_at = \(restriction.decidedAt),
                decision_reason = \(restriction.decisionReason), lifted_by = \(restriction.liftedBy), lifted_at = \(restriction.liftedAt),
                lift_reason = \(restriction.liftReason)
            WHERE id = \(restriction.id)
            """
        )
    }

    func restriction(id: UUID, forUpdate: Bool = false, on connection: PostgresConnection) throws -> UseRestriction? {
        try connection.query(
            "SELECT \(unescaped: Self.columns) FROM \(unescaped: table) WHERE id = \(id) \(unescaped: forUpdate ? "FOR UPDATE" : "")"
        ).rows.first.map(Self.restriction(from:))
    }

    func restrictions(caseID: UUID, on connection: PostgresConnection) throws -> [UseRestriction] {
        try connection.query(
            "SELECT \(unescaped: Self.columns) FROM \(unescaped: table) WHERE case_id = \(caseID) ORDER BY ordered_at, id"
        ).map(Self.restriction(from:))
    }

    /// Restrictions of every case visible to `unit` (nil: all), optionally in one status,
    /// oldest order first (the decision waiting longest leads), each with its case; `after` is
    /// the (ordered, id) of the last one of the page before.
    func restrictions(
        status: UseRestriction.Status?, unit: String?, limit: Int, after: (orderedAt: Date, id: UUID)?, on connection: PostgresConnection
    ) throws -> [CaseRestriction] {
        let cases = "\(Migrator.quoted(schema)).cases"
        let columns = Self.columns.split(separator: ",").map { "r." + $0.trimmingCharacters(in: .whitespacesAndNewlines) }.joined(separator: ", ")
        return try connection.query(
            """
            SELECT \(unescaped: columns), c.case_number, c.title, c.severity, c.section_code, c.department_code
            FROM \(unescaped: table) r JOIN \(unescaped: cases) c ON c.id = r.case_id
            WHERE (\(status?.rawValue)::text IS NULL OR r.status = \(status?.rawValue))
              AND (\(unit)::text IS NULL OR c.section_code = \(unit) OR c.department_code = \(unit))
              AND (\(after?.orderedAt)::timestamptz IS NULL OR (r.ordered_at, r.id) > (\(after?.orderedAt)::timestamptz, \(after?.id)::uuid))
            ORDER BY r.ordered_at, r.id
            LIMIT \(max(1, min(limit, 1001)))
            """
        ).map { row in
            CaseRestriction(
                caseNumber: try row.decode("case_number"), caseTitle: try row.decode("title"), severity: try row.decode("severity"),
                sectionCode: try row.decode("section_code"), departmentCode: try row.decode("department_code"), restriction: try Self.restriction(from: row))
        }
    }

    static func restriction(from row: PostgresRow) throws -> UseRestriction {
        UseRestriction(
            id: try row.decode("id"), caseID: try row.decode("case_id"),
            targets: try row.decode("targets", as: PostgresJSON<[UseRestriction.Target]>.self).value, reason: try row.decode("reason"),
            effectiveFrom: try row.decode("effective_from"), effectiveUntil: try row.decode("effective_until"),
            status: try TriageStore.decodeEnum(row, "status"), orderedBy: try row.decode("ordered_by"), orderedAt: try row.decode("ordered_at"),
            decidedBy: try row.decode("decided_by"), decidedRole: try row.decode("decided_role"), decidedAt: try row.decode("decided_at"),
            decisionReason: try row.decode("decision_reason"), liftedBy: try row.decode("lifted_by"), liftedAt: try row.decode("lifted_at"),
            liftReason: try row.decode("lift_reason"))
    }
}

extension TriageEngine {
    /// Timer kind: a restriction's period ends.
    public static let restrictionTimer = "restriction"

    var restrictionStore: RestrictionStore { RestrictionStore(schema: schema) }

    /// The use restrictions of a case, oldest first.
    public func restrictions(caseID: UUID, on connection: PostgresConnection) throws -> [UseRestriction] {
        try restrictionStore.restrictions(caseID: caseID, on: connection)
    }

    /// Use restrictions across cases, oldest order first, for the approvers: what waits for
    /// their decision (`status` `awaiting-approval`). `unit` limits them to one unit's cases.
    public func restrictions(
        status: UseRestriction.Status?, unit: String?, limit: Int = 50, after: (orderedAt: Date, id: UUID)? = nil, on connection: PostgresConnection
    ) throws -> [CaseRestriction] {
        try restrictionStore.restrictions(status: status, unit: unit, limit: limit, after: after, on: connection)
    }

    /// An incident handler orders a restriction; it waits for the CISO's or the general security
    /// officer's approval, who are told.
    @discardableResult
    public func orderRestriction(
        _ order: UseRestrictionOrder, caseNumber: String, actor: TriageActor, context: inout TransactionContext
    ) throws -> UseRestriction {
        guard let role = actor.role, CaseLifecycle.handlers.contains(role) || UseRestriction.approvers.contains(role) else {
            throw TriageError(code: .forbidden, detail: "only incident handlers order use restrictions")
        }
        let order = try order.validated(now: context.now)
        // A named asset must be in the register and in use (issue #18 item 0).
        let named = order.targets.compactMap(\.assetID)
        if !named.isEmpty {
            let registered = Set(try AssetRegister(directory: directory).assets(ids: named, on: context.connection).filter { !$0.retired }.map(\.id))
            let unknown = named.filter { !registered.contains($0) }
            guard unknown.isEmpty else {
                throw TriageError(code: .invalidRequest, detail: "no asset \(unknown.joined(separator: ", ")) in the asset register (or it is retired)")
            }
        }
        let record = try lockedCase(caseNumber, visibility: .all, context: context)
        guard !record.state.isFinal else { throw TriageError(code: .invalidTransition, detail: "case \(caseNumber) is \(record.state.rawValue)") }
        let restriction = UseRestriction(
            id: UUID(), caseID: record.id, targets: order.targets, reason: order.reason, effectiveFrom: order.from ?? context.now,
            effectiveUntil: order.until, status: .awaitingApproval, orderedBy: actor.id, orderedAt: context.now)
        try restrictionStore.insert(restriction, on: context.connection)
        try store.history.append(
            caseID: record.id, caseNumber: record.caseNumber, action: "restriction-ordered", actor: actor.id, role: role.rawValue, at: context.now,
            reason: restriction.reason, before: [String: String](), after: restriction, on: context.connection)
        try emitRestriction(restriction, record: record, actor: actor, decisionReason: nil, context: &context)
        return restriction
    }

    /// The CISO or the general security officer approves (the restriction is in force from its
    /// start until its end or until lifted) or rejects an order.
    @discardableResult
    public func decideRestriction(
        id: UUID, caseNumber: String, approve: Bool, reason: String?, actor: TriageActor, context: inout TransactionContext
    ) throws -> UseRestriction {
        guard let role = actor.role, UseRestriction.approvers.contains(role) else {
            throw TriageError(code: .forbidden, detail: "only the CISO or the general security officer approve use restrictions (Art. 27(3))")
        }
        let reason = try decisionText(reason, required: !approve, what: "a rejection")
        let (record, before) = try lockedRestriction(id: id, caseNumber: caseNumber, context: context)
        guard before.status == .awaitingApproval else {
            throw TriageError(code: .conflict, detail: "restriction \(id) is \(before.status.rawValue), not awaiting approval")
        }
        if approve, let until = before.effectiveUntil, until <= context.now {
            throw TriageError(code: .invalidRequest, detail: "restriction \(id) would end before it starts: its period ended at \(ContractsJSON.formatTimestamp(until))")
        }
        var restriction = before
        restriction.status = approve ? .inForce : .rejected
        restriction.decidedBy = actor.id
        restriction.decidedRole = role.rawValue
        restriction.decidedAt = context.now
        restriction.decisionReason = reason
        if approve { restriction.effectiveFrom = max(restriction.effectiveFrom, context.now) }
        try restrictionStore.update(restriction, on: context.connection)
        try store.history.append(
            caseID: record.id, caseNumber: record.caseNumber, action: approve ? "restriction-approved" : "restriction-rejected", actor: actor.id,
            role: role.rawValue, at: context.now, reason: reason, before: before, after: restriction, on: context.connection)
        if approve, let until = restriction.effectiveUntil {
            try DurableTimers.schedule(kind: Self.restrictionTimer, key: id.lowercasedString, at: until, on: context.connection, schema: schema)
        }
        try emitRestriction(restriction, record: record, actor: actor, decisionReason: reason, context: &context)
        return restriction
    }

    /// Lifts a restriction in force (a decision of the CISO or the general security officer,
    /// with its reason); `actor` `.system` when its period ended.
    @discardableResult
    public func liftRestriction(id: UUID, caseNumber: String, reason: String, actor: TriageActor, context: inout TransactionContext) throws -> UseRestriction {
        if actor != .system {
            guard let role = actor.role, UseRestriction.approvers.contains(role) else {
                throw TriageError(code: .forbidden, detail: "only the CISO or the general security officer lift use restrictions")
            }
        }
        let reason = try decisionText(reason, required: true, what: "lifting")
        let (record, before) = try lockedRestriction(id: id, caseNumber: caseNumber, context: context)
        guard before.status == .inForce else {
            throw TriageError(code: .conflict, detail: "restriction \(id) is \(before.status.rawValue), not in force")
        }
        var restriction = before
        restriction.status = .lifted
        restriction.liftedBy = actor.id
        restriction.liftedAt = context.now
        restriction.liftReason = reason
        try restrictionStore.update(restriction, on: context.connection)
        try DurableTimers.cancel(kind: Self.restrictionTimer, key: id.lowercasedString, on: context.connection, schema: schema)
        try store.history.append(
            caseID: record.id, caseNumber: record.caseNumber, action: "restriction-lifted", actor: actor.id, role: actor.role?.rawValue,
            at: context.now, reason: reason, before: before, after: restriction, on: context.connection)
        try emitRestriction(restriction, record: record, actor: actor, decisionReason: reason, context: &context)
        return restriction
    }

    /// Fires when an approved restriction's period ends.
    func expireRestriction(id: UUID, context: inout TransactionContext) throws {
        guard let restriction = try restrictionStore.restriction(id: id, on: context.connection), restriction.status == .inForce,
              let record = try store.find(id: restriction.caseID, on: context.connection)
        else { return }
        try liftRestriction(id: id, caseNumber: record.caseNumber, reason: "its period ended", actor: .system, context: &context)
    }

    private func lockedRestriction(id: UUID, caseNumber: String, context: TransactionContext) throws -> (CaseRecord, UseRestriction) {
        let record = try lockedCase(caseNumber, visibility: .all, context: context)
        guard let restriction = try restrictionStore.restriction(id: id, forUpdate: true, on: context.connection), restriction.caseID == record.id else {
            throw TriageError(code: .notFound, detail: "case \(caseNumber) has no restriction \(id)")
        }
        return (record, restriction)
    }

    private func decisionText(_ text: String?, required: Bool, what: String) throws(TriageError) -> String? {
        let trimmed = text.map { MyNumberScreener().screen($0.trimmingCharacters(in: .whitespacesAndNewlines)).masked } ?? ""
        if trimmed.isEmpty {
            if required { throw TriageError(code: .invalidRequest, detail: "\(what) needs a reason") }
            return nil
        }
        guard trimmed.unicodeScalars.count <= 2000 else { throw TriageError(code: .invalidRequest, detail: "a reason is at most 2000 characters") }
        return trimmed
    }

    private func emitRestriction(
        _ restriction: UseRestriction, record: CaseRecord, actor: TriageActor, decisionReason: String?, context: inout TransactionContext
    ) throws {
        try context.emit(IncidentRestrictionChanged(
                caseNumber: record.caseNumber, caseId: record.id, restrictionId: restriction.id, status: restriction.status.rawValue,
                targets: restriction.targets.map { .init(kind: $0.kind.rawValue, name: $0.name) }, reason: restriction.reason,
                effectiveFrom: restriction.effectiveFrom, effectiveUntil: restriction.effectiveUntil, actor: actor.id, role: actor.role?.rawValue,
                decisionReason: decisionReason, severity: record.severity.severity, sectionCode: record.sectionCode,
                departmentCode: record.departmentCode, changedAt: context.now))
    }
}
