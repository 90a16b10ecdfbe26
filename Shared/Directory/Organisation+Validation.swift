public import ConfigFiles
extension Organisation {
    /// What is wrong with this organisation, by the rules ``DirectoryDocument`` applies to a file
    /// after reading it; positions are 0 since a value built in code has none.
    public func problems(file: String = "organisation") -> [DirectoryImportError.Problem] {
        var validator = OrganisationValidator(organisation: self, file: file, locate: { _, _ in nil })
        validator.run()
        return validator.problems
    }

    /// Throws ``DirectoryImportError`` when ``problems(file:)`` finds any.
    public func validate(file: String = "organisation") throws(DirectoryImportError) {
        let problems = problems(file: file)
        if !problems.isEmpty { throw DirectoryImportError(problems: problems) }
    }
}

/// What a problem is about, so the parser can point at the line it came from.
enum OrganisationSubject: Hashable {
    case root
    case department(Int)
    case section(Int)
    case person(Int)
    case channel(person: Int, index: Int)
    case assignment(Int)
}

/// A 1-based line and column.
struct SourcePosition: Hashable {
    var line: Int
    var column: Int
}

/// The rules on the content of an organisation, apart from the shape of a file.
struct OrganisationValidator {
    let organisation: Organisation
    let file: String
    /// Where a subject (or one of its fields, by key) came from, if known.
    let locate: (OrganisationSubject, String?) -> SourcePosition?
    /// Units (`nil`: the ward) with an assignment the parser had to drop (an unknown role): their
    /// coverage checks are skipped, since the dropped line is already reported.
    var unitsWithDroppedAssignments: Set<String?> = []
    /// Items with a required key missing (already reported): empty stand-in values are not
    /// reported again.
    var incompleteSubjects: Set<OrganisationSubject> = []
    private(set) var problems: [DirectoryImportError.Problem] = []

    init(
        organisation: Organisation,
        file: String,
        unitsWithDroppedAssignments: Set<String?> = [],
        incompleteSubjects: Set<OrganisationSubject> = [],
        locate: @escaping (OrganisationSubject, String?) -> SourcePosition?
    ) {
        self.organisation = organisation
        self.file = file
        self.unitsWithDroppedAssignments = unitsWithDroppedAssignments
        self.incompleteSubjects = incompleteSubjects
        self.locate = locate
    }

    mutating func report(_ message: String, at subject: OrganisationSubject, field: String? = nil) {
        let position = field.flatMap { locate(subject, $0) } ?? locate(subject, nil) ?? locate(.root, nil)
        problems.append(.init(file: file, line: position?.line ?? 0, column: position?.column ?? 0, message: message))
    }

    private func lineNote(_ subject: OrganisationSubject, _ field: String) -> String {
        guard let position = locate(subject, field) ?? locate(subject, nil) else { return "" }
        return " (first defined at line \(position.line))"
    }

