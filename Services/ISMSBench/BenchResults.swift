import Foundation

/// The machine the figures come from.
struct MachineDescription: Codable, Sendable {
    var hostname: String
    var cpus: Int
    var cpuModel: String
    var memoryGiB: Double
    var kernel: String
    var versions: [String: String]

    static func current() -> MachineDescription {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model = cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }.map { String($0.split(separator: ":", maxSplits: 1).last ?? "").trimmingCharacters(in: .whitespaces) } ?? "unknown"
        let meminfo = (try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8)) ?? ""
        let totalKiB = meminfo.split(separator: "\n").first { $0.hasPrefix("MemTotal:") }.flatMap { Double($0.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") } ?? 0
        var versions: [String: String] = [:]
        versions["swift"] = run("/bin/sh", ["-c", "swift --version 2>/dev/null | head -n 1"])
        versions["rabbitmq-server"] = run("/bin/sh", ["-c", "dpkg-query -W -f='${Version}' rabbitmq-server 2>/dev/null"])
        versions["erlang"] = run("/bin/sh", ["-c", "dpkg-query -W -f='${Version}' erlang-base 2>/dev/null"])
        versions["librabbitmq"] = run("/bin/sh", ["-c", "pkg-config --modversion librabbitmq 2>/dev/null"])
        versions["postgresql"] = run("/bin/sh", ["-c", "ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 | xargs -I{} {}/postgres --version"])
        versions["libpq"] = run("/bin/sh", ["-c", "pkg-config --modversion libpq 2>/dev/null"])
        versions["os"] = run("/bin/sh", ["-c", ". /etc/os-release && echo \"$PRETTY_NAME\""])
        return MachineDescription(
            hostname: ProcessInfo.processInfo.hostName,
            cpus: ProcessInfo.processInfo.activeProcessorCount,
            cpuModel: model,
            memoryGiB: (totalKiB / 1024 / 1024 * 10).rounded() / 10,
            kernel: run("/bin/uname", ["-r"]),
            versions: versions.filter { !$0.value.isEmpty }
        )
    }

    private static func run(_ path: String, _ arguments: [String]) -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return "" }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// One measured hop or path.
struct HopResult: Codable, Sendable {
    var name: String
    var reports: Int
    var offeredPerSecond: Double?
    var publishPerSecond: Double?
    /// Reports / seconds from the first publish until the last report was stored.
    var storedPerSecond: Double?
    var storedSeconds: Double?
    /// The rate between 10 % and 90 % stored (without start and tail).
    var storedSustainedPerSecond: Double?
    /// Until the last `incident.reported` was marked published in the outbox.
    var eventPerSecond: Double?
    var eventSustainedPerSecond: Double?
    var casePerSecond: Double?
    /// Until the notifier held the `incident.case-opened` of every report's case (its ledger rows
    /// are written in that transaction).
    var ledgerPerSecond: Double?
    var storedCount: Int?
    var publishedCount: Int?
    var caseCount: Int?
    var notifierEventCount: Int?
    var latencyStored: LatencySummary?
    var latencyEvent: LatencySummary?
    var latencyCase: LatencySummary?
    var latencyLedger: LatencySummary?
    var latencyCaseAtNotifier: LatencySummary?
    /// Cores used by each kind of process during the run (utime + stime from /proc).
    var cpuCores: [String: Double]?
    /// CPU milliseconds per report by each kind of process over the run.
    var cpuMillisecondsPerReport: [String: Double]?

    init(name: String, reports: Int) {
        self.name = name
        self.reports = reports
    }

    var summary: String {
        var parts = ["  \(name): \(reports) reports"]
        if let publishPerSecond { parts.append(String(format: "published %.0f/s", publishPerSecond)) }
        if let storedPerSecond { parts.append(String(format: "stored %.0f/s", storedPerSecond)) }
        if let storedSustainedPerSecond { parts.append(String(format: "(10-90 %% %.0f/s)", storedSustainedPerSecond)) }
        if let eventPerSecond { parts.append(String(format: "events out %.0f/s", eventPerSecond)) }
        if let casePerSecond { parts.append(String(format: "cases %.0f/s", casePerSecond)) }
        if let ledgerPerSecond { parts.append(String(format: "notifier %.0f/s", ledgerPerSecond)) }
        if let cpuCores { parts.append("cpu " + cpuCores.sorted { $0.value > $1.value }.prefix(4).map { String(format: "%@ %.2f", $0.key, $0.value) }.joined(separator: " ")) }
        for (label, latency) in [("stored", latencyStored), ("event", latencyEvent), ("case", latencyCase), ("ledger", latencyLedger)] {
            if let latency { parts.append(String(format: "%@ p50/p95/p99 %.1f/%.1f/%.1f ms", label, latency.p50, latency.p95, latency.p99)) }
        }
        return parts.joined(separator: ", ")
    }
}

