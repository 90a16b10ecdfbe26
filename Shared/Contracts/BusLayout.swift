/// The shape of the bus as data, for any language: the exchanges, and which service's queue
/// receives which message types. The AMQP declaration built from it (queue arguments,
/// dead-lettering, the definitions file) is the runtime's `Topology`.
public enum BusLayout {
    /// The direct exchange for commands, routed by their routing key to the one service that acts.
    public static let commandsExchange = "isms.commands"
    /// The topic exchange for events, routed to every queue bound to the routing key.
    public static let eventsExchange = "isms.events"
    /// The direct exchange that dead-lettered messages go through, routed by the queue name.
    public static let deadLetterExchange = "isms.dead-letter"

    /// The dead-letter queue of a work queue: `<queue>.dlq`.
    public static func deadLetterQueueName(for queue: String) -> String { "\(queue).dlq" }

    /// A queue that one service consumes and the message types routed into it.
    public struct WorkQueue: Sendable, Hashable {
        public var name: String
        public var consumer: ServiceName
        public var messageTypes: [MessageType]
        /// Topic patterns bound on the events exchange besides the types above (`#`: every event).
        public var eventPatterns: [String]

        public init(name: String, consumer: ServiceName, messageTypes: [MessageType], eventPatterns: [String] = []) {
            self.name = name
            self.consumer = consumer
            self.messageTypes = messageTypes
            self.eventPatterns = eventPatterns
        }
    }

    /// Every work queue. Each service's file in `Contracts/Services/` declares the queues it
    /// consumes and the message types it publishes.
    public static let workQueues: [WorkQueue] =
        incidentIntakeQueues + csirtTriageQueues + notifierQueues + auditSchedulerQueues + contractorMonitorQueues

    /// The message types each service publishes (replies go to the default exchange).
    public static func publishes(_ service: ServiceName) -> [MessageType] {
        switch service {
        case .incidentIntake: MessageTypes.incidentIntake
        case .isms: [MessageTypes.submitIncidentReport] + MessageTypes.directory
        case .csirtTriage: MessageTypes.csirtTriage
        case .auditScheduler: MessageTypes.auditScheduler
        case .contractorMonitor: MessageTypes.contractorMonitor
        case .notifier: MessageTypes.notifier
        }
    }

}
