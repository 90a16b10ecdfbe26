public import Contracts

/// The ward's risk scale (Art. 26), as configured in `deploy/config/risk-scale.yaml` and read by
/// ``RiskScaleDocument``: likelihood and impact levels, the matrix that gives each pair a risk
/// level, and the appetite — the highest residual level that may be accepted without the CISO.
///
/// Pure data and arithmetic: the matrix is looked up, never computed, so the ward decides every
/// cell and a test can check each one.
public struct RiskScale: Sendable, Hashable {
    /// One step of the likelihood or impact scale, 1 = lowest.
    public struct Step: Sendable, Hashable, Codable {
        public var value: Int
        public var ja: String
        public var en: String

        public init(value: Int, ja: String, en: String) {
            self.value = value
            self.ja = ja
            self.en = en
        }
    }

    /// A risk level (low, medium, high, critical…), in order from lowest.
    public struct Level: Sendable, Hashable, Codable {
        public var id: String
        public var ja: String
        public var en: String
        /// Days from a review (or registration) to the next review of a risk at this residual level.
        public var reviewIntervalDays: Int

        public init(id: String, ja: String, en: String, reviewIntervalDays: Int) {
            self.id = id
            self.ja = ja
            self.en = en
            self.reviewIntervalDays = reviewIntervalDays
        }
    }

    /// How an asset's classification (Art. 9(2), the MIC levels) suggests the impact: the impact
    /// step of each confidentiality, integrity and availability class; the suggestion is the
    /// highest of the three, since a breach of any one of them harms the ward.
    public struct ClassificationImpact: Sendable, Hashable {
        public var confidentiality: [ConfidentialityLevel: Int]
        public var integrity: [IntegrityLevel: Int]
        public var availability: [AvailabilityLevel: Int]

        public init(confidentiality: [ConfidentialityLevel: Int], integrity: [IntegrityLevel: Int], availability: [AvailabilityLevel: Int]) {
            self.confidentiality = confidentiality
            self.integrity = integrity
            self.availability = availability
        }
    }

    /// Likelihood steps, lowest first (values 1…n).
    public var likelihood: [Step]
    /// Impact steps, lowest first (values 1…m).
    public var impact: [Step]
    /// Levels, lowest first.
    public var levels: [Level]
    /// `matrix[likelihood - 1][impact - 1]` is the index of a level in ``levels``.
    public var matrix: [[Int]]
    /// The index in ``levels`` of the highest residual level that a risk owner may accept; a
    /// higher one needs the CISO's decision with a reason (Art. 11, 26).
    public var appetite: Int
    public var classificationImpact: ClassificationImpact

    public init(likelihood: [Step], impact: [Step], levels: [Level], matrix: [[Int]], appetite: Int, classificationImpact: ClassificationImpact) {
        self.likelihood = likelihood
        self.impact = impact
        self.levels = levels
        self.matrix = matrix
        self.appetite = appetite
        self.classificationImpact = classificationImpact
    }

    /// The level of `likelihood` × `impact`; nil when either is off the scale.
    public func level(likelihood: Int, impact: Int) -> Level? {
        guard let index = levelIndex(likelihood: likelihood, impact: impact) else { return nil }
        return levels[index]
    }

    /// The index in ``levels`` of `likelihood` × `impact`; nil when either is off the scale.
    public func levelIndex(likelihood: Int, impact: Int) -> Int? {
        guard (1...self.likelihood.count).contains(likelihood), (1...self.impact.count).contains(impact) else { return nil }
        return matrix[likelihood - 1][impact - 1]
    }

    /// The index of the level named `id`.
    public func levelIndex(of id: String) -> Int? {
        levels.firstIndex { $0.id == id }
    }

    /// Whether a residual risk at level `id` is above the appetite (accepting it needs the CISO).
    public func isAboveAppetite(_ id: String) -> Bool {
        (levelIndex(of: id) ?? levels.count) > appetite
    }

    /// The level the ward accepts without the CISO.
    public var appetiteLevel: Level { levels[appetite] }

    /// The impact an asset of `classification` suggests: the highest of its three classes' steps.
    public func suggestedImpact(for classification: AssetClassification) -> Int {
        [
            classificationImpact.confidentiality[classification.confidentiality] ?? 1,
            classificationImpact.integrity[classification.integrity] ?? 1,
            classificationImpact.availability[classification.availability] ?? 1,
        ].max()!
    }
}
