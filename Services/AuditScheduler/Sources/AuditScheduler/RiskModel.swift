public import Contracts
public import Directory
public import Foundation
public import WardCalendar

/// How a risk is treated (Art. 26): the four options of risk management.
public enum RiskTreatment: String, Sendable, Hashable, Codable, CaseIterable {
    /// Lower likelihood or impact with measures, an owner and a due date.
    case reduce
    /// Keep the risk as it is; above the appetite only the CISO may (Art. 11, 26).
    case accept
    /// Hand the risk (or part of it) to another party: an insurer, a contractor.
    case transfer
    /// Stop the activity that causes the risk.
    case avoid
}

/// Where a risk came from, or what updated it: a finding, an incident case or a
/// self-inspection duty (issue #18 item 1).
public struct RiskSource: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        /// An audit finding (its id).
        case finding
        /// An incident case (its case number).
        case incident
        /// A self-inspection duty whose result showed the risk (its id).
        case selfInspection = "self-inspection"
    }

    public var kind: Kind
    /// The finding id, the case number or the self-inspection duty id.
    public var reference: String

    public init(kind: Kind, reference: String) {
        self.kind = kind
        self.reference = reference
    }
}

/// A risk of the register, as stored and listed.
public struct RiskRecord: Sendable, Hashable, Codable {
    public var id: UUID
    public var assetID: String
    public var sectionCode: String
    public var departmentCode: String
    public var title: String
    public var threat: String
    public var vulnerability: String
    public var inherentLikelihood: Int
    public var inherentImpact: Int
    public var inherentLevel: String
    public var treatment: RiskTreatment?
    public var measures: String
    public var treatmentOwnerRole: DirectoryRole?
    public var treatmentOwnerUnit: String?
    public var treatmentDueDate: CivilDate?
    public var transferTo: String?
    public var residualLikelihood: Int?
    public var residualImpact: Int?
    public var residualLevel: String?
    /// The level that counts now: the residual once treated, else the inherent.
    public var currentLevel: String
    /// Whether ``currentLevel`` is above the ward's appetite.
    public var aboveAppetite: Bool
    public var acceptedByRole: DirectoryRole?
    public var acceptedReason: String?
    public var acceptedAt: Date?
    public var reviewDate: CivilDate
    /// Open and the review date has passed.
    public var reviewOverdue: Bool
    public var sources: [RiskSource]
    public var reviewDutyID: UUID?
    public var treatmentDutyID: UUID?
    public var createdAt: Date
    public var updatedAt: Date

    enum CodingKeys: String, CodingKey {
        case id, assetID = "assetId", sectionCode, departmentCode, title, threat, vulnerability, inherentLikelihood, inherentImpact, inherentLevel,
            treatment, measures, treatmentOwnerRole, treatmentOwnerUnit, treatmentDueDate, transferTo, residualLikelihood, residualImpact, residualLevel,
            currentLevel, aboveAppetite, acceptedByRole, acceptedReason, acceptedAt, reviewDate, reviewOverdue, sources, reviewDutyID = "reviewDutyId",
            treatmentDutyID = "treatmentDutyId", createdAt, updatedAt
    }
}

/// One entry of a risk's history: a ledger row whose subject is the risk.
public struct RiskHistoryEntry: Sendable, Hashable, Codable {
    public var seq: Int64
    public var recordedAt: Date
    /// `risk.registered`, `risk.updated`, `risk.treated`, `risk.accepted` or `risk.reviewed`.
    public var entryType: String
    public var actorRole: String
    public var actorUnit: String?
    /// The change as recorded (the canonical JSON that was hashed), parsed: `{risk, reason?}`.
    public var body: JSONValue
    public var hash: String
}

/// A risk with its history and whether that history verifies.
public struct RiskDetail: Sendable, Hashable, Codable {
    public var risk: RiskRecord
    public var history: [RiskHistoryEntry]
    /// Every history row is unedited and linked to the row before it in the ledger.
    public var historyVerified: Bool
    /// What the actor may do now: `update`, `treat`, `accept`, `review`.
    public var allowedActions: [String]
}

/// What registers a risk (`POST /v1/risks`).
public struct RiskRequest: Sendable, Hashable, Codable {
    public var assetID: String
    /// The owning section; taken from the asset register when the asset is registered there.
    public var sectionCode: String?
    public var title: String
    public var threat: String
    public var vulnerability: String
    public var likelihood: Int
    /// Optional when the asset is registered: its classification suggests the impact.
    public var impact: Int?
    /// Default: the registration day plus the inherent level's review interval.
    public var reviewDate: String?
    public var sources: [RiskSource]?

    public init(
        assetID: String, sectionCode: String? = nil, title: String, threat: String, vulnerability: String, likelihood: Int, impact: Int?,
        reviewDate: String? = nil, sources: [RiskSource]? = nil
    ) {
        self.assetID = assetID
        self.sectionCode = sectionCode
        self.title = title
        self.threat = threat
        self.vulnerability = vulnerability
        self.likelihood = likelihood
        self.impact = impact
        self.reviewDate = reviewDate
        self.sources = sources
    }

    enum CodingKeys: String, CodingKey {
        case assetID = "assetId", sectionCode, title, threat, vulnerability, likelihood, impact, reviewDate, sources
    }
}

/// What changes a risk's assessment (`PUT /v1/risks/{id}`); absent members stay. A finding,
/// case or self-inspection that bears on the risk is added with `source`.
public struct RiskUpdate: Sendable, Hashable, Codable {
    public var title: String?
    public var threat: String?
    public var vulnerability: String?
    public var likelihood: Int?
    public var impact: Int?
    public var reviewDate: String?
    public var source: RiskSource?
    /// Why (recorded in the history).
    public var reason: String?

