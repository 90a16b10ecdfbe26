import Contracts
public import Directory
public import Foundation
public import Postgres
import Crypto
import PostgresMigrations
import ServiceRuntime

/// The contractor registry and its rules (issue #7): contractors, contracts, sub-contract
/// chains, attestations, certificates and violations, in the service's schema.
///
/// Every call runs on a connection the caller holds, inside the caller's transaction, so the
/// HTTP API, the timers and the `isms contractors ...` commands share one implementation.
/// Violations and reminders are written to the schema's outbox in the same transaction.
public struct ContractorRegistry: Sendable {
    /// The service's schema.
    public let schema: String
    /// Where sections and departments are looked up (Art. 18).
    public let directory: DirectoryStore
    public let baseline: ContractorBaseline
    public let settings: ContractorMonitorSettings

    public init(schema: String = ContractorMonitorService.schema, directory: DirectoryStore = DirectoryStore(), baseline: ContractorBaseline, settings: ContractorMonitorSettings = ContractorMonitorSettings()) {
        self.schema = schema
        self.directory = directory
        self.baseline = baseline
        self.settings = settings
    }

    func table(_ name: String) -> String { "\(Migrator.quoted(schema)).\(name)" }

    // MARK: Contractors

    /// What registering a contractor takes.
    public struct ContractorInput: Sendable, Hashable, Codable {
        public var name: String
        public var kind: ContractorKind
        public var corporateNumber: String?
        public var profile: SafeguardProfile?

        public init(name: String, kind: ContractorKind, corporateNumber: String? = nil, profile: SafeguardProfile? = nil) {
            self.name = name
            self.kind = kind
            self.corporateNumber = corporateNumber
            self.profile = profile
        }
    }

    /// Registers a contractor (委託事業者等, Art. 3(8)).
    public func registerContractor(_ input: ContractorInput, now: Date, on connection: PostgresConnection) throws -> Contractor {
        var problems: [String] = []
        let name = input.name.trimmingCharacters(in: .whitespacesAndNewlines)
        if name.isEmpty || name.count > 300 { problems.append("name: 1 to 300 characters") }
        if let number = input.corporateNumber, number.count != 13 || !number.allSatisfy(\.isASCIIDigit) {
            problems.append("corporateNumber: 13 digits (法人番号)")
        }
        if let profile = input.profile { problems += baseline.problems(in: profile).map { "profile: \($0)" } }
        guard problems.isEmpty else { throw ContractorMonitorError(.invalidRequest, "the contractor is invalid", problems: problems) }
        let contractor = Contractor(
            id: UUID(), name: name, kind: input.kind, corporateNumber: input.corporateNumber, profile: input.profile ?? SafeguardProfile(),
            profileAssessedAt: input.profile == nil ? nil : now, createdAt: now)
        do {
            _ = try connection.query("""
                INSERT INTO \(unescaped: table("contractors")) (id, name, kind, corporate_number, profile, profile_assessed_at, created_at, updated_at)
                VALUES (\(contractor.id), \(contractor.name), \(contractor.kind.rawValue), \(contractor.corporateNumber), \(PostgresJSON(contractor.profile)),
                        \(contractor.profileAssessedAt), \(now), \(now))
                """)
        } catch let error as PostgresError where error.isUniqueViolation {
            throw ContractorMonitorError(.conflict, "a contractor with corporate number \(input.corporateNumber ?? "") is registered already")
        }
        return contractor
    }

    /// Records a new assessment of a contractor's safeguard profile (Art. 6(1)), with its evidence.
    @discardableResult
    public func updateProfile(
        contractorID: UUID, profile: SafeguardProfile, evidence: EvidenceFile?, recordedBy: String, now: Date, on connection: PostgresConnection
    ) throws -> Contractor {
        let problems = baseline.problems(in: profile)
        guard problems.isEmpty else { throw ContractorMonitorError(.invalidRequest, "the profile is invalid", problems: problems) }
        guard try contractor(id: contractorID, on: connection) != nil else { throw ContractorMonitorError(.notFound, "no contractor \(contractorID)") }
        if let evidence {
            _ = try addEvidence(evidence, kind: .profileAssessment, contractID: nil, contractorID: contractorID, recordedBy: recordedBy, now: now, on: connection)
        }
        _ = try connection.query("""
            UPDATE \(unescaped: table("contractors")) SET profile = \(PostgresJSON(profile)), profile_assessed_at = \(now), updated_at = \(now)
            WHERE id = \(contractorID)
            """)
        return try contractor(id: contractorID, on: connection)!
    }

    /// The contractor with this id.
    public func contractor(id: UUID, on connection: PostgresConnection) throws -> Contractor? {
        try connection.query("""
            SELECT id, name, kind, corporate_number, profile::text AS profile, profile_assessed_at, created_at
            FROM \(unescaped: table("contractors")) WHERE id = \(id)
            """).rows.first.map(Self.contractor(from:))
    }

    /// Every contractor, by name.
    public func contractors(on connection: PostgresConnection) throws -> [Contractor] {
        try connection.query("""
            SELECT id, name, kind, corporate_number, profile::text AS profile, profile_assessed_at, created_at
            FROM \(unescaped: table("contractors")) ORDER BY name, id
            """).rows.map(Self.contractor(from:))
    }

