@testable import AuditScheduler
import Contracts
import Directory
import Foundation
import ServiceRuntime
import Testing
import WardCalendar

private func d(_ text: String) -> CivilDate { CivilDate(iso: text)! }

/// The ward's risk scale as shipped (`deploy/config/risk-scale.yaml`).
func defaultRiskScale() throws -> RiskScale {
    let path = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("deploy/config/risk-scale.yaml").path
    return try RiskScaleDocument.load(path: path)
}

@Suite("Risk scale: the matrix, the appetite, the file (Art. 26)")
struct RiskScaleTests {
    @Test("every cell of the shipped matrix gives the level the file says")
    func matrix() throws {
        let scale = try defaultRiskScale()
        #expect(scale.likelihood.count == 4 && scale.impact.count == 4)
        #expect(scale.levels.map(\.id) == ["low", "medium", "high", "critical"])
        let expected = [
            ["low", "low", "medium", "high"],
            ["low", "medium", "high", "high"],
            ["medium", "high", "high", "critical"],
            ["medium", "high", "critical", "critical"],
        ]
        for likelihood in 1...4 {
            for impact in 1...4 {
                #expect(scale.level(likelihood: likelihood, impact: impact)?.id == expected[likelihood - 1][impact - 1], "L\(likelihood)×I\(impact)")
            }
        }
        #expect(scale.level(likelihood: 0, impact: 1) == nil)
        #expect(scale.level(likelihood: 1, impact: 5) == nil)
        #expect(scale.appetiteLevel.id == "medium")
        #expect(!scale.isAboveAppetite("low") && !scale.isAboveAppetite("medium"))
        #expect(scale.isAboveAppetite("high") && scale.isAboveAppetite("critical"))
        #expect(scale.levels.map(\.reviewIntervalDays) == [365, 180, 90, 30])
    }

    @Test("an asset's MIC classification suggests the impact: the highest of its three classes")
    func classification() throws {
        let scale = try defaultRiskScale()
        #expect(scale.suggestedImpact(for: AssetClassification(confidentiality: .level3A, integrity: .level1, availability: .level1)) == 4)
        #expect(scale.suggestedImpact(for: AssetClassification(confidentiality: .level1, integrity: .level2, availability: .level1)) == 3)
        #expect(scale.suggestedImpact(for: AssetClassification(confidentiality: .level2, integrity: .level1, availability: .level1)) == 2)
        #expect(scale.suggestedImpact(for: AssetClassification(confidentiality: .level1, integrity: .level1, availability: .level1)) == 1)
    }

    @Test("a bad scale file reports every problem with its line")
    func badFile() {
        let yaml = """
            likelihood:
              - { ja: 低, en: Low }
              - { ja: 高 }
            impact:
              - { ja: 小, en: Small }
              - { ja: 大, en: Large }
            levels:
              - { id: low, ja: 低, en: Low, reviewIntervalDays: 365 }
              - { id: high, ja: 高, en: High, reviewIntervalDays: 0 }
              - { id: low, ja: 低, en: Low, reviewIntervalDays: 30 }
            matrix:
              - [low, high]
              - [low, purple]
              - [high]
            appetite: medium
            colour: blue
            classificationImpact:
              confidentiality: { "3A": 2, "3B": 2, "3C": 2, "2": 9, "1": 1 }
              integrity: { "2": 2, "1": 1 }
              availability: { "2": 2 }
            """
        do {
            _ = try RiskScaleDocument.parse(yaml: yaml, fileName: "risk-scale.yaml")
            Issue.record("a bad file was accepted")
        } catch {
            // "file:line:column: message", one per problem.
            let lines = Set(error.description.split(separator: "\n").compactMap { $0.split(separator: ":").dropFirst().first.flatMap { Int($0) } })
            #expect(lines.contains(3), "\(error)")  // en missing
            #expect(lines.contains(9), "\(error)")  // reviewIntervalDays 0
            #expect(lines.contains(10), "\(error)")  // id used twice
            #expect(error.description.contains("matrix has 3 rows"), "\(error)")  // three rows for the one valid likelihood
            #expect(lines.contains(13), "\(error)")  // unknown level purple
            #expect(lines.contains(14), "\(error)")  // a short row, and falling below the row above
            #expect(lines.contains(15), "\(error)")  // appetite not a level
            #expect(lines.contains(16), "\(error)")  // unknown key
            #expect(lines.contains(18), "\(error)")  // an impact step off the scale
            #expect(lines.contains(20), "\(error)")  // availability 1 missing
            #expect(error.description.contains("risk-scale.yaml:13:"), "\(error)")
        }
    }

    @Test("a matrix whose level falls as impact rises is refused")
    func fallingMatrix() {
        let yaml = """
            likelihood: [{ ja: 低, en: Low }]
            impact: [{ ja: 小, en: Small }, { ja: 大, en: Large }]
            levels: [{ id: low, ja: 低, en: Low, reviewIntervalDays: 365 }, { id: high, ja: 高, en: High, reviewIntervalDays: 90 }]
            matrix:
              - [high, low]
            appetite: low
            classificationImpact:
              confidentiality: { "3A": 2, "3B": 2, "3C": 2, "2": 1, "1": 1 }
              integrity: { "2": 2, "1": 1 }
              availability: { "2": 2, "1": 1 }
            """
        #expect(throws: RiskScaleError.self) { try RiskScaleDocument.parse(yaml: yaml, fileName: "f.yaml") }
    }

