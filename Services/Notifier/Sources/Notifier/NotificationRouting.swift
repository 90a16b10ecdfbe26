import ConfigFiles
import Foundation
public import Directory
import Yams

/// The routing tree (issue #5 item 1), read from `deploy/config/notification-routes.yaml`.
///
/// Like Alertmanager's: an event enters at the root and walks down; a child route whose
/// matchers all hold takes it; without `continue: true` the first matching child stops the
/// search among its siblings; a route without matching children notifies its own receiver.
/// Settings (receiver, grouping, intervals) are inherited from the parent unless set.
public struct NotificationRouting: Sendable {
    /// One matcher on an event attribute: `name = value`, `!=`, `=~` (regex, anchored), `!~`.
    public struct Matcher: Sendable, Hashable, Codable, CustomStringConvertible {
        public enum Operation: String, Sendable, Hashable, Codable {
            case equal = "="
            case notEqual = "!="
            case regex = "=~"
            case notRegex = "!~"
        }

        public let name: String
        public let operation: Operation
        public let value: String
        /// The anchored expression of `=~` and `!~`, compiled once: compiling it for every event
        /// was an eighth of the notifier's CPU at a storm.
        private let pattern: Pattern?

        public init(name: String, operation: Operation, value: String) {
            self.name = name
            self.operation = operation
            self.value = value
            pattern = operation == .regex || operation == .notRegex ? Pattern(value) : nil
        }

        /// Parses `name = value`, `name != value`, `name =~ regex`, `name !~ regex`; the value may
        /// be double-quoted.
        public init(parsing text: String) throws(NotifierError) {
            let operators: [(String, Operation)] = [("!=", .notEqual), ("=~", .regex), ("!~", .notRegex), ("=", .equal)]
            for (symbol, operation) in operators {
                guard let range = text.range(of: symbol) else { continue }
                let name = text[..<range.lowerBound].trimmingCharacters(in: .whitespaces)
                var value = text[range.upperBound...].trimmingCharacters(in: .whitespaces)
                if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
                guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." || $0 == "_" }) else {
                    throw NotifierError(.invalidRoutes, detail: "matcher '\(text)' has no valid attribute name")
                }
                self.init(name: name, operation: operation, value: value)
                if let pattern, pattern.regex == nil {
                    throw NotifierError(.invalidRoutes, detail: "matcher '\(text)' has an invalid regular expression")
                }
                return
            }
            throw NotifierError(.invalidRoutes, detail: "matcher '\(text)' is not `name = value`, `!=`, `=~` or `!~`")
        }

        /// Whether the attributes satisfy the matcher; a missing attribute is the empty string.
        public func matches(_ attributes: [String: String]) -> Bool {
            let actual = attributes[name] ?? ""
            switch operation {
            case .equal: return actual == value
            case .notEqual: return actual != value
            case .regex, .notRegex:
                let holds = pattern?.regex.map { actual.wholeMatch(of: $0) != nil } ?? false
                return operation == .regex ? holds : !holds
            }
        }

        private enum CodingKeys: String, CodingKey {
            case name, operation, value
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.init(
                name: try container.decode(String.self, forKey: .name), operation: try container.decode(Operation.self, forKey: .operation),
                value: try container.decode(String.self, forKey: .value))
        }

        public static func == (lhs: Matcher, rhs: Matcher) -> Bool {
            lhs.name == rhs.name && lhs.operation == rhs.operation && lhs.value == rhs.value
        }

        public func hash(into hasher: inout Hasher) {
            hasher.combine(name)
            hasher.combine(operation)
            hasher.combine(value)
        }

        /// A compiled expression, shared by the copies of its matcher. `Regex` is not `Sendable`,
        /// but this one is never changed after `init`, and matching only reads it (the standard
        /// library lowers its program once, atomically; `init` does that before sharing).
        private final class Pattern: @unchecked Sendable {
            let regex: Regex<AnyRegexOutput>?

            init(_ value: String) {
                regex = try? Regex("^(?:\(value))$")
                _ = regex.map { "".wholeMatch(of: $0) }
            }
        }

