import Foundation
import Directory
import NIOCore
import NIOPosix
import NIOSSL

/// Where and how to send mail.
public struct SMTPConfiguration: Sendable, Hashable {
    /// Whether to upgrade the connection with STARTTLS.
    public enum TLSMode: String, Sendable, Hashable {
        /// Refuse to send unless the server offers STARTTLS.
        case required
        /// Use STARTTLS when the server offers it.
        case opportunistic
        /// Never (a loopback relay or test sink).
        case never
    }

    public var host: String
    public var port: Int
    public var username: String?
    public var password: String?
    public var tls: TLSMode
    /// The envelope and header sender.
    public var from: String
    /// The name given in EHLO.
    public var heloName: String
    /// A PEM file of CA certificates to trust instead of the system's (a private relay).
    public var trustRootsFile: String?

    public init(
        host: String, port: Int = 25, username: String? = nil, password: String? = nil, tls: TLSMode = .opportunistic,
        from: String = "isms-notifier@ward.example", heloName: String = "isms-notifier.localdomain", trustRootsFile: String? = nil
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.tls = tls
        self.from = from
        self.heloName = heloName
        self.trustRootsFile = trustRootsFile
    }

    /// Parses `smtp://[user:password@]host[:port][?starttls=required|opportunistic|never&ca=/path]`.
    public init(url text: String, from: String? = nil) throws(NotifierError) {
        guard let components = URLComponents(string: text), components.scheme == "smtp", let host = components.host, !host.isEmpty else {
            throw NotifierError(.invalidSettings, detail: "ISMS_NOTIFIER_SMTP_URL must look like smtp://user:password@host:587?starttls=required")
        }
        let query = Dictionary((components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { _, last in last })
        var mode = TLSMode.opportunistic
        if let value = query["starttls"] {
            guard let parsed = TLSMode(rawValue: value) else {
                throw NotifierError(.invalidSettings, detail: "starttls must be required, opportunistic or never, not '\(value)'")
            }
            mode = parsed
        }
        self.init(
            host: host, port: components.port ?? 25, username: components.user?.removingPercentEncoding,
            password: components.password?.removingPercentEncoding, tls: mode, from: from ?? "isms-notifier@ward.example",
            trustRootsFile: query["ca"])
    }
}

/// E-mail over SMTP (issue #5 item 2): EHLO, STARTTLS when offered and configured, AUTH PLAIN or
/// LOGIN, MAIL FROM, RCPT TO, DATA, QUIT. A 4xx reply, a time-out or a lost connection is
/// transient; a 5xx reply is permanent.
///
/// The exactly-once window (issue #5 item 4): SMTP has no idempotency key a relay honours. Once
/// the server answers 250 to the final `.`, the message is the relay's; if this process dies
/// before the ledger records "sent" (one short transaction, milliseconds), the row's lease
/// expires and the message is sent again. Every attempt carries the same `Message-ID`
/// (`<ntf_ID@isms-notifier>`), which mail clients use to fold such a duplicate.
public struct SMTPChannel: NotificationChannel {
    public let configuration: SMTPConfiguration
    public let timeout: Duration

    public init(configuration: SMTPConfiguration, timeout: Duration = .seconds(30)) {
        self.configuration = configuration
        self.timeout = timeout
    }

    public func send(_ notification: OutgoingNotification) async throws(DeliveryFailure) {
        let mail = MailMessage(notification: notification, from: configuration.from, date: Date())
        do {
            let session = try await SMTPSession.connect(configuration, timeout: timeout)
            do {
                try await session.deliver(mail)
                await session.close()
            } catch {
                await session.close()
                throw error
            }
        } catch let failure as DeliveryFailure {
            throw failure
        } catch {
            throw DeliveryFailure(code: "connect", detail: "\(error)", isTransient: true)
        }
    }
}

/// A plain-text UTF-8 message, base64 body, RFC 2047 headers.
struct MailMessage: Sendable {
    var from: String
    var to: String
    var data: String

    init(notification: OutgoingNotification, from: String, date: Date) {
        self.from = from
        self.to = notification.channel.address
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        let body = Data(notification.message.body.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n", with: "\r\n").utf8)
            .base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed])
        let headers = [
            "Date: \(formatter.string(from: date))",
            "From: \(from)",
            "To: \(Self.encodedWords(notification.recipientName)) <\(notification.channel.address)>",
            "Subject: \(Self.encodedWords(notification.message.subject))",
            "Message-ID: <\(notification.idempotencyKey)@isms-notifier>",
            "X-ISMS-Notification: \(notification.idempotencyKey)",
            "X-ISMS-Event-Type: \(notification.eventType)",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=UTF-8",
            "Content-Transfer-Encoding: base64",
        ]
        data = headers.joined(separator: "\r\n") + "\r\n\r\n" + body + "\r\n"
    }

