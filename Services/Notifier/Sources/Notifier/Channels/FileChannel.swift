import Directory
import Foundation

/// Appends each message as one JSON line (issue #5 item 2: "a file channel for local use").
///
/// A person's `file` channel names the file; e-mail sent through the mail drop (no SMTP server
/// configured) goes to `<directory>/mail.jsonl`. Relative paths are taken inside `directory`.
public struct FileChannel: NotificationChannel {
    public let directory: String

    public init(directory: String) {
        self.directory = directory
    }

    public func send(_ notification: OutgoingNotification) async throws(DeliveryFailure) {
        let path: String
        switch notification.channel.kind {
        case .file:
            let address = notification.channel.address
            path = address.hasPrefix("/") ? address : (directory as NSString).appendingPathComponent(address)
        case .email, .webhook:
            path = (directory as NSString).appendingPathComponent(notification.channel.kind == .email ? "mail.jsonl" : "webhooks.jsonl")
        }
        let record: [String: Any] = [
            "id": notification.idempotencyKey,
            "channel": notification.channel.kind.rawValue,
            "to": notification.channel.address,
            "recipient": notification.recipientName,
            "language": notification.language.rawValue,
            "type": notification.eventType,
            "subject": notification.message.subject,
            "body": notification.message.body,
            "writtenAt": ISO8601DateFormatter().string(from: Date()),
        ]
        do {
            var line = try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys, .withoutEscapingSlashes])
            line.append(0x0A)
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            if !FileManager.default.fileExists(atPath: path) {
                _ = FileManager.default.createFile(atPath: path, contents: nil)
            }
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            defer { try? handle.close() }
            try handle.seekToEnd()
            try handle.write(contentsOf: line)
            try handle.synchronize()
        } catch {
            throw DeliveryFailure(code: "io", detail: "cannot append to \(path): \(error)", isTransient: true)
        }
    }
}
