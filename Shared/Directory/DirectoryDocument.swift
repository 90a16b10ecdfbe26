import ConfigFiles
import Foundation
import Yams

/// The organisation file: YAML with four lists, `departments`, `sections`, `people` and
/// `assignments`. `deploy/config/ward.yaml` documents the format in its header and is the
/// ward's default data.
///
/// Reading checks the file's shape (known keys, required keys, value types) and then the rules of
/// ``Organisation/problems(file:)``, and reports every problem found, each with its line and
/// column, rather than stopping at the first.
public enum DirectoryDocument {
    /// Reads an organisation from YAML text; `fileName` is used in problem positions.
    public static func parse(yaml: String, fileName: String) throws(DirectoryImportError) -> Organisation {
        var reader = DocumentReader(file: fileName)
        let organisation = reader.read(yaml: yaml)
        var problems = reader.problems
        if let organisation {
            let marks = reader.marks
            var validator = OrganisationValidator(
                organisation: organisation,
                file: fileName,
                unitsWithDroppedAssignments: reader.unitsWithDroppedAssignments,
                incompleteSubjects: reader.incompleteSubjects,
                locate: { subject, field in marks[DocumentReader.MarkKey(subject: subject, field: field)] }
            )
            validator.run()
            problems += validator.problems
        }
        guard problems.isEmpty, let organisation else {
            // Stable sort: problems on one line keep the order they were found in.
            let ordered = problems.enumerated().sorted {
                ($0.element.line, $0.element.column, $0.offset) < ($1.element.line, $1.element.column, $1.offset)
            }
            throw DirectoryImportError(problems: ordered.map(\.element))
        }
        return organisation
    }

    /// Reads an organisation from a file; an unreadable file is reported as a problem too.
    public static func load(path: String) throws(DirectoryImportError) -> Organisation {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw DirectoryImportError(problems: [.init(file: path, line: 0, column: 0, message: "cannot read the file: \(error)")])
        }
        return try parse(yaml: text, fileName: path)
    }
}

/// Turns YAML nodes into an ``Organisation``, noting problems and where each value came from.
struct DocumentReader {
    struct MarkKey: Hashable {
        var subject: OrganisationSubject
        var field: String?
    }

    let file: String
    private(set) var problems: [DirectoryImportError.Problem] = []
    private(set) var marks: [MarkKey: SourcePosition] = [:]
    private(set) var unitsWithDroppedAssignments: Set<String?> = []
    /// Items kept although a required key was missing (and reported): the validator does not
    /// report the empty values that stand in for it again.
    private(set) var incompleteSubjects: Set<OrganisationSubject> = []

    init(file: String) {
        self.file = file
    }

    mutating func read(yaml: String) -> Organisation? {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            report(error)
            return nil
        } catch {
            problem("cannot read YAML: \(error)", at: nil)
            return nil
        }
        marks[MarkKey(subject: .root, field: nil)] = SourcePosition(line: 1, column: 1)
        guard let root, case .mapping(let top) = root else {
            problem("expected a mapping with the keys departments, sections, people and assignments", at: root?.mark)
            return nil
        }
        let (fields, complete) = fields(
            of: top, what: "the file",
            allowed: ["departments", "sections", "people", "assignments"],
            required: ["departments", "sections", "people", "assignments"])
        // Without a whole list, every rule about it would fail too: report only what is missing.
        guard complete else { return nil }
        if let key = top.keys.first(where: { $0.scalar?.string == "assignments" }), let mark = key.mark {
            marks[MarkKey(subject: .root, field: "assignments")] = SourcePosition(mark)
        }

