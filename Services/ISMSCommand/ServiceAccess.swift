import ArgumentParser
import Contracts
import Foundation
import ServiceClient

/// How the CLI reaches the services' HTTP APIs as its user (issue #14 item 7).
///
/// The CSIRT, duty, finding, contractor, notification and silence commands never open the
/// database: they call the service's API with the person's bearer token, so the service's own
/// role and unit checks decide what they may see and do. Only operator commands keep the
/// administrator's database URL.
enum ServiceAccess {
    /// The port each service listens on by default (its `ServiceDefinition.defaultPort`).
    static let defaultPorts: [ServiceName: Int] = [
        .incidentIntake: 8081, .csirtTriage: 8082, .auditScheduler: 8083, .contractorMonitor: 8084, .notifier: 8085,
    ]

    /// `ISMS_<SERVICE>_URL` (e.g. `ISMS_CSIRT_TRIAGE_URL`), or the service's local default.
    static func baseURL(_ service: ServiceName) -> String {
        CLIEnvironment.environment[environmentKey(service)].flatMap { $0.isEmpty ? nil : $0 }
            ?? "http://127.0.0.1:\(defaultPorts[service] ?? 8080)"
    }

    static func environmentKey(_ service: ServiceName) -> String {
        "ISMS_" + service.rawValue.uppercased().replacingOccurrences(of: "-", with: "_") + "_URL"
    }

    /// The token this person acts with: `ISMS_TOKEN`, else the one `isms login` saved.
    static func token() throws -> String {
        if let token = CLIEnvironment.environment["ISMS_TOKEN"]?.trimmingCharacters(in: .whitespacesAndNewlines), !token.isEmpty { return token }
        if let saved = SavedToken.load() { return saved }
        CLIEnvironment.printError("No token: set ISMS_TOKEN or run `isms login` (an operator issues one with `isms token issue`).")
        throw ExitCode(ServiceExit.unauthorised)
    }

    /// A client of `service` acting with the person's token.
    static func client(_ service: ServiceName) throws -> ServiceClient {
        ServiceClient(baseURL: baseURL(service), token: try token())
    }

    /// Runs one call; a refusal prints the problem's title and detail and exits with the code
    /// of ``ServiceExit``.
    static func call<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let problem as ServiceProblem {
            report(problem)
            throw ExitCode(ServiceExit.code(for: problem.status))
        } catch let error as HTTPTransportError {
            CLIEnvironment.printError("error: \(error)")
            throw ExitCode(ServiceExit.failure)
        }
    }

    /// Every page of a list (the APIs answer at most 500 items a page, with `nextCursor` while
    /// more follow), joined into one answer `{key: [...]}` as if the list had come at once.
    static func allPages(_ client: ServiceClient, _ path: String, query: [(String, String?)] = [], key: String) async throws -> Data {
        var items: [JSONValue] = []
        var cursor: String?
        repeat {
            let page = try JSONValue(parsing: Array(try await call { try await client.get(path, query: query + [("limit", "500"), ("cursor", cursor)]) }))
            items += page[key]?.arrayValue ?? []
            cursor = page["nextCursor"]?.stringValue
        } while cursor != nil
        return Data(JSONValue.object([key: .array(items)]).jsonBytes())
    }

    /// Reports an answer that is neither success nor the endpoint's own refusal, and exits.
    static func refuse(_ result: HTTPResult) throws -> Never {
        let problem = ServiceProblem(status: result.status, body: result.body)
        report(problem)
        throw ExitCode(ServiceExit.code(for: problem.status))
    }

    static func report(_ problem: ServiceProblem) {
        CLIEnvironment.printError("error: \(problem.title)" + (problem.detail.map { ": \($0)" } ?? "") + " (HTTP \(problem.status))")
        // Field errors (intake's report, triage's lessons) by their JSON pointer; other services' as they come.
        if problem.fieldErrors.isEmpty {
            for error in problem.errors { CLIEnvironment.printError("  \(error)") }
        } else {
            for error in problem.fieldErrors { CLIEnvironment.printError("  \(error.field): \(error.message)") }
        }
    }

    /// A JSON request body from plain values.
    static func body(_ object: [String: Any?]) throws -> Data {
        try JSONSerialization.data(withJSONObject: object.compactMapValues { $0 }, options: [.sortedKeys, .withoutEscapingSlashes])
    }

    /// A path segment, percent-encoded.
    static func segment(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? text
    }
}

/// The exit codes of the commands that call the services (stated in `isms --help`).
enum ServiceExit {
    /// The service failed or did not answer; a broken hash chain.
    static let failure: Int32 = 1
    /// The request was refused as invalid, missing or conflicting (4xx).
    static let refused: Int32 = 2
    /// No valid token, or the token may not do this (401, 403).
    static let unauthorised: Int32 = 3

    static func code(for status: Int) -> Int32 {
        switch status {
        case 401, 403: unauthorised
        case 400..<500: refused
        default: failure
        }
    }

    static let help = "Exit codes: 0 done; 1 the service failed or did not answer; 2 refused (4xx: invalid, not found, conflict); 3 no valid token, or the token's role or unit may not do this (401/403)."
}

/// The token `isms login` saves: `$XDG_CONFIG_HOME/isms/token` (default `~/.config/isms/token`),
/// readable by its owner only.
enum SavedToken {
    static var url: URL {
        let environment = CLIEnvironment.environment
        let base = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0) }
            ?? URL(fileURLWithPath: environment["HOME"] ?? NSHomeDirectory()).appendingPathComponent(".config")
        return base.appendingPathComponent("isms").appendingPathComponent("token")
    }

    static func load() -> String? {
        guard let data = FileManager.default.contents(atPath: url.path) else { return nil }
        let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return token.isEmpty ? nil : token
    }

    /// Writes the token with mode 0600 from the start: it is never readable by others, not
    /// even for the moment between creating and restricting the file.
    static func save(_ token: String) throws {
        let folder = url.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let temporary = folder.appendingPathComponent(".token-\(UUID().uuidString)")
        guard FileManager.default.createFile(atPath: temporary.path, contents: Data((token + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
            throw ValidationError("cannot write \(temporary.path)")
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: temporary.path)
        if FileManager.default.fileExists(atPath: url.path) { try FileManager.default.removeItem(at: url) }
        try FileManager.default.moveItem(at: temporary, to: url)
    }

    /// Deletes the saved token; whether there was one.
    @discardableResult
    static func delete() throws -> Bool {
        guard FileManager.default.fileExists(atPath: url.path) else { return false }
        try FileManager.default.removeItem(at: url)
        return true
    }
}
