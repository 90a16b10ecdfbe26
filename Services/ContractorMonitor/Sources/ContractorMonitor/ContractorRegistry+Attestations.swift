import Contracts
import Directory
public import Foundation
public import Postgres
import ServiceRuntime

/// Attestations (Art. 28): the answers of each period and what they reveal.
extension ContractorRegistry {
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
                dedupKey: "answer-no/\(contractID.lowercasedString)/\(input.period)", now: now, on: connection) {
                found.append(violation)
            }
        }
        let chain = try subcontractChain(contractID: contractID, on: connection)
        for declared in attestation.declaredSubcontractors where !isApproved(declared, in: chain) {
            let name = declared.name.trimmingCharacters(in: .whitespacesAndNewlines)
            let details = "The attestation for period \(input.period) declares sub-contractor \(name), which holds no approved sub-contract on contract \(contract.reference) (Art. 6(3))."
            if let violation = try recordViolation(
                contract: contract, contractorID: contract.contractorID, kind: .unapprovedSubcontractor, details: details,
                dedupKey: "unapproved/\(contractID.lowercasedString)/\(declared.contractorID?.lowercasedString ?? name.lowercased())", now: now, on: connection) {
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
}
