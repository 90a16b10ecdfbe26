public import Hummingbird
import Contracts
public import Foundation

/// The query parameters of a request, read with the API's rules: a value that is present but
/// malformed, out of range or given twice is a 400 that names it, never silently replaced by a
/// default or by one of the copies.
public struct APIQuery: Sendable {
    let parameters: Parameters

    public init(_ request: Request) {
        parameters = request.uri.queryParameters
    }

    /// The one value of `name`, if given.
    private func raw(_ name: String) throws(APIProblem) -> String? {
        let values = parameters.getAll(name)
        guard values.count <= 1 else { throw .badRequest("\(name) is given \(values.count) times; give it once.") }
        return values.first
    }

    public func string(_ name: String) throws(APIProblem) -> String? {
        try raw(name)
    }

    /// A value from a fixed list (a state, a kind).
    public func string(_ name: String, oneOf allowed: [String]) throws(APIProblem) -> String? {
        guard let text = try raw(name) else { return nil }
        guard allowed.contains(text) else { throw .badRequest("\(name) must be one of \(allowed.joined(separator: ", ")); got \(text).") }
        return text
    }

    public func int(_ name: String, in range: ClosedRange<Int>) throws(APIProblem) -> Int? {
        guard let text = try raw(name) else { return nil }
        guard let value = Int(text), range.contains(value) else {
            throw .badRequest("\(name) must be an integer from \(range.lowerBound) to \(range.upperBound); got \(text).")
        }
        return value
    }

    public func bool(_ name: String) throws(APIProblem) -> Bool? {
        guard let text = try raw(name) else { return nil }
        switch text {
        case "true": return true
        case "false": return false
        default: throw .badRequest("\(name) must be true or false; got \(text).")
        }
    }

    /// An RFC 3339 date-time (`2026-04-01T09:30:00+09:00`).
    public func time(_ name: String) throws(APIProblem) -> Date? {
        guard let text = try raw(name) else { return nil }
        guard let date = ContractsJSON.parseTimestamp(text) else { throw .badRequest("\(name) must be an RFC 3339 date-time; got \(text).") }
        return date
    }

    public func value<T: RawRepresentable & CaseIterable>(_ name: String, as type: T.Type) throws(APIProblem) -> T? where T.RawValue == String {
        guard let text = try raw(name) else { return nil }
        guard let value = T(rawValue: text) else {
            throw .badRequest("\(name) must be one of \(T.allCases.map(\.rawValue).joined(separator: ", ")); got \(text).")
        }
        return value
    }
}
