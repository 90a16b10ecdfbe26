public import Contracts
import Foundation
public import Postgres
import ServiceRuntime
public import WardCalendar

/// The contracts in force, kept from `contractor.contract-changed.v1` (issue #18 item 3): the
/// education of contractors' staff (Art. 23) follows the contractor registry.
extension AuditSchedulerStore {
    /// Records a contract as the contractor monitor announced it. A redelivered or older event
    /// (by `changedAt`) changes nothing; the consumer's inbox already drops exact duplicates.
    /// Returns whether the stored contract changed.
    @discardableResult
    public func record(_ event: ContractorContractChanged, on connection: PostgresConnection) throws -> Bool {
        guard let start = CivilDate(iso: event.startDate), let end = CivilDate(iso: event.endDate), start <= end else {
            throw PermanentFailure(code: "invalid-contract-dates", reason: "contract \(event.contractID) has dates \(event.startDate)…\(event.endDate)")
        }
        let result = try connection.query(
            """
            INSERT INTO \(unescaped: table("contracts")) (
                contract_id, contract_reference, contractor_id, contractor_name, section_code, department_code, start_date, end_date,
                handles_my_number, last_change, changed_at)
            VALUES (
                \(event.contractID), \(event.contractReference), \(event.contractorID), \(event.contractorName), \(event.sectionCode),
                \(event.departmentCode), \(start.iso)::date, \(end.iso)::date, \(event.handlesMyNumber), \(event.change.rawValue), \(event.changedAt))
            ON CONFLICT (contract_id) DO UPDATE SET
                contract_reference = EXCLUDED.contract_reference, contractor_id = EXCLUDED.contractor_id,
                contractor_name = EXCLUDED.contractor_name, section_code = EXCLUDED.section_code, department_code = EXCLUDED.department_code,
                start_date = EXCLUDED.start_date, end_date = EXCLUDED.end_date, handles_my_number = EXCLUDED.handles_my_number,
                last_change = EXCLUDED.last_change, changed_at = EXCLUDED.changed_at
            WHERE \(unescaped: table("contracts")).changed_at <= EXCLUDED.changed_at
            RETURNING contract_id
            """)
        return !result.rows.isEmpty
    }

    /// Every contract the scheduler knows, by reference; `inForceOn` keeps those in force that day.
    public func contracts(inForceOn day: CivilDate? = nil, on connection: PostgresConnection) throws -> [ContractInForce] {
        try connection.query(
            """
            SELECT contract_id, contract_reference, contractor_id, contractor_name, section_code, department_code,
                   start_date::text AS start_date, end_date::text AS end_date, handles_my_number
            FROM \(unescaped: table("contracts"))
            WHERE \(day?.iso)::date IS NULL OR \(day?.iso)::date BETWEEN start_date AND end_date
            ORDER BY contract_reference, contract_id
            """
        ).rows.map { row in
            ContractInForce(
                contractID: try row.decode("contract_id"), contractReference: try row.decode("contract_reference"),
                contractorID: try row.decode("contractor_id"), contractorName: try row.decode("contractor_name"),
                sectionCode: try row.decode("section_code"), departmentCode: try row.decode("department_code"),
                startDate: try Self.date(row.decode("start_date")), endDate: try Self.date(row.decode("end_date")),
                handlesMyNumber: try row.decode("handles_my_number"))
        }
    }

    /// The SQL condition that keeps duties of `origin` (the `duties(where:)` query's aliases).
    static func condition(_ origin: DutyOrigin) -> String {
        switch origin {
        case .calendar: "d.finding_id IS NULL AND d.source_id IS NULL"
        case .finding: "d.finding_id IS NOT NULL"
        case .onDemand: "o.duty_id IS NOT NULL"
        case .contract: "d.unit_kind = 'contractor'"
        case .improvement: "i.duty_id IS NOT NULL"
        }
    }
}
