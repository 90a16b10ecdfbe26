// CSIRT triage (issue #4): what it consumes and originates.

extension MessageTypes {
    /// CSIRT opened a case for a report (Art. 27). Event.
    public static let incidentCaseOpened = MessageType(
        wireName: "jp.ward.isms.incident.case-opened.v1",
        kind: .event,
        schemaFile: "incident.case-opened.v1.schema.json",
        defaultClassification: .confidential,
        summary: "CSIRT triage opened a numbered case with its severity; the title is masked."
    )

    /// A level of the reporting chain must be told about a case (Art. 14, 16-19, 22). Event.
    public static let incidentEscalated = MessageType(
        wireName: "jp.ward.isms.incident.escalated.v1",
        kind: .event,
        schemaFile: "incident.escalated.v1.schema.json",
        defaultClassification: .internal,
        summary: "A level of the reporting chain is to be told about a case; recipients are person ids only. The notifier routes it."
    )

    /// Somebody responsible acknowledged a case; escalation stopped. Event.
    public static let incidentAcknowledged = MessageType(
        wireName: "jp.ward.isms.incident.acknowledged.v1",
        kind: .event,
        schemaFile: "incident.acknowledged.v1.schema.json",
        defaultClassification: .internal,
        summary: "A case was acknowledged; its escalation timers stopped."
    )

    /// A statutory report is due soon, due today, overdue, or still to be decided (APPI Art. 68,
    /// My Number Act Art. 29-4). Event.
    public static let incidentObligationReminder = MessageType(
        wireName: "jp.ward.isms.incident.obligation-reminder.v1",
        kind: .event,
        schemaFile: "incident.obligation-reminder.v1.schema.json",
        defaultClassification: .internal,
        summary: "A statutory obligation of a case is due soon, due today or overdue; `status` to-decide means a verdict is still unknown."
    )

    /// The designated handlers of a case changed; intake lets only them read the original report. Event.
    public static let incidentAssigned = MessageType(
        wireName: "jp.ward.isms.incident.assigned.v1",
        kind: .event,
        schemaFile: "incident.assigned.v1.schema.json",
        defaultClassification: .internal,
        summary: "A person was assigned to or unassigned from a case; `assignees` is the whole list after the change."
    )

    /// A use restriction (Art. 27(3)) was ordered, approved, rejected or lifted. Event.
    public static let incidentRestrictionChanged = MessageType(
        wireName: "jp.ward.isms.incident.restriction-changed.v1",
        kind: .event,
        schemaFile: "incident.restriction-changed.v1.schema.json",
        defaultClassification: .internal,
        summary: "A use restriction of assets, systems or accounts changed status: awaiting-approval, in-force (approved by the CISO or general security officer), rejected, lifted."
    )

    /// The periodic, masked digest of recent incidents for every section's security staff (Art. 10, 16(7)). Event.
    public static let incidentDigest = MessageType(
        wireName: "jp.ward.isms.incident.digest.v1",
        kind: .event,
        schemaFile: "incident.digest.v1.schema.json",
        defaultClassification: .internal,
        summary: "Recent incidents by severity and category, masked, with the section security staff as recipients."
    )

    /// A report joined an open case (a correlation rule, or CSIRT by hand) instead of opening one (issue #16). Event.
    public static let incidentReportAttached = MessageType(
        wireName: "jp.ward.isms.incident.report-attached.v1",
        kind: .event,
        schemaFile: "incident.report-attached.v1.schema.json",
        defaultClassification: .confidential,
        summary: "A report joined an open case by a correlation rule (or a merge); the case's count, first and last seen, and severity after it. Masked title."
    )

    /// CSIRT merged a case into another; the merged case is final and points to the survivor (issue #16). Event.
    public static let incidentCaseMerged = MessageType(
        wireName: "jp.ward.isms.incident.case-merged.v1",
        kind: .event,
        schemaFile: "incident.case-merged.v1.schema.json",
        defaultClassification: .internal,
        summary: "A case was merged into a surviving case, which now holds its reports; the merged case keeps its number."
    )

    /// CSIRT closed a case with its cause, recurrence-prevention measures and whether the
    /// emergency response plan needs a change (issue #18; Art. 27(1), 27(2)). Event.
    public static let incidentLessonsRecorded = MessageType(
        wireName: "jp.ward.isms.incident.lessons-recorded.v1",
        kind: .event,
        schemaFile: "incident.lessons-recorded.v1.schema.json",
        defaultClassification: .confidential,
        summary: "A case was closed with its lessons: cause, recurrence-prevention measures (owner, unit, due date) and whether the emergency response plan needs a change."
    )

    /// The types CSIRT triage originates.
    public static let csirtTriage: [MessageType] = [
        incidentCaseOpened, incidentEscalated, incidentAcknowledged, incidentObligationReminder, incidentAssigned, incidentRestrictionChanged,
        incidentDigest, incidentReportAttached, incidentCaseMerged, incidentLessonsRecorded,
    ]
}

extension BusLayout {
    static let csirtTriageQueues: [WorkQueue] = [
        // Art. 3(13)(イ): a contractor's violation of the policy is a security incident too.
        WorkQueue(name: "csirt-triage.events", consumer: .csirtTriage, messageTypes: [
            MessageTypes.incidentReported, MessageTypes.contractorViolationDetected, MessageTypes.incidentReportOriginalViewed,
        ]),
    ]
}
