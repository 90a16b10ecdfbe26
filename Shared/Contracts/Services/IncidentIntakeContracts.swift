// Incident intake (issue #3): the report command, its replies, and the event it originates.

extension MessageTypes {
    /// The types incident intake originates or answers with, and the command it consumes.
    public static let incidentIntake: [MessageType] = [
        submitIncidentReport, incidentReportAccepted, incidentReportRejected, incidentReported, incidentReportOriginalViewed,
    ]

    /// The organisation directory's events (published by `isms directory import`).
    public static let directory: [MessageType] = [directoryChanged]
}

extension BusLayout {
    static let incidentIntakeQueues: [WorkQueue] = [
        WorkQueue(name: "incident-intake.commands", consumer: .incidentIntake, messageTypes: [MessageTypes.submitIncidentReport]),
    ]
}
