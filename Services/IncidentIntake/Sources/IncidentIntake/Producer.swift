import Contracts
public import Directory
public import Postgres
import Foundation

/// Who submitted a report, and for which units they may report.
public struct Producer: Sendable, Hashable {
    /// Scopes idempotency: `amqp:<user>` for a broker producer, `token:<id>` for an HTTP client.
    public var key: String
    public var scope: [ReportingScope]

    public init(key: String, scope: [ReportingScope]) {
        self.key = key
        self.scope = scope
    }

    /// An HTTP client holding a bearer token: ward-wide roles report for every section,
    /// department roles for their department's sections, section roles for their section.
    public init(token grant: TokenGrant) {
        key = "token:\(grant.id.lowercasedString)"
        scope = [grant.unitCode.map(ReportingScope.unit) ?? .ward]
    }

    /// Whether this producer may report for `section` of `departmentCode`.
    public func mayReport(forSection section: String, departmentCode: String) -> Bool {
        scope.contains { scope in
            switch scope {
            case .ward: true
            case .unit(let code): code == section || code == departmentCode
            }
        }
    }
}

/// What one grant covers.
public enum ReportingScope: Sendable, Hashable {
    case ward
    /// A section or a department code.
    case unit(String)
}

/// Broker producers' grants (`intake.producer_grants`).
public enum ProducerGrants {
    /// The producer behind a broker user, with every unit it was granted; nil when it has none.
    public static func producer(amqpUser user: String, on connection: PostgresConnection) throws -> Producer? {
        try producers(amqpUsers: [user], on: connection)[user]
    }

    /// The producers behind these broker users, by user; a user without a grant is absent.
    public static func producers(amqpUsers users: Set<String>, on connection: PostgresConnection) throws -> [String: Producer] {
        guard !users.isEmpty else { return [:] }
        let rows = try connection.query("SELECT amqp_user, unit_code FROM intake.producer_grants WHERE amqp_user = ANY(\(Array(users)))")
        var scopes: [String: [ReportingScope]] = [:]
        for row in rows.rows {
            scopes[try row.decode("amqp_user"), default: []].append(try row.decode("unit_code", as: String?.self).map(ReportingScope.unit) ?? .ward)
        }
        return scopes.reduce(into: [:]) { producers, entry in producers[entry.key] = Producer(key: "amqp:\(entry.key)", scope: entry.value) }
    }

    /// Lets `user` report for `unitCode` (nil: the whole ward).
    public static func grant(amqpUser user: String, unitCode: String?, note: String, on connection: PostgresConnection) throws {
        _ = try connection.query(
            """
            INSERT INTO intake.producer_grants (amqp_user, unit_code, note) VALUES (\(user), \(unitCode), \(note))
            ON CONFLICT (amqp_user, unit_code) DO UPDATE SET note = EXCLUDED.note
            """
        )
    }
}
