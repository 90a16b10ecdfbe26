import Foundation
import ISMSTesting
import Testing

/// `isms plan` acts as its user through audit-scheduler's API (issue #18): the general security
/// officer drafts the year's plan from a file, only the CISO approves it, and anyone ward-wide
/// reads the versions and plan against result.
@Suite(.serialized, .tags(.integration), .needsTestServers) struct PlanCLITests {
    @Test func theGeneralSecurityOfficerDraftsAndOnlyTheCISOApproves() async throws {
        try await DutiesCLITests.withScheduler { environment in
            let officer = try await ISMSExecutable.issueToken(role: "generalSecurityOfficer")
            let ciso = try await ISMSExecutable.issueToken(role: "ciso")
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("plan-\(UUID().uuidString).json")
            defer { try? FileManager.default.removeItem(at: file) }
            try Data(
                """
                {"objectives": [{"text": "研修受講率 90% 以上", "ownerRole": "generalSecurityOfficer"}],
                 "lines": [{"kind": "education", "plannedCount": 40, "ownerRole": "sectionSecurityOfficer"},
                           {"kind": "audit", "plannedCount": 5, "ownerRole": "auditChief"}]}
                """.utf8
            ).write(to: file)

            let draft = try await ISMSExecutable.run(["plan", "draft", file.path, "--year", "2026"], environment: environment(officer))
            #expect(draft.status == 0 && draft.output.contains("version 1: draft"), "\(draft.output)")
            let byOfficer = try await ISMSExecutable.run(["plan", "approve", "--year", "2026"], environment: environment(officer))
            #expect(byOfficer.status == 3, "\(byOfficer.output)")
            let approved = try await ISMSExecutable.run(["plan", "approve", "--year", "2026"], environment: environment(ciso))
            #expect(approved.status == 0 && approved.output.contains("version 1: approved"), "\(approved.output)")
            let again = try await ISMSExecutable.run(["plan", "approve", "--year", "2026"], environment: environment(ciso))
            #expect(again.status == 2, "an approved plan approved again: \(again.output)")

            let versions = try await ISMSExecutable.run(["plan", "versions", "--year", "2026"], environment: environment(ciso))
            #expect(versions.status == 0 && versions.output.contains("approved"), "\(versions.output)")
            let compare = try await ISMSExecutable.run(["plan", "compare", "--year", "2026", "--json"], environment: environment(officer))
            #expect(compare.status == 0, "\(compare.output)")
            let comparison = try #require(try JSONSerialization.jsonObject(with: Data(compare.output.utf8)) as? [String: Any])
            #expect((comparison["lines"] as? [[String: Any]])?.compactMap { $0["plannedCount"] as? Int } == [40, 5])
            #expect(comparison["status"] as? String == "approved")
            let table = try await ISMSExecutable.run(["plan", "compare", "--year", "2026"], environment: environment(officer))
            #expect(table.status == 0 && table.output.contains("of 45 planned"), "\(table.output)")
        }
    }
}