        var organisation = Organisation()
        for item in list(fields["departments"], key: "departments") {
            if let department = readDepartment(item, index: organisation.departments.count) { organisation.departments.append(department) }
        }
        for item in list(fields["sections"], key: "sections") {
            if let section = readSection(item, index: organisation.sections.count) { organisation.sections.append(section) }
        }
        for item in list(fields["people"], key: "people") {
            if let person = readPerson(item, index: organisation.people.count) { organisation.people.append(person) }
        }
        for item in list(fields["assignments"], key: "assignments") {
            if let assignment = readAssignment(item, index: organisation.assignments.count) { organisation.assignments.append(assignment) }
        }
        return organisation
    }

    // MARK: Items

    private mutating func readDepartment(_ node: Node, index: Int) -> Organisation.Department? {
        let subject = OrganisationSubject.department(index)
        guard let fields = item(node, what: "department", allowed: ["code", "name", "nameEn"], required: ["code", "name"], subject: subject)
        else { return nil }
        guard let code = string(fields, "code", of: "department", subject: subject) else {
            forget(subject)
            return nil
        }
        note(node, subject)
        return .init(
            code: code,
            name: string(fields, "name", of: "department '\(code)'", subject: subject) ?? "",
            nameEn: string(fields, "nameEn", of: "department '\(code)'", subject: subject))
    }

    private mutating func readSection(_ node: Node, index: Int) -> Organisation.Section? {
        let subject = OrganisationSubject.section(index)
        guard
            let fields = item(
                node, what: "section", allowed: ["code", "name", "nameEn", "department", "committeeMember"],
                required: ["code", "name", "department"], subject: subject)
        else { return nil }
        guard let code = string(fields, "code", of: "section", subject: subject) else {
            forget(subject)
            return nil
        }
        note(node, subject)
        let what = "section '\(code)'"
        return .init(
            code: code,
            name: string(fields, "name", of: what, subject: subject) ?? "",
            nameEn: string(fields, "nameEn", of: what, subject: subject),
            // A missing department was reported above; the validator skips incomplete items.
            departmentCode: string(fields, "department", of: what, subject: subject) ?? "",
            committeeMember: bool(fields, "committeeMember", of: what, subject: subject) ?? false)
    }

    private mutating func readPerson(_ node: Node, index: Int) -> Organisation.Person? {
        let subject = OrganisationSubject.person(index)
        guard
            let fields = item(
                node, what: "person", allowed: ["id", "name", "email", "language", "channels", "deputy"], required: ["id", "name"],
                subject: subject)
        else { return nil }
        guard let id = string(fields, "id", of: "person", subject: subject) else {
            forget(subject)
            return nil
        }
        note(node, subject)
        let what = "person '\(id)'"
        var person = Organisation.Person(
            id: id,
            name: string(fields, "name", of: what, subject: subject) ?? "",
            email: string(fields, "email", of: what, subject: subject),
            deputyID: string(fields, "deputy", of: what, subject: subject))
        if let language = string(fields, "language", of: what, subject: subject) {
            if let value = Organisation.Language(rawValue: language) {
                person.language = value
            } else {
                problem("unknown language '\(language)' for \(what); expected 'ja' or 'en'", at: fields["language"]?.mark)
            }
        }
        for channel in list(fields["channels"], key: "channels of \(what)") {
            if let value = readChannel(channel, of: what, subject: .channel(person: index, index: person.channels.count)) {
                person.channels.append(value)
            }
        }
        return person
    }

    private mutating func readChannel(_ node: Node, of owner: String, subject: OrganisationSubject) -> Organisation.Channel? {
        let what = "channel of \(owner)"
        guard let fields = item(node, what: what, allowed: ["kind", "address", "format"], required: ["kind", "address"], subject: subject)
        else { return nil }
        guard
            let kindText = string(fields, "kind", of: what, subject: subject),
            let address = string(fields, "address", of: what, subject: subject)
        else {
            forget(subject)
            return nil
        }
        guard let kind = Organisation.Channel.Kind(rawValue: kindText) else {
            problem("unknown channel kind '\(kindText)' in \(what); expected email, webhook or file", at: fields["kind"]?.mark)
            forget(subject)
            return nil
        }
        note(node, subject)
        var channel = Organisation.Channel(kind: kind, address: address)
        if let format = string(fields, "format", of: what, subject: subject) {
            guard let value = Organisation.Channel.Format(rawValue: format) else {
                problem("unknown webhook format '\(format)' in \(what); expected generic, slack or teams", at: fields["format"]?.mark)
                forget(subject)
                return nil
            }
            channel.format = value
        }
        return channel
    }

    private mutating func readAssignment(_ node: Node, index: Int) -> Organisation.Assignment? {
        let subject = OrganisationSubject.assignment(index)
        guard let fields = item(node, what: "assignment", allowed: ["person", "role", "unit"], required: ["person", "role"], subject: subject)
        else { return nil }
        let person = string(fields, "person", of: "assignment", subject: subject)
        let roleText = string(fields, "role", of: "assignment", subject: subject)
        let unit = string(fields, "unit", of: "assignment", subject: subject)
        guard let person, let roleText else {
            unitsWithDroppedAssignments.insert(unit)
            forget(subject)
            return nil
        }
        guard let role = DirectoryRole(rawValue: roleText) else {
            let roles = DirectoryRole.allCases.map(\.rawValue).joined(separator: ", ")
            problem("'\(roleText)' is not a role the guideline defines; expected one of \(roles)", at: fields["role"]?.mark)
            unitsWithDroppedAssignments.insert(unit)
            forget(subject)
            return nil
        }
        note(node, subject)
        return .init(personID: person, role: role, unitCode: unit)
    }

    // MARK: Shape

    /// Drops what was noted about an item that was not kept, so the next item, which takes its
    /// index, does not inherit it.
    private mutating func forget(_ subject: OrganisationSubject) {
        marks = marks.filter { $0.key.subject != subject }
        incompleteSubjects.remove(subject)
    }

    private mutating func note(_ node: Node, _ subject: OrganisationSubject) {
        if let mark = node.mark { marks[MarkKey(subject: subject, field: nil)] = SourcePosition(mark) }
    }

    /// An item of a list, as a mapping of known keys; `nil` (reported) when it is not a mapping.
    private mutating func item(
        _ node: Node, what: String, allowed: [String], required: [String], subject: OrganisationSubject
    ) -> [String: Node]? {
        guard case .mapping(let mapping) = node else {
            problem("expected a \(what) as a mapping of \(allowed.joined(separator: ", "))", at: node.mark)
            return nil
        }
        let (fields, complete) = fields(of: mapping, what: what, allowed: allowed, required: required)
        if !complete { incompleteSubjects.insert(subject) }
        return fields
    }

    /// The values of a mapping by key, reporting unknown and missing keys, and whether every
    /// required key has a value.
    private mutating func fields(
        of mapping: Node.Mapping, what: String, allowed: [String], required: [String]
    ) -> (fields: [String: Node], complete: Bool) {
        var fields: [String: Node] = [:]
        for (key, value) in mapping {
            guard let name = key.scalar?.string else {
                problem("keys of \(what) must be plain names", at: key.mark)
                continue
            }
            guard allowed.contains(name) else {
                problem("unknown key '\(name)' in \(what); expected one of \(allowed.joined(separator: ", "))", at: key.mark)
                continue
            }
            fields[name] = value
        }
        var complete = true
        for name in required where fields[name].map(Self.isNull) ?? true {
            let identity = required.first.flatMap { fields[$0]?.scalar?.string }.map { " '\($0)'" } ?? ""
            problem("\(what)\(identity) is missing required key '\(name)'", at: mapping.mark)
            complete = false
        }
        return (fields, complete)
    }

    /// The items of a list; a missing or empty (null) value is an empty list.
    private mutating func list(_ node: Node?, key: String) -> [Node] {
        guard let node, !Self.isNull(node) else { return [] }
        guard case .sequence(let sequence) = node else {
            problem("'\(key)' must be a list", at: node.mark)
            return []
        }
        return Array(sequence)
    }

    /// A text value; `nil` when absent or null, and (reported) when it is not a scalar.
    private mutating func string(_ fields: [String: Node], _ key: String, of what: String, subject: OrganisationSubject) -> String? {
        guard let node = fields[key], !Self.isNull(node) else { return nil }
        guard case .scalar(let scalar) = node else {
            problem("'\(key)' of \(what) must be text, not a \(node.isMapping ? "mapping" : "list")", at: node.mark)
            return nil
        }
        if let mark = node.mark { marks[MarkKey(subject: subject, field: key)] = SourcePosition(mark) }
        return scalar.string
    }

    private mutating func bool(_ fields: [String: Node], _ key: String, of what: String, subject: OrganisationSubject) -> Bool? {
        guard let node = fields[key], !Self.isNull(node) else { return nil }
        guard let value = node.bool else {
            problem("'\(key)' of \(what) must be true or false", at: node.mark)
            return nil
        }
        if let mark = node.mark { marks[MarkKey(subject: subject, field: key)] = SourcePosition(mark) }
        return value
    }

    private static func isNull(_ node: Node) -> Bool {
        node.scalar.flatMap(NSNull.construct) != nil
    }

    // MARK: Problems

    private mutating func problem(_ message: String, at mark: Mark?) {
        problems.append(.init(file: file, line: mark?.line ?? 0, column: mark?.column ?? 0, message: message))
    }

    private mutating func report(_ error: YamlError) {
        problems.append(Self.problem(for: error, file: file))
    }

    /// A YAML reading error as a problem with its position (shared by the directory's files).
    static func problem(for error: YamlError, file: String) -> DirectoryImportError.Problem {
        func at(_ mark: Mark?, _ message: String) -> DirectoryImportError.Problem {
            .init(file: file, line: mark?.line ?? 0, column: mark?.column ?? 0, message: message)
        }
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let context = context.map { "\($0.text) at line \($0.mark.line), column \($0.mark.column): " } ?? ""
            return at(mark, "YAML syntax: \(context)\(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.map { "'\($0)'" }.joined(separator: ", ")
            return at(context.mark, "key \(keys) appears more than once in the same mapping")
        case .reader(let problem, let offset, _, let yaml):
            let position = offset.map { Self.position(ofUTF8Offset: $0, in: yaml) }
            return .init(file: file, line: position?.line ?? 0, column: position?.column ?? 0, message: "YAML encoding: \(problem)")
        default:
            return at(nil, "cannot read YAML: \(error)")
        }
    }

    private static func position(ofUTF8Offset offset: Int, in text: String) -> SourcePosition {
        var line = 1
        var column = 1
        for byte in text.utf8.prefix(offset) {
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
        }
        return SourcePosition(line: line, column: column)
    }
}

extension SourcePosition {
    init(_ mark: Mark) {
        self.init(line: mark.line, column: mark.column)
    }
}

extension Node {
    fileprivate var isMapping: Bool {
        if case .mapping = self { return true }
        return false
    }
}
