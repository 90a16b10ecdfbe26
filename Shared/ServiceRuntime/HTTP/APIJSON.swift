import Contracts
public import Hummingbird
import Foundation
import NIOCore

/// Encodes answers with the contracts' JSON policy (``ContractsJSONEncoder``): lowercase UUIDs,
/// RFC 3339 times with milliseconds, sorted members.
public struct APIResponseEncoder: ResponseEncoder {
    public init() {}

    public func encode(_ value: some Encodable, from request: Request, context: some RequestContext) throws -> Response {
        try APIResponse.json(value)
    }
}

/// Decodes request bodies with the contracts' decoder (any RFC 3339 time); a body that does not
/// decode is a 400 naming the member at fault. Every string in the body is screened for My
/// Numbers first (``FreeText``), so no route can store one by forgetting to.
public struct APIRequestDecoder: RequestDecoder {
    public init() {}

    public func decode<T: Decodable>(_ type: T.Type, from request: Request, context: some RequestContext) async throws -> T {
        var request = request
        let buffer = try await request.collectBody(upTo: context.maxUploadSize)
        return try APIRequestDecoder.decode(type, from: Array(buffer: buffer))
    }

    public static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws(APIProblem) -> T {
        let document: JSONValue
        do {
            document = try JSONValue(parsing: bytes)
        } catch {
            throw .badRequest("The body is not JSON: \(error.detail)")
        }
        guard !FreeText.containsNUL(document) else { throw .unprocessable("The body holds a NUL character (\\u0000), which no field accepts.") }
        do {
            return try ContractsJSON.decoder().decode(T.self, from: Data(FreeText.screened(document).jsonBytes()))
        } catch let error as DecodingError {
            throw .badRequest(Self.describe(error))
        } catch {
            throw .badRequest("The body is not JSON: \(error)")
        }
    }

    /// The decoding error as a person reads it: which member, and what was wrong with it.
    static func describe(_ error: DecodingError) -> String {
        func pointer(_ path: [any CodingKey]) -> String {
            path.isEmpty ? "the body" : "/" + path.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: "/")
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "\(pointer(context.codingPath + [key])) is required."
        case .typeMismatch(let type, let context):
            return "\(pointer(context.codingPath)) must be \(Self.name(of: type))."
        case .valueNotFound(let type, let context):
            return "\(pointer(context.codingPath)) must be \(Self.name(of: type)), not null."
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty { return "The body is not a JSON document of the expected shape." }
            return "\(pointer(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "The body does not decode."
        }
    }

    private static func name(of type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "a boolean"
        case is Int.Type, is Int64.Type, is Int32.Type: "an integer"
        case is Double.Type: "a number"
        case is [Any].Type: "an array"
        default: "a \(type)"
        }
    }
}

extension Request {
    /// The body decoded as `type`; an empty body decodes as `{}` when `allowEmpty` (actions
    /// whose members are all optional).
    public func decodeJSON<T: Decodable>(as type: T.Type, context: APIRequestContext, allowEmpty: Bool = false) async throws -> T {
        var request = self
        let bytes = Array(buffer: try await request.collectBody(upTo: context.maxUploadSize))
        return try APIRequestDecoder.decode(type, from: bytes.isEmpty && allowEmpty ? Array("{}".utf8) : bytes)
    }
}

/// Answers with a JSON body.
public enum APIResponse {
    /// `value` as `application/json` with the contracts' policy.
    public static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) throws -> Response {
        var headers = headers
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: try ContractsJSON.encoder().encodeBytes(value))))
    }
}
