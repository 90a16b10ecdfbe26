import CSIRTTriage
import Directory
import Testing

/// The life cycle as a pure state machine (issue #4 item 4), no I/O.
@Suite struct CaseLifecycleTests {
    func apply(_ action: CaseAction, _ state: CaseState, _ qualification: CaseQualification? = nil, role: DirectoryRole = .csirt, reason: String? = nil)
        -> Result<CaseLifecycle.Outcome, CaseLifecycleError>
    {
        CaseLifecycle.apply(action, state: state, qualification: qualification, role: role, reason: reason)
    }

    @Test func theHappyPathRunsToClosed() throws {
        var state = CaseState.reported
        var qualification: CaseQualification?
        for (action, expected) in [(CaseAction.confirm, CaseState.triaged), (.acknowledge, .acknowledged), (.investigate, .investigating),
                                   (.contain, .contained), (.recover, .recovered), (.close, .closed)] {
            let outcome = try apply(action, state, qualification).get()
            #expect(outcome.state == expected)
            state = outcome.state
            qualification = outcome.qualification
        }
        #expect(qualification == .incident)
    }

    @Test func discardingNeedsAReason() throws {
        #expect(throws: CaseLifecycleError.self) { try apply(.discard, .reported, reason: "  ").get() }
        let outcome = try apply(.discard, .reported, reason: "a test message, not an incident").get()
        #expect(outcome.state == .discarded)
        #expect(outcome.qualification == .notIncident)
    }

    @Test func reopeningNeedsAReasonAndAFreshQualification() throws {
        let error = #expect(throws: CaseLifecycleError.self) { try apply(.reopen, .closed, .incident).get() }
        #expect(error?.code == .reasonRequired)
        let reopened = try apply(.reopen, .discarded, .notIncident, reason: "new facts").get()
        #expect(reopened.state == .reopened)
        #expect(reopened.qualification == nil)
        #expect(throws: CaseLifecycleError.self) { try apply(.investigate, .reopened, nil).get() }
        let confirmed = try apply(.confirm, .reopened).get()
        #expect(confirmed.state == .reopened)
        #expect(try apply(.investigate, .reopened, confirmed.qualification).get().state == .investigating)
    }

    @Test func acknowledgingBeforeQualificationStillNeedsConfirmationToInvestigate() throws {
        let acknowledged = try apply(.acknowledge, .reported, role: .departmentSecurityOfficer).get()
        #expect(acknowledged.state == .acknowledged)
        let error = #expect(throws: CaseLifecycleError.self) { try apply(.investigate, .acknowledged, nil).get() }
        #expect(error?.code == .notQualified)
        #expect(try apply(.confirm, .acknowledged).get() == .init(state: .acknowledged, qualification: .incident))
    }

    @Test func rolesAreGuarded() throws {
        #expect(throws: CaseLifecycleError.self) { try apply(.confirm, .reported, role: .sectionSecurityStaff).get() }
        #expect(throws: CaseLifecycleError.self) { try apply(.acknowledge, .reported, role: .sectionSecurityStaff).get() }
        #expect(throws: CaseLifecycleError.self) { try apply(.close, .recovered, .incident, role: .departmentSecurityOfficer).get() }
        #expect(try apply(.close, .recovered, .incident, role: .ciso).get().state == .closed)
        #expect(try apply(.acknowledge, .triaged, role: .sectionSecurityOfficer).get().state == .acknowledged)
    }

    @Test func invalidTransitionsAreRefused() throws {
        for state in CaseState.allCases {
            for action in CaseAction.allCases where !CaseLifecycle.sources(action).contains(state) {
                let error = #expect(throws: CaseLifecycleError.self) { try apply(action, state, .incident, reason: "r").get() }
                #expect(error?.code == .invalidTransition)
            }
        }
        #expect(CaseLifecycle.sources(.acknowledge) == [.reported, .triaged])
    }
}
