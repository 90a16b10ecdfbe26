@testable import ContractorMonitor
import Directory
import Foundation
import Testing

@Suite struct AttestationScheduleTests {
    @Test func quarterlyWhereMyNumberDataIsHandledYearlyOtherwise() {
        #expect(AttestationSchedule.defaultIntervalMonths(handlesMyNumber: true) == 3)
        #expect(AttestationSchedule.defaultIntervalMonths(handlesMyNumber: false) == 12)
    }

    @Test func periodsRunFromTheStartAndTheLastEndsWithTheContract() {
        // 1 April 2025 to 31 January 2026 inclusive, quarterly: 1 Jul, 1 Oct, 1 Jan, then the end (1 Feb).
        let schedule = AttestationSchedule(startsAt: Fixture.day("2025-04-01"), endsAt: Fixture.day("2026-02-01"), intervalMonths: 3, graceDays: 14)
        #expect(schedule.periods.map(\.dueAt) == [Fixture.day("2025-07-01"), Fixture.day("2025-10-01"), Fixture.day("2026-01-01"), Fixture.day("2026-02-01")])
        #expect(schedule.periods.map(\.number) == [1, 2, 3, 4])
        #expect(schedule.periods[0].graceEndsAt == Fixture.day("2025-07-15"))
    }

    @Test func aYearlyScheduleOfAFiscalYearHasOnePeriod() {
        let schedule = AttestationSchedule(startsAt: Fixture.day("2025-04-01"), endsAt: Fixture.day("2026-04-01"), intervalMonths: 12, graceDays: 0)
        #expect(schedule.periods.map(\.dueAt) == [Fixture.day("2026-04-01")])
    }

    @Test func daysAreJapanTime() {
        #expect(Fixture.day("2025-04-01") == Date(timeIntervalSince1970: 1_743_433_200))  // 2025-03-31T15:00:00Z
        #expect(AttestationSchedule.day(of: Fixture.day("2025-04-01")) == "2025-04-01")
        #expect(AttestationSchedule.startOfDay("2025-02-30") == nil)
        #expect(AttestationSchedule.startOfDay("2025-4-1") == nil)
    }
}

@Suite struct ContractorBaselineTests {
    @Test func theShippedBaselineHasTheSixChecklists() {
        let baseline = Fixture.baseline
        #expect(Set(baseline.checklists.keys) == Set(SpecialProvisionSet.allCases))
        #expect(baseline.levels == ["none", "basic", "standard", "enhanced"])
        #expect(baseline.controls.contains { $0.id == "access-control" })
    }

    @Test func aBaselineWithAnUnknownLevelIsRefused() {
        let yaml = """
            levels: [low, high]
            controls: [{ id: a, name: A, baseline: medium }]
            checklists: {}
            """
        #expect(throws: ContractorMonitorError.self) { try ContractorBaseline.parse(yaml: yaml) }
    }

    @Test func contractKindsMapToTheSixSpecialProvisionSets() {
        #expect(SpecialProvisionSet.sets(for: .outsourcing, handlesMyNumber: true) == [.entrustedInformation, .specificPersonalInformation])
        #expect(SpecialProvisionSet.sets(for: .designatedManagement, handlesMyNumber: false) == [.designatedManagement])
        #expect(SpecialProvisionSet.sets(for: .workerDispatch, handlesMyNumber: false) == [.workerDispatch])
        #expect(SpecialProvisionSet.sets(for: .financeLease, handlesMyNumber: false) == [.financeLease])
        #expect(SpecialProvisionSet.sets(for: .maintenanceLease, handlesMyNumber: false) == [.maintenanceLease])
        #expect(ContractKind.financeLease.contractorKinds == [.lessor])
        #expect(ContractKind.workerDispatch.contractorKinds == [.staffingAgency])
    }

    @Test func profilesNamingUnknownControlsOrLevelsAreReported() {
        let problems = Fixture.baseline.problems(in: SafeguardProfile(["access-control": "superb", "telepathy": "basic"]))
        #expect(problems.count == 2)
    }
}

