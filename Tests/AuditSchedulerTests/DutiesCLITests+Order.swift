import Foundation
import ISMSTesting
import Testing
import WardCalendar

extension DutiesCLITests {
    /// `isms duties order` (issue #18): the CISO orders an audit from a case; the listing shows
    /// it as ordered with its case; a section's officer may not order; an unknown unit is refused.
    @Test func theCISOOrdersAnAuditAndTheListingShowsItsOrigin() async throws {
        try await Self.withScheduler { environment in
            let ciso = try await ISMSExecutable.issueToken(role: "ciso")
            let officer = try await ISMSExecutable.issueToken(role: "sectionSecurityOfficer", unit: "personnel")
            let due = CivilDate.inTokyo(Date()).adding(days: 20).iso
            let arguments = ["duties", "order", "--kind", "audit", "--unit", "personnel", "--due", due, "--reason", "標的型メール事案を受けた臨時監査", "--case", "INC-2026-000042"]

            let ordered = try await ISMSExecutable.run(arguments, environment: environment(ciso))
            #expect(ordered.status == 0 && ordered.output.contains("ordered"), "\(ordered.output)")
            let listing = try await ISMSExecutable.run(["duties", "list", "--origin", "on-demand"], environment: environment(ciso))
            #expect(listing.status == 0 && listing.output.contains("on-demand INC-2026-000042") && listing.output.contains("personnel"), "\(listing.output)")

            let refused = try await ISMSExecutable.run(arguments, environment: environment(officer))
            #expect(refused.status == 3, "\(refused.output)")
            let unknown = try await ISMSExecutable.run(
                ["duties", "order", "--kind", "education", "--unit", "nowhere", "--due", due, "--reason", "why"], environment: environment(ciso))
            #expect(unknown.status == 2 && unknown.output.contains("nowhere"), "\(unknown.output)")
            let noReason = try await ISMSExecutable.run(
                ["duties", "order", "--kind", "education", "--unit", "personnel", "--due", due, "--reason", " "], environment: environment(ciso))
            #expect(noReason.status != 0, "\(noReason.output)")
        }
    }
}