        public var description: String { "\(name) \(operation.rawValue) \(value)" }
    }

    /// Whom a receiver reaches.
    public struct Receiver: Sendable, Hashable {
        /// A fixed address that is not a person in the directory (a CSIRT chat hook, say).
        public struct Endpoint: Sendable, Hashable {
            public var name: String
            public var channel: Organisation.Channel
            public var language: Organisation.Language
            /// The environment variable that holds the webhook's signing secret.
            public var secretEnv: String?

            public init(name: String, channel: Organisation.Channel, language: Organisation.Language = .ja, secretEnv: String? = nil) {
                self.name = name
                self.channel = channel
                self.language = language
                self.secretEnv = secretEnv
            }
        }

        /// A role, optionally at a unit; the unit may name an event attribute as `$sectionCode`.
        /// Without a unit, section roles are taken at the event's `sectionCode` and department
        /// roles at its `departmentCode`.
        public struct RoleTarget: Sendable, Hashable {
            public var role: DirectoryRole
            public var unit: String?

            public init(role: DirectoryRole, unit: String? = nil) {
                self.role = role
                self.unit = unit
            }
        }

        public var name: String
        public var roles: [RoleTarget] = []
        /// Everyone holding any role at these units (codes, or `$attribute`).
        public var units: [String] = []
        /// People by directory id.
        public var people: [String] = []
        /// The reporting chain of the event's section (Art. 14, 16-19), per the directory.
        public var chain = false
        /// A dotted path into the event's data holding person ids (strings, or objects with
        /// `personId`): the people the event itself names.
        public var eventRecipients: String?
        public var endpoints: [Endpoint] = []

        public init(name: String) {
            self.name = name
        }
    }

    /// One node of the tree, with its inherited settings resolved.
    public struct Route: Sendable, Hashable {
        /// `routes[0].routes[2]`-style path, which names the route in the ledger.
        public var path: String
        public var line: Int
        public var matchers: [Matcher]
        public var receiver: String?
        public var continueMatching: Bool
        /// Attribute names whose values form the group; empty means no grouping.
        public var groupBy: [String]
        public var groupWait: Duration
        public var groupInterval: Duration
        /// How often a sent notification is repeated until acknowledged; nil for never.
        public var repeatInterval: Duration?
        /// How many reminders at most.
        public var maxRepeats: Int
        /// Severity-1 events are grouped here only with this flag (issue #5 item 5).
        public var groupSeverity1: Bool
        /// The template name; by default the event type's routing key.
        public var template: String?
        /// Whether notifications carry an acknowledgement link.
        public var acknowledge: Bool
        /// Event types (routing keys) this route can see, from equality matchers on `type` here
        /// or above; empty when not fixed.
        public var types: [String]
        public var children: [Route]
    }

    /// A route the event matched, with the receiver to notify.
    public struct Match: Sendable, Hashable {
        public var route: Route
        public var receiver: Receiver
    }

    public var root: Route
    public var receivers: [String: Receiver]
    /// Fields of a restricted event that templates may see (issue #5 item 7).
    public var restrictedFields: [String]
    public var file: String

    /// The matches for an event's attributes, in tree order, one per (route) whose receiver is set.
    public func matches(_ attributes: [String: String]) -> [Match] {
        var found: [Match] = []
        func walk(_ route: Route) -> Bool {
            guard route.matchers.allSatisfy({ $0.matches(attributes) }) else { return false }
            var childMatched = false
            for child in route.children {
                if walk(child) {
                    childMatched = true
                    if !child.continueMatching { break }
                }
            }
            if !childMatched, let name = route.receiver, let receiver = receivers[name] {
                found.append(Match(route: route, receiver: receiver))
            }
            return true
        }
        _ = walk(root)
        return found
    }

    /// Every route of the tree, depth first.
    public var allRoutes: [Route] {
        var list: [Route] = []
        func walk(_ route: Route) {
            list.append(route)
            route.children.forEach(walk)
        }
        walk(root)
        return list
    }

    /// Fields kept for restricted events when the file does not say: ids, codes and the fields
    /// intake has already masked; and a case's counts, times and severity rule (case-opened,
    /// report-attached), which hold no personal data.
    public static let defaultRestrictedFields = [
        "caseNumber", "intakeId", "sectionCode", "departmentCode", "category", "severity", "title", "description",
        "myNumberDetected", "occurredAt", "detectedAt", "knownAt", "recordedAt", "status", "level", "role", "unitCode",
        "severityRule", "openedAt", "reportCount", "firstSeenAt", "lastSeenAt", "previousSeverity", "severityRaised", "rule", "attachedAt",
    ]

    // MARK: Loading

    /// Reads and validates the routing file; every problem names its line.
    public static func load(path: String) throws(NotifierError) -> NotificationRouting {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw NotifierError(.invalidRoutes, detail: "cannot read \(path): \(error)")
        }
        return try parse(yaml: text, file: path)
    }

    /// Reads and validates routing YAML; `file` names it in problems.
    public static func parse(yaml: String, file: String) throws(NotifierError) -> NotificationRouting {
        var reader = RoutingReader(file: file)
        let routing = reader.read(yaml)
        guard reader.problems.isEmpty, let routing else {
            throw NotifierError(.invalidRoutes, detail: "\(file) has \(reader.problems.count) problem(s)", problems: reader.problems)
        }
        return routing
    }
}