    /// Records a security certification (ISMS, Privacy Mark, ...) and schedules the check at its
    /// expiry: an expired certificate that was not renewed is a violation.
    public func addCertification(
        contractorID: UUID, name: String, validUntil: Date, evidence: EvidenceFile?, recordedBy: String, now: Date, on connection: PostgresConnection
    ) throws -> ContractorCertification {
        guard try contractor(id: contractorID, on: connection) != nil else { throw ContractorMonitorError(.notFound, "no contractor \(contractorID)") }
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, trimmed.count <= 200 else { throw ContractorMonitorError(.invalidRequest, "name: 1 to 200 characters") }
        let evidenceID = try evidence.map { try addEvidence($0, kind: .certification, contractID: nil, contractorID: contractorID, recordedBy: recordedBy, now: now, on: connection).id }
        let certification = ContractorCertification(id: UUID(), contractorID: contractorID, name: trimmed, validUntil: validUntil, evidenceID: evidenceID, recordedAt: now)
        _ = try connection.query("""
            INSERT INTO \(unescaped: table("certifications")) (id, contractor_id, name, valid_until, evidence_id, recorded_at)
            VALUES (\(certification.id), \(contractorID), \(certification.name), \(validUntil), \(evidenceID), \(now))
            """)
        try DurableTimers.schedule(
            kind: ContractorTimerKind.certificationExpiry, key: certification.id.uuidString.lowercased(), at: validUntil,
            payloadJSON: Self.timerPayload(["certificationId": certification.id.uuidString.lowercased()]), on: connection, schema: schema)
        return certification
    }

    /// The certifications of a contractor, newest expiry first.
    public func certifications(contractorID: UUID, on connection: PostgresConnection) throws -> [ContractorCertification] {
        try connection.query("""
            SELECT id, contractor_id, name, valid_until, evidence_id, recorded_at FROM \(unescaped: table("certifications"))
            WHERE contractor_id = \(contractorID) ORDER BY valid_until DESC
            """).rows.map { row in
            ContractorCertification(
                id: try row.decode("id"), contractorID: try row.decode("contractor_id"), name: try row.decode("name"),
                validUntil: try row.decode("valid_until"), evidenceID: try row.decode("evidence_id"), recordedAt: try row.decode("recorded_at"))
        }
    }

    // MARK: Evidence

    /// A file offered as evidence: its name and SHA-256 (the file stays in the ward's document store).
    public struct EvidenceFile: Sendable, Hashable, Codable {
        public var fileName: String
        public var sha256: String

        public init(fileName: String, sha256: String) {
            self.fileName = fileName
            self.sha256 = sha256
        }
    }

    /// Records evidence for a contract or a contractor.
    public func addEvidence(
        _ file: EvidenceFile, kind: ContractorEvidence.Kind, contractID: UUID?, contractorID: UUID?, recordedBy: String, now: Date,
        on connection: PostgresConnection
    ) throws -> ContractorEvidence {
        var problems: [String] = []
        let name = file.fileName.trimmingCharacters(in: .whitespacesAndNewlines)
        if name.isEmpty || name.count > 255 || name.contains("/") { problems.append("fileName: 1 to 255 characters, no '/'") }
        let hash = file.sha256.lowercased()
        if hash.count != 64 || !hash.allSatisfy(\.isHexDigit) { problems.append("sha256: 64 hex digits") }
        guard problems.isEmpty else { throw ContractorMonitorError(.invalidRequest, "the evidence is invalid", problems: problems) }
        let evidence = ContractorEvidence(id: UUID(), contractID: contractID, contractorID: contractorID, kind: kind, fileName: name, sha256: hash, recordedBy: recordedBy, recordedAt: now)
        _ = try connection.query("""
            INSERT INTO \(unescaped: table("evidence")) (id, contract_id, contractor_id, kind, file_name, sha256, recorded_by, recorded_at)
            VALUES (\(evidence.id), \(contractID), \(contractorID), \(kind.rawValue), \(name), \(hash), \(recordedBy), \(now))
            """)
        return evidence
    }

    /// The evidence recorded for a contract, oldest first.
    public func evidence(contractID: UUID, on connection: PostgresConnection) throws -> [ContractorEvidence] {
        try connection.query("""
            SELECT id, contract_id, contractor_id, kind, file_name, sha256, recorded_by, recorded_at FROM \(unescaped: table("evidence"))
            WHERE contract_id = \(contractID) ORDER BY recorded_at, id
            """).rows.map { row in
            ContractorEvidence(
                id: try row.decode("id"), contractID: try row.decode("contract_id"), contractorID: try row.decode("contractor_id"),
                kind: ContractorEvidence.Kind(rawValue: try row.decode("kind")) ?? .other, fileName: try row.decode("file_name"),
                sha256: try row.decode("sha256"), recordedBy: try row.decode("recorded_by"), recordedAt: try row.decode("recorded_at"))
        }
    }

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

