import Acknowledgement
import Contracts
import CSIRTTriage
import Directory
import Foundation
import Testing
import WardCalendar

/// The repository's deploy/config folder, found from this file (symlinks resolved).
enum TriageConfigFiles {
    static let root = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static func path(_ name: String) -> String { root.appendingPathComponent("deploy/config/\(name)").path }

    static func severity() throws -> SeverityRules { try SeverityRules.load(path: path("severity-rules.yaml")) }
    static func escalation() throws -> EscalationPolicy { try EscalationPolicy.load(path: path("escalation-policy.yaml")) }
    static func statutory() throws -> StatutoryRules { try StatutoryRules.load(path: path("statutory-rules.yaml")) }
    static func correlation() throws -> CorrelationRules { try CorrelationRules.load(path: path("correlation-rules.yaml")) }
}

func input(
    _ category: IncidentCategory = .other, classifications: [AssetClassification] = [], personalData: Verdict = .no, myNumber: Verdict = .no,
    sensitive: Verdict = .no, wrongfulIntent: Verdict = .no, persons: AffectedPersons = .count(0)
) -> SeverityInput {
    SeverityInput(
        category: category, classifications: classifications, personalData: personalData, myNumber: myNumber,
        sensitivePersonalData: sensitive, wrongfulIntent: wrongfulIntent, affectedPersons: persons)
}

@Suite struct SeverityRulesTests {
    @Test func lostUSBStickWithMyNumbersOf150ResidentsIsCritical() throws {
        // The "done when": a lost USB stick holding My Numbers of 150 residents.
        let decision = try TriageConfigFiles.severity().decide(input(.lossOrTheft, personalData: .yes, myNumber: .yes, persons: .count(150)))
        #expect(decision.severity == 1)
        #expect(decision.rule == "my-number-over-100")
        #expect(decision.matched.contains("my-number-involved"))
        #expect(decision.reason.contains("29-4"))
        #expect(decision.rulesVersion == "2025.1")
    }

    @Test func myNumberOfFewPersonsIsHigh() throws {
        let decision = try TriageConfigFiles.severity().decide(input(.misdelivery, personalData: .yes, myNumber: .yes, persons: .count(1)))
        #expect(decision.severity == 2)
        #expect(decision.rule == "my-number-involved")
    }

    @Test func exactly100PersonsIsNotMoreThan100() throws {
        let rules = try TriageConfigFiles.severity()
        #expect(rules.decide(input(.dataLeak, personalData: .yes, persons: .count(100))).rule == "personal-data")
        #expect(rules.decide(input(.dataLeak, personalData: .yes, persons: .count(101))).rule == "personal-data-over-100")
    }

    @Test func classificationDecidesByTheSchemesOrder() throws {
        let rules = try TriageConfigFiles.severity()
        let secret = AssetClassification(confidentiality: .level3A, integrity: .level1, availability: .level1)
        let internalOnly = AssetClassification(confidentiality: .level2, integrity: .level1, availability: .level1)
        #expect(rules.decide(input(.unauthorisedAccess, classifications: [secret], wrongfulIntent: .unknown)).rule == "confidentiality-3a-attack")
        #expect(rules.decide(input(.lossOrTheft, classifications: [internalOnly, secret])).rule == "confidentiality-3-leak")
        #expect(rules.decide(input(.lossOrTheft, classifications: [internalOnly])).severity == 4)
        let critical = AssetClassification(confidentiality: .level1, integrity: .level2, availability: .level2)
        #expect(rules.decide(input(.systemOutage, classifications: [critical])).rule == "critical-system-outage")
    }

    @Test func unknownPersonalDataIsMediumAndNothingIsLow() throws {
        let rules = try TriageConfigFiles.severity()
        #expect(rules.decide(input(.other, personalData: .unknown)).severity == 3)
        let low = rules.decide(input(.other))
        #expect(low.severity == 4)
        #expect(low.rule == "default")
        #expect(low.matched.isEmpty)
    }

    @Test func tiesGoToTheEarlierRule() throws {
        let rules = try SeverityRules.parse(yaml: """
            version: t
            rules:
              - {id: first, severity: 2, reason: a, when: {category: malware}}
              - {id: second, severity: 2, reason: b, when: {category: [malware, other]}}
            """)
        #expect(rules.decide(input(.malware)).rule == "first")
        #expect(rules.decide(input(.malware)).matched == ["first", "second"])
    }

    @Test func errorsNameTheLine() throws {
        let yaml = """
            version: "1"
            rules:
              - id: a
                severity: 1
                reason: x
                when:
                  myNumber: "perhaps"
            """
        let error = #expect(throws: TriageConfigurationError.self) { try SeverityRules.parse(yaml: yaml, file: "bad.yaml") }
        #expect(error?.line == 7)
        #expect(error?.description.hasPrefix("bad.yaml:7:") == true)

        let typo = #expect(throws: TriageConfigurationError.self) {
            try SeverityRules.parse(yaml: "version: x\nrules:\n  - {id: a, severity: 5, reason: r, when: {category: malware}}\n")
        }
        #expect(typo?.line == 3)
        #expect(typo?.detail.contains("1 (critical) to 4") == true)

        let unknownKey = #expect(throws: TriageConfigurationError.self) {
            try SeverityRules.parse(yaml: "version: x\nrules:\n  - id: a\n    severity: 1\n    reason: r\n    when: {categroy: malware}\n")
        }
        #expect(unknownKey?.code == .unknownKey)
        #expect(unknownKey?.line == 6)
    }
}

@Suite struct EscalationPolicyTests {
    @Test func theShippedPolicyIsTheDocumentedDefault() throws {
        let policy = try TriageConfigFiles.escalation()
        #expect(policy.csirtThroughout)
        #expect(policy.steps[1] == .init(immediateThrough: 5, delay: .zero, stopAt: 5))
        #expect(policy.steps[2] == .init(immediateThrough: 2, delay: .seconds(1800), stopAt: 5))
        #expect(policy.steps[3] == .init(immediateThrough: 1, delay: .seconds(7200), stopAt: 4))
        #expect(policy.steps[4] == .init(immediateThrough: 1, delay: .seconds(28800), stopAt: 3))
        #expect(policy.steps == EscalationPolicy.standard.steps)
    }

    @Test func aRoleOutsideTheChainIsRefusedWithItsLine() throws {
        let yaml = "version: x\nseverities:\n  \"1\":\n    immediateThrough: mayor\n"
        let error = #expect(throws: TriageConfigurationError.self) { try EscalationPolicy.parse(yaml: yaml) }
        #expect(error?.line == 4)
    }
}

@Suite struct AcknowledgementTokenTests {
    @Test func signedTokensVerifyUntilTheyExpire() {
        let now = Date(timeIntervalSince1970: 1_750_000_000)
        let token = AcknowledgementToken.sign(caseNumber: "INC-2025-000042", personID: "p.kumin.head", expires: now.addingTimeInterval(3600), secret: "s")
        let claim = AcknowledgementToken.verify(token, secret: "s", now: now)
        #expect(claim?.caseNumber == "INC-2025-000042")
        #expect(claim?.personID == "p.kumin.head")
        #expect(AcknowledgementToken.verify(token, secret: "other", now: now) == nil)
        #expect(AcknowledgementToken.verify(token, secret: "s", now: now.addingTimeInterval(3601)) == nil)
        let tampered = token.replacingOccurrences(of: "INC-2025-000042", with: "INC-2025-000043")
        #expect(AcknowledgementToken.verify(tampered, secret: "s", now: now) == nil)
        #expect(AcknowledgementToken.verify("garbage", secret: "s", now: now) == nil)
    }
}
