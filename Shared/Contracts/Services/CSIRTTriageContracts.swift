// CSIRT triage (issue #4): what it consumes and originates.

extension MessageTypes {
    /// The types CSIRT triage originates.
    public static let csirtTriage: [MessageType] = []
}

extension Topology {
    static let csirtTriageQueues: [WorkQueue] = [
        WorkQueue(name: "csirt-triage.events", consumer: .csirtTriage, messageTypes: [MessageTypes.incidentReported]),
    ]
}
