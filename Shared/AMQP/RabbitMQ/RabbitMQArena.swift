import CRabbitMQ
import Foundation

/// Memory that C structures passed to one librabbitmq call point into.
///
/// `amqp_cstring_bytes(swiftString)` would point into a temporary buffer that is gone before
/// the call reads it; strings, tables and properties are copied into this pool instead, and the
/// pool lives until ``with(_:)`` returns.
final class RabbitMQArena {
    private let pool: UnsafeMutablePointer<amqp_pool_t>

    private init() {
        pool = .allocate(capacity: 1)
        init_amqp_pool(pool, 4096)
    }

    deinit {
        empty_amqp_pool(pool)
        pool.deallocate()
    }

    /// Runs `body` with an arena that stays alive until `body` returns.
    static func with<Result, Failure: Error>(_ body: (RabbitMQArena) throws(Failure) -> Result) throws(Failure) -> Result {
        let arena = RabbitMQArena()
        defer { withExtendedLifetime(arena) {} }
        return try body(arena)
    }

    private func allocate(_ count: Int) -> UnsafeMutableRawPointer {
        guard let memory = amqp_pool_alloc(pool, max(count, 1)) else {
            fatalError("librabbitmq pool allocation of \(count) bytes failed")
        }
        return memory
    }

    /// A NUL-terminated copy of `string`, for `const char *` parameters.
    func cString(_ string: String) -> UnsafePointer<CChar> {
        var string = string
        return string.withUTF8 { utf8 in
            let memory = allocate(utf8.count + 1)
            if let base = utf8.baseAddress { memory.copyMemory(from: base, byteCount: utf8.count) }
            memory.storeBytes(of: 0, toByteOffset: utf8.count, as: UInt8.self)
            return UnsafePointer(memory.bindMemory(to: CChar.self, capacity: utf8.count + 1))
        }
    }

    /// A copy of `string` as `amqp_bytes_t` (also NUL-terminated, which some fields expect).
    func bytes(_ string: String) -> amqp_bytes_t {
        let count = string.utf8.count
        return amqp_bytes_t(len: count, bytes: UnsafeMutableRawPointer(mutating: cString(string)))
    }

    /// A copy of `data` as `amqp_bytes_t`.
    func bytes(_ data: [UInt8]) -> amqp_bytes_t {
        let memory = allocate(data.count)
        data.withUnsafeBytes { source in
            if let base = source.baseAddress { memory.copyMemory(from: base, byteCount: source.count) }
        }
        return amqp_bytes_t(len: data.count, bytes: memory)
    }

    /// `table` as `amqp_table_t`, keys sorted so the wire form is stable.
    func table(_ table: AMQPTable) -> amqp_table_t {
        guard !table.isEmpty else { return amqp_table_t(num_entries: 0, entries: nil) }
        let entries = allocate(MemoryLayout<amqp_table_entry_t>.stride * table.count)
            .bindMemory(to: amqp_table_entry_t.self, capacity: table.count)
        for (index, key) in table.keys.sorted().enumerated() {
            (entries + index).initialize(to: amqp_table_entry_t(key: bytes(key), value: value(table[key]!)))
        }
        return amqp_table_t(num_entries: Int32(table.count), entries: entries)
    }

    private func array(_ values: [AMQPFieldValue]) -> amqp_array_t {
        guard !values.isEmpty else { return amqp_array_t(num_entries: 0, entries: nil) }
        let entries = allocate(MemoryLayout<amqp_field_value_t>.stride * values.count)
            .bindMemory(to: amqp_field_value_t.self, capacity: values.count)
        for (index, element) in values.enumerated() {
            (entries + index).initialize(to: value(element))
        }
        return amqp_array_t(num_entries: Int32(values.count), entries: entries)
    }