    static func isValidKey(_ key: String) -> Bool {
        !key.isEmpty && key.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "._-".unicodeScalars.contains(scalar))
        }
    }

    mutating func run() {
        checkUnits()
        checkPeople()
        checkAssignments()
        checkCoverage()
    }

    private mutating func checkUnits() {
        // Department and section codes share one namespace: tokens and assignments name a unit by
        // code alone.
        var units: [String: OrganisationSubject] = [:]
        for (index, department) in organisation.departments.enumerated() {
            checkKey(department.code, what: "department code", at: .department(index))
            if let first = units[department.code] {
                report("duplicate department code '\(department.code)'\(lineNote(first, "code"))", at: .department(index), field: "code")
            } else {
                units[department.code] = .department(index)
            }
            if department.name.isEmpty, !incompleteSubjects.contains(.department(index)) { report("department '\(department.code)' has an empty name", at: .department(index), field: "name") }
        }
        let departmentCodes = Set(organisation.departments.map(\.code))
        for (index, section) in organisation.sections.enumerated() {
            checkKey(section.code, what: "section code", at: .section(index))
            if let first = units[section.code] {
                let kind = if case .department = first { "department" } else { "section" }
                report(
                    "duplicate section code '\(section.code)': a \(kind) already uses it\(lineNote(first, "code"))",
                    at: .section(index), field: "code")
            } else {
                units[section.code] = .section(index)
            }
            if section.name.isEmpty, !incompleteSubjects.contains(.section(index)) { report("section '\(section.code)' has an empty name", at: .section(index), field: "name") }
            if !departmentCodes.contains(section.departmentCode), !incompleteSubjects.contains(.section(index)) {
                report(
                    "section '\(section.code)' belongs to unknown department '\(section.departmentCode)'",
                    at: .section(index), field: "department")
            }
        }
    }

    private mutating func checkKey(_ key: String, what: String, at subject: OrganisationSubject) {
        let field = if case .person = subject { "id" } else { "code" }
        if !Self.isValidKey(key) {
            report("\(what) '\(key)' may hold only ASCII letters, digits, '.', '_' and '-'", at: subject, field: field)
        }
    }

    private mutating func checkPeople() {
        var seen: [String: Int] = [:]
        let ids = Set(organisation.people.map(\.id))
        for (index, person) in organisation.people.enumerated() {
            checkKey(person.id, what: "person id", at: .person(index))
            if let first = seen[person.id] {
                report("duplicate person id '\(person.id)'\(lineNote(.person(first), "id"))", at: .person(index), field: "id")
            } else {
                seen[person.id] = index
            }
            if person.name.isEmpty, !incompleteSubjects.contains(.person(index)) { report("person '\(person.id)' has an empty name", at: .person(index), field: "name") }
            if let email = person.email, !Self.looksLikeEmail(email) {
                report("person '\(person.id)' has e-mail '\(email)', which is not an address", at: .person(index), field: "email")
            }
            if let deputy = person.deputyID {
                if deputy == person.id {
                    report("person '\(person.id)' cannot be their own deputy", at: .person(index), field: "deputy")
                } else if !ids.contains(deputy) {
                    report("person '\(person.id)' names deputy '\(deputy)', who is not defined under 'people'", at: .person(index), field: "deputy")
                }
            }
            for (channelIndex, channel) in person.channels.enumerated() {
                checkChannel(channel, of: person, at: .channel(person: index, index: channelIndex))
            }
        }
    }

    private mutating func checkChannel(_ channel: Organisation.Channel, of person: Organisation.Person, at subject: OrganisationSubject) {
        switch channel.kind {
        case .email:
            if !Self.looksLikeEmail(channel.address) {
                report("e-mail channel of '\(person.id)' has address '\(channel.address)', which is not an e-mail address", at: subject, field: "address")
            }
        case .webhook:
            if !(channel.address.hasPrefix("https://") || channel.address.hasPrefix("http://")) {
                report("webhook channel of '\(person.id)' needs an http:// or https:// URL, not '\(channel.address)'", at: subject, field: "address")
            }
        case .file:
            if channel.address.isEmpty {
                report("file channel of '\(person.id)' needs a path", at: subject, field: "address")
            }
        }
        if channel.format != nil, channel.kind != .webhook {
            report("'format' applies to webhook channels only, not to a \(channel.kind.rawValue) channel", at: subject, field: "format")
        }
    }

    static func looksLikeEmail(_ address: String) -> Bool {
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && parts[1].contains(".") && !address.contains(where: \.isWhitespace)
    }

    private mutating func checkAssignments() {
        let people = Set(organisation.people.map(\.id))
        let departments = Set(organisation.departments.map(\.code))
        let sections = Set(organisation.sections.map(\.code))
        var seen: [Organisation.Assignment: Int] = [:]
        for (index, assignment) in organisation.assignments.enumerated() {
            let role = assignment.role
            if !people.contains(assignment.personID) {
                report(
                    "assignment of \(role.rawValue) names person '\(assignment.personID)', who is not defined under 'people'",
                    at: .assignment(index), field: "person")
            }
            switch (role.unitKind, assignment.unitCode) {
            case (.ward, nil):
                break
            case (.ward, let unit?):
                report(
                    "\(role.rawValue) is a ward-wide role (\(role.article)) and takes no unit, but unit '\(unit)' is given",
                    at: .assignment(index), field: "unit")
            case (let kind, nil):
                report(
                    "\(role.rawValue) is held at a \(kind.rawValue) (\(role.article)): give the \(kind.rawValue) code as 'unit'",
                    at: .assignment(index))
            case (.department, let unit?):
                if sections.contains(unit) {
                    report(
                        "\(role.rawValue) is held at a department (\(role.article)), but '\(unit)' is a section",
                        at: .assignment(index), field: "unit")
                } else if !departments.contains(unit) {
                    report("assignment of \(role.rawValue) names unknown department '\(unit)'", at: .assignment(index), field: "unit")
                }
            case (.section, let unit?):
                if departments.contains(unit) {
                    report(
                        "\(role.rawValue) is held at a section (\(role.article)), but '\(unit)' is a department",
                        at: .assignment(index), field: "unit")
                } else if !sections.contains(unit) {
                    report("assignment of \(role.rawValue) names unknown section '\(unit)'", at: .assignment(index), field: "unit")
                }
            }
            if let first = seen[assignment] {
                let note = locate(.assignment(first), nil).map { " (already at line \($0.line))" } ?? ""
                report(
                    "duplicate assignment: '\(assignment.personID)' already holds \(role.rawValue)\(assignment.unitCode.map { " at '\($0)'" } ?? "")\(note)",
                    at: .assignment(index))
            } else {
                seen[assignment] = index
            }
        }
    }

    /// The roles the reporting chain needs everywhere (DOMAIN.md "The reporting chain").
    private mutating func checkCoverage() {
        let holders = Dictionary(grouping: organisation.assignments) { RoleAt(role: $0.role, unit: $0.unitCode) }
        func held(_ role: DirectoryRole, _ unit: String?) -> Bool { holders[RoleAt(role: role, unit: unit)] != nil }

        for (index, section) in organisation.sections.enumerated() where !unitsWithDroppedAssignments.contains(section.code) {
            if !held(.sectionSecurityOfficer, section.code) {
                report(
                    "section '\(section.code)' (\(section.name)) has no sectionSecurityOfficer; Art. 18(2) makes the section chief its officer",
                    at: .section(index))
            }
            if !held(.sectionSecurityStaff, section.code) {
                report(
                    "section '\(section.code)' (\(section.name)) has no sectionSecurityStaff; Art. 19(1) requires at least one",
                    at: .section(index))
            }
        }
        for (index, department) in organisation.departments.enumerated() where !unitsWithDroppedAssignments.contains(department.code) {
            if !held(.departmentSecurityOfficer, department.code) {
                report(
                    "department '\(department.code)' (\(department.name)) has no departmentSecurityOfficer; Art. 17(2) makes the department head its officer",
                    at: .department(index))
            }
        }
        guard !unitsWithDroppedAssignments.contains(nil) else { return }
        let wardRoles: [(DirectoryRole, String)] = [
            (.ciso, "Art. 11(1)"), (.generalSecurityOfficer, "Art. 14(1)"), (.generalSecurityManager, "Art. 16(1)"),
        ]
        for (role, article) in wardRoles where !held(role, nil) {
            report("nobody holds \(role.rawValue) (\(role.japaneseName)); \(article) requires one", at: .root, field: "assignments")
        }
    }

    private struct RoleAt: Hashable {
        var role: DirectoryRole
        var unit: String?
    }
}
