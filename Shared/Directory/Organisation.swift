/// The ward's organisation: departments, sections, people and who holds which role where.
///
/// This is data, not code (DOMAIN.md): it is read from a file by ``DirectoryDocument`` and kept
/// in the database by ``DirectoryStore``. Values built in code can be checked with
/// ``problems()`` before they are stored.
public struct Organisation: Sendable, Hashable, Codable {
    /// Departments (部, Art. 3(4)).
    public var departments: [Department]
    /// Sections (課, Art. 3(5)), each in one department.
    public var sections: [Section]
    /// People who hold roles or receive notifications.
    public var people: [Person]
    /// Who holds which role at which unit.
    public var assignments: [Assignment]

    public init(departments: [Department] = [], sections: [Section] = [], people: [Person] = [], assignments: [Assignment] = []) {
        self.departments = departments
        self.sections = sections
        self.people = people
        self.assignments = assignments
    }

    /// A department (部), such as the planning department.
    public struct Department: Sendable, Hashable, Codable {
        /// Stable key, unique among departments and sections (ASCII letters, digits, `.`, `_`, `-`).
        public var code: String
        /// Name in Japanese, as in the ward's rules.
        public var name: String
        /// Name in English, if known.
        public var nameEn: String?

        public init(code: String, name: String, nameEn: String? = nil) {
            self.code = code
            self.name = name
            self.nameEn = nameEn
        }
    }

    /// A section (課), the unit that owns information assets (Art. 18(4)).
    public struct Section: Sendable, Hashable, Codable {
        /// Stable key, unique among departments and sections.
        public var code: String
        /// Name in Japanese.
        public var name: String
        /// Name in English, if known.
        public var nameEn: String?
        /// Code of the department the section belongs to.
        public var departmentCode: String
        /// Whether the section's chief sits on the security committee (Art. 21(4), annexed table).
        public var committeeMember: Bool

        public init(code: String, name: String, nameEn: String? = nil, departmentCode: String, committeeMember: Bool = false) {
            self.code = code
            self.name = name
            self.nameEn = nameEn
            self.departmentCode = departmentCode
            self.committeeMember = committeeMember
        }
    }

    /// The language a person reads notifications in.
    public enum Language: String, Sendable, Hashable, Codable, CaseIterable {
        case ja
        case en
    }

    /// One way to reach a person.
    public struct Channel: Sendable, Hashable, Codable {
        /// How a message is delivered.
        public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
            /// An e-mail address.
            case email
            /// An HTTP(S) URL that receives a POST.
            case webhook
            /// A file path that messages are appended to (for drills and air-gapped sites).
            case file
        }

        /// The body shape a webhook expects.
        public enum Format: String, Sendable, Hashable, Codable, CaseIterable {
            case generic
            case slack
            case teams
        }

        /// How the message travels.
        public var kind: Kind
        /// E-mail address, URL or file path, by ``kind``.
        public var address: String
        /// Body shape; only for webhooks, where `nil` means ``Format/generic``.
        public var format: Format?

        public init(kind: Kind, address: String, format: Format? = nil) {
            self.kind = kind
            self.address = address
            self.format = format
        }
    }

    /// A person (a placeholder title is fine: the directory names posts, not private data).
    public struct Person: Sendable, Hashable, Codable {
        /// Stable key (ASCII letters, digits, `.`, `_`, `-`).
        public var id: String
        /// Name or post title.
        public var name: String
        /// E-mail address, also the channel when ``channels`` is empty.
        public var email: String?
        /// The language of their notifications.
        public var language: Language
        /// Delivery channels in order of preference.
        public var channels: [Channel]
        /// The person who acts when this one is absent.
        public var deputyID: String?

        public init(id: String, name: String, email: String? = nil, language: Language = .ja, channels: [Channel] = [], deputyID: String? = nil) {
            self.id = id
            self.name = name
            self.email = email
            self.language = language
            self.channels = channels
            self.deputyID = deputyID
        }

        /// ``channels``, or the ``email`` address as the only channel when none are listed.
        public var deliveryChannels: [Channel] {
            if !channels.isEmpty { return channels }
            return email.map { [Channel(kind: .email, address: $0)] } ?? []
        }
    }

    /// A person holding a role, at a unit or (for ward-wide roles) for the whole ward.
    public struct Assignment: Sendable, Hashable, Codable {
        /// Id of the person holding the role.
        public var personID: String
        /// The role held.
        public var role: DirectoryRole
        /// A section code for section roles, a department code for department roles, `nil` for
        /// ward-wide roles (``DirectoryRole/unitKind``).
        public var unitCode: String?

        public init(personID: String, role: DirectoryRole, unitCode: String? = nil) {
            self.personID = personID
            self.role = role
            self.unitCode = unitCode
        }
    }
}