    @Test("the summary of a fixture register counts by treatment, level, heat map cell, appetite and review date")
    func summary() throws {
        let scale = try defaultRiskScale()
        let today = d("2026-12-01")
        func risk(_ l: Int, _ i: Int, treatment: RiskTreatment? = nil, residual: (Int, Int)? = nil, acceptedBy: DirectoryRole? = nil, review: String) -> RiskRecord {
            let inherent = scale.level(likelihood: l, impact: i)!.id
            let residualLevel = residual.map { scale.level(likelihood: $0.0, impact: $0.1)!.id }
            let current = residualLevel ?? inherent
            return RiskRecord(
                id: UUID(), assetID: "a", sectionCode: "s", departmentCode: "d", title: "t", threat: "t", vulnerability: "v", inherentLikelihood: l,
                inherentImpact: i, inherentLevel: inherent, treatment: treatment, measures: "", treatmentOwnerRole: nil, treatmentOwnerUnit: nil,
                treatmentDueDate: nil, transferTo: nil, residualLikelihood: residual?.0, residualImpact: residual?.1, residualLevel: residualLevel,
                currentLevel: current, aboveAppetite: scale.isAboveAppetite(current), acceptedByRole: acceptedBy, acceptedReason: acceptedBy == nil ? nil : "r",
                acceptedAt: nil, reviewDate: d(review), reviewOverdue: d(review) < today, sources: [], reviewDutyID: nil, treatmentDutyID: nil,
                createdAt: Date(), updatedAt: Date())
        }
        let risks = [
            risk(4, 4, review: "2026-11-30"),  // critical, untreated, review overdue
            risk(4, 4, treatment: .reduce, residual: (2, 2), review: "2026-12-01"),  // critical → medium, due today
            risk(3, 3, treatment: .accept, residual: (3, 3), acceptedBy: .ciso, review: "2026-12-31"),  // high accepted by the CISO, due in 30 days
            risk(1, 1, treatment: .accept, residual: (1, 1), acceptedBy: .sectionSecurityOfficer, review: "2027-01-01"),  // low, not due yet
            risk(2, 4, treatment: .transfer, residual: (2, 3), review: "2027-06-01"),  // high → high
            risk(1, 3, treatment: .avoid, residual: (1, 1), review: "2027-06-01"),  // medium → low
        ]
        let summary = AuditSchedulerStore.summary(of: risks, scale: scale, today: today)
        #expect(summary.total == 6)
        #expect(summary.byTreatment == .init(reduce: 1, accept: 2, transfer: 1, avoid: 1, untreated: 1))
        #expect(summary.byLevel.inherent == ["low": 1, "medium": 1, "high": 2, "critical": 2])
        #expect(summary.byLevel.residual == ["low": 2, "medium": 1, "high": 2, "critical": 1])
        #expect(summary.heatMap.inherent[3][3] == 2 && summary.heatMap.inherent[2][2] == 1 && summary.heatMap.inherent[0][0] == 1)
        #expect(summary.heatMap.residual[1][1] == 1 && summary.heatMap.residual[0][0] == 2 && summary.heatMap.residual[3][3] == 1)
        #expect(summary.heatMap.inherent.flatMap { $0 }.reduce(0, +) == 6 && summary.heatMap.residual.flatMap { $0 }.reduce(0, +) == 6)
        #expect(summary.heatMap.levels[3][3] == "critical" && summary.heatMap.likelihood.count == 4)
        #expect(summary.aboveAppetite == 3)  // the untreated critical, the accepted high, the transferred high
        #expect(summary.acceptedByCISO == 1)
        #expect(summary.reviewsOverdue == 1)
        #expect(summary.reviewsDue == 2)  // today and today + 30
    }

    @Test("accepting above the appetite is the CISO's, with a reason; within it the owner's, with a reason")
    func acceptanceRule() throws {
        let scale = try defaultRiskScale()
        let officer = DutyActor(role: .sectionSecurityOfficer, unitCode: "s")
        let ciso = DutyActor(role: .ciso, unitCode: nil)
        do {
            try AuditSchedulerStore.checkAcceptance(level: "high", scale: scale, reason: "cheap", by: officer)
            Issue.record("a section accepted above the appetite")
        } catch let error as AuditSchedulerError {
            #expect(error.code == .needsCISO)
            #expect(error.problem.title.contains("CISO"))
        }
        do {
            try AuditSchedulerStore.checkAcceptance(level: "high", scale: scale, reason: "  ", by: ciso)
            Issue.record("accepted without a reason")
        } catch let error as AuditSchedulerError {
            #expect(error.code == .invalid)
        }
        try AuditSchedulerStore.checkAcceptance(level: "critical", scale: scale, reason: "budget next year", by: ciso)
        try AuditSchedulerStore.checkAcceptance(level: "medium", scale: scale, reason: "within appetite", by: officer)
    }
}