/// Parses the routing YAML node by node, keeping line numbers for problems.
private struct RoutingReader {
    let file: String
    var problems: [NotifierError.Problem] = []

    init(file: String) {
        self.file = file
    }

    mutating func problem(_ message: String, _ node: Node?) {
        let mark = node?.mark
        problems.append(.init(file: file, line: mark?.line ?? 0, column: mark?.column ?? 0, message: message))
    }

    mutating func mapping(_ node: Node, what: String, allowed: Set<String>) -> [String: Node]? {
        guard case .mapping(let mapping) = node else {
            problem("\(what) must be a mapping", node)
            return nil
        }
        var fields: [String: Node] = [:]
        for (key, value) in mapping {
            guard let name = key.string else {
                problem("\(what): keys must be strings", key)
                continue
            }
            if !allowed.contains(name) {
                problem("\(what): unknown key '\(name)' (allowed: \(allowed.sorted().joined(separator: ", ")))", key)
                continue
            }
            fields[name] = value
        }
        return fields
    }

    mutating func string(_ node: Node?, what: String) -> String? {
        guard let node else { return nil }
        guard case .scalar(let scalar) = node else {
            problem("\(what) must be a string", node)
            return nil
        }
        return scalar.string
    }

    mutating func strings(_ node: Node?, what: String) -> [String] {
        guard let node else { return [] }
        guard case .sequence(let sequence) = node else {
            problem("\(what) must be a list", node)
            return []
        }
        return sequence.compactMap { string($0, what: "an item of \(what)") }
    }

    mutating func bool(_ node: Node?, what: String) -> Bool? {
        guard let node else { return nil }
        guard let value = node.bool else {
            problem("\(what) must be true or false", node)
            return nil
        }
        return value
    }

    mutating func int(_ node: Node?, what: String) -> Int? {
        guard let node else { return nil }
        guard let value = node.int, value >= 0 else {
            problem("\(what) must be a whole number >= 0", node)
            return nil
        }
        return value
    }

    mutating func duration(_ node: Node?, what: String) -> Duration? {
        guard let node else { return nil }
        guard let text = node.string, let value = NotifierDurations.parse(text) else {
            problem("\(what) must be a duration such as 30s, 5m, 4h or 1d", node)
            return nil
        }
        return value
    }

