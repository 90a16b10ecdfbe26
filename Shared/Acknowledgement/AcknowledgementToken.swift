import Crypto
public import Foundation

/// A signed link token that lets a person acknowledge a case from a notification
/// (`POST /v1/acknowledgements/{token}`): `caseNumber.personId.expiryUnix.signature`, the
/// signature an HMAC-SHA256 over the first three parts, in unpadded base64url.
///
/// The case number (`INC-yyyy-nnnnnn`) has no dot; the expiry is the last field before the
/// signature; so a person id may contain dots. The signature is compared in constant time.
public enum AcknowledgementToken {
    /// Signs a token for `personID` to acknowledge `caseNumber` until `expires`.
    public static func sign(caseNumber: String, personID: String, expires: Date, secret: String) -> String {
        let body = "\(caseNumber).\(personID).\(Int64(expires.timeIntervalSince1970))"
        return body + "." + signature(body, secret: secret)
    }

    /// The case and person of a valid, unexpired token; nil otherwise.
    public static func verify(_ token: String, secret: String, now: Date) -> (caseNumber: String, personID: String)? {
        guard let lastDot = token.lastIndex(of: ".") else { return nil }
        let body = String(token[..<lastDot])
        let given = String(token[token.index(after: lastDot)...])
        guard let expected = Data(base64URL: signature(body, secret: secret)), let provided = Data(base64URL: given),
              constantTimeEqual(expected, provided)
        else { return nil }
        guard let firstDot = body.firstIndex(of: "."), let expiryDot = body.lastIndex(of: "."), firstDot < expiryDot,
              let expiry = Int64(body[body.index(after: expiryDot)...])
        else { return nil }
        guard Date(timeIntervalSince1970: TimeInterval(expiry)) > now else { return nil }
        let caseNumber = String(body[..<firstDot])
        let personID = String(body[body.index(after: firstDot)..<expiryDot])
        guard !caseNumber.isEmpty, !personID.isEmpty else { return nil }
        return (caseNumber, personID)
    }

    /// The case and person a token names, unchecked: for a page that must know whose link it
    /// is before the service that holds the secret verifies it.
    public static func claim(_ token: String) -> (caseNumber: String, personID: String)? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count >= 4 else { return nil }
        let personID = parts[1..<(parts.count - 2)].joined(separator: ".")
        guard !parts[0].isEmpty, !personID.isEmpty else { return nil }
        return (String(parts[0]), personID)
    }

    /// `ISMS_ACK_SECRET`, default `dev-ack-secret` (local stacks only).
    public static var secretFromEnvironment: String {
        ProcessInfo.processInfo.environment["ISMS_ACK_SECRET"] ?? developmentSecret
    }

    /// The secret when `ISMS_ACK_SECRET` is unset: for development only, refused in production.
    public static let developmentSecret = "dev-ack-secret"

    static func signature(_ body: String, secret: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data(body.utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return Data(mac).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    private static func constantTimeEqual(_ lhs: Data, _ rhs: Data) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(lhs, rhs) { difference |= a ^ b }
        return difference == 0
    }
}

extension Data {
    init?(base64URL text: String) {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        self.init(base64Encoded: base64)
    }
}