/// One step of the reporting chain for a section (``DirectoryRole/escalationChain``).
public struct DirectoryEscalationStep: Sendable, Hashable {
    /// The role at this step.
    public var role: DirectoryRole
    /// The unit the role is held at: the section, its department, or `nil` for the ward.
    public var unitCode: String?
    /// Everyone holding the role there, by id.
    public var people: [Organisation.Person]

    public init(role: DirectoryRole, unitCode: String?, people: [Organisation.Person]) {
        self.role = role
        self.unitCode = unitCode
        self.people = people
    }
}

extension Organisation {
    /// The department with this code.
    public func department(code: String) -> Department? {
        departments.first { $0.code == code }
    }

    /// The section with this code.
    public func section(code: String) -> Section? {
        sections.first { $0.code == code }
    }

    /// The person with this id.
    public func person(id: String) -> Person? {
        people.first { $0.id == id }
    }

    /// Who holds `role` at `unitCode`, by id. Ward-wide roles ignore the unit; for a section or
    /// department role, a `nil` unit means at any unit.
    ///
    /// The security committee is the people assigned ``DirectoryRole/securityCommittee`` (chair,
    /// vice chair, Art. 21(3)) plus the section security officers of committee-member sections
    /// (Art. 21(4), annexed table).
    public func people(role: DirectoryRole, unitCode: String? = nil) -> [Person] {
        var ids = Set<String>()
        for assignment in assignments where assignment.role == role {
            if role.isWardWide || unitCode == nil || assignment.unitCode == unitCode { ids.insert(assignment.personID) }
        }
        if role == .securityCommittee {
            let committeeSections = Set(sections.filter(\.committeeMember).map(\.code))
            for assignment in assignments where assignment.role == .sectionSecurityOfficer {
                if let unit = assignment.unitCode, committeeSections.contains(unit) { ids.insert(assignment.personID) }
            }
        }
        return people.filter { ids.contains($0.id) }.sorted { $0.id < $1.id }
    }

    /// The reporting chain for a matter of this section, lowest first: its staff and officer,
    /// its department's officer, then the ward-wide roles (``DirectoryRole/escalationChain``).
    /// Throws ``DirectoryError/Code/unknownUnit`` for an unknown section.
    public func escalationTargets(sectionCode: String) throws(DirectoryError) -> [DirectoryEscalationStep] {
        guard let section = section(code: sectionCode) else {
            throw DirectoryError(code: .unknownUnit, detail: "no section '\(sectionCode)'")
        }
        return DirectoryRole.escalationChain.map { role in
            let unit = Self.unit(of: role, section: section)
            return DirectoryEscalationStep(role: role, unitCode: unit, people: people(role: role, unitCode: unit))
        }
    }

    static func unit(of role: DirectoryRole, section: Section) -> String? {
        switch role.unitKind {
        case .ward: nil
        case .department: section.departmentCode
        case .section: section.code
        }
    }

    /// The same organisation in a canonical order (units and people by key, assignments by
    /// person, role and unit); channel order is kept, since it is a preference.
    public func canonicalised() -> Organisation {
        Organisation(
            departments: departments.sorted { $0.code < $1.code },
            sections: sections.sorted { $0.code < $1.code },
            people: people.sorted { $0.id < $1.id },
            assignments: assignments.sorted {
                ($0.personID, $0.role.rawValue, $0.unitCode ?? "") < ($1.personID, $1.role.rawValue, $1.unitCode ?? "")
            }
        )
    }
}