    private func value(_ value: AMQPFieldValue) -> amqp_field_value_t {
        var field = amqp_field_value_t()
        func kind(_ kind: amqp_field_value_kind_t) { field.kind = UInt8(truncatingIfNeeded: kind.rawValue) }
        switch value {
        case .bool(let flag):
            kind(AMQP_FIELD_KIND_BOOLEAN)
            field.value.boolean = flag ? 1 : 0
        case .int8(let number):
            kind(AMQP_FIELD_KIND_I8)
            field.value.i8 = number
        case .int16(let number):
            kind(AMQP_FIELD_KIND_I16)
            field.value.i16 = number
        case .int32(let number):
            kind(AMQP_FIELD_KIND_I32)
            field.value.i32 = number
        case .int64(let number):
            kind(AMQP_FIELD_KIND_I64)
            field.value.i64 = number
        case .float(let number):
            kind(AMQP_FIELD_KIND_F32)
            field.value.f32 = number
        case .double(let number):
            kind(AMQP_FIELD_KIND_F64)
            field.value.f64 = number
        case .string(let text):
            // Long string ('S'): what RabbitMQ and every client use for text headers.
            kind(AMQP_FIELD_KIND_UTF8)
            field.value.bytes = bytes(text)
        case .bytes(let data):
            kind(AMQP_FIELD_KIND_BYTES)
            field.value.bytes = bytes(data)
        case .timestamp(let date):
            kind(AMQP_FIELD_KIND_TIMESTAMP)
            field.value.u64 = UInt64(max(0, date.timeIntervalSince1970.rounded(.down)))
        case .table(let nested):
            kind(AMQP_FIELD_KIND_TABLE)
            field.value.table = table(nested)
        case .array(let elements):
            kind(AMQP_FIELD_KIND_ARRAY)
            field.value.array = array(elements)
        case .void:
            kind(AMQP_FIELD_KIND_VOID)
        }
        return field
    }

    /// `properties` as `amqp_basic_properties_t`, with the flags of the fields that are set.
    func properties(_ properties: AMQPProperties) -> amqp_basic_properties_t {
        var result = amqp_basic_properties_t()
        var flags: UInt32 = 0
        func text(_ value: String?, _ flag: Int32, _ assign: (inout amqp_basic_properties_t, amqp_bytes_t) -> Void) {
            guard let value else { return }
            assign(&result, bytes(value))
            flags |= UInt32(flag)
        }
        text(properties.contentType, AMQP_BASIC_CONTENT_TYPE_FLAG) { $0.content_type = $1 }
        text(properties.contentEncoding, AMQP_BASIC_CONTENT_ENCODING_FLAG) { $0.content_encoding = $1 }
        if !properties.headers.isEmpty {
            result.headers = table(properties.headers)
            flags |= UInt32(AMQP_BASIC_HEADERS_FLAG)
        }
        if let mode = properties.deliveryMode {
            result.delivery_mode = mode.rawValue
            flags |= UInt32(AMQP_BASIC_DELIVERY_MODE_FLAG)
        }
        if let priority = properties.priority {
            result.priority = priority
            flags |= UInt32(AMQP_BASIC_PRIORITY_FLAG)
        }
        text(properties.correlationID, AMQP_BASIC_CORRELATION_ID_FLAG) { $0.correlation_id = $1 }
        text(properties.replyTo, AMQP_BASIC_REPLY_TO_FLAG) { $0.reply_to = $1 }
        text(properties.expiration, AMQP_BASIC_EXPIRATION_FLAG) { $0.expiration = $1 }
        text(properties.messageID, AMQP_BASIC_MESSAGE_ID_FLAG) { $0.message_id = $1 }
        if let timestamp = properties.timestamp {
            result.timestamp = UInt64(max(0, timestamp.timeIntervalSince1970.rounded(.down)))
            flags |= UInt32(AMQP_BASIC_TIMESTAMP_FLAG)
        }
        text(properties.type, AMQP_BASIC_TYPE_FLAG) { $0.type = $1 }
        text(properties.userID, AMQP_BASIC_USER_ID_FLAG) { $0.user_id = $1 }
        text(properties.appID, AMQP_BASIC_APP_ID_FLAG) { $0.app_id = $1 }
        result._flags = flags
        return result
    }
}

