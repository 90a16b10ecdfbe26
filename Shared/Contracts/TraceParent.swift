/// A W3C Trace Context `traceparent` (version 00): which trace a message belongs to and which
/// span caused it. Carried as the CloudEvents distributed-tracing extension attribute and the
/// AMQP header of the same name.
public struct TraceParent: Sendable, Hashable, CustomStringConvertible {
    /// 32 lowercase hex digits, not all zero.
    public let traceID: String
    /// 16 lowercase hex digits, not all zero: the span of the sender.
    public let parentID: String
    /// The trace flags; bit 0 is `sampled`.
    public let flags: UInt8

    /// Parses a `traceparent` header. Versions above 00 are read by their version-00 prefix, as
    /// the W3C recommendation asks; version `ff` and all-zero ids are invalid.
    public init?(_ header: String) {
        let bytes = Array(header.utf8)
        guard bytes.count >= 55, Self.isHex(bytes[0..<2]), bytes[2] == UInt8(ascii: "-") else { return nil }
        let version = String(decoding: bytes[0..<2], as: UTF8.self)
        guard version != "ff" else { return nil }
        if version == "00" {
            guard bytes.count == 55 else { return nil }
        } else if bytes.count > 55 {
            guard bytes[55] == UInt8(ascii: "-") else { return nil }
        }
        guard bytes[35] == UInt8(ascii: "-"), bytes[52] == UInt8(ascii: "-"),
            Self.isHex(bytes[3..<35]), Self.isHex(bytes[36..<52]), Self.isHex(bytes[53..<55]),
            let flags = UInt8(String(decoding: bytes[53..<55], as: UTF8.self), radix: 16)
        else { return nil }
        let traceID = String(decoding: bytes[3..<35], as: UTF8.self)
        let parentID = String(decoding: bytes[36..<52], as: UTF8.self)
        guard traceID.contains(where: { $0 != "0" }), parentID.contains(where: { $0 != "0" }) else { return nil }
        self.traceID = traceID
        self.parentID = parentID
        self.flags = flags
    }

    /// A trace context from its parts; nil when an id is not lowercase hex of the right length or is all zero.
    public init?(traceID: String, parentID: String, flags: UInt8 = 0) {
        self.init("00-\(traceID)-\(parentID)-\(Self.hex(UInt64(flags), digits: 2))")
    }

    private init(unchecked traceID: String, parentID: String, flags: UInt8) {
        self.traceID = traceID
        self.parentID = parentID
        self.flags = flags
    }

    /// A new trace with a random trace id and span id, not sampled.
    public static func random() -> TraceParent {
        var generator = SystemRandomNumberGenerator()
        return TraceParent(
            unchecked: hex(nonZero(&generator), digits: 16) + hex(generator.next(), digits: 16),
            parentID: hex(nonZero(&generator), digits: 16),
            flags: 0
        )
    }

    /// The context for a message caused by this one: the same trace, a new span.
    public func child() -> TraceParent {
        var generator = SystemRandomNumberGenerator()
        return TraceParent(unchecked: traceID, parentID: Self.hex(Self.nonZero(&generator), digits: 16), flags: flags)
    }

    /// Whether the sender recorded its span.
    public var isSampled: Bool { flags & 1 == 1 }

    /// The header value, `00-<trace-id>-<parent-id>-<flags>`.
    public var description: String { "00-\(traceID)-\(parentID)-\(Self.hex(UInt64(flags), digits: 2))" }

    private static func nonZero(_ generator: inout SystemRandomNumberGenerator) -> UInt64 {
        while true {
            let value: UInt64 = generator.next()
            if value != 0 { return value }
        }
    }

    private static func hex(_ value: UInt64, digits: Int) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }

    private static func isHex(_ bytes: ArraySlice<UInt8>) -> Bool {
        bytes.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0) }
    }
}
