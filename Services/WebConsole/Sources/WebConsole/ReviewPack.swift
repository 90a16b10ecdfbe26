import Contracts
import Foundation
import ServiceClient
import WardCalendar

/// The management review pack (Art. 11(5) items (1)-(9), Art. 29): what the services answered
/// for a fiscal year or a period, kept as they answered it. The console owns no business data:
/// it asks each service's API with the person's token and files the answers under the nine
/// items; the audit scheduler stores the assembled pack as a hashed, versioned snapshot.
///
/// An answer that is not there (an endpoint not offered yet, a refusal, a service down) is kept
/// as a reason, so no item is ever empty without saying why (``itemsWithoutReason``).
struct ReviewPack: Codable, Sendable, Hashable {
    /// One answer of one service.
    struct Source: Codable, Sendable, Hashable {
        var service: String
        var path: String
        /// The JSON the service answered; nil when it did not.
        var data: JSONValue?
        /// Why there is no data: `not-offered` (404 without a problem: the endpoint is not
        /// deployed yet), `not-found` (the service has none, `detail` says what), `forbidden`,
        /// `unavailable` (no answer), `error` (any other status).
        var reasonCode: String?
        var detail: String?
    }

    /// One of the nine items.
    struct Item: Codable, Sendable, Hashable {
        var number: Int
        /// The articles it answers, e.g. `Art. 11(5)(7), Art. 27`.
        var article: String
        /// Keys into ``sources``.
        var sources: [String]
        /// Whether any of its sources answered.
        var hasData: Bool
        /// Why it shows nothing, when it does not: its sources' reasons.
        var reason: String?
    }

    var fiscalYear: Int
    var from: String
    var to: String
    var assembledAt: String
    var items: [Item]
    var sources: [String: Source]

    /// The articles of the nine items (Art. 11(5)(1)-(9)) and the sources each reads.
    static let itemDefinitions: [(number: Int, article: String, sources: [String])] = [
        (1, "Art. 11(5)(1)", ["plan"]),
        (2, "Art. 11(5)(2), Art. 23", ["effectiveness", "effectivenessPrevious"]),
        (3, "Art. 11(5)(3), Art. 24", ["effectiveness", "effectivenessPrevious", "improvementActions"]),
        (4, "Art. 11(5)(4), Art. 25", ["effectiveness", "effectivenessCycle1", "effectivenessCycle2"]),
        (5, "Art. 11(5)(5), Art. 26", ["effectiveness"]),
        (6, "Art. 11(5)(6), Art. 26", ["risks"]),
        (7, "Art. 11(5)(7), Art. 27", ["incidents", "lessons", "recurrenceMeasures"]),
        (8, "Art. 11(5)(8), Art. 6, Art. 28", ["contractors"]),
        (9, "Art. 11(5)(9), Art. 29", ["effectiveness", "lessons", "onDemandDuties"]),
    ]

    /// What to ask for a fiscal year's pack over `from`…`to`: source key → (service, path).
    static func requests(fiscalYear: Int, from: String, to: String, asOf: String) -> [String: (ConsoleService, String)] {
        let period = "from=\(from)&to=\(to)"
        return [
            "plan": (.audit, "/v1/operation-plans/\(fiscalYear)/comparison"),
            "effectiveness": (.audit, "/v1/reports/effectiveness?fiscalYear=\(fiscalYear)"),
            "effectivenessPrevious": (.audit, "/v1/reports/effectiveness?fiscalYear=\(fiscalYear - 1)"),
            // The audit cycle's earlier years (the default cycle is three years, Art. 25).
            "effectivenessCycle1": (.audit, "/v1/reports/effectiveness?fiscalYear=\(fiscalYear - 1)"),
            "effectivenessCycle2": (.audit, "/v1/reports/effectiveness?fiscalYear=\(fiscalYear - 2)"),
            "improvementActions": (.audit, "/v1/improvement-actions?\(period)"),
            "onDemandDuties": (.audit, "/v1/on-demand-duties?\(period)"),
            "risks": (.audit, "/v1/risks/summary"),
            "recurrenceMeasures": (.audit, "/v1/recurrence-measures?\(period)"),
            "incidents": (.triage, "/v1/reports/incidents?\(period)"),
            "lessons": (.triage, "/v1/reports/lessons?\(period)"),
            "contractors": (.contractors, "/v1/contractor-measures?asOf=\(asOf)"),
        ]
    }

