public import ServiceRuntime

/// Consumes `notifier.events`: every event, decided by the routing tree.
public struct NotifierEventHandler: MessageHandler {
    public let engine: NotifierEngine

    public init(engine: NotifierEngine) {
        self.engine = engine
    }

    public func handle(_ message: IncomingMessage, context: inout TransactionContext) throws {
        try engine.handle(message.envelope, context: &context)
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

    public func fire(_ timer: DurableTimer, context: inout TransactionContext) throws {
        switch kind {
        case NotifierEngine.deliverTimer: try engine.fireDeliver(timer, context: &context)
        case NotifierEngine.groupTimer: try engine.fireGroup(timer, context: &context)
        default: try engine.fireRepeat(timer, context: &context)
        }
    }
}
