import Crypto
public import Foundation

/// Standard Webhooks signing (https://www.standardwebhooks.com): headers `webhook-id`,
/// `webhook-timestamp` (Unix seconds) and `webhook-signature` = `v1,<base64 HMAC-SHA256 of
/// "id.timestamp.body">`. A secret written `whsec_<base64>` is that base64's bytes; any other
/// text is used as UTF-8 bytes.
public enum StandardWebhooks {
    /// The key bytes of a secret.
    public static func key(_ secret: String) -> [UInt8] {
        if secret.hasPrefix("whsec_"), let data = Data(base64Encoded: String(secret.dropFirst(6))) { return Array(data) }
        return Array(secret.utf8)
    }

    /// The `webhook-signature` value for a message.
    public static func signature(id: String, timestamp: Int64, body: [UInt8], secret: String) -> String {
        var signed = Array("\(id).\(timestamp).".utf8)
        signed += body
        let mac = HMAC<SHA256>.authenticationCode(for: signed, using: SymmetricKey(data: key(secret)))
        return "v1," + Data(mac).base64EncodedString()
    }

    /// The three headers for a message.
    public static func headers(id: String, timestamp: Int64, body: [UInt8], secret: String) -> [String: String] {
        ["webhook-id": id, "webhook-timestamp": String(timestamp), "webhook-signature": signature(id: id, timestamp: timestamp, body: body, secret: secret)]
    }

    /// Whether one of the space-separated signatures in `signatureHeader` is valid and the
    /// timestamp lies within `tolerance` of `now` (the specification's replay protection).
    public static func verify(
        id: String, timestamp: String, signatureHeader: String, body: [UInt8], secret: String,
        now: Date = .now, tolerance: TimeInterval = 300
    ) -> Bool {
        guard let seconds = Int64(timestamp), abs(now.timeIntervalSince1970 - TimeInterval(seconds)) <= tolerance else { return false }
        let expected = Data(signature(id: id, timestamp: seconds, body: body, secret: secret).utf8)
        return signatureHeader.split(separator: " ").contains { candidate in
            let given = Data(candidate.utf8)
            // Compare digests, so the time taken says nothing about where the strings differ.
            return Data(SHA256.hash(data: given)) == Data(SHA256.hash(data: expected))
        }
    }
}
