import Contracts
import Foundation

extension Samples {
    static let caseID = uuid("5d2c8e1a-7b3f-4a6e-9c0d-2e4f6a8b0c1d")
    static let obligationID = uuid("8a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d")

    static let caseOpened = IncidentCaseOpened(
        caseNumber: "INC-2025-000042",
        caseId: caseID,
        source: .init(kind: "incident-report", id: intakeID.uuidString.lowercased()),
        severity: 1,
        severityRule: "my-number-over-100",
        sectionCode: "koseki-jumin",
        departmentCode: "kumin",
        category: .lossOrTheft,
        title: "個人番号を含むUSBメモリの紛失",
        myNumberDetected: true,
        knownAt: date("2025-04-01T10:20:00.000+09:00"),
        openedAt: date("2025-04-01T01:30:02.000Z")
    )

    static let escalated = IncidentEscalated(
        caseNumber: "INC-2025-000042",
        caseId: caseID,
        severity: 2,
        level: 2,
        role: "departmentSecurityOfficer",
        unitCode: "kumin",
        recipients: ["p-kumin-head"],
        reason: "timeout",
        sectionCode: "koseki-jumin",
        departmentCode: "kumin",
        escalatedAt: date("2025-04-01T02:00:02.000Z"),
        nextEscalationAt: date("2025-04-01T02:30:02.000Z")
    )

    static let acknowledged = IncidentAcknowledged(
        caseNumber: "INC-2025-000042",
        caseId: caseID,
        severity: 2,
        actor: "person:p-kumin-head",
        role: "departmentSecurityOfficer",
        acknowledgedAt: date("2025-04-01T02:05:00.000Z")
    )

    static let obligationReminder = IncidentObligationReminder(
        caseNumber: "INC-2025-000042",
        caseId: caseID,
        obligationId: obligationID,
        rule: "my-number-29-4-preliminary",
        kind: "preliminary-report",
        status: "required",
        stage: "reminder",
        dueDate: "2025-04-07",
        dueAt: date("2025-04-07T15:00:00.000Z"),
        law: "番号利用法 第29条の4第1項; 特定個人情報の漏えい等に関する報告等に関する規則 第3条第1項",
        sectionCode: "koseki-jumin",
        remindedAt: date("2025-04-05T15:00:00.000Z")
    )

    static func triageEnvelope<Payload: MessagePayload>(_ id: String, _ payload: Payload, time: String) -> Envelope<Payload> {
        Envelope(
            id: id,
            source: ServiceName.csirtTriage.source,
            time: date(time),
            correlationID: "c2a7e5d0-8f1b-4a3c-9e6d-1b2c3d4e5f60",
            traceParent: trace,
            data: payload
        )
    }

    /// One sample envelope per message type this service originates; each must equal its
    /// golden fixture in Fixtures/<routing key>.json (regenerate with ISMS_UPDATE_GOLDEN=1).
    static func triageSamples() throws -> [(type: MessageType, envelope: RawEnvelope)] {
        [
            (MessageTypes.incidentCaseOpened, try triageEnvelope("0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e", caseOpened, time: "2025-04-01T01:30:02.000Z").raw()),
            (MessageTypes.incidentEscalated, try triageEnvelope("1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f", escalated, time: "2025-04-01T02:00:02.000Z").raw()),
            (MessageTypes.incidentAcknowledged, try triageEnvelope("2d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f60", acknowledged, time: "2025-04-01T02:05:00.000Z").raw()),
            (MessageTypes.incidentObligationReminder, try triageEnvelope("3e4f5a6b-7c8d-4e9f-8a0b-2c3d4e5f6071", obligationReminder, time: "2025-04-05T15:00:00.000Z").raw()),
        ]
    }
}
