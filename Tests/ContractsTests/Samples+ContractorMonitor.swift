import Contracts

extension Samples {
    static let contractID = uuid("5d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6")
    static let contractorID = uuid("a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d")

    static let contractorViolation = ContractorViolationDetected(
        violationID: uuid("e7d6c5b4-a392-4817-9c6d-5e4f3a2b1c0d"),
        contractID: contractID,
        contractReference: "R7-KJ-0012",
        contractorID: contractorID,
        contractorName: "株式会社ねりまデータサービス",
        sectionCode: "family-registry",
        departmentCode: "residents-dept",
        kind: .attestationMissing,
        handlesMyNumber: true,
        details: "The attestation for period 2 (due 2025-06-30) was not received by the end of its grace period (2025-07-14).",
        detectedAt: date("2025-07-14T15:00:00.000Z")
    )

    static let contractorViolationEnvelope = Envelope(
        id: "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
        source: ServiceName.contractorMonitor.source,
        time: date("2025-07-14T15:00:00.000Z"),
        traceParent: trace,
        data: contractorViolation
    )

    static let attestationReminder = ContractorAttestationReminder(
        contractID: contractID,
        contractReference: "R7-KJ-0012",
        contractorID: contractorID,
        contractorName: "株式会社ねりまデータサービス",
        sectionCode: "family-registry",
        departmentCode: "residents-dept",
        period: 2,
        dueAt: date("2025-06-30T15:00:00.000Z"),
        graceEndsAt: date("2025-07-14T15:00:00.000Z"),
        checklists: ["entrusted-information", "specific-personal-information"]
    )

    static let attestationDueEnvelope = Envelope(
        id: "2b3c4d5e-6f70-4b8c-9dae-1f2a3b4c5d6e",
        source: ServiceName.contractorMonitor.source,
        time: date("2025-06-16T15:00:00.000Z"),
        traceParent: trace,
        data: ContractorAttestationDue(attestation: attestationReminder)
    )

    static let attestationOverdueEnvelope = Envelope(
        id: "3c4d5e6f-7081-4c9d-8ebf-2a3b4c5d6e7f",
        source: ServiceName.contractorMonitor.source,
        time: date("2025-07-14T15:00:00.000Z"),
        traceParent: trace,
        data: ContractorAttestationOverdue(attestation: attestationReminder)
    )

    static let contractChanged = ContractorContractChanged(
        contractID: contractID,
        contractReference: "R7-KJ-0012",
        contractorID: contractorID,
        contractorName: "株式会社ねりまデータサービス",
        sectionCode: "family-registry",
        departmentCode: "residents-dept",
        change: .registered,
        startDate: "2025-04-01",
        endDate: "2026-03-31",
        handlesMyNumber: true,
        changedAt: date("2025-03-10T01:00:00.000Z")
    )

    static let contractChangedEnvelope = Envelope(
        id: "4d5e6f70-8192-4dae-9fc0-3b4c5d6e7f80",
        source: ServiceName.contractorMonitor.source,
        time: date("2025-03-10T01:00:00.000Z"),
        traceParent: trace,
        data: contractChanged
    )

    /// One sample envelope per message type this service originates; each must equal its
    /// golden fixture in Fixtures/<routing key>.json (regenerate with ISMS_UPDATE_GOLDEN=1).
    static func contractorMonitorSamples() throws -> [(type: MessageType, envelope: RawEnvelope)] {
        [
            (MessageTypes.contractorViolationDetected, try contractorViolationEnvelope.raw()),
            (MessageTypes.contractorAttestationDue, try attestationDueEnvelope.raw()),
            (MessageTypes.contractorAttestationOverdue, try attestationOverdueEnvelope.raw()),
            (MessageTypes.contractorContractChanged, try contractChangedEnvelope.raw()),
        ]
    }
}
