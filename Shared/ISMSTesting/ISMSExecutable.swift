public import Foundation

/// The built `isms` executable, run as a person or an operator would run it.
public enum ISMSExecutable {
    /// `.build/debug/isms` of the repository.
    public static var url: URL { repositoryRoot.appendingPathComponent(".build/debug/isms") }

    /// The checkout it is built in, for the configuration files the tools read.
    public static var repositoryRoot: URL { TestServers.repositoryRoot }

    /// Runs `isms` with `environment` on top of a clean one: no `ISMS_*` variable, no libpq
    /// `PG*` variable, no `XDG_CONFIG_HOME`, and a `HOME` of its own, so nothing but what the
    /// test gives (a token, a service URL) can reach a database or a saved token.
    ///
    /// Runs on a thread of its own: a test that serves the API `isms` calls from the same
    /// process must not block one of the few threads of the cooperative pool that serve it.
    public static func run(_ arguments: [String], environment: [String: String] = [:], stdin: String? = nil) async throws -> (status: Int32, output: String) {
        var clean = ProcessInfo.processInfo.environment.filter { key, _ in
            !(key.hasPrefix("ISMS_") || key.hasPrefix("PG") || key == "XDG_CONFIG_HOME")
        }
        clean["HOME"] = FileManager.default.temporaryDirectory.appendingPathComponent("isms-home-\(UUID().uuidString)").path
        let merged = clean.merging(environment) { $1 }
        return try await offPool { try execute(arguments, environment: merged, stdin: stdin, errorsToOutput: true) }
    }

    /// An operator issues a bearer token with the administrator's database URL
    /// (`ISMS_TEST_DATABASE_URL`); answers the token line only.
    public static func issueToken(role: String, unit: String? = nil) async throws -> String {
        var operatorEnvironment = ProcessInfo.processInfo.environment
        operatorEnvironment["ISMS_DATABASE_URL"] = TestServers.databaseURL
        let environment = operatorEnvironment
        let arguments = ["token", "issue", "--role", role, "--label", "tests"] + (unit.map { ["--unit", $0] } ?? [])
        let (status, output) = try await offPool { try execute(arguments, environment: environment, stdin: nil, errorsToOutput: false) }
        guard status == 0 else { throw ISMSExecutableFailure(description: "isms token issue exited \(status): \(output)") }
        return output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private static func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try work() }) }
        }
    }

    private static func execute(_ arguments: [String], environment: [String: String], stdin: String?, errorsToOutput: Bool) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = url
        process.arguments = arguments
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = errorsToOutput ? output : FileHandle.nullDevice
        let input = Pipe()
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }
}

/// `isms` did not do what a test needed before the test proper.
public struct ISMSExecutableFailure: Error, CustomStringConvertible {
    public var description: String
}
