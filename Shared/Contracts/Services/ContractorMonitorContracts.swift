// Contractor monitor (issue #7): what it consumes and originates.

extension MessageTypes {
    /// A contractor or sub-contractor broke the policy or the special provisions: a security
    /// incident (Art. 3(13)(イ)). Event; CSIRT triage turns it into a case.
    public static let contractorViolationDetected = MessageType(
        wireName: "jp.ward.isms.contractor.violation.detected.v1",
        kind: .event,
        schemaFile: "contractor.violation.detected.v1.schema.json",
        defaultClassification: .confidential,
        summary: "The contractor monitor found a contractor violation (a \"no\" answer, a missed attestation, an expired certificate, an unapproved sub-contractor, an overdue return certificate); CSIRT triage opens a case."
    )

    /// A periodic compliance attestation (Art. 28) falls due soon. Event, for the notifier.
    public static let contractorAttestationDue = MessageType(
        wireName: "jp.ward.isms.contractor.attestation-due.v1",
        kind: .event,
        schemaFile: "contractor.attestation-due.v1.schema.json",
        defaultClassification: .internal,
        summary: "A contract's periodic special-provision attestation (Art. 28) falls due; the notifier reminds the responsible section."
    )

    /// A periodic compliance attestation (Art. 28) is past its due date. Event, for the notifier.
    public static let contractorAttestationOverdue = MessageType(
        wireName: "jp.ward.isms.contractor.attestation-overdue.v1",
        kind: .event,
        schemaFile: "contractor.attestation-overdue.v1.schema.json",
        defaultClassification: .internal,
        summary: "A contract's periodic special-provision attestation (Art. 28) was not received by the end of its grace period; a violation follows."
    )

    /// A contract was registered, changed or ended (issue #18 item 3). Event; the audit
    /// scheduler keeps the contracts in force for contractor staff education (Art. 23).
    public static let contractorContractChanged = MessageType(
        wireName: "jp.ward.isms.contractor.contract-changed.v1",
        kind: .event,
        schemaFile: "contractor.contract-changed.v1.schema.json",
        defaultClassification: .internal,
        summary: "A contract was registered, changed or ended: its section, contractor, dates and whether it handles My Number data; the audit scheduler plans contractor staff education (Art. 23) for the contracts in force."
    )

    /// The types the contractor monitor originates.
    public static let contractorMonitor: [MessageType] = [
        contractorViolationDetected, contractorAttestationDue, contractorAttestationOverdue, contractorContractChanged,
    ]
}

extension BusLayout {
    static let contractorMonitorQueues: [WorkQueue] = [
        WorkQueue(name: "contractor-monitor.events", consumer: .contractorMonitor, messageTypes: [MessageTypes.directoryChanged]),
    ]
}
