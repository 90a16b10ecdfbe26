import AMQP
import Contracts
import Foundation
import Logging
import ServiceRuntime

/// Handles `incident-report.submit.v1` from the broker and answers on the producer's `reply_to`.
/// A batch of commands takes a handful of statements in all (grants, sections, earlier reports,
/// the inserts and the outbox), so an alert storm is absorbed at the rate of multi-row statements.
struct SubmitReportHandler: BatchMessageHandler {
    let processor: IntakeProcessor

    func handle(_ message: IncomingMessage, context: inout TransactionContext) throws {
        if let failure = try handleBatch([message], context: &context)[0] { throw failure }
    }

    func handleBatch(_ messages: [IncomingMessage], context: inout TransactionContext) throws -> [PermanentFailure?] {
        // RabbitMQ refuses a message whose user_id is not the publishing user, so this names the
        // authenticated producer; without it nobody can say for which sections it may report.
        let users = Set(messages.compactMap { $0.delivery.properties.userID }.filter { !$0.isEmpty })
        let producers = try ProducerGrants.producers(amqpUsers: users, on: context.connection)

        var failures = [PermanentFailure?](repeating: nil, count: messages.count)
        var refused: [(index: Int, rejection: Rejection, producer: String)] = []
        var submitted: [(index: Int, submission: IntakeProcessor.Submission)] = []
        for (index, message) in messages.enumerated() {
            let command = message.envelope
            guard command.type == MessageTypes.submitIncidentReport.wireName else {
                failures[index] = PermanentFailure(
                    code: "unexpected-type", reason: "incident-intake.commands takes \(MessageTypes.submitIncidentReport.wireName), not \(command.type)")
                continue
            }
            let user = message.delivery.properties.userID.flatMap { $0.isEmpty ? nil : $0 }
            guard let user, let producer = producers[user] else {
                let who = user.map { "broker user \($0) has no reporting grant (isms producer grant)" }
                    ?? "the message has no user_id property: set it to the broker user you publish as"
                let rejection = Rejection(reportID: ReportValidator.reportID(in: command.data ?? []), errors: [.init(field: "", code: .forbidden, message: who)])
                refused.append((index, rejection, "amqp:\(user ?? "")"))
                continue
            }
            submitted.append((index, IntakeProcessor.Submission(data: command.data ?? [], producer: producer, reportedAt: command.time, cause: command.causation)))
        }
        try ReportStore.recordRejections(refused.map { ($0.rejection, $0.producer) }, on: context.connection)
        let outcomes = try processor.submit(submitted.map(\.submission), now: context.now, on: context.connection)

        // Events and replies in the order the commands came.
        var answers = [Result<IntakeProcessor.Accepted, Rejection>?](repeating: nil, count: messages.count)
        for refusal in refused { answers[refusal.index] = .failure(refusal.rejection) }
        for ((index, _), outcome) in zip(submitted, outcomes) { answers[index] = outcome }
        for (message, answer) in zip(messages, answers) {
            guard let answer else { continue }
            switch answer {
            case .success(let accepted):
                if let event = accepted.event {
                    try context.emit(event)
                    context.logger.info("report accepted", metadata: ["intake.id": "\(accepted.intakeID)", "report.id": "\(accepted.reportID)"])
                }
            case .failure(let rejection):
                context.logger.info("report rejected", metadata: ["report.id": "\(rejection.reportID?.uuidString ?? "?")", "errors": "\(rejection.errors.count)"])
            }
            try reply(answer, to: message.envelope, context: &context)
        }
        return failures
    }

    private func reply(_ outcome: Result<IntakeProcessor.Accepted, Rejection>, to command: RawEnvelope, context: inout TransactionContext) throws {
        guard let replyTo = command.replyTo, !replyTo.isEmpty else { return }
        switch outcome {
        case .success(let accepted):
            let payload = IncidentReportAccepted(reportID: accepted.reportID, intakeID: accepted.intakeID, receivedAt: accepted.receivedAt, duplicate: accepted.duplicate)
            try context.emit(payload, causedBy: command.causation, route: .reply(to: replyTo))
        case .failure(let rejection):
            let payload = IncidentReportRejected(reportID: rejection.reportID, errors: rejection.errors)
            try context.emit(payload, causedBy: command.causation, route: .reply(to: replyTo))
        }
    }
}