    /// RFC 2047 B-encoded words of at most 75 characters, split on character boundaries.
    static func encodedWords(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { !$0.isASCII || $0.value < 0x20 }) else { return text }
        var words: [String] = []
        var chunk = ""
        for character in text {
            if (chunk + String(character)).utf8.count > 45 {
                words.append(chunk)
                chunk = ""
            }
            chunk.append(character)
        }
        if !chunk.isEmpty { words.append(chunk) }
        return words.map { "=?UTF-8?B?\(Data($0.utf8).base64EncodedString())?=" }.joined(separator: "\r\n ")
    }
}

/// One SMTP reply: the code and its text lines.
struct SMTPReply: Sendable {
    var code: Int
    var lines: [String]
}

/// Splits the server's bytes into replies and hands them to whoever waits. Touched only on its
/// channel's event loop (the session submits every call there), hence `@unchecked Sendable`.
final class SMTPReplyHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer

    private var pending: [UInt8] = []
    private var lines: [String] = []
    private var replies = CircularBuffer<SMTPReply>()
    private var waiters = CircularBuffer<EventLoopPromise<SMTPReply>>()
    private var failure: (any Error)?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        pending += buffer.readBytes(length: buffer.readableBytes) ?? []
        while let newline = pending.firstIndex(of: 0x0A) {
            var line = Array(pending[..<newline])
            pending.removeSubrange(...newline)
            if line.last == 0x0D { line.removeLast() }
            let text = String(decoding: line, as: UTF8.self)
            guard text.utf8.count >= 3, let code = Int(text.prefix(3)) else {
                fail(DeliveryFailure(code: "protocol", detail: "not an SMTP reply: \(text.prefix(80))", isTransient: true))
                context.close(promise: nil)
                return
            }
            let continued = text.count > 3 && text[text.index(text.startIndex, offsetBy: 3)] == "-"
            lines.append(text.count > 4 ? String(text.dropFirst(4)) : "")
            if !continued {
                let reply = SMTPReply(code: code, lines: lines)
                lines = []
                if let waiter = waiters.popFirst() { waiter.succeed(reply) } else { replies.append(reply) }
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(DeliveryFailure(code: "connect", detail: "the server closed the connection", isTransient: true))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(error)
        context.close(promise: nil)
    }

    private func fail(_ error: any Error) {
        if failure == nil { failure = error }
        while let waiter = waiters.popFirst() { waiter.fail(error) }
    }

    /// The next reply; call on the channel's event loop.
    func nextReply(on loop: any EventLoop) -> EventLoopFuture<SMTPReply> {
        if let reply = replies.popFirst() { return loop.makeSucceededFuture(reply) }
        if let failure { return loop.makeFailedFuture(failure) }
        let promise = loop.makePromise(of: SMTPReply.self)
        waiters.append(promise)
        return promise.futureResult
    }
}

/// One connection to the server, driven step by step.
struct SMTPSession {
    let channel: any Channel
    let handler: SMTPReplyHandler
    let configuration: SMTPConfiguration
    let timeout: Duration

