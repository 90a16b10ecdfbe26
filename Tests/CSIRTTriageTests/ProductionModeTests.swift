import Foundation
import ISMSTesting
import Testing

/// The built service refuses to start in production with development secrets (issue #17 item 6),
/// before it connects to anything: no server is needed.
@Suite struct ProductionModeTests {
    @Test func theBuiltServiceRefusesDevelopmentSecretsAndNamesThem() throws {
        let executable = ISMSExecutable.repositoryRoot.appendingPathComponent(".build/debug/csirt-triage")
        #expect(FileManager.default.isExecutableFile(atPath: executable.path), "build the products first (make test does)")
        let process = Process()
        process.executableURL = executable
        process.environment = [
            "ISMS_ENV": "production", "ISMS_AMQP_URL": "amqp://isms:isms@127.0.0.1:1/%2F",
            "ISMS_DATABASE_URL": "postgresql://triage:triage@127.0.0.1:1/isms", "ISMS_LOG_FORMAT": "json",
        ]
        let output = Pipe()
        process.standardError = output
        process.standardOutput = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 78, "\(text)")
        #expect(text.contains("ISMS_AMQP_URL uses a development password"))
        #expect(text.contains("ISMS_DATABASE_URL uses a development password"))
        #expect(text.contains("ISMS_ACK_SECRET is not set"))
    }
}
