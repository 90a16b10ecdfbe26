import Foundation

/// Where and how to connect to an AMQP 0-9-1 broker.
public struct AMQPConfiguration: Sendable, Hashable {
    /// TLS settings for `amqps://` connections.
    public struct TLS: Sendable, Hashable {
        /// PEM file of the certificate authorities to trust; `nil` uses the system bundle.
        public var caFile: String?
        /// PEM certificate chain for client-certificate authentication.
        public var certFile: String?
        /// PEM private key belonging to `certFile`.
        public var keyFile: String?
        /// Whether the broker's certificate must chain to a trusted authority.
        public var verifyPeer: Bool
        /// Whether the broker's certificate must name `host`.
        public var verifyHostname: Bool

        public init(caFile: String? = nil, certFile: String? = nil, keyFile: String? = nil, verifyPeer: Bool = true, verifyHostname: Bool = true) {
            self.caFile = caFile
            self.certFile = certFile
            self.keyFile = keyFile
            self.verifyPeer = verifyPeer
            self.verifyHostname = verifyHostname
        }
    }

    /// Broker host name or address.
    public var host: String
    /// Broker port (5672 for `amqp`, 5671 for `amqps` unless the URL says otherwise).
    public var port: Int
    /// Virtual host; `/` when the URL names none.
    public var vhost: String
    /// User name (`guest` when the URL names none).
    public var user: String
    /// Password (`guest` when the URL names none).
    public var password: String
    /// TLS settings; set for `amqps://`, `nil` for plain TCP.
    public var tls: TLS?
    /// Heartbeat interval proposed to the broker; zero turns heartbeats off. Whole seconds on the wire.
    public var heartbeat: Duration
    /// Name shown for this connection in the broker's management UI.
    public var connectionName: String?
    /// Limit for TCP connect, TLS handshake and AMQP login.
    public var connectTimeout: Duration = .seconds(10)
    /// Limit for one broker round trip (declare, bind, qos, ...); past it the connection is closed.
    public var rpcTimeout: Duration = .seconds(30)
    /// Limit for the broker to confirm published messages.
    public var confirmTimeout: Duration = .seconds(30)

