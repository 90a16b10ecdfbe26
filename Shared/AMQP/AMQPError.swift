/// An error from an AMQP operation.
///
/// `code` says what kind of failure it is; `status` carries librabbitmq's status when the
/// library reported it, and `replyCode` the broker's reply code when the broker closed a channel
/// or the connection or returned a message.
public struct AMQPError: Error, CustomStringConvertible, Sendable {
    /// The kind of failure. New codes may be added; switch with a `default`.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String

        private init(_ name: String) {
            self.name = name
        }

        /// The socket, TCP or AMQP handshake to the broker failed.
        public static let connectionFailed = Code("connectionFailed")
        /// The broker refused the user name, password or virtual host.
        public static let authenticationFailed = Code("authenticationFailed")
        /// The connection is closed (by the broker, a socket error, a missed heartbeat or ``AMQPConnection/close()``).
        public static let connectionClosed = Code("connectionClosed")
        /// The broker closed the channel (`replyCode` says why, for example 404 or 406); the connection stays usable.
        public static let channelClosed = Code("channelClosed")
        /// The broker nacked a published message: it did not take responsibility for it.
        public static let publishNacked = Code("publishNacked")
        /// The broker returned a mandatory message that no queue took (`replyCode` 312 NO_ROUTE).
        public static let publishReturned = Code("publishReturned")
        /// The broker cancelled a consumer (its queue was deleted, or it failed over).
        public static let consumerCancelled = Code("consumerCancelled")
        /// An operation did not complete in time.
        public static let timeout = Code("timeout")
        /// The configuration or an argument is invalid.
        public static let invalidConfiguration = Code("invalidConfiguration")
        /// The broker or the library broke the protocol.
        public static let protocolError = Code("protocolError")
        /// The TLS handshake or certificate checks failed.
        public static let tlsFailed = Code("tlsFailed")

        public var description: String { name }
    }

    /// What kind of failure this is.
    public var code: Code
    /// librabbitmq's status (`amqp_status_enum`), when the library reported the failure.
    public var status: Int32?
    /// The broker's reply code for a channel or connection close or a returned message.
    public var replyCode: UInt16?
    /// What happened, for people.
    public var message: String

    public init(_ code: Code, message: String, status: Int32? = nil, replyCode: UInt16? = nil) {
        self.code = code
        self.message = message
        self.status = status
        self.replyCode = replyCode
    }

    /// Whether trying again (after reconnecting, if the connection closed) can succeed.
    ///
    /// Connection-level problems and nacks are retriable. A returned message, a refused login,
    /// an invalid configuration, a failed certificate check and a channel closed because the
    /// request was wrong (403, 404, 406, ...) fail again the same way.
    public var isRetriable: Bool {
        switch code {
        case .connectionFailed, .connectionClosed, .timeout, .publishNacked, .protocolError, .consumerCancelled:
            return true
        case .channelClosed:
            // No reply code: a local refusal (a delivery tag of a closed channel), not worth repeating.
            guard let replyCode else { return false }
            return !Self.requestErrors.contains(replyCode)
        case .tlsFailed:
            return !Self.certificateStatuses.contains(status ?? 0)
        default:
            return false
        }
    }

    public var description: String {
        var text = "AMQPError.\(code)"
        if let replyCode { text += " (\(replyCode))" }
        text += ": \(message)"
        if let status { text += " [librabbitmq status \(status)]" }
        return text
    }

    // Channel reply codes that mean "this request is wrong": ACCESS_REFUSED, NOT_FOUND,
    // PRECONDITION_FAILED, CONTENT_TOO_LARGE, NO_ROUTE, NOT_IMPLEMENTED.
    private static let requestErrors: Set<UInt16> = [403, 404, 406, 311, 312, 540]
    // AMQP_STATUS_SSL_HOSTNAME_VERIFY_FAILED and AMQP_STATUS_SSL_PEER_VERIFY_FAILED.
    private static let certificateStatuses: Set<Int32> = [-0x0201, -0x0202]
}
