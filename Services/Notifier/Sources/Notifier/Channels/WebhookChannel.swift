import Directory
public import Foundation
import ServiceClient

/// JSON POSTs signed per Standard Webhooks (issue #5 item 2), in the endpoint's format:
/// `generic` (`{"id","type","subject","text","language"}`), `slack` (`{"text"}`) or `teams`
/// (a MessageCard). The `webhook-id` is the ledger row's stable key, so a receiver that keeps
/// ids drops a resend after a crash (issue #5 item 4).
///
/// 2xx is delivered; 408, 429 and 5xx are transient; any other status is permanent (a receiver
/// that rejects the signature answers 401). Sent through the shared HTTP client (`HTTPFetch`).
public struct WebhookChannel: NotificationChannel {
    public let timeout: Duration
    private let clock: @Sendable () -> Date

    public init(timeout: Duration = .seconds(30), clock: @escaping @Sendable () -> Date = Date.init) {
        self.timeout = timeout
        self.clock = clock
    }

    /// The body for a notification in its endpoint's format.
    public static func body(for notification: OutgoingNotification) -> [UInt8] {
        let message = notification.message
        let object: [String: Any]
        switch notification.channel.format ?? .generic {
        case .generic:
            object = [
                "id": notification.idempotencyKey, "type": notification.eventType, "subject": message.subject,
                "text": message.body, "language": notification.language.rawValue, "recipient": notification.recipientName,
            ]
        case .slack:
            object = ["text": "*\(message.subject)*\n\(message.body)"]
        case .teams:
            object = [
                "@type": "MessageCard", "@context": "https://schema.org/extensions", "summary": message.subject,
                "title": message.subject, "text": message.body.replacingOccurrences(of: "\n", with: "\n\n"),
            ]
        }
        return Array((try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8))
    }

    public func send(_ notification: OutgoingNotification) async throws(DeliveryFailure) {
        guard let url = URL(string: notification.channel.address), url.scheme == "http" || url.scheme == "https" else {
            throw DeliveryFailure(code: "bad-address", detail: "not an http(s) URL", isTransient: false)
        }
        let body = Self.body(for: notification)
        let headers = StandardWebhooks.headers(
            id: notification.idempotencyKey, timestamp: Int64(clock().timeIntervalSince1970), body: body,
            secret: notification.webhookSecret ?? "")
        let status: Int
        do {
            status = try await HTTPFetch.send(
                "POST", url: url.absoluteString, headers: [(name: "Content-Type", value: "application/json")] + headers.map { (name: $0.key, value: $0.value) },
                body: Data(body), timeout: timeout, maximumBody: 64 * 1024
            ).status
        } catch {
            // The underlying reason only: a webhook URL can carry its secret in the path.
            throw DeliveryFailure(code: "connect", detail: (error as? HTTPTransportError)?.underlying ?? "\(error)", isTransient: true)
        }
        switch status {
        case 200..<300: return
        case 408, 429, 500..<600: throw DeliveryFailure(code: "http-\(status)", detail: "the receiver answered \(status)", isTransient: true)
        default: throw DeliveryFailure(code: "http-\(status)", detail: "the receiver refused the message with \(status)", isTransient: false)
        }
    }
}

extension Duration {
    var secondsValue: TimeInterval {
        let (seconds, attoseconds) = components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }
}
