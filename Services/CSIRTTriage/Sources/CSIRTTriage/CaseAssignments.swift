public import Contracts
import Directory
public import Foundation
public import Postgres
import PostgresMigrations
public import ServiceRuntime

/// A person handling a case (issue #4 item 9: `isms incidents assign`).
public struct CaseAssignee: Sendable, Hashable, Codable {
    public var personID: String
    public var assignedBy: String
    public var assignedAt: Date
}

/// The `case_assignees` table.
struct AssignmentStore: Sendable {
    let schema: String

    var table: String { "\(Migrator.quoted(schema)).case_assignees" }

    func assignees(caseID: UUID, on connection: PostgresConnection) throws -> [CaseAssignee] {
        try connection.query(
            "SELECT person_id, assigned_by, assigned_at FROM \(unescaped: table) WHERE case_id = \(caseID) ORDER BY assigned_at, person_id"
        ).map { row in
            CaseAssignee(personID: try row.decode("person_id"), assignedBy: try row.decode("assigned_by"), assignedAt: try row.decode("assigned_at"))
        }
    }

    /// Returns false when the person was assigned already.
    func insert(caseID: UUID, personID: String, by actor: String, at now: Date, on connection: PostgresConnection) throws -> Bool {
        try connection.query(
            """
            INSERT INTO \(unescaped: table) (case_id, person_id, assigned_by, assigned_at) VALUES (\(caseID), \(personID), \(actor), \(now))
            ON CONFLICT DO NOTHING
            """
        ).affectedRows == 1
    }

    func delete(caseID: UUID, personID: String, on connection: PostgresConnection) throws -> Bool {
        try connection.query("DELETE FROM \(unescaped: table) WHERE case_id = \(caseID) AND person_id = \(personID)").affectedRows == 1
    }
}

extension TriageEngine {
    var assignmentStore: AssignmentStore { AssignmentStore(schema: schema) }

    /// The people handling a case.
    public func assignees(caseID: UUID, on connection: PostgresConnection) throws -> [CaseAssignee] {
        try assignmentStore.assignees(caseID: caseID, on: connection)
    }

    /// Assigns (or, with `assign: false`, releases) a person of the directory to a case; the
    /// change is a history row and an `incident.assigned` event that tells the person.
    @discardableResult
    public func assign(
        personID: String, assign: Bool = true, caseNumber: String, actor: TriageActor, reason: String?, context: inout TransactionContext
    ) throws -> [CaseAssignee] {
        guard let role = actor.role, CaseLifecycle.handlers.contains(role) else {
            throw TriageError(code: .forbidden, detail: "only incident handlers assign cases")
        }
        let record = try lockedCase(caseNumber, visibility: .all, context: context)
        if assign {
            guard try directory.person(id: personID, on: context.connection) != nil else {
                throw TriageError(code: .invalidRequest, detail: "no person '\(personID)' in the directory")
            }
            guard try assignmentStore.insert(caseID: record.id, personID: personID, by: actor.id, at: context.now, on: context.connection) else {
                throw TriageError(code: .conflict, detail: "\(personID) is assigned to \(caseNumber) already")
            }
        } else {
            guard try assignmentStore.delete(caseID: record.id, personID: personID, on: context.connection) else {
                throw TriageError(code: .notFound, detail: "\(personID) is not assigned to \(caseNumber)")
            }
        }
        let assignees = try assignmentStore.assignees(caseID: record.id, on: context.connection)
        let change = assign ? "assigned" : "unassigned"
        try store.history.append(
            caseID: record.id, caseNumber: record.caseNumber, action: change, actor: actor.id, role: role.rawValue, at: context.now,
            reason: reason, before: [String: String](), after: ["personId": personID], on: context.connection)
        try context.emit(IncidentAssigned(
                caseNumber: record.caseNumber, caseId: record.id, source: .init(kind: record.source.kind, id: record.source.id), change: change,
                personId: personID, assignees: assignees.map(\.personID), actor: actor.id, role: role.rawValue, severity: record.severity.severity,
                sectionCode: record.sectionCode, changedAt: context.now))
        return assignees
    }

    /// Intake reports that a designated handler read a report's restricted original: the case's
    /// history records who (token and its holder) and when, so the viewing log is tamper-evident.
    public func recordOriginalViewed(_ viewed: IncidentReportOriginalViewed, context: inout TransactionContext) throws {
        guard let caseID = try store.caseID(source: .incidentReport(viewed.intakeId), on: context.connection),
              let record = try store.find(id: caseID, forUpdate: true, on: context.connection)
        else {
            // The report's case is not open yet (events cross on the bus): retry later.
            throw TriageError(code: .notFound, detail: "no case for report \(viewed.intakeId) yet")
        }
        try store.history.append(
            caseID: record.id, caseNumber: record.caseNumber, action: "original-viewed", actor: "token:\(viewed.tokenId.lowercasedString)",
            role: viewed.role, at: viewed.viewedAt, reason: "restricted original read by \(viewed.tokenLabel)",
            before: [String: String](), after: ["tokenLabel": viewed.tokenLabel, "unitCode": viewed.unitCode ?? ""], on: context.connection)
    }
}