    static func connect(_ configuration: SMTPConfiguration, timeout: Duration) async throws -> SMTPSession {
        let handler = SMTPReplyHandler()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.milliseconds(Int64(min(timeout, .seconds(10)).secondsValue * 1000)))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(handler) }
            }
            .connect(host: configuration.host, port: configuration.port)
            .get()
        return SMTPSession(channel: channel, handler: handler, configuration: configuration, timeout: timeout)
    }

    func close() async {
        try? await channel.close().get()
    }

    /// Waits for the next reply, closing the connection when the time-out passes.
    func reply() async throws -> SMTPReply {
        let channel = channel
        let handler = handler
        let timer = channel.eventLoop.scheduleTask(in: .milliseconds(Int64(timeout.secondsValue * 1000))) {
            channel.close(promise: nil)
        }
        defer { timer.cancel() }
        do {
            return try await channel.eventLoop.flatSubmit { handler.nextReply(on: channel.eventLoop) }.get()
        } catch let failure as DeliveryFailure where failure.code == "connect" && !channel.isActive {
            throw DeliveryFailure(code: "timeout", detail: "no reply from \(configuration.host) in time or connection lost", isTransient: true)
        }
    }

    func command(_ line: String, expecting codes: Set<Int>, step: String) async throws -> SMTPReply {
        try await channel.writeAndFlush(ByteBuffer(string: line + "\r\n")).get()
        return try check(try await reply(), expecting: codes, step: step)
    }

    func check(_ reply: SMTPReply, expecting codes: Set<Int>, step: String) throws -> SMTPReply {
        guard !codes.contains(reply.code) else { return reply }
        let text = reply.lines.joined(separator: " ").prefix(200)
        throw DeliveryFailure(code: "smtp-\(reply.code)", detail: "\(step): \(reply.code) \(text)", isTransient: (400..<500).contains(reply.code))
    }

    func hello() async throws -> [String] {
        let reply = try await command("EHLO \(configuration.heloName)", expecting: [250], step: "EHLO")
        return reply.lines.dropFirst().map { $0.uppercased() }
    }

    func deliver(_ mail: MailMessage) async throws {
        _ = try check(try await reply(), expecting: [220], step: "greeting")
        var extensions = try await hello()
        let offersTLS = extensions.contains { $0.hasPrefix("STARTTLS") }
        switch (configuration.tls, offersTLS) {
        case (.required, false):
            throw DeliveryFailure(code: "tls", detail: "\(configuration.host) does not offer STARTTLS and TLS is required", isTransient: false)
        case (.required, true), (.opportunistic, true):
            _ = try await command("STARTTLS", expecting: [220], step: "STARTTLS")
            try await startTLS()
            extensions = try await hello()
        default:
            break
        }
        if let username = configuration.username {
            let mechanisms = Set(extensions.filter { $0.hasPrefix("AUTH") }.flatMap { $0.dropFirst(5).split(separator: " ").map(String.init) })
            let password = configuration.password ?? ""
            if mechanisms.contains("PLAIN") {
                let token = Data(([0] + Array(username.utf8) + [0] + Array(password.utf8))).base64EncodedString()
                _ = try await command("AUTH PLAIN \(token)", expecting: [235], step: "AUTH PLAIN")
            } else if mechanisms.contains("LOGIN") {
                _ = try await command("AUTH LOGIN", expecting: [334], step: "AUTH LOGIN")
                _ = try await command(Data(username.utf8).base64EncodedString(), expecting: [334], step: "AUTH LOGIN user")
                _ = try await command(Data(password.utf8).base64EncodedString(), expecting: [235], step: "AUTH LOGIN password")
            } else {
                throw DeliveryFailure(code: "auth", detail: "\(configuration.host) offers neither AUTH PLAIN nor LOGIN", isTransient: false)
            }
        }
        _ = try await command("MAIL FROM:<\(mail.from)>", expecting: [250], step: "MAIL FROM")
        _ = try await command("RCPT TO:<\(mail.to)>", expecting: [250, 251], step: "RCPT TO")
        _ = try await command("DATA", expecting: [354], step: "DATA")
        // Dot-stuffing (RFC 5321 §4.5.2); the base64 body has no leading dots, headers might.
        let stuffed = mail.data.split(separator: "\r\n", omittingEmptySubsequences: false)
            .map { $0.hasPrefix(".") ? "." + $0 : String($0) }.joined(separator: "\r\n")
        try await channel.writeAndFlush(ByteBuffer(string: stuffed + ".\r\n")).get()
        _ = try check(try await reply(), expecting: [250], step: "end of data")
        _ = try? await command("QUIT", expecting: [221], step: "QUIT")
    }

    private func startTLS() async throws {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let file = configuration.trustRootsFile { tls.trustRoots = .file(file) }
        let context = try NIOSSLContext(configuration: tls)
        let host = configuration.host
        let isAddress = host.allSatisfy { $0.isNumber || $0 == "." || $0 == ":" }
        let channel = channel
        do {
            try await channel.eventLoop.submit {
                let handler = try NIOSSLClientHandler(context: context, serverHostname: isAddress ? nil : host)
                try channel.pipeline.syncOperations.addHandler(handler, position: .first)
            }.get()
        } catch {
            throw DeliveryFailure(code: "tls", detail: "STARTTLS failed: \(error)", isTransient: true)
        }
    }
}
