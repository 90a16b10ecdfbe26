// Notifier (issue #5): it listens to every event and decides by its routing tree whom to tell.

extension MessageTypes {
    /// A recipient could not be reached on a channel after every retry (issue #5 item 3): the
    /// failure is a fact others may act on, never a silent skip. Event.
    public static let notificationFailed = MessageType(
        wireName: "jp.ward.isms.notification.failed.v1",
        kind: .event,
        schemaFile: "notification.failed.v1.schema.json",
        defaultClassification: .internal,
        summary: "A notification could not be delivered on one channel after its retries; says what the notifier tried next (next channel, deputy, superior) or that nobody was left."
    )

    /// The types the notifier originates.
    public static let notifier: [MessageType] = [notificationFailed]
}

extension BusLayout {
    static let notifierQueues: [WorkQueue] = [
        // `#` binds every event, present and future: what is notified is the routing tree's
        // decision (deploy/config), not the topology's, so a new event type needs no new binding.
        WorkQueue(name: "notifier.events", consumer: .notifier, messageTypes: [], eventPatterns: ["#"]),
    ]
}
