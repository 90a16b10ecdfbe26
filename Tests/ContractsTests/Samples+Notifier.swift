import Contracts

extension Samples {
    static let notificationFailed = NotificationFailed(
        notificationID: 42,
        eventType: MessageTypes.incidentReported.wireName,
        eventSource: ServiceName.incidentIntake.source,
        eventID: "5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9",
        recipientID: "family-registry-chief",
        channel: "email",
        attempts: 5,
        errorCode: "smtp-550",
        fallback: .nextChannel,
        fallbackRecipientID: "family-registry-chief",
        failedAt: date("2025-04-01T01:45:10.250Z")
    )

    static let notificationFailedEnvelope = Envelope(
        id: "7d8e9f0a-1b2c-4d3e-8f4a-5b6c7d8e9f0a",
        source: ServiceName.notifier.source,
        time: date("2025-04-01T01:45:10.250Z"),
        correlationID: "b6e0d4a1-2c3f-4e5d-8a9b-0c1d2e3f4a5b",
        traceParent: TraceParent("00-4bf92f3577b34da6a3ce929d0e0e4736-b9c7c989f97918e1-01")!,
        data: notificationFailed
    )

    /// One sample envelope per message type this service originates; each must equal its
    /// golden fixture in Fixtures/<routing key>.json (regenerate with ISMS_UPDATE_GOLDEN=1).
    static func notifierSamples() throws -> [(type: MessageType, envelope: RawEnvelope)] {
        [(MessageTypes.notificationFailed, try notificationFailedEnvelope.raw())]
    }
}
