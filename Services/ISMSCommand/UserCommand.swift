import ArgumentParser
import Foundation
import Postgres
import WebConsole

struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user",
        abstract: "People of the directory and the web console: invitations to enrol.",
        subcommands: [Invite.self]
    )

    struct Invite: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a one-time enrolment link for a person of the directory (valid 24 hours).",
            discussion: """
                The person opens it in the web console, sets a password and, for ward-wide roles \
                (CISO, general security officer, CSIRT, ...), enrols an authenticator app. A new \
                invitation for someone already enrolled replaces their password when used. Only \
                the link's SHA-256 is stored.
                """
        )

        @Option(help: "The person's id in the directory (deploy/config/ward.yaml).")
        var person: String
        @Option(help: "The console's address as people reach it (default: ISMS_CONSOLE_PUBLIC_URL, else http://127.0.0.1:8086).")
        var baseURL: String?

        func run() async throws {
            let person = person
            let base = baseURL ?? ProcessInfo.processInfo.environment["ISMS_CONSOLE_PUBLIC_URL"].flatMap { $0.isEmpty ? nil : $0 } ?? "http://127.0.0.1:8086"
            let token = try await CLIEnvironment.withDatabase { pool in
                try await pool.withTransaction { connection in try Credentials().invite(personID: person, on: connection) }
            }
            print((base.hasSuffix("/") ? String(base.dropLast()) : base) + "/enrol/" + token)
        }
    }
}
