public import Foundation
import AsyncHTTPClient
import NIOCore
import NIOHTTP1

/// What an HTTP server answered: status, headers and the whole body.
public struct HTTPResult: Sendable {
    public var status: Int
    /// Header fields in the order received; names as sent.
    public var headers: [(name: String, value: String)]
    public var body: Data

    public init(status: Int, headers: [(name: String, value: String)] = [], body: Data = Data()) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The first value of a header, matched without regard to case.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// The body as UTF-8 text.
    public var text: String { String(decoding: body, as: UTF8.self) }
}

/// The request could not be made or no answer came: the server is down, the name does not
/// resolve, or the time-out passed.
public struct HTTPTransportError: Error, Sendable, CustomStringConvertible {
    public var url: String
    public var underlying: String

    public var description: String { "\(url) did not answer: \(underlying)" }
}

/// Outgoing HTTP for every part of the system: webhooks, `isms` calling the services, readiness
/// polls, the bench.
///
/// One `HTTPClient` per process, on AsyncHTTPClient's default event loops, never shut down, so
/// no caller creates or closes clients. URLSession is not used: on Linux a request to a server
/// that is closing can hang past its time-out, and FoundationNetworking pulls in libcurl.
public enum HTTPFetch {
    /// A refused connection fails at once instead of being retried until the time-out: every
    /// caller (a CLI command, a readiness poll, a webhook the ledger retries with back-off) has
    /// its own retry, and a person waiting on `isms` wants "not answering" now. Redirects are
    /// not followed: a webhook or service that answers 3xx has moved, which is for an operator
    /// to see, and a redirected POST must not carry its signature or token elsewhere.
    static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.redirectConfiguration = .disallow
        configuration.timeout.connect = .seconds(5)
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    /// Sends one request and collects the answer (bodies up to `maximumBody` bytes).
    ///
    /// - Parameters:
    ///   - method: `GET`, `POST`, `PUT`, `DELETE`, ...
    ///   - timeout: for the whole exchange, connection included.
    /// - Throws: ``HTTPTransportError`` when no answer came; any status is an answer.
    public static func send(
        _ method: String = "GET",
        url: String,
        headers: [(name: String, value: String)] = [],
        body: Data? = nil,
        timeout: Duration = .seconds(10),
        maximumBody: Int = 16 * 1024 * 1024
    ) async throws -> HTTPResult {
        var request = HTTPClientRequest(url: url)
        request.method = HTTPMethod(rawValue: method.uppercased())
        for header in headers { request.headers.add(name: header.name, value: header.value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let deadline = TimeAmount.nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000)
        do {
            let response = try await client.execute(request, timeout: deadline)
            let buffer = try await response.body.collect(upTo: maximumBody)
            return HTTPResult(
                status: Int(response.status.code),
                headers: response.headers.map { (name: $0.name, value: $0.value) },
                body: Data(buffer.readableBytesView)
            )
        } catch let error as HTTPTransportError {
            throw error
        } catch {
            throw HTTPTransportError(url: url, underlying: "\(error)")
        }
    }

    /// The status of a GET, or nil when nothing answers within `timeout`: for readiness polls.
    public static func status(of url: String, timeout: Duration = .seconds(2)) async -> Int? {
        try? await send(url: url, timeout: timeout).status
    }
}
