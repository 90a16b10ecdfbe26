public import Contracts
public import Foundation
import MyNumber

/// An event as the notifier sees it: the attributes routes match on, and what templates may show.
public struct NotifierEvent: Sendable, Hashable {
    public var key: String
    public var source: String
    public var id: String
    /// The CloudEvents type (wire name).
    public var type: String
    /// The routing key form of the type (`incident.reported.v1`), the `type` attribute.
    public var typeKey: String
    public var time: Date
    public var classification: DataClassification
    public var correlationID: String?
    /// Flattened attributes: `type`, `source`, `subject`, `classification`, and each scalar of
    /// `data` by its dotted path (`sectionCode`, `answers.myNumber`, `severity`).
    public var attributes: [String: String]
    /// The data templates may render: every field for non-restricted events, only the allowed
    /// fields for restricted ones; strings masked (issue #5 item 7).
    public var context: [String: JSONValue]
    /// The triage case number, when the event carries one.
    public var caseNumber: String?
    /// The intake id, when the event carries one.
    public var intakeID: String?
    /// The case this event is about (`caseNumber`, else `intakeId`): what acknowledgement links name.
    public var caseRef: String? { caseNumber ?? intakeID }
    /// `severity` as a number when the event carries one.
    public var severity: Int?
    public var sectionCode: String?
    /// The raw data, for `eventRecipients` paths; never stored.
    public var data: JSONValue?

    /// Reads a received envelope. `restrictedFields` limits what a restricted event exposes.
    public init(envelope: RawEnvelope, restrictedFields: [String]) throws {
        key = envelope.deduplicationKey
        source = envelope.source
        id = envelope.id
        type = envelope.type
        typeKey = type.hasPrefix(MessageType.wireNamePrefix) ? String(type.dropFirst(MessageType.wireNamePrefix.count)) : type
        time = envelope.time
        classification = envelope.dataClassification
        correlationID = envelope.correlationID
        data = try envelope.dataValue()
        var attributes: [String: String] = [
            "type": typeKey, "source": source, "classification": classification.rawValue,
        ]
        if let subject = envelope.subject { attributes["subject"] = subject }
        if let data { Self.flatten(data, prefix: "", into: &attributes) }
        self.attributes = attributes
        severity = attributes["severity"].flatMap(Int.init)
        sectionCode = attributes["sectionCode"]
        caseNumber = attributes["caseNumber"]
        // Triage's case-opened names the intake id as its `source` (kind incident-report).
        intakeID = attributes["intakeId"] ?? (attributes["source.kind"] == "incident-report" ? attributes["source.id"] : nil)
        var context = data?.objectValue ?? [:]
        if classification == .restricted {
            let allowed = Set(restrictedFields)
            context = context.filter { allowed.contains($0.key) }
        }
        self.context = context.mapValues(Self.masked)
    }

    /// Severity-1 events are never grouped away or silenced without an explicit flag.
    public var isSeverity1: Bool { severity == 1 }

    static func flatten(_ value: JSONValue, prefix: String, into attributes: inout [String: String]) {
        switch value {
        case .object(let members):
            for (name, member) in members { flatten(member, prefix: prefix.isEmpty ? name : "\(prefix).\(name)", into: &attributes) }
        case .string(let text): attributes[prefix] = MyNumberMasking.mask(text)
        case .integer(let number): attributes[prefix] = String(number)
        case .number(let number): attributes[prefix] = String(number)
        case .bool(let flag): attributes[prefix] = flag ? "true" : "false"
        case .array, .null: break
        }
    }

    static func masked(_ value: JSONValue) -> JSONValue {
        switch value {
        case .string(let text): .string(MyNumberMasking.mask(text))
        case .array(let items): .array(items.map(masked))
        case .object(let members): .object(members.mapValues(masked))
        default: value
        }
    }

    /// The values at a dotted path of the data: person ids as strings, or objects' `personId`.
    func personIDs(at path: String) -> [String] {
        var node = data
        for part in path.split(separator: ".") { node = node?[String(part)] }
        guard let node else { return [] }
        let items = node.arrayValue ?? [node]
        return items.compactMap { item in item.stringValue ?? item["personId"]?.stringValue }
    }
}

extension JSONValue {
    /// The value as plain Foundation types for Mustache (dictionaries, arrays, strings, numbers).
    var mustacheValue: Any {
        switch self {
        case .null: return ""
        case .bool(let flag): return flag
        case .integer(let number): return Int(number)
        case .number(let number): return number
        case .string(let text): return text
        case .array(let items): return items.map(\.mustacheValue)
        case .object(let members): return members.mapValues(\.mustacheValue)
        }
    }
}