/// Decoding of what librabbitmq hands back into the module's value types.
enum RabbitMQDecoding {
    static func string(_ bytes: amqp_bytes_t) -> String {
        guard let base = bytes.bytes, bytes.len > 0 else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: base, count: bytes.len), as: UTF8.self)
    }

    static func data(_ bytes: amqp_bytes_t) -> [UInt8] {
        guard let base = bytes.bytes, bytes.len > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: base, count: bytes.len))
    }

    static func table(_ table: amqp_table_t) -> AMQPTable {
        var result: AMQPTable = [:]
        guard let entries = table.entries, table.num_entries > 0 else { return result }
        result.reserveCapacity(Int(table.num_entries))
        for index in 0..<Int(table.num_entries) {
            let entry = entries[index]
            result[string(entry.key)] = value(entry.value)
        }
        return result
    }

    static func value(_ field: amqp_field_value_t) -> AMQPFieldValue {
        let value = field.value
        switch UInt32(field.kind) {
        case AMQP_FIELD_KIND_BOOLEAN.rawValue: return .bool(value.boolean != 0)
        case AMQP_FIELD_KIND_I8.rawValue: return .int8(value.i8)
        case AMQP_FIELD_KIND_U8.rawValue: return .int16(Int16(value.u8))
        case AMQP_FIELD_KIND_I16.rawValue: return .int16(value.i16)
        case AMQP_FIELD_KIND_U16.rawValue: return .int32(Int32(value.u16))
        case AMQP_FIELD_KIND_I32.rawValue: return .int32(value.i32)
        case AMQP_FIELD_KIND_U32.rawValue: return .int64(Int64(value.u32))
        case AMQP_FIELD_KIND_I64.rawValue: return .int64(value.i64)
        case AMQP_FIELD_KIND_U64.rawValue: return .int64(Int64(truncatingIfNeeded: value.u64))
        case AMQP_FIELD_KIND_F32.rawValue: return .float(value.f32)
        case AMQP_FIELD_KIND_F64.rawValue: return .double(value.f64)
        case AMQP_FIELD_KIND_DECIMAL.rawValue:
            return .double(Double(value.decimal.value) / pow(10, Double(value.decimal.decimals)))
        case AMQP_FIELD_KIND_UTF8.rawValue: return .string(string(value.bytes))
        case AMQP_FIELD_KIND_BYTES.rawValue: return .bytes(data(value.bytes))
        case AMQP_FIELD_KIND_TIMESTAMP.rawValue: return .timestamp(Date(timeIntervalSince1970: TimeInterval(value.u64)))
        case AMQP_FIELD_KIND_TABLE.rawValue: return .table(table(value.table))
        case AMQP_FIELD_KIND_ARRAY.rawValue:
            guard let entries = value.array.entries, value.array.num_entries > 0 else { return .array([]) }
            return .array((0..<Int(value.array.num_entries)).map { Self.value(entries[$0]) })
        default: return .void
        }
    }

    static func properties(_ properties: amqp_basic_properties_t) -> AMQPProperties {
        let flags = properties._flags
        func has(_ flag: Int32) -> Bool { flags & UInt32(flag) != 0 }
        func text(_ flag: Int32, _ bytes: amqp_bytes_t) -> String? { has(flag) ? string(bytes) : nil }
        return AMQPProperties(
            contentType: text(AMQP_BASIC_CONTENT_TYPE_FLAG, properties.content_type),
            contentEncoding: text(AMQP_BASIC_CONTENT_ENCODING_FLAG, properties.content_encoding),
            headers: has(AMQP_BASIC_HEADERS_FLAG) ? table(properties.headers) : [:],
            deliveryMode: has(AMQP_BASIC_DELIVERY_MODE_FLAG) ? AMQPDeliveryMode(rawValue: properties.delivery_mode) : nil,
            priority: has(AMQP_BASIC_PRIORITY_FLAG) ? properties.priority : nil,
            correlationID: text(AMQP_BASIC_CORRELATION_ID_FLAG, properties.correlation_id),
            replyTo: text(AMQP_BASIC_REPLY_TO_FLAG, properties.reply_to),
            expiration: text(AMQP_BASIC_EXPIRATION_FLAG, properties.expiration),
            messageID: text(AMQP_BASIC_MESSAGE_ID_FLAG, properties.message_id),
            timestamp: has(AMQP_BASIC_TIMESTAMP_FLAG) ? Date(timeIntervalSince1970: TimeInterval(properties.timestamp)) : nil,
            type: text(AMQP_BASIC_TYPE_FLAG, properties.type),
            userID: text(AMQP_BASIC_USER_ID_FLAG, properties.user_id),
            appID: text(AMQP_BASIC_APP_ID_FLAG, properties.app_id)
        )
    }
}
