import Directory
import Logging
import Postgres

/// Someone (or something) a notification goes to.
struct NotifierRecipient: Sendable, Hashable {
    /// `person:<id>` or `endpoint:<name>`: the ledger's recipient column.
    var key: String
    var name: String
    var language: Organisation.Language
    /// In order of preference; the first is tried first, the rest on failure.
    var channels: [Organisation.Channel]

    var personID: String? { key.hasPrefix("person:") ? String(key.dropFirst(7)) : nil }
    var endpointName: String? { key.hasPrefix("endpoint:") ? String(key.dropFirst(9)) : nil }

    init(person: Organisation.Person) {
        key = "person:\(person.id)"
        name = person.name
        language = person.language
        channels = person.deliveryChannels
    }

    init(endpoint: NotificationRouting.Receiver.Endpoint) {
        key = "endpoint:\(endpoint.name)"
        name = endpoint.name
        language = endpoint.language
        channels = [endpoint.channel]
    }
}

/// Turns a receiver into people through the directory (issue #5 item 1).
struct NotifierRecipientResolver: Sendable {
    let directory: DirectoryStore

    func resolve(_ receiver: NotificationRouting.Receiver, event: NotifierEvent, on connection: PostgresConnection, logger: Logger) throws -> [NotifierRecipient] {
        var people: [Organisation.Person] = []
        func unit(_ text: String) -> String? {
            text.hasPrefix("$") ? event.attributes[String(text.dropFirst())] : text
        }
        for target in receiver.roles {
            var unitCode: String?
            switch target.role.unitKind {
            case .ward: unitCode = nil
            case .section: unitCode = target.unit.flatMap(unit) ?? event.attributes["sectionCode"]
            case .department:
                unitCode = target.unit.flatMap(unit) ?? event.attributes["departmentCode"]
                if unitCode == nil, let section = event.attributes["sectionCode"] {
                    unitCode = try directory.section(code: section, on: connection)?.departmentCode
                }
            }
            if target.role.unitKind != .ward, unitCode == nil {
                logger.warning("a receiver names a unit role but the event has no unit", metadata: ["notifier.receiver": "\(receiver.name)", "notifier.role": "\(target.role.rawValue)"])
                continue
            }
            let found = try directory.people(role: target.role, unitCode: unitCode, on: connection)
            if found.isEmpty {
                logger.warning("nobody holds a routed role", metadata: ["notifier.receiver": "\(receiver.name)", "notifier.role": "\(target.role.rawValue)", "notifier.unit": "\(unitCode ?? "-")"])
            }
            people += found
        }
        for text in receiver.units {
            guard let code = unit(text) else { continue }
            for role in DirectoryRole.allCases where !role.isWardWide {
                people += try directory.people(role: role, unitCode: code, on: connection)
            }
        }
        for id in receiver.people {
            if let person = try directory.person(id: id, on: connection) { people.append(person) } else {
                logger.warning("a routed person is not in the directory", metadata: ["notifier.receiver": "\(receiver.name)", "notifier.person": "\(id)"])
            }
        }
        if receiver.chain {
            if let section = event.sectionCode {
                do {
                    for step in try directory.escalationTargets(sectionCode: section, on: connection) { people += step.people }
                } catch let error as DirectoryError {
                    logger.warning("the event's section is not in the directory", metadata: ["notifier.section": "\(section)", "error": "\(error)"])
                }
            }
        }
        if let path = receiver.eventRecipients {
            for id in event.personIDs(at: path) {
                if let person = try directory.person(id: id, on: connection) { people.append(person) } else {
                    logger.warning("a person the event names is not in the directory", metadata: ["notifier.person": "\(id)"])
                }
            }
        }
        var seen = Set<String>()
        var recipients: [NotifierRecipient] = []
        for person in people where seen.insert(person.id).inserted {
            recipients.append(NotifierRecipient(person: person))
        }
        recipients += receiver.endpoints.map(NotifierRecipient.init(endpoint:))
        return recipients
    }

    /// Everything ``resolve(_:event:on:logger:)`` reads of an event, as a key: events with equal
    /// keys reach the same people, so a batch resolves each receiver once per key.
    func resolutionKey(_ receiver: NotificationRouting.Receiver, event: NotifierEvent) -> String {
        let units = (receiver.roles.compactMap(\.unit) + receiver.units).filter { $0.hasPrefix("$") }.map { event.attributes[String($0.dropFirst())] ?? "" }
        let named = receiver.eventRecipients.map { event.personIDs(at: $0) } ?? []
        return ([receiver.name, event.attributes["sectionCode"] ?? "", event.attributes["departmentCode"] ?? ""] + units + ["|"] + named)
            .joined(separator: "\u{1F}")
    }

    /// The people one step above `personID` in the reporting chain of `sectionCode`
    /// (Art. 14, 16-19): whom to tell when a person and their deputy cannot be reached.
    func superiors(of personID: String, sectionCode: String?, on connection: PostgresConnection) throws -> [Organisation.Person] {
        guard let sectionCode, let steps = try? directory.escalationTargets(sectionCode: sectionCode, on: connection) else { return [] }
        guard let index = steps.firstIndex(where: { $0.people.contains { $0.id == personID } }) else { return [] }
        return steps[(index + 1)...].first { !$0.people.isEmpty }?.people ?? []
    }
}
