import ConfigFiles
import Contracts
import Directory
import Foundation
import ISMSTesting
@testable import Notifier
import Testing

@Suite("Routing file")
struct RoutingTests {
    static let root = NotifierFixture.repository

    @Test("the shipped routing file and templates load and agree")
    func shippedFileLoads() throws {
        let routing = try NotificationRouting.load(path: Self.root.appendingPathComponent("deploy/config/notification-routes.yaml").path)
        let templates = try NotifierTemplates(directory: Self.root.appendingPathComponent("deploy/config/templates").path)
        try templates.check(routing)
        // Issue #16: the chain is told per case; a report alone is not notified.
        #expect(routing.matches(["type": "incident.reported.v1", "sectionCode": "family-registry"]).isEmpty)
        let opened = routing.matches(["type": "incident.case-opened.v1", "source.kind": "incident-report", "sectionCode": "family-registry"])
        #expect(opened.map(\.receiver.name) == ["incident-chain", "csirt-hook"])
        #expect(opened.allSatisfy { $0.route.acknowledge == ($0.receiver.name == "incident-chain") })
        #expect(routing.matches(["type": "incident.case-opened.v1", "source.kind": "contractor-violation"]).map(\.receiver.name) == ["incident-chain", "csirt-hook"])
        // An attach is grouped per case with no link or reminders; raising the case to severity 1 is not grouped.
        let attached = routing.matches(["type": "incident.report-attached.v1", "caseNumber": "INC-2026-000001", "severity": "1", "severityRaised": "false"])
        #expect(attached.map(\.receiver.name) == ["incident-chain", "csirt-hook"])
        #expect(attached.allSatisfy { $0.route.groupBy == ["caseNumber"] && $0.route.groupSeverity1 && !$0.route.acknowledge && $0.route.repeatInterval == nil })
        let raised = routing.matches(["type": "incident.report-attached.v1", "caseNumber": "INC-2026-000001", "severity": "1", "severityRaised": "true"])
        #expect(raised.map(\.receiver.name) == ["incident-chain", "csirt-hook"] && raised.allSatisfy { $0.route.groupBy.isEmpty })
        #expect(templates.has("incident.report-attached.v1.group"))
        #expect(routing.matches(["type": "incident.case-merged.v1"]).isEmpty)
        // A new case tells each person once: the initial escalation to a role of the chain is
        // the case-opened notice; one above the chain (severity 1) and every later level are told.
        for role in ["sectionSecurityStaff", "sectionSecurityOfficer", "departmentSecurityOfficer", "generalSecurityManager", "csirt"] {
            #expect(routing.matches(["type": "incident.escalated.v1", "severity": "1", "reason": "initial", "role": role]).isEmpty, "\(role)")
        }
        for role in ["generalSecurityOfficer", "ciso"] {
            let initial = routing.matches(["type": "incident.escalated.v1", "severity": "1", "reason": "initial", "role": role])
            #expect(initial.map(\.receiver.name) == ["escalation-recipients"], "\(role)")
        }
        // Lower severities escalate step by step; each step tells whom the event names.
        #expect(routing.matches(["type": "incident.escalated.v1", "severity": "2", "reason": "timeout", "role": "departmentSecurityOfficer"]).map(\.receiver.name) == ["escalation-recipients"])
        #expect(routing.matches(["type": "directory.changed.v1"]).isEmpty)
        // A duty forced overdue reaches the department security officer (Art. 17).
        let overdue = routing.matches(["type": "duty.escalated.v1", "recipient.role": "departmentSecurityOfficer", "recipient.unitCode": "general-affairs-dept"])
        #expect(overdue.map(\.receiver.name) == ["duty-department-officer"])
        #expect(routing.matches(["type": "duty.completed.v1", "recipient.role": "departmentSecurityOfficer"]).isEmpty)
        #expect(routing.matches(["type": "contractor.violation.detected.v1"]).map(\.receiver.name) == ["contractor-violation"])
        #expect(routing.matches(["type": "contractor.attestation-overdue.v1"]).map(\.receiver.name) == ["contract-section-officer"])
    }

