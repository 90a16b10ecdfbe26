import AMQP
import Contracts
import Foundation
import Logging
import ServiceRuntime

/// Handles `incident-report.submit.v1` from the broker and answers on the producer's `reply_to`.
struct SubmitReportHandler: MessageHandler {
    let processor: IntakeProcessor

    func handle(_ message: IncomingMessage, context: inout TransactionContext) throws {
        let command = message.envelope
        guard command.type == MessageTypes.submitIncidentReport.wireName else {
            throw PermanentFailure(code: "unexpected-type", reason: "incident-intake.commands takes \(MessageTypes.submitIncidentReport.wireName), not \(command.type)")
        }
        // RabbitMQ refuses a message whose user_id is not the publishing user, so this names the
        // authenticated producer; without it nobody can say for which sections it may report.
        guard let user = message.delivery.properties.userID, !user.isEmpty,
              let producer = try ProducerGrants.producer(amqpUser: user, on: context.connection)
        else {
            let who = message.delivery.properties.userID.map { "broker user \($0) has no reporting grant (isms producer grant)" }
                ?? "the message has no user_id property: set it to the broker user you publish as"
            let rejection = Rejection(reportID: ReportValidator.reportID(in: command.data ?? []), errors: [.init(field: "", code: .forbidden, message: who)])
            try ReportStore.recordRejection(rejection, producer: "amqp:\(message.delivery.properties.userID ?? "")", on: context.connection)
            try reply(.failure(rejection), to: command, context: &context)
            return
        }
        let outcome = try processor.submit(
            data: command.data ?? [],
            producer: producer,
            reportedAt: command.time,
            now: context.now,
            cause: command.causation,
            on: context.connection
        )
        if case .success(let accepted) = outcome, let event = accepted.event {
            context.emit(try event.amqpMessage(appID: ServiceName.incidentIntake.rawValue))
            context.logger.info("report accepted", metadata: ["intake.id": "\(accepted.intakeID)", "report.id": "\(accepted.reportID)"])
        }
        if case .failure(let rejection) = outcome {
            context.logger.info("report rejected", metadata: ["report.id": "\(rejection.reportID?.uuidString ?? "?")", "errors": "\(rejection.errors.count)"])
        }
        try reply(outcome, to: command, context: &context)
    }

    private func reply(_ outcome: Result<IntakeProcessor.Accepted, Rejection>, to command: RawEnvelope, context: inout TransactionContext) throws {
        guard let replyTo = command.replyTo, !replyTo.isEmpty else { return }
        let source = ServiceName.incidentIntake.source
        let app = ServiceName.incidentIntake.rawValue
        switch outcome {
        case .success(let accepted):
            let payload = IncidentReportAccepted(reportID: accepted.reportID, intakeID: accepted.intakeID, receivedAt: accepted.receivedAt, duplicate: accepted.duplicate)
            context.emit(try Envelope(source: source, time: context.now, causedBy: command.causation, data: payload).amqpMessage(appID: app, route: .reply(to: replyTo)))
        case .failure(let rejection):
            let payload = IncidentReportRejected(reportID: rejection.reportID, errors: rejection.errors)
            context.emit(try Envelope(source: source, time: context.now, causedBy: command.causation, data: payload).amqpMessage(appID: app, route: .reply(to: replyTo)))
        }
    }
}
