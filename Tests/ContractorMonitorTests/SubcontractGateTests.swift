@testable import ContractorMonitor
import Testing

/// The chain gate (Art. 6(3)(4)) as a pure function: baseline and parent, control by control.
@Suite struct SubcontractGateTests {
    let baseline = Fixture.baseline

    @Test func aSubcontractorAtLeastAsStrongAsItsParentIsApproved() {
        let verdict = SubcontractGate.evaluate(offered: Fixture.profile("enhanced"), parent: Fixture.profile("standard"), baseline: baseline, handlesMyNumber: false)
        #expect(verdict.isApproved)
        #expect(verdict.shortfalls.isEmpty)
    }

    @Test func aWeakerLinkIsRefusedWithEveryShortfallListed() {
        // The parent reaches "enhanced" on access control; the sub-contractor offers "standard"
        // there (which meets the baseline) and "basic" on logging (which meets neither).
        let parent = Fixture.profile("standard", except: ["access-control": "enhanced"])
        let offered = Fixture.profile("standard", except: ["access-control": "standard", "logging": "basic"])
        let verdict = SubcontractGate.evaluate(offered: offered, parent: parent, baseline: baseline, handlesMyNumber: false)
        #expect(!verdict.isApproved)
        #expect(verdict.shortfalls == [
            SubcontractShortfall(control: "access-control", requiredLevel: "enhanced", offeredLevel: "standard", setBy: .parent),
            SubcontractShortfall(control: "logging", requiredLevel: "standard", offeredLevel: "basic", setBy: .both),
        ])
    }

    @Test func theBaselineSetsTheBarWhenTheParentIsWeaker() {
        // A parent below the baseline does not lower the bar (Art. 6(3): 区と同等以上).
        let parent = Fixture.profile("basic")
        let offered = Fixture.profile("standard", except: ["encryption": "basic"])
        let verdict = SubcontractGate.evaluate(offered: offered, parent: parent, baseline: baseline, handlesMyNumber: false)
        #expect(verdict.shortfalls == [SubcontractShortfall(control: "encryption", requiredLevel: "standard", offeredLevel: "basic", setBy: .baseline)])
    }

    @Test func myNumberContractsUseTheStricterBaseline() {
        // Art. 18(8): access control, encryption and the handling area need "enhanced".
        let offered = Fixture.profile("standard")
        let verdict = SubcontractGate.evaluate(offered: offered, parent: Fixture.profile("standard"), baseline: baseline, handlesMyNumber: true)
        #expect(verdict.shortfalls.map(\.control) == ["access-control", "encryption", "physical-security"])
        #expect(verdict.shortfalls.allSatisfy { $0.requiredLevel == "enhanced" && $0.setBy == .baseline })
        #expect(SubcontractGate.evaluate(offered: offered, parent: offered, baseline: baseline, handlesMyNumber: false).isApproved)
    }

    @Test func anUnassessedControlFallsShort() {
        var offered = Fixture.profile("enhanced")
        offered["incident-response"] = nil
        let verdict = SubcontractGate.evaluate(offered: offered, parent: Fixture.profile("standard"), baseline: baseline, handlesMyNumber: false)
        #expect(verdict.shortfalls == [SubcontractShortfall(control: "incident-response", requiredLevel: "standard", offeredLevel: nil, setBy: .both)])
    }

    @Test func aDepthThreeChainIsCheckedAtEveryLevel() {
        // contractor -> A -> B -> C: each link must reach the baseline and the link above it.
        let contractor = Fixture.profile("standard", except: ["encryption": "enhanced"])
        let a = Fixture.profile("standard", except: ["encryption": "enhanced", "logging": "enhanced"])
        let b = Fixture.profile("enhanced")
        let weakC = Fixture.profile("enhanced", except: ["staff-education": "standard", "governance": "basic"])
        let strongC = Fixture.profile("enhanced")
        #expect(SubcontractGate.evaluate(offered: a, parent: contractor, baseline: baseline, handlesMyNumber: false).isApproved)
        #expect(SubcontractGate.evaluate(offered: b, parent: a, baseline: baseline, handlesMyNumber: false).isApproved)
        let refused = SubcontractGate.evaluate(offered: weakC, parent: b, baseline: baseline, handlesMyNumber: false)
        #expect(refused.shortfalls == [
            SubcontractShortfall(control: "governance", requiredLevel: "enhanced", offeredLevel: "basic", setBy: .parent),
            SubcontractShortfall(control: "staff-education", requiredLevel: "enhanced", offeredLevel: "standard", setBy: .parent),
        ])
        #expect(SubcontractGate.evaluate(offered: strongC, parent: b, baseline: baseline, handlesMyNumber: false).isApproved)
        // A deeper link can never be weaker than the contractor: the bar only rises down the chain.
        #expect(!SubcontractGate.evaluate(offered: a, parent: b, baseline: baseline, handlesMyNumber: false).isApproved)
    }
}