    @Test("the first matching child stops its siblings unless it says continue; settings are inherited")
    func continueAndStop() throws {
        let routing = try NotificationRouting.parse(yaml: """
            receivers:
              - { name: a, roles: [csirt] }
              - { name: b, roles: [ciso] }
              - { name: c, people: [x] }
            route:
              receiver: c
              template: generic
              groupWait: 10s
              routes:
                - matchers: ['category =~ "malware|data-leak"']
                  receiver: a
                  routes:
                    - matchers: ['severity = 1']
                      receiver: b
                - matchers: ['category != other']
                  receiver: b
            """, file: "t.yaml")
        #expect(routing.matches(["category": "malware"]).map(\.receiver.name) == ["a"])
        #expect(routing.matches(["category": "malware", "severity": "1"]).map(\.receiver.name) == ["b"])
        #expect(routing.matches(["category": "misdelivery"]).map(\.receiver.name) == ["b"])
        #expect(routing.matches(["category": "other"]).map(\.receiver.name) == ["c"])
        #expect(routing.allRoutes[1].groupWait == .seconds(10))
    }

    @Test("every problem names its line")
    func problemsNameLines() {
        #expect {
            _ = try NotificationRouting.parse(yaml: """
                receivers:
                  - name: a
                    roles: [csirt, chiefOfEverything]
                route:
                  routes:
                    - matchers: ['type = incident.reported.v1']
                      receiver: nobody
                    - matchers: ['severity ~ 1']
                      receiver: a
                      groupWait: soon
                      colour: blue
                """, file: "bad.yaml")
        } throws: { error in
            guard let error = error as? NotifierError, error.code == .invalidRoutes else { return false }
            let lines = Set(error.problems.map(\.line))
            let text = error.description
            return lines.isSuperset(of: [3, 7, 8, 10, 11]) && text.contains("bad.yaml:3:") && text.contains("chiefOfEverything")
                && text.contains("no receiver named 'nobody'") && text.contains("unknown key 'colour'")
        }
    }

    @Test("a routed event type without a template stops the start")
    func missingTemplateIsAnError() throws {
        let routing = try NotificationRouting.parse(yaml: """
            receivers: [{ name: a, roles: [csirt] }]
            route:
              routes:
                - matchers: ['type = duty.overdue.v1']
                  receiver: a
            """, file: "r.yaml")
        let templates = try NotifierTemplates(texts: ["_group.ja": "g\n\nx", "_group.en": "g\n\nx", "duty.overdue.v1.ja": "s\n\nb"])
        #expect {
            try templates.check(routing)
        } throws: { error in
            (error as? NotifierError)?.code == .missingTemplate && "\(error)".contains("duty.overdue.v1.en.mustache") && "\(error)".contains("r.yaml:4:")
        }
        // A group summary in one language only is refused too.
        let halfSummary = try NotifierTemplates(texts: [
            "_group.ja": "g\n\nx", "_group.en": "g\n\nx", "duty.overdue.v1.ja": "s\n\nb", "duty.overdue.v1.en": "s\n\nb", "duty.overdue.v1.group.ja": "s\n\nb",
        ])
        #expect {
            try halfSummary.check(routing)
        } throws: { error in
            "\(error)".contains("duty.overdue.v1.group.en.mustache")
        }
    }

    @Test("matchers: equality, inequality, anchored regular expressions")
    func matchers() throws {
        #expect(try NotificationRouting.Matcher(parsing: "severity = 1").matches(["severity": "1"]))
        #expect(try !NotificationRouting.Matcher(parsing: "severity =~ \"1|2\"").matches(["severity": "12"]))
        #expect(try NotificationRouting.Matcher(parsing: "sectionCode !~ test-.*").matches(["sectionCode": "family-registry"]))
        #expect(try NotificationRouting.Matcher(parsing: "category != other").matches([:]))
        #expect(throws: NotifierError.self) { try NotificationRouting.Matcher(parsing: "severity") }
    }
}

