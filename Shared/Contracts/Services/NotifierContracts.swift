// Notifier (issue #5): it listens to every event and decides by its routing tree whom to tell.

extension MessageTypes {
    /// The types the notifier originates.
    public static let notifier: [MessageType] = []
}

extension Topology {
    static let notifierQueues: [WorkQueue] = [
        // `#` binds every event, present and future: what is notified is the routing tree's
        // decision (deploy/config), not the topology's, so a new event type needs no new binding.
        WorkQueue(name: "notifier.events", consumer: .notifier, messageTypes: [], eventPatterns: ["#"]),
    ]
}
