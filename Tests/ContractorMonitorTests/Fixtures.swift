@testable import ContractorMonitor
import Foundation

/// Shared test data: the real baseline file, profiles at every level, days in Japan time.
enum Fixture {
    /// The repository (the test files are symlinked into scratch packages, so symlinks are resolved).
    static let repository = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let baselinePath = repository.appendingPathComponent("deploy/config/contractor-baseline.yaml").path
    static let wardPath = repository.appendingPathComponent("deploy/config/ward.yaml").path

    static let baseline: ContractorBaseline = {
        do { return try ContractorBaseline.load(path: baselinePath) } catch { fatalError("\(error)") }
    }()

    /// Every control at `level`.
    static func profile(_ level: String, except overrides: [String: String] = [:]) -> SafeguardProfile {
        var levels = Dictionary(uniqueKeysWithValues: baseline.controls.map { ($0.id, level) })
        for (control, value) in overrides { levels[control] = value }
        return SafeguardProfile(levels)
    }

    static func day(_ text: String) -> Date {
        AttestationSchedule.startOfDay(text)!
    }

    /// Every item of every set answered `answer`.
    static func answers(for sets: [SpecialProvisionSet], _ answer: AttestationAnswer = .yes, overrides: [String: AttestationAnswer] = [:]) -> [String: [String: AttestationAnswer]] {
        var result: [String: [String: AttestationAnswer]] = [:]
        for set in sets {
            for item in baseline.checklists[set]!.items {
                result[set.rawValue, default: [:]][item.id] = overrides["\(set.rawValue)/\(item.id)"] ?? answer
            }
        }
        return result
    }
}
