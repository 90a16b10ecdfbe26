import Contracts
import Directory
public import Foundation
public import Postgres
import ServiceRuntime

/// Contracts: their registration rules (Art. 18(8)), timers and the return certificate.
extension ContractorRegistry {
    static let contractColumns = """
        id, reference, title, section_code, department_code, kind, contractor_id, starts_at, ends_at, handles_my_number, handling_area,
        designated_handlers::text AS designated_handlers, attestation_interval_months, grace_days, return_certificate_days, return_certificate_at,
        created_by, created_at, asset_ids
        """


    // MARK: Contracts

    /// What registering a contract takes. Days are `YYYY-MM-DD` in Japan time; the end day is inclusive.
    public struct ContractInput: Sendable, Hashable, Codable {
        public var reference: String
        public var title: String
        public var sectionCode: String
        public var kind: ContractKind
        public var contractorID: UUID
        public var startDate: String
        public var endDate: String
        public var handlesMyNumber: Bool
        public var handlingArea: String?
        public var designatedHandlers: [DesignatedHandler]?
        /// Default: quarterly with My Number data, yearly otherwise (Art. 28).
        public var attestationIntervalMonths: Int?
        public var graceDays: Int?
        public var returnCertificateDays: Int?
        /// The registered information assets the contractor handles (issue #18 item 0).
        public var assetIDs: [String]?

        public init(
            reference: String, title: String, sectionCode: String, kind: ContractKind, contractorID: UUID, startDate: String, endDate: String,
            handlesMyNumber: Bool, handlingArea: String? = nil, designatedHandlers: [DesignatedHandler]? = nil,
            attestationIntervalMonths: Int? = nil, graceDays: Int? = nil, returnCertificateDays: Int? = nil, assetIDs: [String]? = nil
        ) {
            self.reference = reference
            self.title = title
            self.sectionCode = sectionCode
            self.kind = kind
            self.contractorID = contractorID
            self.startDate = startDate
            self.endDate = endDate
            self.handlesMyNumber = handlesMyNumber
            self.handlingArea = handlingArea
            self.designatedHandlers = designatedHandlers
            self.attestationIntervalMonths = attestationIntervalMonths
            self.graceDays = graceDays
            self.returnCertificateDays = returnCertificateDays
            self.assetIDs = assetIDs
        }

        enum CodingKeys: String, CodingKey {
            case reference, title, sectionCode, kind
            case contractorID = "contractorId"
            case startDate, endDate, handlesMyNumber, handlingArea, designatedHandlers, attestationIntervalMonths, graceDays, returnCertificateDays
            case assetIDs = "assetIds"
        }
    }

