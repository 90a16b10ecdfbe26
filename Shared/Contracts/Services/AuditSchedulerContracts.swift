// Audit scheduler (issue #6): what it consumes and originates.

extension MessageTypes {
    /// The types the audit scheduler originates.
    public static let auditScheduler: [MessageType] = []
}

extension Topology {
    static let auditSchedulerQueues: [WorkQueue] = [
        WorkQueue(name: "audit-scheduler.events", consumer: .auditScheduler, messageTypes: [MessageTypes.directoryChanged]),
    ]
}