        public init(
            reference: String, title: String, sectionCode: String, kind: ContractKind, contractorID: UUID, startDate: String, endDate: String,
            handlesMyNumber: Bool, handlingArea: String? = nil, designatedHandlers: [DesignatedHandler]? = nil,
            attestationIntervalMonths: Int? = nil, graceDays: Int? = nil, returnCertificateDays: Int? = nil
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
        }

        enum CodingKeys: String, CodingKey {
            case reference, title, sectionCode, kind
            case contractorID = "contractorId"
            case startDate, endDate, handlesMyNumber, handlingArea, designatedHandlers, attestationIntervalMonths, graceDays, returnCertificateDays
        }
    }

    /// Registers a contract: checks the section against the directory, the contractor's kind
    /// against the contract's, and the My Number duties (Art. 18(8)); then schedules every
    /// attestation reminder (Art. 28) and the return-certificate deadline.
    public func registerContract(_ input: ContractInput, createdBy: String, now: Date, on connection: PostgresConnection) throws -> Contract {
        var problems: [String] = []
        let reference = input.reference.trimmingCharacters(in: .whitespacesAndNewlines)
        let title = input.title.trimmingCharacters(in: .whitespacesAndNewlines)
        if reference.isEmpty || reference.count > 200 { problems.append("reference: 1 to 200 characters") }
        if title.isEmpty || title.count > 500 { problems.append("title: 1 to 500 characters") }
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
        guard problems.isEmpty, let section, let contractor, let startsAt, let endsAt else {
            throw ContractorMonitorError(.invalidRequest, "the contract is invalid", problems: problems)
        }
        let contract = Contract(
            id: UUID(), reference: reference, title: title, sectionCode: section.code, departmentCode: section.departmentCode, kind: input.kind,
            contractorID: contractor.id, startsAt: startsAt, endsAt: endsAt, handlesMyNumber: input.handlesMyNumber,
            handlingArea: input.handlesMyNumber ? area : (area?.isEmpty == false ? area : nil), designatedHandlers: handlers,
            attestationIntervalMonths: interval, graceDays: grace, returnCertificateDays: returnDays, returnCertificateAt: nil,
            createdBy: createdBy, createdAt: now)
        do {
            _ = try connection.query("""
                INSERT INTO \(unescaped: table("contracts")) (
                    id, reference, title, section_code, department_code, kind, contractor_id, starts_at, ends_at, handles_my_number,
                    handling_area, designated_handlers, attestation_interval_months, grace_days, return_certificate_days, created_by, created_at)
                VALUES (\(contract.id), \(contract.reference), \(contract.title), \(contract.sectionCode), \(contract.departmentCode),
                    \(contract.kind.rawValue), \(contract.contractorID), \(contract.startsAt), \(contract.endsAt), \(contract.handlesMyNumber),
                    \(contract.handlingArea), \(PostgresJSON(contract.designatedHandlers)), \(interval), \(grace), \(returnDays), \(createdBy), \(now))
                """)
        } catch let error as PostgresError where error.isUniqueViolation {
            throw ContractorMonitorError(.conflict, "contract reference '\(reference)' is registered already")
        }
        try scheduleTimers(for: contract, on: connection)
        return contract
    }

    /// Every attestation reminder and deadline of the contract, and the return-certificate deadline.
    func scheduleTimers(for contract: Contract, on connection: PostgresConnection) throws {
        let id = contract.id.uuidString.lowercased()
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

    /// The contracts visible in `scope`, by reference.
    public func contracts(in scope: ContractorScope = .all, on connection: PostgresConnection) throws -> [Contract] {
        let rows: PostgresResult
        switch scope {
        case .all:
            rows = try connection.query("SELECT \(unescaped: Self.contractColumns) FROM \(unescaped: table("contracts")) ORDER BY reference")
        case .department(let code):
            rows = try connection.query("SELECT \(unescaped: Self.contractColumns) FROM \(unescaped: table("contracts")) WHERE department_code = \(code) ORDER BY reference")
        case .section(let code):
            rows = try connection.query("SELECT \(unescaped: Self.contractColumns) FROM \(unescaped: table("contracts")) WHERE section_code = \(code) ORDER BY reference")
        }
        return try rows.rows.map(Self.contract(from:))
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
        try DurableTimers.cancel(kind: ContractorTimerKind.returnCertificateDue, key: contractID.uuidString.lowercased(), on: connection, schema: schema)
        return try self.contract(id: contractID, on: connection)!
    }

    // MARK: Sub-contract chains (Art. 6(3)(4))

    /// One entry of the append-only, hash-chained ledger of sub-contract decisions.
    public struct SubcontractDecision: Sendable, Hashable, Codable {
        public var seq: Int64
        public var linkID: UUID
        public var contractID: UUID
        public var parentLinkID: UUID?
        public var subcontractorID: UUID
        public var decision: SubcontractChain.Link.State
        public var approver: String
        public var offeredProfile: SafeguardProfile
        public var parentProfile: SafeguardProfile
        public var shortfalls: [SubcontractShortfall]
        public var decidedAt: Date
        public var prevHash: String
        public var hash: String

        enum CodingKeys: String, CodingKey {
            case seq
            case linkID = "linkId"
            case contractID = "contractId"
            case parentLinkID = "parentLinkId"
            case subcontractorID = "subcontractorId"
            case decision, approver, offeredProfile, parentProfile, shortfalls, decidedAt, prevHash, hash
        }

        /// The hash over every other field and the previous hash.
        func computedHash() throws -> String {
            var unsigned = self
            unsigned.hash = ""
            let bytes = try ContractsJSON.encoder().encode(unsigned)
            return SHA256.hash(data: bytes).hexString
        }
    }

    /// The hash before the first decision.
    public static let genesisHash = String(repeating: "0", count: 64)

    /// Asks to approve `subcontractorID` below `parentLinkID` (nil: directly below the
    /// contractor) and records the decision with its approver. The link is approved only when
    /// the sub-contractor's profile meets the baseline and its parent's profile, control by
    /// control (``SubcontractGate``); otherwise it is refused with every shortfall listed.
    public func requestSubcontract(
        contractID: UUID, parentLinkID: UUID?, subcontractorID: UUID, approver: String, now: Date, on connection: PostgresConnection
    ) throws -> SubcontractDecision {
        guard let contract = try contract(id: contractID, on: connection) else { throw ContractorMonitorError(.notFound, "no contract \(contractID)") }
        guard let prime = try contractor(id: contract.contractorID, on: connection) else { throw ContractorMonitorError(.corruptData, "the contract's contractor is missing") }
        guard let subcontractor = try contractor(id: subcontractorID, on: connection) else {
            throw ContractorMonitorError(.invalidRequest, "no contractor \(subcontractorID): register the sub-contractor first")
        }
        let chain = try subcontractChain(contractID: contractID, on: connection)
        let parentProfile: SafeguardProfile
        let depth: Int
        var ancestors: Set<String> = [prime.id.uuidString.lowercased()]
        if let parentLinkID {
            guard let parent = chain.links.first(where: { $0.id == parentLinkID.uuidString.lowercased() }) else {
                throw ContractorMonitorError(.invalidRequest, "link \(parentLinkID) is not part of contract \(contract.reference)")
            }
            guard parent.state == .approved else {
                throw ContractorMonitorError(.invalidRequest, "link \(parentLinkID) was refused: nothing may be sub-contracted below it (Art. 6(3))")
            }
            parentProfile = parent.profile
            depth = parent.depth + 1
            var cursor: SubcontractChain.Link? = parent
            while let link = cursor {
                ancestors.insert(link.subcontractorID)
                cursor = link.parentID.flatMap { id in chain.links.first { $0.id == id } }
            }
        } else {
            parentProfile = prime.profile
            depth = 1
        }
        guard !ancestors.contains(subcontractorID.uuidString.lowercased()) else {
            throw ContractorMonitorError(.invalidRequest, "\(subcontractor.name) is already above this link in the chain")
        }
        let verdict = SubcontractGate.evaluate(offered: subcontractor.profile, parent: parentProfile, baseline: baseline, handlesMyNumber: contract.handlesMyNumber)
        let state: SubcontractChain.Link.State = verdict.isApproved ? .approved : .refused
        let decidedAt = ContractsJSON.wirePrecision(now)
        let existing = chain.links.first { $0.subcontractorID == subcontractorID.uuidString.lowercased() && $0.parentID == parentLinkID?.uuidString.lowercased() }
        let linkID = existing.flatMap { UUID(uuidString: $0.id) } ?? UUID()
        _ = try connection.query("""
            INSERT INTO \(unescaped: table("subcontract_links")) (id, contract_id, parent_link_id, subcontractor_id, state, profile, depth, decided_at)
            VALUES (\(linkID), \(contractID), \(parentLinkID), \(subcontractorID), \(state.rawValue), \(PostgresJSON(subcontractor.profile)), \(depth), \(decidedAt))
            ON CONFLICT (id) DO UPDATE SET state = EXCLUDED.state, profile = EXCLUDED.profile, decided_at = EXCLUDED.decided_at
            """)
        // One writer at a time extends the chain, so every entry names the one before it.
        _ = try connection.query("SELECT pg_advisory_xact_lock(hashtext(\("isms.subcontract-decisions." + schema)))")
        let last = try connection.query("SELECT seq, hash FROM \(unescaped: table("subcontract_decisions")) ORDER BY seq DESC LIMIT 1").rows.first
        var decision = SubcontractDecision(
            seq: (try last?.decode("seq", as: Int64.self) ?? 0) + 1, linkID: linkID, contractID: contractID, parentLinkID: parentLinkID,
            subcontractorID: subcontractorID, decision: state, approver: approver, offeredProfile: subcontractor.profile, parentProfile: parentProfile,
            shortfalls: verdict.shortfalls, decidedAt: decidedAt, prevHash: try last?.decode("hash", as: String.self) ?? Self.genesisHash, hash: "")
        decision.hash = try decision.computedHash()
        _ = try connection.query("""
            INSERT INTO \(unescaped: table("subcontract_decisions")) (
                seq, link_id, contract_id, parent_link_id, subcontractor_id, decision, approver, offered_profile, parent_profile, shortfalls,
                decided_at, prev_hash, hash)
            VALUES (\(decision.seq), \(linkID), \(contractID), \(parentLinkID), \(subcontractorID), \(state.rawValue), \(approver),
                \(PostgresJSON(decision.offeredProfile)), \(PostgresJSON(decision.parentProfile)), \(PostgresJSON(decision.shortfalls)),
                \(decidedAt), \(decision.prevHash), \(decision.hash))
            """)
        return decision
    }

    /// The sub-contract chain of a contract: every link, approved or refused, shallowest first.
    public func subcontractChain(contractID: UUID, on connection: PostgresConnection) throws -> SubcontractChain {
        let rows = try connection.query("""
            SELECT l.id, l.parent_link_id, l.subcontractor_id, c.name, l.state, l.profile::text AS profile, l.depth
            FROM \(unescaped: table("subcontract_links")) l JOIN \(unescaped: table("contractors")) c ON c.id = l.subcontractor_id
            WHERE l.contract_id = \(contractID) ORDER BY l.depth, c.name, l.id
            """)
        return SubcontractChain(links: try rows.rows.map { row in
            SubcontractChain.Link(
                id: (try row.decode("id", as: UUID.self)).uuidString.lowercased(),
                parentID: (try row.decode("parent_link_id", as: UUID?.self))?.uuidString.lowercased(),
                subcontractorID: (try row.decode("subcontractor_id", as: UUID.self)).uuidString.lowercased(),
                subcontractorName: try row.decode("name"),
                state: SubcontractChain.Link.State(rawValue: try row.decode("state")) ?? .refused,
                profile: try row.decode("profile", as: PostgresJSON<SafeguardProfile>.self).value,
                depth: try row.decode("depth"))
        })
    }

    /// The decisions of one contract (or all when nil), in ledger order.
    public func subcontractDecisions(contractID: UUID? = nil, on connection: PostgresConnection) throws -> [SubcontractDecision] {
        let rows: PostgresResult
        if let contractID {
            rows = try connection.query("SELECT \(unescaped: Self.decisionColumns) FROM \(unescaped: table("subcontract_decisions")) WHERE contract_id = \(contractID) ORDER BY seq")
        } else {
            rows = try connection.query("SELECT \(unescaped: Self.decisionColumns) FROM \(unescaped: table("subcontract_decisions")) ORDER BY seq")
        }
        return try rows.rows.map(Self.decision(from:))
    }

    /// The result of checking the decision ledger.
    public struct ChainVerification: Sendable, Hashable, Codable {
        /// How many entries were checked.
        public var entries: Int
        /// The first entry whose hash or link to its predecessor is wrong; nil when all hold.
        public var firstBrokenSeq: Int64?
        public var isIntact: Bool { firstBrokenSeq == nil }
    }

    /// Recomputes every hash of the decision ledger (`isms contractors verify`).
    public func verifyDecisionChain(on connection: PostgresConnection) throws -> ChainVerification {
        var previous = Self.genesisHash
        var expectedSeq: Int64 = 1
        let decisions = try subcontractDecisions(on: connection)
        for decision in decisions {
            let recomputed = try decision.computedHash()
            if decision.seq != expectedSeq || decision.prevHash != previous || recomputed != decision.hash {
                return ChainVerification(entries: decisions.count, firstBrokenSeq: decision.seq)
            }
            previous = decision.hash
            expectedSeq += 1
        }
        return ChainVerification(entries: decisions.count, firstBrokenSeq: nil)
    }

    /// An officer found a sub-contractor working on the contract without approval (Art. 6(3)):
    /// a violation, unless the sub-contractor holds an approved link.
    public func reportUnapprovedSubcontractor(
        contractID: UUID, subcontractor: DeclaredSubcontractor, reportedBy: String, now: Date, on connection: PostgresConnection
    ) throws -> ContractorViolation {
        guard let contract = try contract(id: contractID, on: connection) else { throw ContractorMonitorError(.notFound, "no contract \(contractID)") }
        let chain = try subcontractChain(contractID: contractID, on: connection)
        guard !isApproved(subcontractor, in: chain) else {
            throw ContractorMonitorError(.invalidRequest, "\(subcontractor.name) holds an approved link on contract \(contract.reference)")
        }
        let name = subcontractor.name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty, name.count <= 300 else { throw ContractorMonitorError(.invalidRequest, "name: 1 to 300 characters") }
        let key = "unapproved/\(contractID.uuidString.lowercased())/\(subcontractor.contractorID?.uuidString.lowercased() ?? name.lowercased())"
        let details = "Sub-contractor \(name) was found working on contract \(contract.reference) without an approved sub-contract (Art. 6(3)); entered by an officer."
        guard let violation = try recordViolation(contract: contract, contractorID: contract.contractorID, kind: .unapprovedSubcontractor, details: details, dedupKey: key, now: now, on: connection) else {
            throw ContractorMonitorError(.conflict, "\(name) was reported on contract \(contract.reference) before")
        }
        return violation
    }

    func isApproved(_ declared: DeclaredSubcontractor, in chain: SubcontractChain) -> Bool {
        if let id = declared.contractorID { return chain.isApproved(contractorID: id.uuidString.lowercased()) }
        let name = declared.name.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        return chain.links.contains { $0.state == .approved && $0.subcontractorName.lowercased() == name }
    }

    // MARK: Attestations (Art. 28)

    /// A contractor's answers for one period, as the section records them.
    public struct AttestationInput: Sendable, Hashable, Codable {
        public var period: Int
        /// Answers by checklist (``SpecialProvisionSet`` raw value), then by item id.
        public var answers: [String: [String: AttestationAnswer]]
        public var declaredSubcontractors: [DeclaredSubcontractor]?
        public var evidence: EvidenceFile?

        public init(period: Int, answers: [String: [String: AttestationAnswer]], declaredSubcontractors: [DeclaredSubcontractor]? = nil, evidence: EvidenceFile? = nil) {
            self.period = period
            self.answers = answers
            self.declaredSubcontractors = declaredSubcontractors
            self.evidence = evidence
        }
    }

    /// What recording an attestation found.
    public struct AttestationOutcome: Sendable, Hashable, Codable {
        public var attestation: Attestation
        /// The violations it caused: a "no" answer, undeclared sub-contractors.
        public var violations: [ContractorViolation]
    }

    /// Records an attestation. Every item of every checklist the contract is bound by must be
    /// answered. A "no" answer and a declared sub-contractor without an approved link are
    /// violations (Art. 3(13)(イ), 6(3)).
    public func submitAttestation(_ input: AttestationInput, contractID: UUID, recordedBy: String, now: Date, on connection: PostgresConnection) throws -> AttestationOutcome {
        guard let contract = try contract(id: contractID, on: connection) else { throw ContractorMonitorError(.notFound, "no contract \(contractID)") }
        var problems: [String] = []
        let periods = contract.schedule.periods
        if !periods.contains(where: { $0.number == input.period }) { problems.append("period: 1 to \(periods.count) for this contract") }
        var answers: [SpecialProvisionSet: [String: AttestationAnswer]] = [:]
        let required = Set(contract.specialProvisions)
        for (key, items) in input.answers {
            guard let set = SpecialProvisionSet(rawValue: key), required.contains(set) else {
                problems.append("answers.\(key): this contract is bound by \(contract.specialProvisions.map(\.rawValue).joined(separator: ", ")) only")
                continue
            }
            let known = Set(baseline.checklists[set]?.items.map(\.id) ?? [])
            for item in items.keys.sorted() where !known.contains(item) { problems.append("answers.\(key).\(item): no such item") }
            answers[set] = items
        }
        for set in contract.specialProvisions {
            for item in baseline.checklists[set]?.items ?? [] where answers[set]?[item.id] == nil {
                problems.append("answers.\(set.rawValue).\(item.id): unanswered")
            }
        }
        guard problems.isEmpty else { throw ContractorMonitorError(.invalidRequest, "the attestation is invalid", problems: problems) }
        let evidenceID = try input.evidence.map {
            try addEvidence($0, kind: .attestation, contractID: contractID, contractorID: contract.contractorID, recordedBy: recordedBy, now: now, on: connection).id
        }
        let attestation = Attestation(
            id: UUID(), contractID: contractID, period: input.period, answers: answers, declaredSubcontractors: input.declaredSubcontractors ?? [],
            evidenceID: evidenceID, recordedBy: recordedBy, submittedAt: now)
        do {
            _ = try connection.query("""
                INSERT INTO \(unescaped: table("attestations")) (id, contract_id, period, answers, declared_subcontractors, evidence_id, recorded_by, submitted_at)
                VALUES (\(attestation.id), \(contractID), \(input.period), \(PostgresJSON(answers)), \(PostgresJSON(attestation.declaredSubcontractors)),
                    \(evidenceID), \(recordedBy), \(now))
                """)
        } catch let error as PostgresError where error.isUniqueViolation {
            throw ContractorMonitorError(.conflict, "period \(input.period) of contract \(contract.reference) was attested already")
        }
        var found: [ContractorViolation] = []
        let noAnswers = attestation.noAnswers
        if !noAnswers.isEmpty {
            let details = "The attestation for period \(input.period) of contract \(contract.reference) answered \"no\" to: \(noAnswers.joined(separator: ", ")) (Art. 28)."
            if let violation = try recordViolation(
                contract: contract, contractorID: contract.contractorID, kind: .attestationAnswerNo, details: details,
                dedupKey: "answer-no/\(contractID.uuidString.lowercased())/\(input.period)", now: now, on: connection) {
                found.append(violation)
            }
        }
        let chain = try subcontractChain(contractID: contractID, on: connection)
        for declared in attestation.declaredSubcontractors where !isApproved(declared, in: chain) {
            let name = declared.name.trimmingCharacters(in: .whitespacesAndNewlines)
            let details = "The attestation for period \(input.period) declares sub-contractor \(name), which holds no approved sub-contract on contract \(contract.reference) (Art. 6(3))."
            if let violation = try recordViolation(
                contract: contract, contractorID: contract.contractorID, kind: .unapprovedSubcontractor, details: details,
                dedupKey: "unapproved/\(contractID.uuidString.lowercased())/\(declared.contractorID?.uuidString.lowercased() ?? name.lowercased())", now: now, on: connection) {
                found.append(violation)
            }
        }
        return AttestationOutcome(attestation: attestation, violations: found)
    }

    /// The attestations of a contract, by period.
    public func attestations(contractID: UUID, on connection: PostgresConnection) throws -> [Attestation] {
        try connection.query("""
            SELECT id, contract_id, period, answers::text AS answers, declared_subcontractors::text AS declared, evidence_id, recorded_by, submitted_at
            FROM \(unescaped: table("attestations")) WHERE contract_id = \(contractID) ORDER BY period
            """).rows.map { row in
            Attestation(
                id: try row.decode("id"), contractID: try row.decode("contract_id"), period: try row.decode("period"),
                answers: try row.decode("answers", as: PostgresJSON<[SpecialProvisionSet: [String: AttestationAnswer]]>.self).value,
                declaredSubcontractors: try row.decode("declared", as: PostgresJSON<[DeclaredSubcontractor]>.self).value,
                evidenceID: try row.decode("evidence_id"), recordedBy: try row.decode("recorded_by"), submittedAt: try row.decode("submitted_at"))
        }
    }

    /// Where one attestation period stands.
    public struct PeriodStatus: Sendable, Hashable, Codable {
        public enum Status: String, Sendable, Hashable, Codable {
            /// Not due yet.
            case upcoming
            /// Past its due date, within the grace period.
            case due
            /// Past the grace period without an attestation.
            case overdue
            /// Attested.
            case attested
        }

        public var period: Int
        public var dueAt: Date
        public var graceEndsAt: Date
        public var status: Status
        public var submittedAt: Date?
    }

    /// Every period of the contract with its status at `now`.
    public func periodStatuses(contract: Contract, now: Date, on connection: PostgresConnection) throws -> [PeriodStatus] {
        let submitted = Dictionary(try attestations(contractID: contract.id, on: connection).map { ($0.period, $0.submittedAt) }, uniquingKeysWith: { first, _ in first })
        return contract.schedule.periods.map { period in
            let status: PeriodStatus.Status = submitted[period.number] != nil ? .attested
                : now >= period.graceEndsAt ? .overdue : now >= period.dueAt ? .due : .upcoming
            return PeriodStatus(period: period.number, dueAt: period.dueAt, graceEndsAt: period.graceEndsAt, status: status, submittedAt: submitted[period.number])
        }
    }

    // MARK: Violations

    /// Records a violation once per `dedupKey` and emits `contractor.violation.detected`;
    /// returns nil when it was recorded before.
    func recordViolation(
        contract: Contract, contractorID: UUID, kind: ContractorViolationKind, details: String, dedupKey: String, now: Date, on connection: PostgresConnection
    ) throws -> ContractorViolation? {
        let violation = ContractorViolation(
            id: UUID(), contractID: contract.id, contractorID: contractorID, sectionCode: contract.sectionCode, departmentCode: contract.departmentCode,
            kind: kind.rawValue, details: String(details.prefix(4000)), detectedAt: ContractsJSON.wirePrecision(now), state: .open,
            resolvedAt: nil, resolvedBy: nil, resolution: nil)
        let inserted = try connection.query("""
            INSERT INTO \(unescaped: table("violations")) (id, contract_id, contractor_id, section_code, department_code, kind, details, dedup_key, detected_at)
            VALUES (\(violation.id), \(contract.id), \(contractorID), \(contract.sectionCode), \(contract.departmentCode), \(kind.rawValue),
                \(violation.details), \(dedupKey), \(violation.detectedAt))
            ON CONFLICT (dedup_key) DO NOTHING
            """).affectedRows
        guard inserted > 0 else { return nil }
        let contractorName = try contractor(id: contractorID, on: connection)?.name ?? "(unknown)"
        let payload = ContractorViolationDetected(
            violationID: violation.id, contractID: contract.id, contractReference: contract.reference, contractorID: contractorID,
            contractorName: contractorName, sectionCode: contract.sectionCode, departmentCode: contract.departmentCode, kind: kind,
            handlesMyNumber: contract.handlesMyNumber, details: violation.details, detectedAt: violation.detectedAt)
        try emit(payload, now: now, on: connection)
        return violation
    }

    /// Writes an event to the schema's outbox; it is published when the transaction commits.
    func emit<Payload: MessagePayload>(_ payload: Payload, now: Date, on connection: PostgresConnection) throws {
        let envelope = Envelope(source: ServiceName.contractorMonitor.source, time: now, data: payload)
        try Outbox.enqueue([OutboxMessage(try envelope.amqpMessage(appID: ServiceName.contractorMonitor.rawValue))], schema: schema, on: connection)
    }

    /// The violations in `scope`, newest first; `state` nil for all.
    public func violations(in scope: ContractorScope = .all, state: ContractorViolation.State? = .open, on connection: PostgresConnection) throws -> [ContractorViolation] {
        let unit: String?
        let column: String
        switch scope {
        case .all: unit = nil; column = "section_code"
        case .department(let code): unit = code; column = "department_code"
        case .section(let code): unit = code; column = "section_code"
        }
        return try connection.query("""
            SELECT id, contract_id, contractor_id, section_code, department_code, kind, details, detected_at, state, resolved_at, resolved_by, resolution
            FROM \(unescaped: table("violations"))
            WHERE (\(unit)::text IS NULL OR \(unescaped: column) = \(unit)) AND (\(state?.rawValue)::text IS NULL OR state = \(state?.rawValue))
            ORDER BY detected_at DESC, id
            """).rows.map(Self.violation(from:))
    }

    /// Marks a violation resolved (the CSIRT case closed, the contractor corrected it).
    public func resolveViolation(id: UUID, resolution: String, resolvedBy: String, now: Date, on connection: PostgresConnection) throws -> ContractorViolation {
        let updated = try connection.query("""
            UPDATE \(unescaped: table("violations")) SET state = 'resolved', resolved_at = \(now), resolved_by = \(resolvedBy), resolution = \(resolution)
            WHERE id = \(id) AND state = 'open'
            RETURNING id, contract_id, contractor_id, section_code, department_code, kind, details, detected_at, state, resolved_at, resolved_by, resolution
            """)
        guard let row = updated.rows.first else { throw ContractorMonitorError(.notFound, "no open violation \(id)") }
        return try Self.violation(from: row)
    }

    /// The violation with this id.
    public func violation(id: UUID, on connection: PostgresConnection) throws -> ContractorViolation? {
        try connection.query("""
            SELECT id, contract_id, contractor_id, section_code, department_code, kind, details, detected_at, state, resolved_at, resolved_by, resolution
            FROM \(unescaped: table("violations")) WHERE id = \(id)
            """).rows.first.map(Self.violation(from:))
    }

    // MARK: Rows

    static let contractColumns = """
        id, reference, title, section_code, department_code, kind, contractor_id, starts_at, ends_at, handles_my_number, handling_area,
        designated_handlers::text AS designated_handlers, attestation_interval_months, grace_days, return_certificate_days, return_certificate_at,
        created_by, created_at
        """

    static let decisionColumns = """
        seq, link_id, contract_id, parent_link_id, subcontractor_id, decision, approver, offered_profile::text AS offered_profile,
        parent_profile::text AS parent_profile, shortfalls::text AS shortfalls, decided_at, prev_hash, hash
        """

    static func contractor(from row: PostgresRow) throws -> Contractor {
        guard let kind = ContractorKind(rawValue: try row.decode("kind")) else { throw ContractorMonitorError(.corruptData, "unknown contractor kind") }
        return Contractor(
            id: try row.decode("id"), name: try row.decode("name"), kind: kind, corporateNumber: try row.decode("corporate_number"),
            profile: try row.decode("profile", as: PostgresJSON<SafeguardProfile>.self).value, profileAssessedAt: try row.decode("profile_assessed_at"),
            createdAt: try row.decode("created_at"))
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
            createdBy: try row.decode("created_by"), createdAt: try row.decode("created_at"))
    }

    static func decision(from row: PostgresRow) throws -> SubcontractDecision {
        SubcontractDecision(
            seq: try row.decode("seq"), linkID: try row.decode("link_id"), contractID: try row.decode("contract_id"),
            parentLinkID: try row.decode("parent_link_id"), subcontractorID: try row.decode("subcontractor_id"),
            decision: SubcontractChain.Link.State(rawValue: try row.decode("decision")) ?? .refused, approver: try row.decode("approver"),
            offeredProfile: try row.decode("offered_profile", as: PostgresJSON<SafeguardProfile>.self).value,
            parentProfile: try row.decode("parent_profile", as: PostgresJSON<SafeguardProfile>.self).value,
            shortfalls: try row.decode("shortfalls", as: PostgresJSON<[SubcontractShortfall]>.self).value,
            decidedAt: try row.decode("decided_at"), prevHash: try row.decode("prev_hash"), hash: try row.decode("hash"))
    }

    static func violation(from row: PostgresRow) throws -> ContractorViolation {
        ContractorViolation(
            id: try row.decode("id"), contractID: try row.decode("contract_id"), contractorID: try row.decode("contractor_id"),
            sectionCode: try row.decode("section_code"), departmentCode: try row.decode("department_code"), kind: try row.decode("kind"),
            details: try row.decode("details"), detectedAt: try row.decode("detected_at"),
            state: ContractorViolation.State(rawValue: try row.decode("state")) ?? .open, resolvedAt: try row.decode("resolved_at"),
            resolvedBy: try row.decode("resolved_by"), resolution: try row.decode("resolution"))
    }

    static func timerPayload(_ values: [String: String]) -> String {
        String(decoding: (try? JSONSerialization.data(withJSONObject: values, options: [.sortedKeys])) ?? Data("{}".utf8), as: UTF8.self)
    }
}

/// Which contracts a caller sees.
public enum ContractorScope: Sendable, Hashable {
    /// Every contract: the general security manager, the CISO, CSIRT (Art. 16, 22).
    case all
    /// The contracts of one department's sections: its security officer (Art. 17).
    case department(String)
    /// One section's contracts: its security officer and staff (Art. 18, 19).
    case section(String)
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
