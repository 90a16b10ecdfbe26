public import Foundation

/// Encodes any `Encodable` value with the contracts' JSON policy, whatever module declared it:
/// UUIDs lowercase, times RFC 3339 in UTC with milliseconds, members sorted, slashes unescaped.
///
/// Foundation's `JSONEncoder` has no UUID strategy (it writes them uppercase) and its date
/// strategy is per encoder, so each service used to fix both by hand and they drifted. This
/// encoder builds a ``JSONValue`` and writes it with the same writer envelopes use, so an HTTP
/// answer, an event payload and a ledger row encode the same value to the same bytes.
public struct ContractsJSONEncoder: Sendable {
    /// Two-space indentation and a line per member, for people (the CLI); same member order.
    public var pretty: Bool

    public init(pretty: Bool = false) {
        self.pretty = pretty
    }

    /// `value` as JSON text.
    public func encode(_ value: some Encodable) throws -> Data {
        Data(try encodeBytes(value))
    }

    /// `value` as JSON text, in bytes.
    public func encodeBytes(_ value: some Encodable) throws -> [UInt8] {
        try jsonValue(value).jsonBytes(pretty: pretty)
    }

    /// `value` as a JSON document held in memory.
    public func jsonValue(_ value: some Encodable) throws -> JSONValue {
        let slot = EncodingSlot()
        try slot.box(value, codingPath: [])
        return slot.resolved
    }
}

/// Where one encoded value goes: a finished JSON value, or an object or array still being filled
/// through nested containers (which may outlive the call that created them).
private final class EncodingSlot {
    enum Content {
        case empty
        case value(JSONValue)
        case object([String: EncodingSlot])
        case array([EncodingSlot])
    }

    var content: Content = .empty

    var resolved: JSONValue {
        switch content {
        case .empty: .object([:])
        case .value(let value): value
        case .object(let members): .object(members.mapValues(\.resolved))
        case .array(let elements): .array(elements.map(\.resolved))
        }
    }

    /// Encodes `value`, taking the wire form of the types whose Foundation encoding differs from
    /// the policy before handing anything else its own `encode(to:)`.
    func box(_ value: some Encodable, codingPath: [any CodingKey]) throws {
        switch value {
        case let json as JSONValue: content = .value(json)
        case let uuid as UUID: content = .value(.string(uuid.lowercasedString))
        case let date as Date: content = .value(.string(ContractsJSON.formatTimestamp(date)))
        case let url as URL: content = .value(.string(url.absoluteString))
        case let data as Data: content = .value(.string(data.base64EncodedString()))
        case let decimal as Decimal: content = .value(.number(NSDecimalNumber(decimal: decimal).doubleValue))
        default: try value.encode(to: SlotEncoder(slot: self, codingPath: codingPath))
        }
    }

    func members() -> [String: EncodingSlot] {
        if case .object(let members) = content { return members }
        content = .object([:])
        return [:]
    }

    func setMember(_ key: String, _ slot: EncodingSlot) {
        var members = members()
        content = .empty  // drop the reference so the dictionary is not copied on write
        members[key] = slot
        content = .object(members)
    }

    func append(_ slot: EncodingSlot) {
        var elements: [EncodingSlot] = []
        if case .array(let existing) = content { elements = existing }
        content = .empty
        elements.append(slot)
        content = .array(elements)
    }

    var count: Int {
        if case .array(let elements) = content { return elements.count }
        return 0
    }

    static func scalar(_ value: JSONValue) -> EncodingSlot {
        let slot = EncodingSlot()
        slot.content = .value(value)
        return slot
    }

    static func number(_ value: Double, codingPath: [any CodingKey]) throws -> JSONValue {
        guard value.isFinite else {
            throw EncodingError.invalidValue(value, .init(codingPath: codingPath, debugDescription: "JSON has no \(value)"))
        }
        return .number(value)
    }

    static func integer(_ value: some BinaryInteger) -> JSONValue {
        if let exact = Int64(exactly: value) { return .integer(exact) }
        return .number(Double(value))
    }
}

