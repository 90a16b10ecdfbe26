import ConfigFiles
public import Directory
import Foundation
import Mustache
import MyNumber

/// A rendered message: what every channel sends.
public struct RenderedMessage: Sendable, Hashable, Codable {
    public var subject: String
    public var body: String

    public init(subject: String, body: String) {
        self.subject = subject
        self.body = body
    }
}

/// The message templates (issue #5 item 6): `<name>.<ja|en>.mustache` in one folder, where the
/// name is the event type's routing key (`incident.reported.v1`) or a route's `template`. The
/// first line is the subject, the rest (after one blank line) the body. `_group.<lang>.mustache`
/// wraps several events of one group into one message, unless `<name>.group.<lang>.mustache`
/// exists: then a group of that template's events is one summary of the latest of them, with
/// `count` (issue #16: a storm of updates to one case).
///
/// Templates render plain text (no HTML escaping). Every rendered subject and body passes
/// ``MyNumberMasking/mask(_:)`` before it leaves (issue #5 item 7).
public struct NotifierTemplates: Sendable {
    private let templates: [String: MustacheTemplate]
    /// The templates (`<name>.<lang>`) that use the recipient's name and the acknowledgement
    /// link only as plain `{{recipientName}}` and `{{ackLink}}` (and an `{{#ackLink}}` or
    /// `{{^ackLink}}` section): one rendering with stand-ins serves every recipient of an event.
    private let plain: Set<String>
    public let directory: String

    /// Loads every `*.mustache` file of `directory`.
    public init(directory: String) throws(NotifierError) {
        self.directory = directory
        var templates: [String: MustacheTemplate] = [:]
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw NotifierError(.missingTemplate, detail: "cannot read the template folder \(directory): \(error)")
        }
        var plain = Set<String>()
        var problems: [NotifierError.Problem] = []
        for name in names.sorted() where name.hasSuffix(".mustache") {
            let path = (directory as NSString).appendingPathComponent(name)
            do {
                let text = try String(contentsOfFile: path, encoding: .utf8)
                let key = String(name.dropLast(".mustache".count))
                templates[key] = try MustacheTemplate(string: "{{%CONTENT_TYPE:TEXT}}" + text)
                if Self.usesPersonalFieldsPlainly(text) { plain.insert(key) }
            } catch {
                problems.append(.init(file: path, line: 0, column: 0, message: "template does not parse: \(error)"))
            }
        }
        if !problems.isEmpty { throw NotifierError(.invalidTemplate, detail: "templates do not parse", problems: problems) }
        self.templates = templates
        self.plain = plain
    }

    /// Templates given as text, keyed `<name>.<lang>` (tests).
    public init(texts: [String: String]) throws {
        directory = "(memory)"
        templates = try texts.mapValues { try MustacheTemplate(string: "{{%CONTENT_TYPE:TEXT}}" + $0) }
        plain = Set(texts.filter { Self.usesPersonalFieldsPlainly($0.value) }.keys)
    }

    /// Whether every mention of `recipientName` and `ackLink` in `text` is one of the plain tags
    /// (text templates do not escape, so a stand-in replaced afterwards reads exactly as the
    /// value rendered in place). A transform, a section over the name or a changed delimiter
    /// makes the template render once per recipient instead.
    static func usesPersonalFieldsPlainly(_ text: String) -> Bool {
        guard !text.contains("{{=") else { return false }
        var rest = text
        for tag in ["{{recipientName}}", "{{ackLink}}", "{{#ackLink}}", "{{/ackLink}}", "{{^ackLink}}"] {
            rest = rest.replacingOccurrences(of: tag, with: "")
        }
        return !rest.contains("recipientName") && !rest.contains("ackLink")
    }

    /// Whether `name` in `language` (as ``render(_:language:context:)`` picks it) can be rendered
    /// once for every recipient (``usesPersonalFieldsPlainly(_:)``).
    func rendersPersonalFieldsPlainly(_ name: String, language: Organisation.Language) -> Bool {
        let key = templates["\(name).\(language.rawValue)"] != nil ? "\(name).\(language.rawValue)" : "\(name).ja"
        return plain.contains(key)
    }

    /// Checks that every template the routing tree can use exists in both languages; a missing
    /// one is a start-up error (issue #5 item 6).
    public func check(_ routing: NotificationRouting) throws(NotifierError) {
        var problems: [NotifierError.Problem] = []
        var needed: [(String, NotificationRouting.Route)] = []
        for route in routing.allRoutes where route.receiver != nil {
            if let template = route.template { needed.append((template, route)) } else { needed += route.types.map { ($0, route) } }
        }
        for language in Organisation.Language.allCases {
            if templates["_group.\(language.rawValue)"] == nil {
                problems.append(.init(file: directory, line: 0, column: 0, message: "missing _group.\(language.rawValue).mustache (grouped messages)"))
            }
            for (name, route) in needed where templates["\(name).\(language.rawValue)"] == nil {
                problems.append(.init(
                    file: routing.file, line: route.line, column: 1,
                    message: "\(route.path) needs template \(name).\(language.rawValue).mustache in \(directory)"))
            }
            // A group summary in one language only would tell the others in the wrong one.
            for (name, route) in needed where templates["\(name).group.\(language.rawValue)"] == nil && has("\(name).group", inAnyOf: Organisation.Language.allCases) {
                problems.append(.init(
                    file: routing.file, line: route.line, column: 1,
                    message: "\(route.path) has a group summary \(name).group in another language: add \(name).group.\(language.rawValue).mustache"))
            }
        }
        if !problems.isEmpty {
            throw NotifierError(.missingTemplate, detail: "routed events without templates", problems: Array(Set(problems)).sorted { $0.line < $1.line })
        }
    }

    /// Whether a template `name` exists (in Japanese, the language every message falls back to).
    public func has(_ name: String) -> Bool { templates["\(name).ja"] != nil }

    private func has(_ name: String, inAnyOf languages: [Organisation.Language]) -> Bool {
        languages.contains { templates["\(name).\($0.rawValue)"] != nil }
    }

    /// Renders `name` in `language`, masked. Throws when the template does not exist.
    public func render(_ name: String, language: Organisation.Language, context: [String: Any]) throws(NotifierError) -> RenderedMessage {
        Self.masked(try renderUnmasked(name, language: language, context: context))
    }

    /// Renders `name` in `language` without the final masking: a draft for many recipients,
    /// masked by ``masked(_:)`` once their values are in.
    func renderUnmasked(_ name: String, language: Organisation.Language, context: [String: Any]) throws(NotifierError) -> RenderedMessage {
        guard let template = templates["\(name).\(language.rawValue)"] ?? templates["\(name).ja"] else {
            throw NotifierError(.missingTemplate, detail: "no template \(name).\(language.rawValue)")
        }
        let text = template.render(context)
        let lines = text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false)
        let subject = lines.first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        var body = lines.count > 1 ? String(lines[1]) : ""
        while body.hasPrefix("\n") { body.removeFirst() }
        return RenderedMessage(subject: subject, body: body)
    }

    /// Issue #5 item 7: the last line of defence, whatever the template or data did.
    static func masked(_ message: RenderedMessage) -> RenderedMessage {
        RenderedMessage(subject: MyNumberMasking.mask(message.subject), body: MyNumberMasking.mask(message.body))
    }
}