    mutating func read(_ yaml: String) -> NotificationRouting? {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            problems.append(.init(file: file, line: 0, column: 0, message: "not valid YAML: \(error)"))
            return nil
        } catch {
            problems.append(.init(file: file, line: 0, column: 0, message: "not valid YAML: \(error)"))
            return nil
        }
        guard let root, let top = mapping(root, what: "the file", allowed: ["receivers", "route", "restrictedFields"]) else {
            if root == nil { problem("the file is empty; it needs `receivers` and `route`", nil) }
            return nil
        }
        var receivers: [String: NotificationRouting.Receiver] = [:]
        if let list = top["receivers"] {
            if case .sequence(let items) = list {
                for item in items {
                    guard let receiver = readReceiver(item) else { continue }
                    if receivers[receiver.name] != nil {
                        problem("receiver '\(receiver.name)' is defined twice", item)
                    }
                    receivers[receiver.name] = receiver
                }
            } else {
                problem("receivers must be a list", list)
            }
        } else {
            problem("the file needs a `receivers` list", root)
        }
        let restricted = top["restrictedFields"].map { strings($0, what: "restrictedFields") } ?? NotificationRouting.defaultRestrictedFields
        guard let routeNode = top["route"] else {
            problem("the file needs a root `route`", root)
            return nil
        }
        let defaults = NotificationRouting.Route(
            path: "route", line: 0, matchers: [], receiver: nil, continueMatching: false, groupBy: [],
            groupWait: .seconds(30), groupInterval: .seconds(300), repeatInterval: nil, maxRepeats: 3, groupSeverity1: false,
            template: nil, acknowledge: false, types: [], children: [])
        guard let route = readRoute(routeNode, path: "route", parent: defaults, receivers: receivers, isRoot: true) else { return nil }
        return NotificationRouting(root: route, receivers: receivers, restrictedFields: restricted, file: file)
    }

    mutating func readReceiver(_ node: Node) -> NotificationRouting.Receiver? {
        guard let fields = mapping(node, what: "a receiver", allowed: ["name", "roles", "units", "people", "chain", "eventRecipients", "endpoints"]) else { return nil }
        guard let name = string(fields["name"], what: "name") else {
            problem("a receiver needs a `name`", node)
            return nil
        }
        var receiver = NotificationRouting.Receiver(name: name)
        let what = "receiver '\(name)'"
        if let rolesNode = fields["roles"], case .sequence(let items) = rolesNode {
            for item in items {
                guard let text = string(item, what: "\(what): a role") else { continue }
                let parts = text.split(separator: "@", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard let role = DirectoryRole(rawValue: parts[0]) else {
                    problem("\(what): unknown role '\(parts[0])' (roles: \(DirectoryRole.allCases.map(\.rawValue).joined(separator: ", ")))", item)
                    continue
                }
                let unit = parts.count > 1 ? parts[1] : nil
                if role.isWardWide, unit != nil {
                    problem("\(what): \(role.rawValue) is ward-wide and takes no unit", item)
                }
                receiver.roles.append(.init(role: role, unit: unit))
            }
        } else if let rolesNode = fields["roles"] {
            problem("\(what): roles must be a list", rolesNode)
        }
        receiver.units = strings(fields["units"], what: "\(what): units")
        receiver.people = strings(fields["people"], what: "\(what): people")
        receiver.chain = bool(fields["chain"], what: "\(what): chain") ?? false
        receiver.eventRecipients = string(fields["eventRecipients"], what: "\(what): eventRecipients")
        if let endpointsNode = fields["endpoints"] {
            if case .sequence(let items) = endpointsNode {
                for (index, item) in items.enumerated() {
                    guard let endpoint = mapping(item, what: "\(what): an endpoint", allowed: ["name", "kind", "address", "format", "language", "secretEnv"]) else { continue }
                    guard let kindText = string(endpoint["kind"], what: "kind"), let kind = Organisation.Channel.Kind(rawValue: kindText) else {
                        problem("\(what): an endpoint needs `kind`: email, webhook or file", item)
                        continue
                    }
                    guard let address = string(endpoint["address"], what: "address"), !address.isEmpty else {
                        problem("\(what): an endpoint needs an `address`", item)
                        continue
                    }
                    var format: Organisation.Channel.Format?
                    if let formatText = string(endpoint["format"], what: "format") {
                        format = Organisation.Channel.Format(rawValue: formatText)
                        if format == nil { problem("\(what): format must be generic, slack or teams", endpoint["format"]) }
                        if kind != .webhook { problem("\(what): format applies to webhooks only", endpoint["format"]) }
                    }
                    var language = Organisation.Language.ja
                    if let languageText = string(endpoint["language"], what: "language") {
                        if let parsed = Organisation.Language(rawValue: languageText) { language = parsed } else { problem("\(what): language must be ja or en", endpoint["language"]) }
                    }
                    if kind == .webhook, !(address.hasPrefix("http://") || address.hasPrefix("https://")) {
                        problem("\(what): a webhook address is an http(s) URL", endpoint["address"])
                    }
                    receiver.endpoints.append(.init(
                        name: string(endpoint["name"], what: "name") ?? "\(name)-\(index)",
                        channel: .init(kind: kind, address: address, format: format),
                        language: language,
                        secretEnv: string(endpoint["secretEnv"], what: "secretEnv")))
                }
            } else {
                problem("\(what): endpoints must be a list", endpointsNode)
            }
        }
        if receiver.roles.isEmpty, receiver.units.isEmpty, receiver.people.isEmpty, !receiver.chain, receiver.eventRecipients == nil, receiver.endpoints.isEmpty {
            problem("\(what) reaches nobody: give roles, units, people, chain, eventRecipients or endpoints", node)
        }
        return receiver
    }

    mutating func readRoute(
        _ node: Node, path: String, parent: NotificationRouting.Route, receivers: [String: NotificationRouting.Receiver], isRoot: Bool
    ) -> NotificationRouting.Route? {
        let allowed: Set<String> = [
            "matchers", "receiver", "continue", "groupBy", "groupWait", "groupInterval", "repeatInterval", "maxRepeats",
            "groupSeverity1", "template", "acknowledge", "routes",
        ]
        guard let fields = mapping(node, what: path, allowed: allowed) else { return nil }
        var route = parent
        route.path = path
        route.line = node.mark?.line ?? 0
        route.children = []
        route.matchers = []
        route.continueMatching = false
        for item in sequenceItems(fields["matchers"], what: "\(path).matchers") {
            guard let text = string(item, what: "a matcher") else { continue }
            do {
                route.matchers.append(try NotificationRouting.Matcher(parsing: text))
            } catch {
                problem(error.detail, item)
            }
        }
        if isRoot, !route.matchers.isEmpty { problem("the root route matches every event: it takes no matchers", fields["matchers"]) }
        let typeValues = route.matchers.filter { $0.name == "type" && $0.operation == .equal }.map(\.value)
        if !typeValues.isEmpty { route.types = typeValues }
        if let receiverNode = fields["receiver"], let name = string(receiverNode, what: "receiver") {
            if receivers[name] == nil { problem("\(path): no receiver named '\(name)'", receiverNode) }
            route.receiver = name
        }
        route.continueMatching = bool(fields["continue"], what: "continue") ?? false
        if isRoot, route.continueMatching { problem("the root route takes no `continue`", fields["continue"]) }
        if let groupBy = fields["groupBy"] { route.groupBy = strings(groupBy, what: "groupBy") }
        if let value = duration(fields["groupWait"], what: "groupWait") { route.groupWait = value }
        if let value = duration(fields["groupInterval"], what: "groupInterval") { route.groupInterval = value }
        if let node = fields["repeatInterval"] {
            if node.string == "never" { route.repeatInterval = nil } else if let value = duration(node, what: "repeatInterval") { route.repeatInterval = value }
        }
        if let value = int(fields["maxRepeats"], what: "maxRepeats") { route.maxRepeats = value }
        if let value = bool(fields["groupSeverity1"], what: "groupSeverity1") { route.groupSeverity1 = value }
        if let value = string(fields["template"], what: "template") { route.template = value }
        if let value = bool(fields["acknowledge"], what: "acknowledge") { route.acknowledge = value }
        for (index, child) in sequenceItems(fields["routes"], what: "\(path).routes").enumerated() {
            if let parsed = readRoute(child, path: "\(path).routes[\(index)]", parent: route, receivers: receivers, isRoot: false) {
                route.children.append(parsed)
            }
        }
        // Issue #5 item 6: every routed event needs a template known at start, never a blank message.
        if let receiver = route.receiver, route.template == nil, route.types.isEmpty {
            problem("\(path) notifies '\(receiver)' but fixes no event type: add a `type = ...` matcher or a `template`", node)
        }
        return route
    }

    mutating func sequenceItems(_ node: Node?, what: String) -> [Node] {
        guard let node else { return [] }
        guard case .sequence(let items) = node else {
            problem("\(what) must be a list", node)
            return []
        }
        return Array(items)
    }
}

/// Durations in the routing file: `500ms`, `30s`, `5m`, `4h`, `1d`.
enum NotifierDurations {
    static func parse(_ text: String) -> Duration? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400)]
        for (suffix, factor) in units where trimmed.hasSuffix(suffix) {
            let number = trimmed.dropLast(suffix.count)
            if let value = Double(number), value >= 0 { return .milliseconds(Int64(value * factor * 1000)) }
        }
        return nil
    }
}
