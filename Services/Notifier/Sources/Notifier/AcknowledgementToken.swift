import Crypto
public import Foundation

/// Signed acknowledgement tokens (issue #5 item 8): `caseNumber.personId.expiryUnix.signature`
/// where the signature is the unpadded base64url HMAC-SHA256 of `caseNumber.personId.expiryUnix`
/// under `ISMS_ACK_SECRET`.
///
/// The same format as triage's `AcknowledgementToken.sign(caseNumber:personID:expires:secret:)`
/// (which verifies it at `/v1/acknowledgements/<token>`); kept here so the notifier does not depend
/// on the triage library.
public enum NotifierAcknowledgementToken {
    /// A token for `personID` to acknowledge `caseNumber`, valid until `expires`.
    public static func sign(caseNumber: String, personID: String, expires: Date, secret: String) -> String {
        let message = "\(caseNumber).\(personID).\(Int64(expires.timeIntervalSince1970))"
        let mac = HMAC<SHA256>.authenticationCode(for: Data(message.utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return "\(message).\(base64URL(Data(mac)))"
    }

    /// The case and person of a valid, unexpired token; nil otherwise. Case numbers hold no `.`;
    /// a person id may (the directory allows it), so it is everything between the first dot and
    /// the expiry.
    public static func verify(_ token: String, secret: String, now: Date = .now) -> (caseNumber: String, personID: String, expires: Date)? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count >= 4, let expiry = Int64(parts[parts.count - 2]) else { return nil }
        let expires = Date(timeIntervalSince1970: TimeInterval(expiry))
        guard expires > now else { return nil }
        let personID = parts[1..<(parts.count - 2)].joined(separator: ".")
        let expected = sign(caseNumber: String(parts[0]), personID: personID, expires: expires, secret: secret)
        // Constant-time enough: both strings have the same length and are compared by digest.
        guard Data(SHA256.hash(data: Data(expected.utf8))) == Data(SHA256.hash(data: Data(token.utf8))) else { return nil }
        return (String(parts[0]), personID, expires)
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
