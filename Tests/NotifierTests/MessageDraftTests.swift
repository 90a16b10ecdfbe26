import Contracts
import Directory
import Foundation
@testable import Notifier
import Testing

/// The consumer renders a message once per event and fills in each recipient's name and link
/// (issue #16: an event told to twenty people was twenty renderings). What every recipient gets
/// must be exactly what rendering for them alone gives. Pure: no servers.
@Suite("Message drafts")
struct MessageDraftTests {
    static let engine: NotifierEngine = {
        let root = NotifierFixture.repository.appendingPathComponent("deploy/config")
        let settings = NotifierSettings(templatesPath: root.appendingPathComponent("templates").path, environment: [:])
        return try! NotifierEngine(
            schema: "notifier", routing: try! NotificationRouting.load(path: root.appendingPathComponent("notification-routes.yaml").path),
            templates: try! NotifierTemplates(directory: settings.templatesPath), settings: settings)
    }()

    static let recipients: [NotifierRecipient] = [
        NotifierRecipient(person: Organisation.Person(id: "chief-a", name: "山田 太郎", email: "chief-a@ward.test", language: .ja)),
        NotifierRecipient(person: Organisation.Person(id: "o-brien", name: " O'Brien & <Co> {{x}} ", email: "ob@ward.test", language: .en)),
        NotifierRecipient(endpoint: .init(name: "csirt-webhook", channel: .init(kind: .webhook, address: "http://127.0.0.1:1/hook"))),
    ]

    /// The token in a link carries its expiry in seconds: two renderings a second apart differ there.
    static func withoutToken(_ message: RenderedMessage) -> RenderedMessage {
        func strip(_ text: String) -> String { text.replacing(/acknowledgements\/[^\s]+/, with: "acknowledgements/TOKEN") }
        return RenderedMessage(subject: strip(message.subject), body: strip(message.body))
    }

    @Test("every shipped template renders once for all recipients, and each gets what rendering for them alone gives")
    func draftEqualsRendering() throws {
        let engine = Self.engine
        let events = [TestEvents.caseOpened(severity: 2), TestEvents.reportAttached(reportCount: 3), TestEvents.reported(myNumberDetected: true)]
            .map { StoredEvent(event: try! NotifierEvent(envelope: $0, restrictedFields: engine.routing.restrictedFields)) }
        let names = try Set(FileManager.default.contentsOfDirectory(atPath: engine.templates.directory).compactMap { file -> String? in
            guard file.hasSuffix(".ja.mustache") else { return nil }
            return String(file.dropLast(".ja.mustache".count))
        })
        #expect(names.count > 10)
        for name in names.sorted() {
            for language in Organisation.Language.allCases {
                // Every shipped template takes the fast path.
                #expect(engine.templates.rendersPersonalFieldsPlainly(name, language: language), "\(name).\(language.rawValue)")
                for event in events {
                    let units = NotifierEngine.UnitNames(section: "総務課", department: "総務部")
                    for recipient in Self.recipients where recipient.language == language {
                        let linked = event.caseRef != nil && recipient.personID != nil
                        let draft = try #require(try engine.draft(event, template: name, language: language, sequence: 0, acknowledgementLink: linked, units: units))
                        let filled = engine.personalise(draft, event: event, recipient: recipient)
                        let alone = try engine.render(
                            event, template: name, recipient: recipient, sequence: 0, onBehalfOfName: nil, acknowledgementLink: true, units: units)
                        #expect(Self.withoutToken(filled) == Self.withoutToken(alone), "\(name).\(language.rawValue) for \(recipient.key)")
                        #expect(!filled.body.contains("\u{FFFF}") && !filled.subject.contains("\u{FFFF}"))
                    }
                }
            }
        }
    }

    @Test("a template that uses the name or the link in any other way renders per recipient")
    func otherUsesRenderPerRecipient() {
        #expect(NotifierTemplates.usesPersonalFieldsPlainly("件名\n\n{{recipientName}} 様\n{{#ackLink}}\n{{ackLink}}\n{{/ackLink}}{{^ackLink}}-{{/ackLink}}"))
        #expect(NotifierTemplates.usesPersonalFieldsPlainly("no personal fields at all"))
        #expect(!NotifierTemplates.usesPersonalFieldsPlainly("{{#recipientName}}{{recipientName}}{{/recipientName}}"))
        #expect(!NotifierTemplates.usesPersonalFieldsPlainly("{{uppercased(recipientName)}}"))
        #expect(!NotifierTemplates.usesPersonalFieldsPlainly("{{=<% %>=}}<% recipientName %>"))
    }

    @Test("a draft is cut at the stand-ins; text with a U+FFFF of its own is not drafted")
    func cutting() throws {
        let name = MessageDraft.recipientNameStandIn
        let link = MessageDraft.ackLinkStandIn
        let draft = try #require(MessageDraft(RenderedMessage(subject: "  \(name) ", body: "\n\(name) 様\n\(link)\n\(link)")))
        #expect(draft.hasAckLink)
        #expect(draft.filled(recipientName: "Ann", ackLink: "L") == RenderedMessage(subject: "Ann", body: "Ann 様\nL\nL"))
        #expect(MessageDraft(RenderedMessage(subject: "x", body: "a\u{FFFF}b")) == nil)
        #expect(MessageDraft(RenderedMessage(subject: "x", body: "a\u{FFFF}other\u{FFFF}b")) == nil)
        #expect(MessageDraft(RenderedMessage(subject: "x", body: "no stand-in"))?.hasAckLink == false)
    }
}
