public import ServiceRuntime

/// Consumes `notifier.events`: every event, decided by the routing tree. The consumer hands over
/// whole batches (issue #16 item 3); when a batch fails it falls back to ``handle(_:context:)``,
/// one message at a time, so one bad event never costs its neighbours.
public struct NotifierEventHandler: BatchMessageHandler {
    public let engine: NotifierEngine

    public init(engine: NotifierEngine) {
        self.engine = engine
    }

    public func handle(_ message: IncomingMessage, context: inout TransactionContext) throws {
        try engine.handle(message.envelope, context: &context)
    }

    public func handleBatch(_ messages: [IncomingMessage], context: inout TransactionContext) throws -> [PermanentFailure?] {
        try engine.handleBatch(messages.map(\.envelope), context: &context)
    }
}

/// The notifier's durable timers: `notifier.deliver`, `notifier.group`, `notifier.repeat`.
public struct NotifierTimerHandler: TimerHandler {
    public let kind: String
    public let engine: NotifierEngine

    public init(kind: String, engine: NotifierEngine) {
        self.kind = kind
        self.engine = engine
    }

    /// One handler per timer kind the engine schedules.
    public static func all(engine: NotifierEngine) -> [NotifierTimerHandler] {
        [NotifierEngine.deliverTimer, NotifierEngine.groupTimer, NotifierEngine.repeatTimer].map { NotifierTimerHandler(kind: $0, engine: engine) }
    }

    /// A group's flush locks its group row; the consumers lock the groups they join (in id
    /// order) and the delivery log's chain after them. Flushed several to a transaction, in
    /// due order, one flush held a group (and the chain) while the next waited for a consumer
    /// waiting for that group: PostgreSQL found 88 such deadlocks in one bench session, each
    /// a second's stall. One flush per transaction holds one group and then the chain, the
    /// consumers' order.
    public var firesAlone: Bool { kind == NotifierEngine.groupTimer }

    public func fire(_ timer: DurableTimer, context: inout TransactionContext) throws {
        switch kind {
        case NotifierEngine.deliverTimer: try engine.fireDeliver(timer, context: &context)
        case NotifierEngine.groupTimer: try engine.fireGroup(timer, context: &context)
        default: try engine.fireRepeat(timer, context: &context)
        }
    }
}
