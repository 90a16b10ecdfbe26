// Audit scheduler (issue #6): what it consumes and originates.

extension MessageTypes {
    /// A duty (Art. 11(5), 13, 23-26, 29) falls due soon: a step of the reminder ladder. Event.
    public static let dutyDueSoon = MessageType(
        wireName: "jp.ward.isms.duty.due-soon.v1",
        kind: .event,
        schemaFile: "duty.due-soon.v1.schema.json",
        defaultClassification: .internal,
        summary: "A scheduled duty (education, self-inspection, audit, risk treatment, review) is due in `daysBefore` days; the notifier reminds the owing role."
    )

    /// A duty is due today. Event.
    public static let dutyDue = MessageType(
        wireName: "jp.ward.isms.duty.due.v1",
        kind: .event,
        schemaFile: "duty.due.v1.schema.json",
        defaultClassification: .internal,
        summary: "A scheduled duty is due today and not yet completed; the notifier tells the owing role."
    )

    /// A duty was not completed by its due date. Event.
    public static let dutyOverdue = MessageType(
        wireName: "jp.ward.isms.duty.overdue.v1",
        kind: .event,
        schemaFile: "duty.overdue.v1.schema.json",
        defaultClassification: .internal,
        summary: "A scheduled duty passed its due date without completion; the notifier tells the owing role."
    )

    /// An overdue duty went one level up the reporting chain. Event.
    public static let dutyEscalated = MessageType(
        wireName: "jp.ward.isms.duty.escalated.v1",
        kind: .event,
        schemaFile: "duty.escalated.v1.schema.json",
        defaultClassification: .internal,
        summary: "An overdue duty was escalated to the next level of the reporting chain (recipient role and unit); the notifier tells that level."
    )

    /// A duty was completed, with evidence. Event.
    public static let dutyCompleted = MessageType(
        wireName: "jp.ward.isms.duty.completed.v1",
        kind: .event,
        schemaFile: "duty.completed.v1.schema.json",
        defaultClassification: .internal,
        summary: "A scheduled duty was completed with evidence; reminders stop and the result counts towards the management review (Art. 11(5))."
    )

    /// The types the audit scheduler originates.
    public static let auditScheduler: [MessageType] = [dutyDueSoon, dutyDue, dutyOverdue, dutyEscalated, dutyCompleted]
}

extension BusLayout {
    static let auditSchedulerQueues: [WorkQueue] = [
        // directory.changed: new sections get their duties at once, not at the next daily sweep.
        // incident.lessons-recorded: one duty per recurrence-prevention measure (issue #18, Art. 27(1));
        // contractor.contract-changed (issue #18): contractor staff education follows the contracts in force.
        WorkQueue(
            name: "audit-scheduler.events", consumer: .auditScheduler,
            messageTypes: [MessageTypes.directoryChanged, MessageTypes.incidentLessonsRecorded, MessageTypes.contractorContractChanged]),
    ]
}