private struct SlotEncoder: Encoder {
    let slot: EncodingSlot
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        _ = slot.members()
        return KeyedEncodingContainer(KeyedSlotContainer<Key>(slot: slot, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if case .array = slot.content {} else { slot.content = .array([]) }
        return UnkeyedSlotContainer(slot: slot, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleValueSlotContainer(slot: slot, codingPath: codingPath)
    }
}

private struct KeyedSlotContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let slot: EncodingSlot
    let codingPath: [any CodingKey]

    private func set(_ value: JSONValue, _ key: Key) { slot.setMember(key.stringValue, .scalar(value)) }

    mutating func encodeNil(forKey key: Key) throws { set(.null, key) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { set(.bool(value), key) }
    mutating func encode(_ value: String, forKey key: Key) throws { set(.string(value), key) }
    mutating func encode(_ value: Double, forKey key: Key) throws { set(try EncodingSlot.number(value, codingPath: codingPath + [key]), key) }
    mutating func encode(_ value: Float, forKey key: Key) throws { set(try EncodingSlot.number(Double(value), codingPath: codingPath + [key]), key) }
    mutating func encode(_ value: Int, forKey key: Key) throws { set(EncodingSlot.integer(value), key) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { set(EncodingSlot.integer(value), key) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { set(EncodingSlot.integer(value), key) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { set(EncodingSlot.integer(value), key) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { set(EncodingSlot.integer(value), key) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { set(EncodingSlot.integer(value), key) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { set(EncodingSlot.integer(value), key) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { set(EncodingSlot.integer(value), key) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { set(EncodingSlot.integer(value), key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { set(EncodingSlot.integer(value), key) }

    mutating func encode(_ value: some Encodable, forKey key: Key) throws {
        let child = EncodingSlot()
        try child.box(value, codingPath: codingPath + [key])
        slot.setMember(key.stringValue, child)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        let child = EncodingSlot()
        slot.setMember(key.stringValue, child)
        return SlotEncoder(slot: child, codingPath: codingPath + [key]).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let child = EncodingSlot()
        slot.setMember(key.stringValue, child)
        return SlotEncoder(slot: child, codingPath: codingPath + [key]).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder { superEncoder(forKey: Key(stringValue: "super")!) }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        let child = EncodingSlot()
        slot.setMember(key.stringValue, child)
        return SlotEncoder(slot: child, codingPath: codingPath + [key])
    }
}

private struct IndexKey: CodingKey {
    var stringValue: String { String(intValue!) }
    var intValue: Int?
    init(_ index: Int) { intValue = index }
    init?(stringValue: String) { nil }
    init?(intValue: Int) { self.intValue = intValue }
}

private struct UnkeyedSlotContainer: UnkeyedEncodingContainer {
    let slot: EncodingSlot
    let codingPath: [any CodingKey]
    var count: Int { slot.count }

    private func add(_ value: JSONValue) { slot.append(.scalar(value)) }

    mutating func encodeNil() throws { add(.null) }
    mutating func encode(_ value: Bool) throws { add(.bool(value)) }
    mutating func encode(_ value: String) throws { add(.string(value)) }
    mutating func encode(_ value: Double) throws { add(try EncodingSlot.number(value, codingPath: codingPath)) }
    mutating func encode(_ value: Float) throws { add(try EncodingSlot.number(Double(value), codingPath: codingPath)) }
    mutating func encode(_ value: Int) throws { add(EncodingSlot.integer(value)) }
    mutating func encode(_ value: Int8) throws { add(EncodingSlot.integer(value)) }
    mutating func encode(_ value: Int16) throws { add(EncodingSlot.integer(value)) }
    mutating func encode(_ value: Int32) throws { add(EncodingSlot.integer(value)) }
    mutating func encode(_ value: Int64) throws { add(EncodingSlot.integer(value)) }
    mutating func encode(_ value: UInt) throws { add(EncodingSlot.integer(value)) }
    mutating func encode(_ value: UInt8) throws { add(EncodingSlot.integer(value)) }
    mutating func encode(_ value: UInt16) throws { add(EncodingSlot.integer(value)) }
    mutating func encode(_ value: UInt32) throws { add(EncodingSlot.integer(value)) }
    mutating func encode(_ value: UInt64) throws { add(EncodingSlot.integer(value)) }

    mutating func encode(_ value: some Encodable) throws {
        let child = EncodingSlot()
        try child.box(value, codingPath: codingPath + [IndexKey(count)])
        slot.append(child)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let child = EncodingSlot()
        let path = codingPath + [IndexKey(count)]
        slot.append(child)
        return SlotEncoder(slot: child, codingPath: path).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let child = EncodingSlot()
        let path = codingPath + [IndexKey(count)]
        slot.append(child)
        return SlotEncoder(slot: child, codingPath: path).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        let child = EncodingSlot()
        let path = codingPath + [IndexKey(count)]
        slot.append(child)
        return SlotEncoder(slot: child, codingPath: path)
    }
}

private struct SingleValueSlotContainer: SingleValueEncodingContainer {
    let slot: EncodingSlot
    let codingPath: [any CodingKey]

    private func set(_ value: JSONValue) { slot.content = .value(value) }

    mutating func encodeNil() throws { set(.null) }
    mutating func encode(_ value: Bool) throws { set(.bool(value)) }
    mutating func encode(_ value: String) throws { set(.string(value)) }
    mutating func encode(_ value: Double) throws { set(try EncodingSlot.number(value, codingPath: codingPath)) }
    mutating func encode(_ value: Float) throws { set(try EncodingSlot.number(Double(value), codingPath: codingPath)) }
    mutating func encode(_ value: Int) throws { set(EncodingSlot.integer(value)) }
    mutating func encode(_ value: Int8) throws { set(EncodingSlot.integer(value)) }
    mutating func encode(_ value: Int16) throws { set(EncodingSlot.integer(value)) }
    mutating func encode(_ value: Int32) throws { set(EncodingSlot.integer(value)) }
    mutating func encode(_ value: Int64) throws { set(EncodingSlot.integer(value)) }
    mutating func encode(_ value: UInt) throws { set(EncodingSlot.integer(value)) }
    mutating func encode(_ value: UInt8) throws { set(EncodingSlot.integer(value)) }
    mutating func encode(_ value: UInt16) throws { set(EncodingSlot.integer(value)) }
    mutating func encode(_ value: UInt32) throws { set(EncodingSlot.integer(value)) }
    mutating func encode(_ value: UInt64) throws { set(EncodingSlot.integer(value)) }
    mutating func encode(_ value: some Encodable) throws { try slot.box(value, codingPath: codingPath) }
}
