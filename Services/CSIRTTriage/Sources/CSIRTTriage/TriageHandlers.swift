import Contracts
import Foundation
import ServiceRuntime

/// Opens cases from the events of `csirt-triage.events`, and records in their history when a
/// report's restricted original was read. Each source type maps its payload to a
/// ``NewCase``; adding `contractor.violation.detected` means one more case in the switch.
struct CaseSourceHandler: MessageHandler {
    let engine: TriageEngine

    func handle(_ message: IncomingMessage, context: inout TransactionContext) throws {
        let envelope = message.envelope
        let new: NewCase
        switch envelope.type {
        case MessageTypes.incidentReported.wireName:
            new = NewCase(reported: try Self.payload(of: envelope, as: IncidentReported.self))
        case MessageTypes.contractorViolationDetected.wireName:
            new = NewCase(violation: try Self.payload(of: envelope, as: ContractorViolationDetected.self))
        case MessageTypes.incidentReportOriginalViewed.wireName:
            return try engine.recordOriginalViewed(try Self.payload(of: envelope, as: IncidentReportOriginalViewed.self), context: &context)
        default:
            throw PermanentFailure(code: "unexpected-type", reason: "csirt-triage.events does not take \(envelope.type)")
        }
        try engine.receive(new, causedBy: envelope.causation, context: &context)
    }

    /// A payload that does not decode never will: it is dead-lettered with the reason.
    private static func payload<P: MessagePayload>(of envelope: RawEnvelope, as _: P.Type) throws -> P {
        do {
            return try envelope.decode(as: P.self).data
        } catch {
            throw PermanentFailure(code: "invalid-payload", reason: "\(error)")
        }
    }
}

/// Fires escalation timers: the next level of the chain is told unless somebody acknowledged.
struct EscalationTimerHandler: TimerHandler {
    let engine: TriageEngine
    var kind: String { TriageEngine.escalationTimer }

    func fire(_ timer: DurableTimer, context: inout TransactionContext) throws {
        guard let caseID = UUID(uuidString: timer.key) else { return }
        let payload = try JSONDecoder().decode(TriageEngine.EscalationPayload.self, from: Data(timer.payload.utf8))
        try engine.escalate(caseID: caseID, level: payload.level, context: &context)
    }
}

/// Fires statutory reminders: before the last day, on it, and overdue alarms after.
struct ObligationTimerHandler: TimerHandler {
    let engine: TriageEngine
    var kind: String { TriageEngine.obligationTimer }

    func fire(_ timer: DurableTimer, context: inout TransactionContext) throws {
        guard let id = UUID(uuidString: timer.key) else { return }
        try engine.remind(obligationID: id, context: &context)
    }
}

/// Lifts a use restriction when its period ends.
struct RestrictionTimerHandler: TimerHandler {
    let engine: TriageEngine
    var kind: String { TriageEngine.restrictionTimer }

    func fire(_ timer: DurableTimer, context: inout TransactionContext) throws {
        guard let id = UUID(uuidString: timer.key) else { return }
        try engine.expireRestriction(id: id, context: &context)
    }
}
