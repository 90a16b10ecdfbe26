import Contracts

extension Samples {
    static let dutyReference = DutyReference(
        dutyID: uuid("6f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"),
        templateID: "self-inspection",
        kind: "self-inspection",
        title: "情報セキュリティ自己点検の実施",
        article: "Art. 24",
        unit: .init(kind: "section", code: "general-affairs", departmentCode: "general-affairs-dept"),
        owingRole: "sectionSecurityOfficer",
        dueDate: "2026-10-01",
        fiscalYear: 2026
    )

    static let dutyOwner = DutyNoticeRecipient(role: "sectionSecurityOfficer", unitCode: "general-affairs")

    static let dutyDueSoonEnvelope = Envelope(
        id: "8a7b6c5d-4e3f-4a2b-9c1d-0e9f8a7b6c5d",
        source: ServiceName.auditScheduler.source,
        time: date("2026-09-24T00:00:00.000Z"),
        traceParent: trace,
        data: DutyDueSoon(duty: dutyReference, recipient: dutyOwner, daysBefore: 7)
    )

    static let dutyDueEnvelope = Envelope(
        id: "9b8c7d6e-5f4a-4b3c-8d2e-1f0a9b8c7d6e",
        source: ServiceName.auditScheduler.source,
        time: date("2026-10-01T00:00:00.000Z"),
        traceParent: trace,
        data: DutyDue(duty: dutyReference, recipient: dutyOwner)
    )

    static let dutyOverdueEnvelope = Envelope(
        id: "0c9d8e7f-6a5b-4c4d-9e3f-2a1b0c9d8e7f",
        source: ServiceName.auditScheduler.source,
        time: date("2026-10-02T00:00:00.000Z"),
        traceParent: trace,
        data: DutyOverdue(duty: dutyReference, recipient: dutyOwner, daysOverdue: 1)
    )

    static let dutyEscalatedEnvelope = Envelope(
        id: "1d0e9f8a-7b6c-4d5e-8f4a-3b2c1d0e9f8a",
        source: ServiceName.auditScheduler.source,
        time: date("2026-10-09T00:00:00.000Z"),
        traceParent: trace,
        data: DutyEscalated(
            duty: dutyReference,
            recipient: DutyNoticeRecipient(role: "departmentSecurityOfficer", unitCode: "general-affairs-dept"),
            level: 1,
            daysOverdue: 8
        )
    )

    static let dutyCompletedEnvelope = Envelope(
        id: "2e1f0a9b-8c7d-4e6f-9a5b-4c3d2e1f0a9b",
        source: ServiceName.auditScheduler.source,
        time: date("2026-10-12T02:15:00.000Z"),
        traceParent: trace,
        data: DutyCompleted(
            duty: dutyReference,
            completedAt: date("2026-10-12T02:15:00.000Z"),
            onTime: false,
            completedByRole: "sectionSecurityOfficer",
            evidenceCount: 1
        )
    )

    /// One sample envelope per message type this service originates; each must equal its
    /// golden fixture in Fixtures/<routing key>.json (regenerate with ISMS_UPDATE_GOLDEN=1).
    static func auditSchedulerSamples() throws -> [(type: MessageType, envelope: RawEnvelope)] {
        [
            (MessageTypes.dutyDueSoon, try dutyDueSoonEnvelope.raw()),
            (MessageTypes.dutyDue, try dutyDueEnvelope.raw()),
            (MessageTypes.dutyOverdue, try dutyOverdueEnvelope.raw()),
            (MessageTypes.dutyEscalated, try dutyEscalatedEnvelope.raw()),
            (MessageTypes.dutyCompleted, try dutyCompletedEnvelope.raw()),
        ]
    }
}
