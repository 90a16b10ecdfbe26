import ArgumentParser
import Contracts
import Foundation
import ServiceClient

/// `isms login`: keep the person's bearer token for the commands that call the services.
struct LoginCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login",
        abstract: "Check a bearer token against csirt-triage and save it for later commands (mode 0600).",
        discussion: """
            The token is given with --token or on standard input (first line), checked with \
            GET /v1/cases?limit=1 at ISMS_CSIRT_TRIAGE_URL, and saved to \
            $XDG_CONFIG_HOME/isms/token (default ~/.config/isms/token), readable by you only. \
            ISMS_TOKEN, when set, overrides the saved token. \(ServiceExit.help)
            """
    )

    @Option(help: "The token (default: the first line of standard input).") var token: String?
    @Flag(help: "Save without asking csirt-triage whether the token is valid.") var noCheck = false

    func run() async throws {
        let given = token ?? readLine(strippingNewline: true)
        guard let token = given?.trimmingCharacters(in: .whitespacesAndNewlines), !token.isEmpty else {
            throw ValidationError("give the token with --token or on standard input")
        }
        if !noCheck {
            let client = ServiceClient(baseURL: ServiceAccess.baseURL(.csirtTriage), token: token)
            _ = try await ServiceAccess.call { try await client.get("/v1/cases", query: [("limit", "1")]) }
        }
        try SavedToken.save(token)
        print("token saved to \(SavedToken.url.path)")
    }
}

/// `isms logout`: forget the saved token.
struct LogoutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "logout", abstract: "Delete the token `isms login` saved.")

    func run() async throws {
        print(try SavedToken.delete() ? "token deleted from \(SavedToken.url.path)" : "no saved token at \(SavedToken.url.path)")
    }
}
