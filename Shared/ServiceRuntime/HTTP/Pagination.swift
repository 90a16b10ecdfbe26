public import Hummingbird
import Contracts
public import Foundation

/// One pagination rule for every list (keyset, not offset: a page does not shift when cases
/// open while a person reads): `limit` from 1 to ``maximumLimit`` (default ``defaultLimit``;
/// a larger one is refused, not clamped), and `cursor`, the opaque `nextCursor` of the page
/// before. The answer holds at most `limit` items and `nextCursor` when more follow.
public struct PageRequest: Sendable {
    public static let defaultLimit = 50
    public static let maximumLimit = 500

    public var limit: Int
    /// The sort key of the last item of the page before; nil for the first page.
    public var after: PageCursor?

    public init(limit: Int = PageRequest.defaultLimit, after: PageCursor? = nil) {
        self.limit = limit
        self.after = after
    }

    public init(_ query: APIQuery) throws(APIProblem) {
        limit = try query.int("limit", in: 1...Self.maximumLimit) ?? Self.defaultLimit
        after = try query.string("cursor").map { text throws(APIProblem) in
            guard text.utf8.allSatisfy(PageCursor.isTokenByte), text.utf8.count <= 512 else { throw .badRequest("cursor must be base64url text.") }
            guard let cursor = PageCursor(token: text) else { throw .unprocessable("cursor is not one this API gave out; start again without it.") }
            return cursor
        }
    }

    /// The cursor of a list sorted by a time and an id, as the store takes it.
    public func afterTimeAndID() throws(APIProblem) -> (Date, UUID)? {
        guard let after else { return nil }
        guard let time = after.time(0), let id = after[1].flatMap(UUID.init(uuidString:)) else { throw Self.foreignCursor }
        return (time, id)
    }

    /// The cursor of a list sorted by a text (a name, a reference) and an id.
    public func afterTextAndID() throws(APIProblem) -> (String, UUID)? {
        guard let after else { return nil }
        guard let text = after[0], let id = after[1].flatMap(UUID.init(uuidString:)) else { throw Self.foreignCursor }
        return (text, id)
    }

    static let foreignCursor = APIProblem.unprocessable("cursor is not one this API gave out for this list; start again without it.")

    /// The first `limit` of `fetched` (which the store asked for `limit + 1` of) and the cursor
    /// after the last one returned, when there are more.
    public func page<Item>(_ fetched: [Item], key: (Item) -> PageCursor) -> (items: [Item], next: PageCursor?) {
        guard fetched.count > limit else { return (fetched, nil) }
        let items = Array(fetched.prefix(limit))
        return (items, items.last.map(key))
    }
}

/// The sort key of a list item, handed to clients as an opaque token (base64url of a JSON array
/// of strings) and back to the store as the keyset bound.
public struct PageCursor: Sendable, Hashable {
    public var key: [String]

    public init(_ key: [String]) {
        self.key = key
    }

    public init?(token: String) {
        var base64 = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard token.count <= 512, let data = Data(base64Encoded: base64),
            let value = try? JSONValue(parsing: Array(data)), let elements = value.arrayValue
        else { return nil }
        let strings = elements.compactMap(\.stringValue)
        guard strings.count == elements.count, !strings.isEmpty else { return nil }
        key = strings
    }

    static func isTokenByte(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
    }

    public var token: String {
        Data(JSONValue.array(key.map(JSONValue.string)).jsonBytes()).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// The usual key: a time (kept to the microsecond PostgreSQL stores, which a wire timestamp's
    /// milliseconds would lose) and an id that breaks ties.
    public init(time: Date, id: some CustomStringConvertible) {
        key = [String(time.timeIntervalSince1970), id.description]
    }

    /// The key's `index`th element as a time written by ``init(time:id:)``.
    public func time(_ index: Int) -> Date? {
        index < key.count ? Double(key[index]).map(Date.init(timeIntervalSince1970:)) : nil
    }

    /// The key's `index`th element.
    public subscript(index: Int) -> String? {
        index < key.count ? key[index] : nil
    }
}

extension APIResponse {
    /// A page of a list: `{"<key>": [...], "nextCursor": "..."}` (the cursor only when more follow).
    public static func page(_ items: some Encodable, key: String, next: PageCursor?) throws -> Response {
        var members: [String: JSONValue] = [key: try ContractsJSON.encoder().jsonValue(items)]
        if let next { members["nextCursor"] = .string(next.token) }
        return try json(JSONValue.object(members))
    }
}
