public import Foundation

/// The lock-out rule, as a pure function of the stored counter and clock (no I/O), so it is
/// tested without a database.
///
/// After `maxFailures` failed sign-ins in a row the account is locked for `lockDuration`; while
/// locked, every attempt is refused, even with the right password, and does not extend the lock.
/// A successful sign-in resets the counter.
public struct LockoutRule: Sendable, Equatable {
    public var maxFailures: Int
    public var lockDuration: TimeInterval

    public static let standard = LockoutRule(maxFailures: 5, lockDuration: 15 * 60)

    public init(maxFailures: Int, lockDuration: TimeInterval) {
        self.maxFailures = maxFailures
        self.lockDuration = lockDuration
    }

    /// What the counter is for an account.
    public struct State: Sendable, Equatable {
        public var failures: Int
        public var lockedUntil: Date?

        public init(failures: Int = 0, lockedUntil: Date? = nil) {
            self.failures = failures
            self.lockedUntil = lockedUntil
        }
    }

    public func isLocked(_ state: State, now: Date) -> Bool {
        state.lockedUntil.map { $0 > now } ?? false
    }

    /// The state after a failed attempt, and whether this attempt locked the account.
    public func failed(_ state: State, now: Date) -> (state: State, lockedNow: Bool) {
        // A lock that has run out starts a fresh count.
        let failures = (state.lockedUntil.map { $0 <= now } ?? false ? 0 : state.failures) + 1
        if failures >= maxFailures {
            return (State(failures: 0, lockedUntil: now.addingTimeInterval(lockDuration)), true)
        }
        return (State(failures: failures, lockedUntil: nil), false)
    }
}

/// The password rule for enrolment: long enough, not the person's id, confirmed.
public enum PasswordRule {
    public static let minimumLength = 12
    public static let maximumLength = 72  // bcrypt reads no more than 72 bytes

    public enum Problem: String, Sendable, Equatable {
        case tooShort, tooLong, mismatch, sameAsID
    }

    public static func check(_ password: String, confirmation: String, personID: String) -> Problem? {
        if password != confirmation { return .mismatch }
        if password.count < minimumLength { return .tooShort }
        if password.utf8.count > maximumLength { return .tooLong }
        if password.lowercased() == personID.lowercased() { return .sameAsID }
        return nil
    }
}

/// Which roles need a second factor: those that act for the whole ward (CISO, the general
/// security officer, CSIRT and the other roles held without a unit).
public enum SecondFactorRule {
    public static func required(unitCodes: [String?]) -> Bool {
        unitCodes.contains { $0 == nil }
    }
}
