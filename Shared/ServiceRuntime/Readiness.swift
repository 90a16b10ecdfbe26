import Synchronization

/// What `/readyz` answers: ready only while every dependency is reachable, the topology is
/// declared and the service is not shutting down.
public final class Readiness: Sendable {
    /// One dependency or condition readiness waits for.
    public enum Condition: String, Sendable, CaseIterable {
        case broker, database, topology, shuttingDown
    }

    private let state = Mutex<[Condition: Bool]>([.broker: false, .database: false, .topology: false, .shuttingDown: false])

    public init() {}

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
        return current[.broker] == true && current[.database] == true && current[.topology] == true && current[.shuttingDown] != true
    }
}