struct MemoryResult: Codable, Sendable {
    var service: String
    var idleKiB: Int?
    var peakKiB: Int
    var endKiB: Int
    var peakAfterIntakeSaturationKiB: Int?
}

struct BenchResults: Codable, Sendable {
    var machine: MachineDescription
    var startedAt: Date
    var finishedAt: Date?
    var mode = ""
    var broker: Ceilings.BrokerResult?
    var database: Ceilings.DatabaseResult?
    var hops: [HopResult] = []
    var memory: [MemoryResult] = []
    var triageScaling: [ScalingResult]?
    /// Related reports through the pipeline (issue #16): correlated saturation and the storm.
    var storms: [StormBench.Result] = []
    var console: ConsoleResult?
    var notes: [String] = []

    init(machine: MachineDescription, startedAt: Date) {
        self.machine = machine
        self.startedAt = startedAt
    }

    func write(to folder: String) throws -> (json: String, markdown: String) {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd"
        formatter.timeZone = TimeZone(identifier: "UTC")
        let host = machine.hostname.split(separator: ".").first.map(String.init) ?? "machine"
        let stem = "\(folder)/\(formatter.string(from: startedAt))-\(machine.cpus)cpu-\(host)"
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        try encoder.encode(self).write(to: URL(fileURLWithPath: stem + ".json"))
        try Data(markdown().utf8).write(to: URL(fileURLWithPath: stem + ".md"))
        return (stem + ".json", stem + ".md")
    }

