public import Logging
import Foundation
import Synchronization

/// Writes each log event as one JSON line on standard error.
///
/// Lines carry `ts`, `level`, `service`, `msg`, the source location for warnings and above, and
/// every metadata key (dotted names such as `correlation.id`), so a log pipeline can follow one
/// report through every service.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String

    public init(label: String, level: Logger.Level = .info, metadataProvider: Logger.MetadataProvider? = nil) {
        self.label = label
        self.logLevel = level
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: [String: Any] = [
            "ts": Self.timestamp(),
            "level": event.level.rawValue,
            "logger": label,
            "msg": event.message.description,
        ]
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        for (key, value) in merged {
            fields[key] = Self.json(value)
        }
        if event.level >= .warning {
            fields["source"] = "\(event.file):\(event.line)"
        }
        guard var data = try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys, .withoutEscapingSlashes]) else { return }
        data.append(0x0A)
        Self.output.withLock { _ in
            FileHandle.standardError.write(data)
        }
    }

    private static let output = Mutex(())

    private static func json(_ value: Logger.Metadata.Value) -> Any {
        switch value {
        case .string(let string): string
        case .stringConvertible(let convertible): convertible.description
        case .array(let values): values.map(json)
        case .dictionary(let dictionary): dictionary.mapValues(json)
        }
    }

    private static func timestamp() -> String {
        Date().formatted(.iso8601.year().month().day().timeSeparator(.colon).time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }
}

extension LoggingSystem {
    /// Installs the process-wide log handler. Call once, from `main` only (never in tests).
    public static func bootstrapISMS(format: ServiceConfiguration.LogFormat, level: Logger.Level) {
        switch format {
        case .json:
            bootstrap { label in JSONLogHandler(label: label, level: level) }
        case .text:
            bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
        }
    }
}
