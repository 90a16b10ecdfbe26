public import Crypto
import Foundation

extension Organisation {
    /// SHA-256 (lowercase hex) of the canonical form (``canonicalised()`` as JSON with sorted
    /// keys): equal for files that differ only in comments, layout or order.
    public var checksum: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding plain strings, booleans and arrays cannot fail.
        let data = (try? encoder.encode(canonicalised())) ?? Data()
        return SHA256.hash(data: data).hexString
    }
}

extension Digest {
    /// Lowercase hex of the digest bytes (the services' fingerprints and hash chains use it on
    /// every report and history row, so it avoids `String(format:)`).
    public var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(Self.byteCount * 2)
        for byte in self {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
