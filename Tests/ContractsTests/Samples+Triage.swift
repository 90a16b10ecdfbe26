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

    static let restrictionID = uuid("6c7d8e9f-0a1b-4c2d-9e3f-4a5b6c7d8e9f")

    static let assigned = IncidentAssigned(
        caseNumber: "INC-2025-000042",
        caseId: caseID,
        source: .init(kind: "incident-report", id: intakeID.uuidString.lowercased()),
        change: "assigned",
        personId: "p-csirt-1",
        assignees: ["p-csirt-1"],
        actor: "person:p-csirt-lead",
        role: "csirt",
        severity: 1,
        sectionCode: "koseki-jumin",
        changedAt: date("2025-04-01T01:40:00.000Z")
    )

    static let restrictionChanged = IncidentRestrictionChanged(
        caseNumber: "INC-2025-000042",
        caseId: caseID,
        restrictionId: restrictionID,
        status: "in-force",
        targets: [.init(kind: "system", name: "住民記録システム 外部媒体書込み"), .init(kind: "account", name: "koseki-temp-07")],
        reason: "紛失したUSBメモリと同型の媒体への書込みを調査完了まで停止する",
        effectiveFrom: date("2025-04-01T02:00:00.000Z"),
        effectiveUntil: date("2025-04-15T15:00:00.000Z"),
        actor: "person:p-ciso",
        role: "ciso",
        decisionReason: "承認",
        severity: 1,
        sectionCode: "koseki-jumin",
        departmentCode: "kumin",
        changedAt: date("2025-04-01T02:10:00.000Z")
    )

    static let digest = IncidentDigest(
        periodStart: date("2025-03-31T00:00:00.000Z"),
        periodEnd: date("2025-04-07T00:00:00.000Z"),
        total: 2,
        bySeverity: ["1": 1, "3": 1],
        byCategory: ["loss-or-theft": 1, "misdelivery": 1],
        cases: [
            .init(caseNumber: "INC-2025-000042", severity: 1, category: .lossOrTheft, state: "contained", departmentCode: "kumin", openedOn: "2025-04-01"),
            .init(caseNumber: "INC-2025-000043", severity: 3, category: .misdelivery, state: "closed", departmentCode: "fukushi", openedOn: "2025-04-03"),
        ],
        recipients: ["p-koseki-staff", "p-hoken-staff"],
        generatedAt: date("2025-04-07T00:00:00.000Z")
    )

    static let reportAttached = IncidentReportAttached(
        caseNumber: "INC-2025-000042",
        caseId: caseID,
        source: .init(kind: "incident-report", id: "c7f1e5b2-3d4a-4f6e-9b0c-1d2e3f4a5b6c"),
        rule: "producer-key",
        reportsJoined: 2,
        reportCount: 3,
        firstSeenAt: date("2025-04-01T01:30:00.000Z"),
        lastSeenAt: date("2025-04-01T01:42:10.000Z"),
        severity: 1,
        previousSeverity: 2,
        severityRule: "my-number-over-100",
        sectionCode: "koseki-jumin",
        departmentCode: "kumin",
        category: .lossOrTheft,
        title: "個人番号を含むUSBメモリの紛失",
        myNumberDetected: true,
        attachedAt: date("2025-04-01T01:42:11.000Z")
    )

    static let caseMerged = IncidentCaseMerged(
        caseNumber: "INC-2025-000043",
        caseId: uuid("9e0f1a2b-3c4d-4e5f-8a6b-7c8d9e0f1a2b"),
        survivorCaseNumber: "INC-2025-000042",
        survivorCaseId: caseID,
        reportsMoved: 2,
        severity: 1,
        actor: "person:csirt-lead",
        mergedAt: date("2025-04-01T02:15:00.000Z")
    )

    static let lessonsRecorded = IncidentLessonsRecorded(
        caseNumber: "INC-2025-000042",
        caseId: caseID,
        lessonsId: uuid("a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"),
        severity: 1,
        sectionCode: "koseki-jumin",
        departmentCode: "kumin",
        cause: "USBメモリの持ち出し手順が守られず、暗号化されていない媒体が使われた。",
        measures: [
            .init(
                id: uuid("b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e"), description: "持ち出し用USBメモリを暗号化機能付きのものに限る",
                ownerRole: "sectionSecurityOfficer", ownerUnit: "koseki-jumin", dueDate: "2025-06-30"),
            .init(
                id: uuid("c3d4e5f6-a7b8-4c9d-8e0f-2a3b4c5d6e7f"), description: "部内の職員に媒体の取扱いを再教育する",
                ownerRole: "departmentSecurityOfficer", ownerUnit: "kumin", dueDate: "2025-07-31"),
        ],
        erpChange: .init(needed: true, note: "紛失時の連絡先に警察への届出を加える"),
        actor: "person:csirt-lead",
        myNumberDetected: true,
        closedAt: date("2025-05-20T06:00:00.000Z")
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
            (MessageTypes.incidentAssigned, try triageEnvelope("5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d", assigned, time: "2025-04-01T01:40:00.000Z").raw()),
            (MessageTypes.incidentRestrictionChanged, try triageEnvelope("6b7c8d9e-0f1a-4b2c-9d3e-4f5a6b7c8d9e", restrictionChanged, time: "2025-04-01T02:10:00.000Z").raw()),
            (MessageTypes.incidentDigest, try triageEnvelope("7c8d9e0f-1a2b-4c3d-8e4f-5a6b7c8d9e0f", digest, time: "2025-04-07T00:00:00.000Z").raw()),
            (MessageTypes.incidentReportAttached, try triageEnvelope("8d9e0f1a-2b3c-4d4e-9f5a-6b7c8d9e0f1a", reportAttached, time: "2025-04-01T01:42:11.000Z").raw()),
            (MessageTypes.incidentCaseMerged, try triageEnvelope("9e0f1a2b-3c4d-4e5f-8a6b-7c8d9e0f1a2c", caseMerged, time: "2025-04-01T02:15:00.000Z").raw()),
            (MessageTypes.incidentLessonsRecorded, try triageEnvelope("d4e5f6a7-b8c9-4d0e-9f1a-3b4c5d6e7f80", lessonsRecorded, time: "2025-05-20T06:00:00.000Z").raw()),
        ]
    }
}