    /// Registers a contract: checks the section against the directory, the contractor's kind
    /// against the contract's, and the My Number duties (Art. 18(8)); then schedules every
    /// attestation reminder (Art. 28) and the return-certificate deadline.
    public func registerContract(_ input: ContractInput, createdBy: String, now: Date, on connection: PostgresConnection) throws -> Contract {
        var problems: [String] = []
        let reference = input.reference.trimmingCharacters(in: .whitespacesAndNewlines)
        let title = input.title.trimmingCharacters(in: .whitespacesAndNewlines)
        if reference.isEmpty || reference.unicodeScalars.count > 200 { problems.append("reference: 1 to 200 characters") }
        if title.isEmpty || title.unicodeScalars.count > 500 { problems.append("title: 1 to 500 characters") }
        let section = try directory.section(code: input.sectionCode, on: connection)
        if section == nil { problems.append("sectionCode: no section '\(input.sectionCode)' in the directory") }
        let contractor = try contractor(id: input.contractorID, on: connection)
        if let contractor {
            if !input.kind.contractorKinds.contains(contractor.kind) {
                problems.append("kind: a \(input.kind.rawValue) contract cannot be held by a \(contractor.kind.rawValue)")
            }
        } else {
            problems.append("contractorId: no contractor \(input.contractorID)")
        }
        let startsAt = AttestationSchedule.startOfDay(input.startDate)
        let lastDay = AttestationSchedule.startOfDay(input.endDate)
        if startsAt == nil { problems.append("startDate: a YYYY-MM-DD day") }
        if lastDay == nil { problems.append("endDate: a YYYY-MM-DD day") }
        let endsAt = lastDay.map { $0.addingTimeInterval(86_400) }
        if let startsAt, let endsAt, endsAt <= startsAt { problems.append("endDate: on or after startDate") }
        let handlers = input.designatedHandlers ?? []
        let area = input.handlingArea?.trimmingCharacters(in: .whitespacesAndNewlines)
        if input.handlesMyNumber {
            // Art. 18(8)(4)(6): the contractor names its designated handlers; the section defines the handling area.
            if handlers.isEmpty { problems.append("designatedHandlers: name at least one designated handler (Art. 18(8)(4))") }
            if area?.isEmpty ?? true { problems.append("handlingArea: define the handling area (Art. 18(8)(6))") }
        }
        if handlers.contains(where: { $0.name.trimmingCharacters(in: .whitespaces).isEmpty }) { problems.append("designatedHandlers: every handler needs a name") }
        let interval = input.attestationIntervalMonths ?? AttestationSchedule.defaultIntervalMonths(handlesMyNumber: input.handlesMyNumber)
        if !(1...24).contains(interval) { problems.append("attestationIntervalMonths: 1 to 24") }
        let grace = input.graceDays ?? settings.graceDays
        if !(0...365).contains(grace) { problems.append("graceDays: 0 to 365") }
        let returnDays = input.returnCertificateDays ?? settings.returnCertificateDays
        if !(0...365).contains(returnDays) { problems.append("returnCertificateDays: 0 to 365") }
        // The assets it handles are registered ones in use (issue #18 item 0; Arts. 4, 6).
        let assetIDs = Array(Set(input.assetIDs ?? [])).sorted()
        if assetIDs.count > 50 { problems.append("assetIds: at most 50") }
        let registered = Set(try AssetRegister(directory: directory).assets(ids: assetIDs, on: connection).filter { !$0.retired }.map(\.id))
        for id in assetIDs where !registered.contains(id) { problems.append("assetIds: no asset '\(id)' in the asset register (or it is retired)") }
        guard problems.isEmpty, let section, let contractor, let startsAt, let endsAt else {
            throw ContractorMonitorError(.invalidRequest, "the contract is invalid", problems: problems)
        }
        let contract = Contract(
            id: UUID(), reference: reference, title: title, sectionCode: section.code, departmentCode: section.departmentCode, kind: input.kind,
            contractorID: contractor.id, startsAt: startsAt, endsAt: endsAt, handlesMyNumber: input.handlesMyNumber,
            handlingArea: input.handlesMyNumber ? area : (area?.isEmpty == false ? area : nil), designatedHandlers: handlers,
            attestationIntervalMonths: interval, graceDays: grace, returnCertificateDays: returnDays, returnCertificateAt: nil,
            createdBy: createdBy, createdAt: now, assetIDs: assetIDs)
        do {
            _ = try connection.query("""
                INSERT INTO \(unescaped: table("contracts")) (
                    id, reference, title, section_code, department_code, kind, contractor_id, starts_at, ends_at, handles_my_number,
                    handling_area, designated_handlers, attestation_interval_months, grace_days, return_certificate_days, created_by, created_at, asset_ids)
                VALUES (\(contract.id), \(contract.reference), \(contract.title), \(contract.sectionCode), \(contract.departmentCode),
                    \(contract.kind.rawValue), \(contract.contractorID), \(contract.startsAt), \(contract.endsAt), \(contract.handlesMyNumber),
                    \(contract.handlingArea), \(PostgresJSON(contract.designatedHandlers)), \(interval), \(grace), \(returnDays), \(createdBy), \(now), \(assetIDs)::text[])
                """)
        } catch let error as PostgresError where error.isUniqueViolation {
            throw ContractorMonitorError(.conflict, "contract reference '\(reference)' is registered already")
        }
        try scheduleTimers(for: contract, on: connection)
        return contract
    }