    /// Files `sources` under the nine items; an item none of whose sources answered carries
    /// their reasons.
    static func assemble(fiscalYear: Int, from: String, to: String, assembledAt: String, sources: [String: Source]) -> ReviewPack {
        let items = itemDefinitions.map { definition in
            let own = definition.sources.compactMap { sources[$0] }
            let hasData = own.contains { $0.data != nil }
            let reasons = own.filter { $0.data == nil }.map { "\($0.path): \($0.reasonCode ?? "error")\($0.detail.map { " — \($0)" } ?? "")" }
            return Item(
                number: definition.number, article: definition.article, sources: definition.sources, hasData: hasData,
                reason: hasData ? nil : (reasons.isEmpty ? "no source was asked" : reasons.joined(separator: "; ")))
        }
        return ReviewPack(fiscalYear: fiscalYear, from: from, to: to, assembledAt: assembledAt, items: items, sources: sources)
    }

    /// Items that show nothing and do not say why: must be empty (a test holds the pack to it).
    var itemsWithoutReason: [Int] {
        items.filter { !$0.hasData && ($0.reason ?? "").trimmingCharacters(in: .whitespaces).isEmpty }.map(\.number)
    }

    /// The data of source `key`, if it answered.
    func data(_ key: String) -> JSONValue? { sources[key]?.data }
}

extension WebConsole {
    /// Asks every source of the pack with the person's token, at once, and assembles the pack.
    func assembleReviewPack(_ api: ConsoleAPI, fiscalYear: Int, from: String, to: String, now: Date) async -> ReviewPack {
        let today = CivilDate.inTokyo(now).iso
        let asOf = min(to, today)
        let requests = ReviewPack.requests(fiscalYear: fiscalYear, from: from, to: to, asOf: asOf)
        var sources: [String: ReviewPack.Source] = [:]
        await withTaskGroup(of: (String, ReviewPack.Source).self) { group in
            for (key, request) in requests {
                group.addTask { (key, await Self.fetchSource(api, request.0, request.1)) }
            }
            for await (key, source) in group { sources[key] = source }
        }
        return ReviewPack.assemble(
            fiscalYear: fiscalYear, from: from, to: to, assembledAt: ContractsJSON.formatTimestamp(now), sources: sources)
    }

    /// One source: its JSON, or why there is none.
    static func fetchSource(_ api: ConsoleAPI, _ service: ConsoleService, _ pathAndQuery: String) async -> ReviewPack.Source {
        let parts = pathAndQuery.split(separator: "?", maxSplits: 1).map(String.init)
        let query: [(String, String?)] = parts.count > 1
            ? parts[1].split(separator: "&").map { pair in
                let kv = pair.split(separator: "=", maxSplits: 1).map(String.init)
                return (kv[0], kv.count > 1 ? kv[1] : nil)
            } : []
        var source = ReviewPack.Source(service: service.rawValue, path: pathAndQuery)
        do {
            let result = try await api.exchange(service, "GET", parts[0], query: query)
            let problem = try? JSONValue(parsing: [UInt8](result.body))
            switch result.status {
            case 200..<300:
                do {
                    source.data = try JSONValue(parsing: [UInt8](result.body))
                } catch {
                    (source.reasonCode, source.detail) = ("error", "the answer was not JSON")
                }
            case 404:
                // The service saying it has none names what; "No resource at …" is the router's
                // answer for a route it does not have yet (issue #18's parts land one by one).
                if let detail = problem?["detail"]?.stringValue, !detail.hasPrefix("No resource at ") {
                    (source.reasonCode, source.detail) = ("not-found", detail)
                } else {
                    source.reasonCode = "not-offered"
                }
            case 401, 403: (source.reasonCode, source.detail) = ("forbidden", problem?["detail"]?.stringValue)
            default: (source.reasonCode, source.detail) = ("error", "HTTP \(result.status)" + (problem?["detail"]?.stringValue.map { ": \($0)" } ?? ""))
            }
        } catch {
            source.reasonCode = "unavailable"
        }
        return source
    }
}
