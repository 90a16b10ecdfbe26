public import Foundation

/// `jp.ward.isms.directory.changed.v1`: a new version of the organisation directory
/// (departments, sections, people, role assignments; Art. 11-22) was imported.
public struct DirectoryChanged: MessagePayload {
    public static var messageType: MessageType { MessageTypes.directoryChanged }

    /// How many entries of each kind the new version holds.
    public struct Counts: Sendable, Hashable, Codable {
        public var departments: Int
        public var sections: Int
        public var people: Int
        public var assignments: Int

        public init(departments: Int, sections: Int, people: Int, assignments: Int) {
            self.departments = departments
            self.sections = sections
            self.people = people
            self.assignments = assignments
        }
    }

    /// The directory version, increasing by one per import.
    public var version: Int
    /// When it was imported.
    public var importedAt: Date
    public var counts: Counts
    /// SHA-256 of the imported data, 64 lowercase hex digits: equal checksums mean equal directories.
    public var checksum: String

    public init(version: Int, importedAt: Date, counts: Counts, checksum: String) {
        self.version = version
        self.importedAt = importedAt
        self.counts = counts
        self.checksum = checksum
    }

    public var subject: String? { String(version) }
}
