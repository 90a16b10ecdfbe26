public import Foundation

/// `jp.ward.isms.notification.failed.v1`: one delivery (an event, a recipient, a channel) failed
/// for good, and what the notifier did about it.
///
/// Carries ids and the channel kind only: no address, no message text, so the event is
/// `internal` whatever the notified event's classification was.
public struct NotificationFailed: MessagePayload {
    public static var messageType: MessageType { MessageTypes.notificationFailed }

    /// What the notifier tried after the failure.
    public enum Fallback: String, Sendable, Hashable, Codable, CaseIterable {
        /// The same recipient's next channel in their order of preference.
        case nextChannel = "next-channel"
        /// The recipient's deputy (`Person.deputyID`).
        case deputy
        /// The next step above the recipient in the section's reporting chain.
        case superior
        /// Nobody else could be tried: an operator must act.
        case none
    }

    /// The ledger row that failed.
    public var notificationID: Int64
    /// The CloudEvents `type` of the event being notified.
    public var eventType: String
    /// The CloudEvents `source` of that event.
    public var eventSource: String
    /// The CloudEvents `id` of that event.
    public var eventID: String
    /// The directory id of the person who could not be reached (absent for a fixed endpoint).
    public var recipientID: String?
    /// The channel kind that failed: email, webhook or file.
    public var channel: String
    /// How many attempts were made on this channel.
    public var attempts: Int
    /// A short machine-readable reason, e.g. `smtp-550`, `http-500`, `timeout`.
    public var errorCode: String
    /// What the notifier tried next.
    public var fallback: Fallback
    /// Whom the fallback went to (a person id), when it went to a person.
    public var fallbackRecipientID: String?
    /// When the delivery was given up.
    public var failedAt: Date

    public init(
        notificationID: Int64,
        eventType: String,
        eventSource: String,
        eventID: String,
        recipientID: String?,
        channel: String,
        attempts: Int,
        errorCode: String,
        fallback: Fallback,
        fallbackRecipientID: String?,
        failedAt: Date
    ) {
        self.notificationID = notificationID
        self.eventType = eventType
        self.eventSource = eventSource
        self.eventID = eventID
        self.recipientID = recipientID
        self.channel = channel
        self.attempts = attempts
        self.errorCode = errorCode
        self.fallback = fallback
        self.fallbackRecipientID = fallbackRecipientID
        self.failedAt = failedAt
    }

    enum CodingKeys: String, CodingKey {
        case notificationID = "notificationId"
        case eventType, eventSource
        case eventID = "eventId"
        case recipientID = "recipientId"
        case channel, attempts, errorCode, fallback
        case fallbackRecipientID = "fallbackRecipientId"
        case failedAt
    }

    public var subject: String? { String(notificationID) }
}