    /// Every attestation reminder and deadline of the contract, and the return-certificate deadline.
    func scheduleTimers(for contract: Contract, on connection: PostgresConnection) throws {
        let id = contract.id.lowercasedString
        let lead = TimeInterval(settings.reminderLeadDays) * 86_400
        for period in contract.schedule.periods {
            let key = "\(id)/\(period.number)"
            let payload = Self.timerPayload(["contractId": id, "period": String(period.number)])
            try DurableTimers.schedule(
                kind: ContractorTimerKind.attestationDue, key: key, at: max(contract.startsAt, period.dueAt.addingTimeInterval(-lead)),
                payloadJSON: payload, on: connection, schema: schema)
            try DurableTimers.schedule(kind: ContractorTimerKind.attestationOverdue, key: key, at: period.graceEndsAt, payloadJSON: payload, on: connection, schema: schema)
        }
        try DurableTimers.schedule(
            kind: ContractorTimerKind.returnCertificateDue, key: id, at: contract.returnCertificateDueAt,
            payloadJSON: Self.timerPayload(["contractId": id]), on: connection, schema: schema)
    }

    /// The contract with this id.
    public func contract(id: UUID, on connection: PostgresConnection) throws -> Contract? {
        try connection.query("SELECT \(unescaped: Self.contractColumns) FROM \(unescaped: table("contracts")) WHERE id = \(id)")
            .rows.first.map(Self.contract(from:))
    }

    /// The contracts visible in `scope`, by reference; at most `limit`, after (reference, id) `after`.
    public func contracts(
        in scope: ContractorScope = .all, limit: Int? = nil, after: (reference: String, id: UUID)? = nil, on connection: PostgresConnection
    ) throws -> [Contract] {
        let (unit, column): (String?, String) = switch scope {
        case .all: (nil, "section_code")
        case .department(let code): (code, "department_code")
        case .section(let code): (code, "section_code")
        }
        return try connection.query("""
            SELECT \(unescaped: Self.contractColumns) FROM \(unescaped: table("contracts"))
            WHERE (\(unit)::text IS NULL OR \(unescaped: column) = \(unit))
              AND (\(after?.reference)::text IS NULL OR (reference, id) > (\(after?.reference)::text, \(after?.id)::uuid))
            ORDER BY reference, id LIMIT \(limit)
            """).rows.map(Self.contract(from:))
    }

    /// Records the certificate of data return or deletion at the contract's end.
    @discardableResult
    public func recordReturnCertificate(contractID: UUID, evidence file: EvidenceFile, recordedBy: String, now: Date, on connection: PostgresConnection) throws -> Contract {
        guard let contract = try contract(id: contractID, on: connection) else { throw ContractorMonitorError(.notFound, "no contract \(contractID)") }
        let evidence = try addEvidence(file, kind: .returnCertificate, contractID: contractID, contractorID: contract.contractorID, recordedBy: recordedBy, now: now, on: connection)
        _ = try connection.query("""
            UPDATE \(unescaped: table("contracts")) SET return_certificate_at = \(now), return_certificate_evidence = \(evidence.id)
            WHERE id = \(contractID) AND return_certificate_at IS NULL
            """)
        try DurableTimers.cancel(kind: ContractorTimerKind.returnCertificateDue, key: contractID.lowercasedString, on: connection, schema: schema)
        return try self.contract(id: contractID, on: connection)!
    }


    static func contract(from row: PostgresRow) throws -> Contract {
        guard let kind = ContractKind(rawValue: try row.decode("kind")) else { throw ContractorMonitorError(.corruptData, "unknown contract kind") }
        return Contract(
            id: try row.decode("id"), reference: try row.decode("reference"), title: try row.decode("title"), sectionCode: try row.decode("section_code"),
            departmentCode: try row.decode("department_code"), kind: kind, contractorID: try row.decode("contractor_id"),
            startsAt: try row.decode("starts_at"), endsAt: try row.decode("ends_at"), handlesMyNumber: try row.decode("handles_my_number"),
            handlingArea: try row.decode("handling_area"),
            designatedHandlers: try row.decode("designated_handlers", as: PostgresJSON<[DesignatedHandler]>.self).value,
            attestationIntervalMonths: try row.decode("attestation_interval_months"), graceDays: try row.decode("grace_days"),
            returnCertificateDays: try row.decode("return_certificate_days"), returnCertificateAt: try row.decode("return_certificate_at"),
            createdBy: try row.decode("created_by"), createdAt: try row.decode("created_at"), assetIDs: try row.decode("asset_ids"))
    }
}
