import Contracts
import ArgumentParser
import Directory
import Foundation
import Postgres

struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Bearer tokens for the HTTP APIs, each bound to a role and an org unit.",
        subcommands: [Issue.self, Revoke.self]
    )

    struct Issue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue a token and print it once; only its SHA-256 is stored."
        )

        @Option(help: "A role of the guideline (\(DirectoryRole.allCases.map(\.rawValue).joined(separator: ", "))).")
        var role: String
        @Option(help: "The section or department code the token acts for; omit for ward-wide roles.")
        var unit: String?
        @Option(help: "What the token is for (shown in listings and logs).")
        var label = "issued by isms"
        @Option(help: "Days until the token expires; omit for none.")
        var days: Int?

        func run() async throws {
            guard let role = DirectoryRole(rawValue: role) else {
                throw ValidationError("unknown role '\(self.role)'; the guideline defines \(DirectoryRole.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let unit = unit
            let label = label
            let expiry = days.map { Date().addingTimeInterval(TimeInterval($0) * 86_400) }
            let issued = try await CLIEnvironment.withDatabase { pool in
                try await pool.withTransaction { connection in
                    try DirectoryTokens().issue(role: role, unitCode: unit, label: label, expiresAt: expiry, on: connection)
                }
            }
            print(issued.token)
            CLIEnvironment.printError("token \(issued.id.lowercasedString) for \(role.rawValue)\(unit.map { " of \($0)" } ?? ""): store it now, it is not shown again")
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token by its id.")
        @Argument var id: String

        func run() async throws {
            guard let id = UUID(uuidString: id) else { throw ValidationError("not a token id: \(self.id)") }
            let revoked = try await CLIEnvironment.withDatabase { pool in
                try await pool.withTransaction { connection in try DirectoryTokens().revoke(id: id, on: connection) }
            }
            print(revoked ? "revoked" : "no such token")
            if !revoked { throw ExitCode(1) }
        }
    }
}