    func markdown() -> String {
        func rate(_ value: Double?) -> String { value.map { String(format: "%.0f", $0) } ?? "–" }
        func ratio(_ value: Double?, _ ceiling: Double?) -> String {
            guard let value, let ceiling, ceiling > 0 else { return "–" }
            return String(format: "%.2f", value / ceiling)
        }
        func ms(_ latency: LatencySummary?) -> String {
            latency.map { String(format: "%.1f / %.1f / %.1f", $0.p50, $0.p95, $0.p99) } ?? "–"
        }
        let iso = ISO8601DateFormatter()
        var lines: [String] = []
        lines.append("# isms-bench \(iso.string(from: startedAt))")
        lines.append("")
        lines.append("Machine: \(machine.cpus) vCPU \(machine.cpuModel), \(machine.memoryGiB) GiB, kernel \(machine.kernel); " + machine.versions.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: "; ") + ".")
        lines.append("Broker, database, services and load generator share the machine. Services: \(mode).")
        lines.append("")
        lines.append("## Ceilings (same client libraries)")
        lines.append("")
        lines.append("| what | rate |")
        lines.append("|---|---|")
        if let broker {
            lines.append("| broker publish, persistent 1 KB, quorum queue, confirms per 100 (\(broker.messages) msgs) | \(rate(broker.publishPerSecond)) msg/s |")
            lines.append("| broker consume, prefetch 100, ack multiple per batch | \(rate(broker.consumePerSecond)) msg/s |")
        }
        if let database {
            lines.append("| PostgreSQL single-row INSERT transaction, 1 client | \(rate(database.singleRowOneClient)) tx/s |")
            lines.append("| PostgreSQL single-row INSERT transaction, 2 clients | \(rate(database.singleRowTwoClients)) tx/s |")
            lines.append("| PostgreSQL 100-row INSERT per transaction | \(rate(database.hundredRowsPerTransaction)) rows/s |")
        }
        lines.append("")
        lines.append("## Hops (rates in reports/s; ratio = rate / ceiling)")
        lines.append("")
        lines.append("Ceilings for the ratios: broker = publish ceiling; DB-1 = single-row transactions, 1 client; DB-100 = 100-row transactions.")
        lines.append("")
        lines.append("| hop | reports | published/s | stored/s (10–90 %) | event out/s | case/s | notifier/s | ÷ broker | ÷ DB-1 | ÷ DB-100 |")
        lines.append("|---|---|---|---|---|---|---|---|---|---|")
        for hop in hops where hop.offeredPerSecond == nil {
            let end = hop.ledgerPerSecond ?? hop.storedPerSecond
            lines.append(
                "| \(hop.name) | \(hop.reports) | \(rate(hop.publishPerSecond)) | \(rate(hop.storedPerSecond)) (\(rate(hop.storedSustainedPerSecond))) | \(rate(hop.eventPerSecond)) | \(rate(hop.casePerSecond)) | \(rate(hop.ledgerPerSecond)) | \(ratio(end, broker?.publishPerSecond)) | \(ratio(end, database?.singleRowOneClient)) | \(ratio(end, database?.hundredRowsPerTransaction)) |"
            )
        }
        lines.append("")
        lines.append("## Latency, ms p50 / p95 / p99 (producer's clock at publish → row time stamp / arrival, same machine)")
        lines.append("")
        lines.append("| run | reports | → stored (recorded_at) | → event received | → case opened | → first ledger row | → case event at notifier |")
        lines.append("|---|---|---|---|---|---|---|")
        for hop in hops {
            lines.append("| \(hop.name) | \(hop.reports) | \(ms(hop.latencyStored)) | \(ms(hop.latencyEvent)) | \(ms(hop.latencyCase)) | \(ms(hop.latencyLedger)) | \(ms(hop.latencyCaseAtNotifier)) |")
        }
        lines.append("")
        lines.append("## Where the CPU went (cores used during each run, from /proc/<pid>/stat; 2.00 = both cores)")
        lines.append("")
        for hop in hops {
            guard let cpu = hop.cpuCores else { continue }
            lines.append("- \(hop.name): " + cpu.sorted { $0.value > $1.value }.map { String(format: "%@ %.2f", $0.key, $0.value) }.joined(separator: ", "))
            if let perReport = hop.cpuMillisecondsPerReport {
                lines.append("  - CPU ms per report: " + perReport.sorted { $0.value > $1.value }.map { String(format: "%@ %.2f", $0.key, $0.value) }.joined(separator: ", "))
            }
        }
        if !storms.isEmpty {
            lines.append("")
            lines.append("## Related reports (issue #16: one system, reports about 10 assets; the shipped `producer-asset` rule joins them)")
            lines.append("")
            lines.append("Targets for the storm: ≤ 10 cases, ≤ 1 message per recipient per group interval (5 min) after the first, everything stored once, queues and outboxes empty within 120 s of the last publish.")
            lines.append("")
            lines.append("| run | reports | offered/s | stored/s | in cases/s | notifier/s | cases | drained after last publish | case events (ledger rows) | messages out (rows waiting in groups) | most per recipient | left in queues / outboxes |")
            lines.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
            for storm in storms {
                let left = storm.leftInQueues.values.reduce(0, +)
                lines.append(
                    "| \(storm.name) | \(storm.reports) (stored \(storm.stored), in cases \(storm.inCases)) | \(rate(storm.offeredPerSecond)) | \(rate(storm.storedPerSecond)) | \(rate(storm.joinedPerSecond)) | \(rate(storm.notifiedPerSecond)) | \(storm.cases) | \(storm.drainedAfterLastPublish.map { String(format: "%.1f s", $0) } ?? "**not within \(Int(storm.drainBound)) s**") | \(storm.notifierEvents) (\(storm.ledgerRows)) | \(storm.messages) (\(storm.waitingInGroups)) | \(storm.mostMessagesPerRecipient) (\(storm.recipients) recipients) | \(left) / \(storm.leftInOutboxes) |"
                )
            }
            lines.append("")
            for storm in storms {
                lines.append("- \(storm.name), CPU ms per report: " + storm.cpuMillisecondsPerReport.sorted { $0.value > $1.value }.prefix(6).map { String(format: "%@ %.2f", $0.key, $0.value) }.joined(separator: ", ")
                    + "; cores: " + storm.cpuCores.sorted { $0.value > $1.value }.prefix(6).map { String(format: "%@ %.2f", $0.key, $0.value) }.joined(separator: ", "))
            }
        }
        if let scaling = triageScaling, !scaling.isEmpty {
            lines.append("")
            lines.append("## csirt-triage replicas (competing consumers on a backlog of incident.reported; intake idle, notifier stopped)")
            lines.append("")
            lines.append("| replicas | events | cases/s from start | cases/s 10–90 % | × 1 replica | cases in table / distinct sources | numbers gapless, unique | CPU cores |")
            lines.append("|---|---|---|---|---|---|---|---|")
            let single = scaling.first { $0.replicas == 1 }?.sustainedPerSecond
            for entry in scaling {
                let speedup = single.flatMap { one in entry.sustainedPerSecond.map { String(format: "%.2f", $0 / one) } } ?? "–"
                let cpu = (entry.cpuCores ?? [:]).sorted { $0.value > $1.value }.prefix(4).map { String(format: "%@ %.2f", $0.key, $0.value) }.joined(separator: ", ")
                lines.append(
                    "| \(entry.replicas) | \(entry.events) | \(rate(entry.casesPerSecond)) | \(rate(entry.sustainedPerSecond)) | \(speedup) | \(entry.totalCases) / \(entry.distinctSources) | \(entry.numbersGapless ? "yes" : "NO"), \(entry.numbersUnique ? "yes" : "NO") | \(cpu) |"
                )
            }
        }
        if let console {
            lines += Self.consoleMarkdown(console)
        }
        if !memory.isEmpty {
            lines.append("")
            lines.append("## Memory (MiB, /proc/<pid>/status)")
            lines.append("")
            lines.append("| service | idle RSS | peak (VmHWM) | intake peak after its saturation run | RSS at end |")
            lines.append("|---|---|---|---|---|")
            for entry in memory {
                func mib(_ kib: Int?) -> String { kib.map { String(format: "%.1f", Double($0) / 1024) } ?? "–" }
                lines.append("| \(entry.service) | \(mib(entry.idleKiB)) | \(mib(entry.peakKiB)) | \(mib(entry.peakAfterIntakeSaturationKiB)) | \(mib(entry.endKiB)) |")
            }
        }
        if !notes.isEmpty {
            lines.append("")
            for note in notes { lines.append("- \(note)") }
        }
        lines.append("")
        return lines.joined(separator: "\n")
    }

    /// The console part: how the data was made, then each page and each service call it makes.
    static func consoleMarkdown(_ console: ConsoleResult) -> [String] {
        var lines = ["", "## Web console pages (sequential GETs, one kept-alive connection, ms)", ""]
        var made = "\(console.cases) cases opened in-process with triage's engine"
        if let total = console.totalCases, let history = console.historyRows { made += " (\(total) in the table, \(history) history rows)" }
        if let waiting = console.unacknowledged { made += ", \(waiting) unacknowledged" }
        if let restrictions = console.restrictionsAwaitingApproval { made += ", \(restrictions) use restrictions awaiting approval" }
        if let reports = console.intakeReports { made += "; \(reports) reports in intake (\(console.linkedReports ?? 0) of family-registry linked to cases)" }
        if let seconds = console.seedSeconds { made += String(format: "; seeded in %.0f s", seconds) }
        lines.append(made + ". \(console.warmUpRequests) untimed requests, then \(console.requestsPerPage) timed, per row.")
        lines.append("")
        func table(_ title: String, _ rows: [PageTiming]) {
            guard !rows.isEmpty else { return }
            lines.append("| \(title) | as | p50 | p90 | p99 | max | bytes |")
            lines.append("|---|---|---|---|---|---|---|")
            for row in rows {
                let figures = row.latency.map { String(format: "%.1f | %.1f | %.1f | %.1f", $0.p50, $0.p90, $0.p99, $0.max) } ?? "– | – | – | –"
                lines.append("| \(row.name) `\(row.path)` | \(row.person) | \(figures) | \(row.bytes) |")
            }
            lines.append("")
        }
        table("page", console.pages)
        table("service call alone (token of the same role and unit)", console.apiCalls)
        if let cpu = console.cpuCores {
            lines.append("CPU while the pages were timed: " + cpu.sorted { $0.value > $1.value }.map { String(format: "%@ %.2f", $0.key, $0.value) }.joined(separator: ", "))
            lines.append("")
        }
        for failure in console.failures { lines.append("- **The console part failed:** \(failure)") }
        for note in console.notes { lines.append("- \(note)") }
        return lines
    }
}
