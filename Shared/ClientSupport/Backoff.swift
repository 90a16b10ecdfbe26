import Foundation

/// Exponential back-off with full jitter, for reconnecting and retrying.
///
/// Full jitter (a uniform delay between zero and the exponential cap) keeps many replicas
/// that lost the same broker or database from reconnecting in lock step.
public struct Backoff: Sendable, Hashable {
    /// Delay cap of the first attempt.
    public var initial: Duration
    /// Largest delay ever returned.
    public var maximum: Duration
    /// Growth of the cap from one attempt to the next.
    public var multiplier: Double

    public init(initial: Duration = .milliseconds(100), maximum: Duration = .seconds(10), multiplier: Double = 2) {
        self.initial = initial
        self.maximum = maximum
        self.multiplier = multiplier
    }

    /// The cap for `attempt` (0-based), before jitter.
    public func cap(attempt: Int) -> Duration {
        let initialSeconds = initial.seconds
        let grown = initialSeconds * pow(multiplier, Double(max(0, min(attempt, 62))))
        return .seconds(min(grown, maximum.seconds))
    }

    /// A delay for `attempt` (0-based): uniform between zero and ``cap(attempt:)``.
    public func delay(attempt: Int) -> Duration {
        var generator = SystemRandomNumberGenerator()
        return delay(attempt: attempt, using: &generator)
    }

    /// As ``delay(attempt:)``, with a caller's random source (tests).
    public func delay(attempt: Int, using generator: inout some RandomNumberGenerator) -> Duration {
        let cap = cap(attempt: attempt).seconds
        guard cap > 0 else { return .zero }
        return .seconds(Double.random(in: 0...cap, using: &generator))
    }
}

extension Duration {
    /// This duration in (fractional) seconds.
    public var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