    /// Parses an AMQP URI (`amqp://user:password@host:port/vhost?query`, RabbitMQ's URI spec).
    ///
    /// An empty path or `/` means the virtual host `/`; a path segment is percent-decoded, so
    /// `%2F` is also `/`. Understood query keys: `heartbeat` (seconds), `connection_timeout`
    /// (milliseconds), `cacertfile`, `certfile`, `keyfile`, `verify` (`verify_peer` or
    /// `verify_none`); `channel_max`, `frame_max`, `auth_mechanism`, `fail_if_no_peer_cert`
    /// and `server_name_indication` are accepted and ignored. A `heartbeat` in the URL wins over
    /// the argument.
    ///
    /// - Throws: ``AMQPError`` with code `.invalidConfiguration`.
    public init(url: String, connectionName: String? = nil, heartbeat: Duration = .seconds(30)) throws {
        func invalid(_ reason: String) -> AMQPError {
            AMQPError(.invalidConfiguration, message: "invalid AMQP URL: \(reason)")
        }
        func decode(_ text: Substring, _ what: String) throws -> String {
            guard let decoded = String(text).removingPercentEncoding else { throw invalid("bad percent-encoding in \(what)") }
            return decoded
        }

        guard let schemeEnd = url.range(of: "://") else { throw invalid("missing scheme") }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        let secure: Bool
        switch scheme {
        case "amqp": secure = false
        case "amqps": secure = true
        default: throw invalid("scheme must be amqp or amqps, not \(scheme)")
        }

        var rest = url[schemeEnd.upperBound...]
        if rest.contains("#") { throw invalid("fragments are not allowed") }
        var query: Substring = ""
        if let mark = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: mark)...]
            rest = rest[..<mark]
        }
        let authority: Substring
        let path: Substring
        if let slash = rest.firstIndex(of: "/") {
            authority = rest[..<slash]
            path = rest[rest.index(after: slash)...]
        } else {
            authority = rest
            path = ""
        }

        var user = "guest"
        var password = "guest"
        var hostPort = authority
        if let at = authority.lastIndex(of: "@") {
            let userInfo = authority[..<at]
            hostPort = authority[authority.index(after: at)...]
            if let colon = userInfo.firstIndex(of: ":") {
                user = try decode(userInfo[..<colon], "user")
                password = try decode(userInfo[userInfo.index(after: colon)...], "password")
            } else {
                user = try decode(userInfo, "user")
            }
        }

        var host: String
        var portText: Substring?
        if hostPort.hasPrefix("[") {
            guard let close = hostPort.firstIndex(of: "]") else { throw invalid("unterminated IPv6 address") }
            host = String(hostPort[hostPort.index(after: hostPort.startIndex)..<close])
            let after = hostPort[hostPort.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw invalid("unexpected text after IPv6 address") }
                portText = after.dropFirst()
            }
        } else if let colon = hostPort.lastIndex(of: ":") {
            host = try decode(hostPort[..<colon], "host")
            portText = hostPort[hostPort.index(after: colon)...]
        } else {
            host = try decode(hostPort, "host")
        }
        if host.isEmpty { host = "localhost" }

        var port = secure ? 5671 : 5672
        if let portText, !portText.isEmpty {
            guard let parsed = Int(portText), (1...65535).contains(parsed) else { throw invalid("bad port \(portText)") }
            port = parsed
        }

        let vhost: String
        if path.isEmpty {
            // librabbitmq's own parser yields "" here; the URI spec and every other client mean "/".
            vhost = "/"
        } else {
            guard !path.contains("/") else { throw invalid("a literal / in the virtual host must be written %2F") }
            vhost = try decode(path, "virtual host")
        }

        self.host = host
        self.port = port
        self.vhost = vhost
        self.user = user
        self.password = password
        self.tls = secure ? TLS() : nil
        self.heartbeat = heartbeat
        self.connectionName = connectionName

        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = try decode(parts[0], "query")
            let value = parts.count > 1 ? try decode(parts[1], "query") : ""
            switch key {
            case "heartbeat":
                guard let seconds = Int(value), (0...65535).contains(seconds) else { throw invalid("heartbeat must be 0...65535 seconds") }
                self.heartbeat = .seconds(seconds)
            case "connection_timeout":
                guard let milliseconds = Int(value), milliseconds > 0 else { throw invalid("connection_timeout must be positive milliseconds") }
                self.connectTimeout = .milliseconds(milliseconds)
            case "cacertfile", "certfile", "keyfile", "verify":
                guard secure else { throw invalid("\(key) needs amqps") }
                switch key {
                case "cacertfile": self.tls?.caFile = value
                case "certfile": self.tls?.certFile = value
                case "keyfile": self.tls?.keyFile = value
                default:
                    switch value {
                    case "verify_peer": self.tls?.verifyPeer = true
                    case "verify_none":
                        self.tls?.verifyPeer = false
                        self.tls?.verifyHostname = false
                    default: throw invalid("verify must be verify_peer or verify_none")
                    }
                }
            case "channel_max", "frame_max", "auth_mechanism", "fail_if_no_peer_cert", "server_name_indication":
                break
            default:
                throw invalid("unknown query parameter \(key)")
            }
        }
        guard self.heartbeat >= .zero, self.heartbeat <= .seconds(65535) else { throw invalid("heartbeat must be 0...65535 seconds") }
    }

    /// The URL without the password, for logs.
    public var redactedURL: String {
        let scheme = tls == nil ? "amqp" : "amqps"
        let userPart = user.addingPercentEncoding(withAllowedCharacters: Self.unreserved) ?? user
        let hostPart = host.contains(":") ? "[\(host)]" : host
        let vhostPart = vhost.addingPercentEncoding(withAllowedCharacters: Self.unreserved) ?? vhost
        return "\(scheme)://\(userPart)@\(hostPart):\(port)/\(vhostPart)"
    }

    private static let unreserved = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")
}
