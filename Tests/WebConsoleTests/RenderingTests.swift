import Directory
import Foundation
import Testing
@testable import WebConsole

/// Every string a person or a service supplied is HTML-escaped on every page.
@Suite struct RenderingTests {
    static let hostile = #"<script>alert("x")</script>&'"#

    static func session() -> ConsoleSession {
        ConsoleSession(
            personID: "csirt-lead", personName: hostile, roles: [RoleChoice(role: .csirt, unitCode: nil), RoleChoice(role: .sectionSecurityStaff, unitCode: "x<y")],
            current: RoleChoice(role: .csirt, unitCode: nil), apiToken: "isms_x", apiTokenID: UUID(), expiresAt: Date())
    }

    static func render(_ template: String, _ data: [String: Any], language: ConsoleLanguage = .ja) async throws -> String {
        let renderer = try await ConsoleRenderer()
        return renderer.html(template, title: hostile, data: data, frame: .init(language: language, csrf: "tok\"en", session: session(), path: "/p"))
    }

    func assertEscaped(_ html: String) {
        #expect(!html.contains("<script>alert"), "a raw script tag reached the page")
        #expect(html.contains("&lt;script&gt;"))
        #expect(!html.contains(#"value="tok"en""#))
    }

    @Test func casePageEscapesEverythingItShows() async throws {
        let h = Self.hostile
        let html = try await Self.render("case", [
            "case": ["number": h, "title": h, "description": h, "state": h, "stateLabel": h, "severity": 1, "severityRule": h, "severityReason": h,
                     "category": h, "section": h, "department": h, "qualification": h, "qualificationReason": h, "classifications": h, "affectedPersons": h,
                     "source": h, "escalationLevel": 1, "hasNamedAssets": true,
                     "namedAssets": [["id": h, "name": h, "registered": h, "reported": h, "differs": true] as [String: Any]]] as [String: Any],
            "timestamps": [["label": h, "value": h]],
            "obligations": [["id": h, "kind": h, "recipient": h, "status": h, "law": h, "due": h, "left": h, "urgent": true, "canFile": true] as [String: Any]],
            "restrictions": [["id": h, "status": h, "statusLabel": h, "targets": [["kind": h, "name": h]], "reason": h, "orderedBy": h, "orderedAt": h, "canDecide": true] as [String: Any]],
            "history": [["seq": 1, "action": h, "actor": h, "role": h, "at": h, "reason": h, "hash": h] as [String: Any]],
            "comments": [["text": h, "actor": h, "at": h]], "assignees": [["person": h, "at": h]],
            "notifications": [["recipient": h, "channel": h, "state": h, "event": h, "at": h]],
            "people": [["id": h, "name": h]], "transitions": [["action": h, "label": h]], "hasTransitions": true,
            "isHandler": true, "canRestrict": true, "canQualify": true, "canAcknowledge": true, "verified": true, "actionError": h,
            "verdicts": [["name": h, "label": h, "value": h, "options": [["value": h, "label": h, "selected": true]]] as [String: Any]],
        ])
        assertEscaped(html)
        #expect(html.contains(#"id="history-verified""#))
        #expect(html.components(separatedBy: "&lt;script&gt;").count > 30)
    }

    @Test func assetPagesEscapeEverythingTheyShow() async throws {
        let h = Self.hostile
        let field: [String: Any] = ["value": h, "error": h]
        let list = try await Self.render("assets", [
            "assets": [["id": h, "name": h, "section": h, "c": h, "i": h, "a": h, "myNumber": true, "retired": true] as [String: Any]], "canCreate": true,
        ])
        assertEscaped(list)
        let asset = try await Self.render("asset", [
            "asset": ["id": h, "name": h, "section": h, "classification": h, "myNumber": ["handlers": h, "area": h], "systems": h, "contractors": h,
                      "retired": true, "updatedBy": h, "updatedAt": h] as [String: Any],
            "editable": true, "isNew": true, "formError": h, "action": "/assets", "id": field, "name": field, "nameEn": field, "sectionCode": field,
            "confidentiality": [["value": h, "label": h, "selected": true] as [String: Any]], "classificationError": h,
            "handlers": field, "area": field, "systems": field, "contractors": field,
        ])
        assertEscaped(asset)
        #expect(asset.components(separatedBy: "&lt;script&gt;").count > 15)
    }

    @Test func reportFormKeepsWhatWasTypedEscaped() async throws {
        let h = Self.hostile
        let field: [String: Any] = ["value": h, "error": h]
        let html = try await Self.render("report-form", [
            "reportId": h, "title": field, "description": field, "reporterName": field, "reporterContact": field, "affectedPersons": field,
            "occurredAt": field, "detectedAt": field, "knownAt": field, "categories": [["value": h, "label": h, "selected": true]],
            "answers": [["name": h, "label": h, "error": h, "options": [["value": h, "label": h]]] as [String: Any]],
            "assets": [["index": 0, "number": 1, "name": field, "id": field, "error": h] as [String: Any]], "formError": h,
        ])
        assertEscaped(html)
        #expect(html.contains(#"class="field-error" data-field="title""#))
    }

    @Test func frameShowsWhoInTheirLanguageAndNoNilText() async throws {
        let english = try await Self.render("not-found", [:], language: .en)
        #expect(english.contains(#"<html lang="en">"#))
        #expect(english.contains("Sign out"))
        #expect(english.contains(#"id="role-form""#))
        #expect(!english.contains(">nil<"))
        let japanese = try await Self.render("not-found", ["formError": String?.none as Any], language: .ja)
        #expect(japanese.contains(#"<html lang="ja">"#))
        #expect(japanese.contains("ログアウト"))
        #expect(!japanese.contains("nil"))
    }

    @Test func navigationFollowsTheRole() {
        let csirt = ConsoleRenderer.navigation(for: RoleChoice(role: .csirt, unitCode: nil), language: .ja).map(\.href)
        // Issue #18: CSIRT reads the asset register and orders education and self-inspection after an incident.
        #expect(csirt == ["/queue", "/cases", "/assets", "/duties"])
        let ciso = ConsoleRenderer.navigation(for: RoleChoice(role: .ciso, unitCode: nil), language: .ja).map(\.href)
        #expect(ciso.contains("/decisions") && !ciso.contains("/reports/new"))
        let staff = ConsoleRenderer.navigation(for: RoleChoice(role: .sectionSecurityStaff, unitCode: "a"), language: .ja).map(\.href)
        #expect(staff == ["/reports/new", "/reports"])
        // The register is for officers: a section's officer keeps its assets, its staff does not see them.
        let officer = ConsoleRenderer.navigation(for: RoleChoice(role: .sectionSecurityOfficer, unitCode: "a"), language: .ja).map(\.href)
        #expect(officer.contains("/assets"))
        #expect(ConsoleRenderer.navigation(for: RoleChoice(role: .auditChief, unitCode: nil), language: .ja).map(\.href) == ["/assets", "/duties", "/risks"])
        #expect(ConsoleRenderer.navigation(for: RoleChoice(role: .generalSecurityOfficer, unitCode: nil), language: .ja).map(\.href).contains("/security/sign-ins"))
    }
}
