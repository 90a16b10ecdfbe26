import Foundation

/// CPU seconds used by each kind of process on this machine (from /proc/<pid>/stat), so a run
/// can say where the two cores went: perf is not available here, this is the profile we have.
struct CPUAccount: Sendable {
    /// CPU seconds by process name (`postgres`, `beam.smp`, `incident-intake`, ...).
    var seconds: [String: Double]
    var taken: Date

    static let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))

    static func now() -> CPUAccount {
        var totals: [String: Double] = [:]
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for entry in entries where entry.first?.isNumber == true {
            guard let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")")
            else { continue }
            let name = String(stat[stat.index(after: open)..<close])
            let fields = stat[stat.index(close, offsetBy: 2)...].split(separator: " ")
            // Fields after the name start at "state" (field 3): utime is field 14, stime 15.
            guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { continue }
            let key = name.hasPrefix("postgres") ? "postgres" : name
            totals[key, default: 0] += (user + system) / ticksPerSecond
        }
        return CPUAccount(seconds: totals, taken: Date())
    }

    /// CPU milliseconds per report per process kind between `earlier` and this account (kinds
    /// above 0.02 cores), for `reports` reports.
    func millisecondsPerReport(since earlier: CPUAccount, reports: Int) -> [String: Double] {
        let wall = taken.timeIntervalSince(earlier.taken)
        return cores(since: earlier).mapValues { ($0 * wall * 1000 / Double(max(1, reports)) * 100).rounded() / 100 }
    }

    /// Cores used per process kind between `earlier` and this account (only kinds above 0.02).
    func cores(since earlier: CPUAccount) -> [String: Double] {
        let wall = taken.timeIntervalSince(earlier.taken)
        guard wall > 0 else { return [:] }
        var result: [String: Double] = [:]
        for (name, value) in seconds {
            let used = (value - (earlier.seconds[name] ?? 0)) / wall
            if used > 0.02 { result[name] = (used * 100).rounded() / 100 }
        }
        return result
    }
}
