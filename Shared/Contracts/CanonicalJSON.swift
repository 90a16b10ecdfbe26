public import Foundation

/// The one canonical JSON form: what a hash is computed over, so that the same value always
/// gives the same bytes, whoever wrote it and whatever read it back. It is the form every JSON
/// of ours is written in (``JSONValue/jsonBytes(pretty:)``, ``ContractsJSONEncoder``):
///
/// - members sorted by the UTF-8 bytes of their names, no insignificant whitespace;
/// - UTF-8, strings escaped only where RFC 8259 requires it (`"`, `\`, control characters;
///   `/` and non-ASCII stay as they are), control characters as `\b \f \n \r \t` or `\u00xx`;
/// - a number with an integral value that fits 64 bits is written as an integer (`1.0` is `1`),
///   any other as Swift's shortest round-trip form;
/// - times RFC 3339 in UTC with milliseconds, UUIDs lowercase, whatever type holds them.
///
/// Pure code (Foundation only), so anything that hashes or signs JSON can use it.
public enum CanonicalJSON {
    /// The value `value` encodes to under the contracts' JSON policy.
    public static func value(of value: some Encodable) throws -> JSONValue {
        try ContractsJSON.encoder().jsonValue(value)
    }

    /// The canonical text of `value`.
    public static func text(of value: some Encodable) throws -> String {
        try self.value(of: value).canonicalText
    }
}

extension JSONValue {
    /// The canonical text of this value (see ``CanonicalJSON``).
    public var canonicalText: String { String(decoding: jsonBytes(), as: UTF8.self) }

    /// The canonical UTF-8 bytes of this value.
    public var canonicalData: Data { Data(jsonBytes()) }
}
