import Contracts
public import Logging
import MyNumber
import Foundation
import Synchronization

/// Writes each log event as one JSON line on standard error.
///
/// Lines carry `ts`, `level`, `logger`, `msg`, the source location for warnings and above, and
/// every metadata key (dotted names such as `correlation.id`), so a log pipeline can follow one
/// report through every service. Times follow the contracts' policy (RFC 3339, UTC, milliseconds).
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
        Self.output.withLock { _ in
            FileHandle.standardError.write(Data(line(event)))
        }
    }

    /// The event as one JSON line, My Numbers masked.
    func line(_ event: LogEvent) -> [UInt8] {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        var fields = merged.mapValues(Self.json)
        fields["ts"] = .string(ContractsJSON.formatTimestamp(Date()))
        fields["level"] = .string(event.level.rawValue)
        fields["logger"] = .string(label)
        fields["msg"] = .string(MyNumberMasking.mask(event.message.description))
        if event.level >= .warning {
            fields["source"] = .string("\(event.file):\(event.line)")
        }
        return JSONValue.object(fields).jsonBytes() + [0x0A]
    }

    private static let output = Mutex(())

    // Log lines leave the system (files, collectors, operators' screens): every value is masked
    // without waiting for context, since an error message may quote a field that was never screened.
    private static func json(_ value: Logger.Metadata.Value) -> JSONValue {
        switch value {
        case .string(let string): .string(MyNumberMasking.mask(string))
        case .stringConvertible(let convertible): .string(MyNumberMasking.mask(convertible.description))
        case .array(let values): .array(values.map(json))
        case .dictionary(let dictionary): .object(dictionary.mapValues(json))
        }
    }
}

/// Masks My Numbers in the message and metadata before another handler writes them (the text
/// format for people at a terminal).
public struct MyNumberMaskingLogHandler<Base: LogHandler>: LogHandler {
    public var base: Base

    public init(_ base: Base) {
        self.base = base
    }

    public var metadata: Logger.Metadata {
        get { base.metadata }
        set { base.metadata = newValue }
    }

    public var logLevel: Logger.Level {
        get { base.logLevel }
        set { base.logLevel = newValue }
    }

    public var metadataProvider: Logger.MetadataProvider? {
        get { base.metadataProvider }
        set { base.metadataProvider = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { base[metadataKey: key] }
        set { base[metadataKey: key] = newValue }
    }

    public func log(event: LogEvent) {
        var event = event
        event.message = "\(MyNumberMasking.mask(event.message.description))"
        event.metadata = event.metadata?.mapValues(Self.mask)
        var base = base
        base.metadata = base.metadata.mapValues(Self.mask)
        base.log(event: event)
    }

    private static func mask(_ value: Logger.Metadata.Value) -> Logger.Metadata.Value {
        switch value {
        case .string(let string): .string(MyNumberMasking.mask(string))
        case .stringConvertible(let convertible): .string(MyNumberMasking.mask(convertible.description))
        case .array(let values): .array(values.map(mask))
        case .dictionary(let dictionary): .dictionary(dictionary.mapValues(mask))
        }
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
                return MyNumberMaskingLogHandler(handler)
            }
        }
    }
}
