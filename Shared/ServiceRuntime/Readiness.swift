import Synchronization

/// What `/readyz` answers: ready only while every dependency is reachable, the topology is
/// declared and the service is not shutting down.
public final class Readiness: Sendable {
    /// One dependency or condition readiness waits for.
    public enum Condition: String, Sendable, CaseIterable {
        case broker, database, topology, shuttingDown
        /// The service's own tables are migrated (what a service without a broker waits for).
        case migrated
    }

    private let state = Mutex<[Condition: Bool]>([.broker: false, .database: false, .topology: false, .shuttingDown: false, .migrated: false])

    /// The conditions that must hold; `shuttingDown` must not.
    private let required: Set<Condition>

    /// A service on the bus needs the broker, the database and its topology; a service that
    /// only speaks HTTP (the web console) names just the database.
    public init(requires required: Set<Condition> = [.broker, .database, .topology]) {
        self.required = required
    }

    public func set(_ condition: Condition, _ value: Bool) {
        state.withLock { $0[condition] = value }
    }

    /// Brokers are counted per connection: the service is ready for the broker only when every
    /// consumer and publisher holds a connection.
    private let brokerLinks = Mutex<[String: Bool]>([:])

    /// Records whether the named broker connection (a consumer or the relay) is up.
    public func setBroker(_ link: String, connected: Bool) {
        let allUp = brokerLinks.withLock { links in
            links[link] = connected
            return links.values.allSatisfy { $0 }
        }
        set(.broker, allUp)
    }

    public var snapshot: [Condition: Bool] {
        state.withLock { $0 }
    }

    public var isReady: Bool {
        let current = snapshot
        return required.allSatisfy { current[$0] == true } && current[.shuttingDown] != true
    }
}
