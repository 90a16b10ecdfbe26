import Contracts
import Foundation
import ServiceRuntime

/// Puts the reports of `csirt-triage.events` into cases, and records in their history when a
/// report's restricted original was read. Each source type maps its payload to a ``NewCase``;
/// adding `contractor.violation.detected` meant one more case in the switch.
///
/// A batch goes through the engine's batch path (issue #16 item 3); the consumer falls back to
/// ``handle(_:context:)`` one message at a time when the batch fails as a whole.
struct CaseSourceHandler: BatchMessageHandler {
    let engine: TriageEngine

    func handle(_ message: IncomingMessage, context: inout TransactionContext) throws {
        let envelope = message.envelope
        switch try Self.decode(envelope) {
        case .report(let new): try engine.receive(new, causedBy: envelope.causation, context: &context)
        case .originalViewed(let viewed): try engine.recordOriginalViewed(viewed, context: &context)
        }
    }

    func handleBatch(_ messages: [IncomingMessage], context: inout TransactionContext) throws -> [PermanentFailure?] {
        var failures = [PermanentFailure?](repeating: nil, count: messages.count)
        var reports: [(new: NewCase, cause: Causation?)] = []
        for (index, message) in messages.enumerated() {
            do {
                switch try Self.decode(message.envelope) {
                case .report(let new): reports.append((new, message.envelope.causation))
                case .originalViewed(let viewed): try engine.recordOriginalViewed(viewed, context: &context)
                }
            } catch let failure as PermanentFailure {
                failures[index] = failure
            }
        }
        try engine.receive(reports, context: &context)
        return failures
    }

    enum Source {
        case report(NewCase)
        case originalViewed(IncidentReportOriginalViewed)
    }

    static func decode(_ envelope: RawEnvelope) throws -> Source {
        switch envelope.type {
        case MessageTypes.incidentReported.wireName: .report(NewCase(reported: try payload(of: envelope, as: IncidentReported.self)))
        case MessageTypes.contractorViolationDetected.wireName: .report(NewCase(violation: try payload(of: envelope, as: ContractorViolationDetected.self)))
        case MessageTypes.incidentReportOriginalViewed.wireName: .originalViewed(try payload(of: envelope, as: IncidentReportOriginalViewed.self))
        default: throw PermanentFailure(code: "unexpected-type", reason: "csirt-triage.events does not take \(envelope.type)")
        }
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
