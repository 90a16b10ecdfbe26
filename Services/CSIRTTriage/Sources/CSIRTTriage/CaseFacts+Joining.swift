public import Contracts

// How the facts of related reports add up when they become one case (issue #16). Pure, so the
// arithmetic is tested without a database.

extension AffectedPersons {
    /// The persons of two reports of one incident together. Known counts add up (capped at
    /// the schema's 2,147,483,647). With one count unknown the total is unknown, except that a
    /// known count above 100 already makes "more than 100" certain, so it stands as "at least".
    public func adding(_ other: AffectedPersons) -> AffectedPersons {
        switch (self, other) {
        case (.count(let a), .count(let b)): .count(Int(min(Int64(a) + Int64(b), 2_147_483_647)))
        case (.count(let known), .unknown), (.unknown, .count(let known)): known > 100 ? .count(known) : .unknown
        case (.unknown, .unknown): .unknown
        }
    }

    /// These persons less another report's, when both are counts (a report split out of a case).
    public func subtracting(_ other: AffectedPersons) -> AffectedPersons {
        guard case .count(let a) = self, case .count(let b) = other else { return self }
        return .count(max(0, a - b))
    }
}

extension Verdict {
    /// A "yes" from any report of the case stands; otherwise the case keeps what it had (a
    /// "no" CSIRT decided is not undone by a reporter's "unknown").
    public func joining(_ other: Verdict) -> Verdict {
        self == .yes || other == .yes ? .yes : self
    }
}

extension SeverityInput {
    /// The facts of a case after a related report joined it: its category stays, the
    /// classifications and named assets are the union, a "yes" from either side stands, the persons add up.
    public func joining(_ other: SeverityInput) -> SeverityInput {
        var joined = self
        for classification in other.classifications where !joined.classifications.contains(classification) {
            joined.classifications.append(classification)
        }
        joined.personalData = personalData.joining(other.personalData)
        joined.myNumber = myNumber.joining(other.myNumber)
        joined.sensitivePersonalData = sensitivePersonalData.joining(other.sensitivePersonalData)
        joined.wrongfulIntent = wrongfulIntent.joining(other.wrongfulIntent)
        joined.affectedPersons = affectedPersons.adding(other.affectedPersons)
        if let named = other.assets {
            // Each asset once, however many reports of a storm name it.
            var assets = joined.assets ?? []
            for check in named where !assets.contains(check) { assets.append(check) }
            joined.assets = assets
        }
        return joined
    }
}

extension StatutoryVerdicts {
    /// The verdicts of a case after a related report joined it, with `moreThan100Persons`
    /// decided by the persons of the whole case (APPI Art. 68 with PPC Rule Art. 43(4); My
    /// Number Act Art. 29-4): the sum crossing 100 makes it "yes".
    public func joining(_ other: StatutoryVerdicts, persons: AffectedPersons) -> StatutoryVerdicts {
        var joined = self
        joined.personalData = personalData.joining(other.personalData)
        joined.myNumber = myNumber.joining(other.myNumber)
        joined.sensitiveData = sensitiveData.joining(other.sensitiveData)
        joined.propertyDamage = propertyDamage.joining(other.propertyDamage)
        joined.wrongfulIntent = wrongfulIntent.joining(other.wrongfulIntent)
        joined.unspecifiedViewers = unspecifiedViewers.joining(other.unspecifiedViewers)
        // Encryption is the exemption, not the trigger: it holds for the case only if it held
        // for every report (PPC Rule Art. 43(1) "except where protected by advanced encryption").
        joined.strongEncryption = [strongEncryption, other.strongEncryption].contains(.no) ? .no
            : [strongEncryption, other.strongEncryption].contains(.unknown) ? .unknown : .yes
        joined.moreThan100Persons = persons.exceeds(100) == true ? .yes : moreThan100Persons.joining(other.moreThan100Persons)
        return joined
    }
}
