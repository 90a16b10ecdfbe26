import ArgumentParser
import Contracts
import Directory
import Foundation
import Postgres
import IncidentIntake
import ServiceRuntime

struct DirectoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "directory",
        abstract: "The organisation: departments, sections, people and their roles.",
        subcommands: [Import.self]
    )

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate a directory YAML file and load it in one transaction; announce directory.changed.",
            discussion: """
                Every problem is reported with file:line:column and nothing is imported when there \
                is one. Importing the same content again changes nothing. The announcement is \
                written to the directory schema's outbox in the same transaction; incident-intake \
                relays it.
                """
        )

        @Argument(help: "The YAML file (deploy/config/ward.yaml is the ward's default).")
        var file: String

        func run() async throws {
            let organisation: Organisation
            do {
                organisation = try DirectoryDocument.load(path: file)
            } catch {
                CLIEnvironment.printError(error.description)
                throw ExitCode(65)
            }
            let change = try await CLIEnvironment.withDatabase { pool in
                try await pool.withTransaction(emittingAs: .isms, schema: DirectoryStore().schema, logger: CLIEnvironment.logger) { context in
                    let change = try DirectoryStore().replace(with: organisation, on: context.connection)
                    if change.changed {
                        try context.emit(
                            DirectoryChanged(
                                version: change.version,
                                importedAt: change.importedAt,
                                counts: .init(departments: change.departments, sections: change.sections, people: change.people, assignments: change.assignments),
                                checksum: change.checksum
                            ),
                            time: change.importedAt)
                    }
                    return change
                }
            }
            print(
                change.changed
                    ? "imported directory version \(change.version): \(change.departments) departments, \(change.sections) sections, \(change.people) people, \(change.assignments) assignments"
                    : "unchanged: the directory is already at version \(change.version)"
            )
        }
    }
}