    public init(
        title: String? = nil, threat: String? = nil, vulnerability: String? = nil, likelihood: Int? = nil, impact: Int? = nil, reviewDate: String? = nil,
        source: RiskSource? = nil, reason: String? = nil
    ) {
        self.title = title
        self.threat = threat
        self.vulnerability = vulnerability
        self.likelihood = likelihood
        self.impact = impact
        self.reviewDate = reviewDate
        self.source = source
        self.reason = reason
    }
}

/// A treatment decision (`POST /v1/risks/{id}/treat`, and `…/accept` for `accept`).
public struct RiskTreatmentRequest: Sendable, Hashable, Codable {
    public var treatment: RiskTreatment
    /// Reduce: what will be done.
    public var measures: String?
    /// Reduce: who owns the measures (role and unit); default the section's security officer.
    public var ownerRole: DirectoryRole?
    public var ownerUnit: String?
    /// Reduce: when the measures are due (a risk-treatment duty chases it).
    public var dueDate: String?
    /// Transfer: to whom.
    public var transferTo: String?
    /// The residual likelihood and impact after the treatment; default the inherent ones.
    public var residualLikelihood: Int?
    public var residualImpact: Int?
    /// Why; required to accept, and the CISO's reason above the appetite.
    public var reason: String?

    public init(
        treatment: RiskTreatment, measures: String? = nil, ownerRole: DirectoryRole? = nil, ownerUnit: String? = nil, dueDate: String? = nil,
        transferTo: String? = nil, residualLikelihood: Int? = nil, residualImpact: Int? = nil, reason: String? = nil
    ) {
        self.treatment = treatment
        self.measures = measures
        self.ownerRole = ownerRole
        self.ownerUnit = ownerUnit
        self.dueDate = dueDate
        self.transferTo = transferTo
        self.residualLikelihood = residualLikelihood
        self.residualImpact = residualImpact
        self.reason = reason
    }
}

/// A periodic review (`POST /v1/risks/{id}/review`): the reassessed residual, notes, and the
/// next review date (default by the residual level's interval).
public struct RiskReviewRequest: Sendable, Hashable, Codable {
    public var notes: String
    public var residualLikelihood: Int?
    public var residualImpact: Int?
    public var nextReviewDate: String?

    public init(notes: String, residualLikelihood: Int? = nil, residualImpact: Int? = nil, nextReviewDate: String? = nil) {
        self.notes = notes
        self.residualLikelihood = residualLikelihood
        self.residualImpact = residualImpact
        self.nextReviewDate = nextReviewDate
    }
}

/// What to list.
public struct RiskFilter: Sendable {
    /// A section or department code.
    public var unitCode: String?
    public var assetID: String?
    /// `untreated` is written as nil treatment with ``untreatedOnly``.
    public var treatment: RiskTreatment?
    public var untreatedOnly: Bool
    /// Risks whose current level is this one.
    public var level: String?
    public var aboveAppetiteOnly: Bool
    public var reviewOverdueOnly: Bool
    public var limit: Int
    /// (created, id) of the last risk of the page before.
    public var after: (createdAt: Date, id: UUID)?

    public init(
        unitCode: String? = nil, assetID: String? = nil, treatment: RiskTreatment? = nil, untreatedOnly: Bool = false, level: String? = nil,
        aboveAppetiteOnly: Bool = false, reviewOverdueOnly: Bool = false, limit: Int = 1000
    ) {
        self.unitCode = unitCode
        self.assetID = assetID
        self.treatment = treatment
        self.untreatedOnly = untreatedOnly
        self.level = level
        self.aboveAppetiteOnly = aboveAppetiteOnly
        self.reviewOverdueOnly = reviewOverdueOnly
        self.limit = limit
    }
}

/// The register's state for the management review (Art. 11(5)(5)-(6)) and the heat map:
/// `GET /v1/risks/summary`.
public struct RiskSummary: Sendable, Hashable, Codable {
    public struct ByTreatment: Sendable, Hashable, Codable {
        public var reduce = 0, accept = 0, transfer = 0, avoid = 0, untreated = 0
    }

    public struct ByLevel: Sendable, Hashable, Codable {
        public var inherent: [String: Int]
        /// Counted by the current level: the residual once treated, else the inherent.
        public var residual: [String: Int]
    }

    public struct HeatMap: Sendable, Hashable, Codable {
        /// Labels, lowest first (English and Japanese in ``likelihoodJa``).
        public var likelihood: [String]
        public var impact: [String]
        public var likelihoodJa: [String]
        public var impactJa: [String]
        /// `[likelihood - 1][impact - 1]`: risks at that inherent pair.
        public var inherent: [[Int]]
        /// The same by residual pair (the inherent pair while untreated).
        public var residual: [[Int]]
        /// `[likelihood - 1][impact - 1]`: the level id of each cell, for colouring.
        public var levels: [[String]]
    }

    public var total: Int
    public var byTreatment: ByTreatment
    public var byLevel: ByLevel
    public var heatMap: HeatMap
    /// Risks whose current level is above the appetite (accepted by the CISO or not).
    public var aboveAppetite: Int
    /// Risks accepted above the appetite, by the CISO's decision.
    public var acceptedByCISO: Int
    /// Review date from today through the next `dueWithinDays` days.
    public var reviewsDue: Int
    /// Review date before today.
    public var reviewsOverdue: Int
    /// The appetite's level id and the levels, lowest first.
    public var appetite: String
    public var levels: [String]
    public var dueWithinDays: Int
}