@Suite struct ContractorMeasuresTests {
    func contract(department: String, section: String, myNumber: Bool, start: String, end: String, returned: Bool = false) -> Contract {
        Contract(
            id: UUID(), reference: UUID().uuidString, title: "t", sectionCode: section, departmentCode: department, kind: .outsourcing, contractorID: UUID(),
            startsAt: Fixture.day(start), endsAt: Fixture.day(end), handlesMyNumber: myNumber, handlingArea: myNumber ? "room" : nil,
            designatedHandlers: [], attestationIntervalMonths: myNumber ? 3 : 12, graceDays: 14, returnCertificateDays: 30,
            returnCertificateAt: returned ? Fixture.day(end) : nil, createdBy: "t", createdAt: Fixture.day(start))
    }

    @Test func perDepartmentStatesComplianceAndOpenViolations() {
        let quarterly = contract(department: "residents-dept", section: "family-registry", myNumber: true, start: "2025-04-01", end: "2026-04-01")
        let ended = contract(department: "residents-dept", section: "family-registry", myNumber: false, start: "2024-04-01", end: "2025-04-01")
        let planned = contract(department: "welfare-dept", section: "welfare-administration", myNumber: false, start: "2026-04-01", end: "2027-04-01")
        let asOf = Fixture.day("2025-11-01")
        let violation = ContractorViolation(
            id: UUID(), contractID: quarterly.id, contractorID: quarterly.contractorID, sectionCode: "family-registry", departmentCode: "residents-dept",
            kind: "attestation-missing", details: "d", detectedAt: Fixture.day("2025-10-16"), state: .open, resolvedAt: nil, resolvedBy: nil, resolution: nil)
        let report = ContractorMeasures.compute(
            ContractorMeasuresInput(
                contracts: [quarterly, ended, planned],
                // Period 1 on time, period 2 missing; the ended contract's only period attested late.
                attestations: [quarterly.id: [1: Fixture.day("2025-07-10")], ended.id: [1: Fixture.day("2025-05-01")]],
                violations: [violation],
                links: [quarterly.id: (approved: 2, refused: 1)]),
            asOf: asOf)
        #expect(report.departments.map(\.departmentCode) == ["residents-dept", "welfare-dept"])
        let residents = report.departments[0]
        #expect(residents.contractsByState == ["planned": 0, "active": 1, "ended": 1, "closed": 0])
        #expect(residents.attestationsDue == 3)
        #expect(residents.attestedOnTime == 1)
        #expect(residents.attestedLate == 1)
        #expect(residents.attestationsMissing == 1)
        #expect(residents.complianceRate == 1.0 / 3.0)
        #expect(residents.openViolations == 1)
        #expect(residents.openViolationsByKind == ["attestation-missing": 1])
        #expect(residents.subcontractsRefused == 1)
        #expect(report.departments[1].complianceRate == nil)
        #expect(report.total.contractsByState["planned"] == 1)
        #expect(report.total.attestationsDue == 3)
    }
}

@Suite struct ContractorAccessTests {
    func grant(_ role: DirectoryRole, _ unit: String? = nil) -> TokenGrant {
        TokenGrant(id: UUID(), role: role, unitCode: unit, label: "t")
    }

    @Test func sectionOfficersManageTheirOwnSectionOnly() {
        let officer = grant(.sectionSecurityOfficer, "family-registry")
        #expect(ContractorAccess.canManage(officer, sectionCode: "family-registry"))
        #expect(!ContractorAccess.canManage(officer, sectionCode: "personnel"))
        #expect(!ContractorAccess.canRead(officer, sectionCode: "personnel", departmentCode: "general-affairs-dept"))
        #expect(!ContractorAccess.canManage(grant(.sectionSecurityStaff, "family-registry"), sectionCode: "family-registry"))
    }

    @Test func theGeneralSecurityManagerSeesAndManagesAll() {
        let manager = grant(.generalSecurityManager)
        #expect(ContractorAccess.scope(for: manager) == .all)
        #expect(ContractorAccess.canManage(manager, sectionCode: "personnel"))
        #expect(ContractorAccess.scope(for: grant(.csirt)) == .all)
        #expect(!ContractorAccess.canManage(grant(.ciso), sectionCode: "personnel"))
        #expect(ContractorAccess.scope(for: grant(.departmentSecurityOfficer, "residents-dept")) == .department("residents-dept"))
        #expect(ContractorAccess.scope(for: grant(.designatedHandler, "family-registry")) == nil)
    }
}
