import Metrics

/// The metrics every service exports (brief §7), labelled by queue or schema.
public struct ServiceMetrics: Sendable {
    /// `isms_messages_consumed_total{queue,outcome}`: outcome is handled, duplicate, dead_lettered or retried.
    public func consumed(queue: String, outcome: String, count: Int = 1) {
        Counter(label: "isms_messages_consumed_total", dimensions: [("queue", queue), ("outcome", outcome)]).increment(by: count)
    }

    /// `isms_messages_published_total{exchange}`.
    public func published(exchange: String, count: Int = 1) {
        Counter(label: "isms_messages_published_total", dimensions: [("exchange", exchange)]).increment(by: count)
    }

    /// `isms_messages_failed_total{stage}`: a publish or a handler that failed (and will be retried).
    public func failed(stage: String, count: Int = 1) {
        Counter(label: "isms_messages_failed_total", dimensions: [("stage", stage)]).increment(by: count)
    }

    /// `isms_messages_dead_lettered_total{queue}`.
    public func deadLettered(queue: String, count: Int = 1) {
        Counter(label: "isms_messages_dead_lettered_total", dimensions: [("queue", queue)]).increment(by: count)
    }

    /// `isms_handler_duration_seconds{queue}`: one batch, from delivery to commit.
    public func handlerDuration(queue: String, _ duration: Duration) {
        Timer(label: "isms_handler_duration_seconds", dimensions: [("queue", queue)], preferredDisplayUnit: .seconds).record(duration: duration)
    }

    /// `isms_outbox_backlog{schema}`: rows waiting to be published.
    public func outboxBacklog(schema: String, _ rows: Int) {
        Gauge(label: "isms_outbox_backlog", dimensions: [("schema", schema)]).record(rows)
    }

    /// `isms_timer_backlog{schema}`: timers that are due and not yet fired.
    public func timerBacklog(schema: String, _ timers: Int) {
        Gauge(label: "isms_timer_backlog", dimensions: [("schema", schema)]).record(timers)
    }

    /// `isms_connection_losses_total{peer}`: broker or database lost.
    public func connectionLost(peer: String) {
        Counter(label: "isms_connection_losses_total", dimensions: [("peer", peer)]).increment()
    }

    public init() {}
}
