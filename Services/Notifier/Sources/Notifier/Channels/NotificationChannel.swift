public import Directory

/// One message on its way out: the ledger row's id and everything a channel needs.
public struct OutgoingNotification: Sendable, Hashable {
    /// The ledger row.
    public var id: Int64
    /// Stable across every attempt of this row: the `webhook-id` and the mail's `Message-ID`, so
    /// a receiver can drop a resend after a crash between sending and recording (issue #5 item 4).
    public var idempotencyKey: String
    public var channel: Organisation.Channel
    public var recipientName: String
    public var language: Organisation.Language
    public var eventType: String
    public var message: RenderedMessage
    /// The webhook's signing secret; nil for other channels.
    public var webhookSecret: String?

    public init(
        id: Int64, channel: Organisation.Channel, recipientName: String, language: Organisation.Language, eventType: String,
        message: RenderedMessage, webhookSecret: String? = nil
    ) {
        self.id = id
        self.idempotencyKey = "ntf_\(id)"
        self.channel = channel
        self.recipientName = recipientName
        self.language = language
        self.eventType = eventType
        self.message = message
        self.webhookSecret = webhookSecret
    }
}

/// Why a send failed, and whether trying again may help.
public struct DeliveryFailure: Error, Sendable, Hashable, CustomStringConvertible {
    /// Short and machine-readable: `smtp-451`, `http-500`, `connect`, `timeout`, `tls`, `io`.
    public var code: String
    public var detail: String
    /// A 4xx reply, a time-out, a lost connection: retry with back-off. Otherwise (5xx, a
    /// refused webhook) the next channel is tried at once.
    public var isTransient: Bool

    public init(code: String, detail: String, isTransient: Bool) {
        self.code = code
        self.detail = detail
        self.isTransient = isTransient
    }

    public var description: String { "\(code)\(isTransient ? " (transient)" : ""): \(detail)" }
}

/// Sends one message on one kind of channel.
public protocol NotificationChannel: Sendable {
    func send(_ notification: OutgoingNotification) async throws(DeliveryFailure)
}

/// The channels by kind.
public struct NotificationChannels: Sendable {
    public var email: any NotificationChannel
    public var webhook: any NotificationChannel
    public var file: any NotificationChannel

    public init(email: any NotificationChannel, webhook: any NotificationChannel, file: any NotificationChannel) {
        self.email = email
        self.webhook = webhook
        self.file = file
    }

    /// SMTP when configured, otherwise a mail drop in the file folder; webhooks; files.
    public init(settings: NotifierSettings) {
        let file = FileChannel(directory: settings.fileDirectory)
        self.init(
            email: settings.smtp.map { SMTPChannel(configuration: $0, timeout: settings.sendTimeout) as any NotificationChannel } ?? file,
            webhook: WebhookChannel(timeout: settings.sendTimeout),
            file: file)
    }

    func channel(for kind: Organisation.Channel.Kind) -> any NotificationChannel {
        switch kind {
        case .email: email
        case .webhook: webhook
        case .file: file
        }
    }
}
