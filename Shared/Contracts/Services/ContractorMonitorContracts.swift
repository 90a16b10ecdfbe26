// Contractor monitor (issue #7): what it consumes and originates.

extension MessageTypes {
    /// The types the contractor monitor originates.
    public static let contractorMonitor: [MessageType] = []
}

extension Topology {
    static let contractorMonitorQueues: [WorkQueue] = [
        WorkQueue(name: "contractor-monitor.events", consumer: .contractorMonitor, messageTypes: [MessageTypes.directoryChanged]),
    ]
}
