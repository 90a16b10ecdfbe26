import ArgumentParser
import AuditScheduler
import CSIRTTriage
import ContractorMonitor
import Notifier
import Postgres
import ServiceRuntime

/// `isms verify`: every hash-chained ledger of the system, checked by the one shared
/// ``HashChainLedger`` (issue #14 item 4). An operator command: it reads every service's
/// schema, so it runs with the administrator's database URL like `migrate` and `status`.
struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check the hash chain of every ledger: one line each, intact with its row count or BROKEN at the first bad row (exit 1).",
        discussion: """
            The ledgers: the case history (triage), the duty ledger (audit), the sub-contract \
            decisions (contractor) and the notification delivery log (notifier). Rows cut off at \
            the end of a chain leave no trace in the table: compare the head hashes printed here \
            with ones kept elsewhere.
            """
    )

    /// The four ledgers in their production schemas.
    static var ledgers: [HashChainLedger] {
        [
            CaseHistory.ledger(schema: CSIRTTriageService.schema),
            AuditSchedulerStore.ledger(schema: AuditSchedulerService.schema),
            ContractorRegistry.decisionLedger(schema: ContractorMonitorService.schema),
            NotifierOperations.deliveryLog(schema: NotifierService.schema),
        ]
    }

    func run() async throws {
        // A ledger that cannot be read (schema not migrated) is a failure of its own line; a
        // database that cannot be reached fails the command.
        let lines = try await CLIEnvironment.withDatabase { pool in
            var lines: [(text: String, intact: Bool)] = []
            for ledger in Self.ledgers {
                let label = "\(ledger.name) (\(ledger.schema).\(ledger.table))"
                do {
                    let result = try await pool.withConnection { try ledger.verify(on: $0) }
                    lines.append((Self.line(label, result), result.isIntact))
                } catch let error as PostgresError where error.code == .server || error.code == .decoding {
                    lines.append(("\(label): cannot verify: \(error)", false))
                }
            }
            return lines
        }
        for line in lines { print(line.text) }
        if lines.contains(where: { !$0.intact }) { throw ExitCode(1) }
    }

    static func line(_ label: String, _ result: HashChainLedger.Verification) -> String {
        guard let broken = result.brokenRow else {
            return "\(label): intact, \(result.rowsChecked) rows, head \(result.headHash)"
        }
        var line = "\(label): BROKEN at row \(broken.seq): \(broken.problem)"
        if let expected = broken.expectedHash, let stored = broken.storedHash { line += " (expected \(expected), stored \(stored))" }
        return line
    }
}