@Suite("Signatures, tokens and templates")
struct SigningTests {
    @Test("Standard Webhooks: v1 signature over id.timestamp.body, verified with tolerance")
    func standardWebhooks() {
        let body = Array(#"{"a":1}"#.utf8)
        let now = Date()
        let timestamp = Int64(now.timeIntervalSince1970)
        let signature = StandardWebhooks.signature(id: "ntf_1", timestamp: timestamp, body: body, secret: "whsec_c2VjcmV0")
        #expect(signature.hasPrefix("v1,"))
        #expect(StandardWebhooks.verify(id: "ntf_1", timestamp: String(timestamp), signatureHeader: "v1,xyz \(signature)", body: body, secret: "whsec_c2VjcmV0", now: now))
        #expect(!StandardWebhooks.verify(id: "ntf_1", timestamp: String(timestamp), signatureHeader: signature, body: body, secret: "whsec_b3RoZXI=", now: now))
        #expect(!StandardWebhooks.verify(id: "ntf_2", timestamp: String(timestamp), signatureHeader: signature, body: body, secret: "whsec_c2VjcmV0", now: now))
        #expect(!StandardWebhooks.verify(id: "ntf_1", timestamp: String(timestamp), signatureHeader: signature, body: body, secret: "whsec_c2VjcmV0", now: now.addingTimeInterval(600)))
        // The secret is the base64 after whsec_: "secret".
        #expect(StandardWebhooks.key("whsec_c2VjcmV0") == Array("secret".utf8))
    }

    @Test("acknowledgement links open the web console when ISMS_CONSOLE_PUBLIC_URL is set, triage's page otherwise")
    func acknowledgementLinks() throws {
        let triage = try NotifierSettings.fromEnvironment(["ISMS_TRIAGE_PUBLIC_URL": "https://isms.ward.example/triage/"])
        #expect(triage.consolePublicURL == nil)
        #expect(triage.acknowledgementLink(token: "t.k") == "https://isms.ward.example/triage/v1/acknowledgements/t.k")
        let console = try NotifierSettings.fromEnvironment([
            "ISMS_TRIAGE_PUBLIC_URL": "https://isms.ward.example/triage", "ISMS_CONSOLE_PUBLIC_URL": "https://isms.ward.example/console/",
        ])
        #expect(console.acknowledgementLink(token: "t.k") == "https://isms.ward.example/console/acknowledge/t.k")
        // Set but empty is unset (a blank line in an env file).
        #expect(try NotifierSettings.fromEnvironment(["ISMS_CONSOLE_PUBLIC_URL": ""]).acknowledgementLink(token: "x") == "http://127.0.0.1:8082/v1/acknowledgements/x")
    }

    @Test("a My Number is masked in the rendered subject and body, whatever the template shows")
    func renderedMyNumberIsMasked() throws {
        let templates = try NotifierTemplates(texts: ["x.ja": "件名 {{event.title}}\n\n本文 {{event.description}} {{raw}}"])
        // 123456789018 has a valid check digit.
        let message = try templates.render("x", language: .ja, context: ["event": ["title": "番号 123456789018", "description": "1234 5678 9018"], "raw": "123456789018"])
        #expect(!message.subject.contains("123456789018") && !message.body.contains("123456789018") && !message.body.contains("1234 5678 9018"))
        #expect(message.subject.contains("************"))
    }

    @Test("a restricted event exposes only the allowed, masked fields")
    func restrictedFields() throws {
        let envelope = TestEvents.reported(description: "個人番号 123456789018 を誤送付", myNumberDetected: true)
        let event = try NotifierEvent(envelope: envelope, restrictedFields: NotificationRouting.defaultRestrictedFields)
        #expect(event.classification == .restricted)
        #expect(event.context["reporter"] == nil)
        #expect(event.context["description"]?.stringValue?.contains("123456789018") == false)
        #expect(event.attributes["sectionCode"] == "sec-a")
    }
}
