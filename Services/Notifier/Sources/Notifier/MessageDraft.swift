import Foundation

/// A message rendered once for all the recipients of one event (issue #16: an event told to
/// twenty people was twenty renderings, a quarter of the notifier's CPU): the text, cut where
/// the recipient's name and acknowledgement link go, so filling it in for one recipient is a
/// concatenation.
///
/// Exact because templates render plain text (no escaping) and only templates that name those
/// two as plain tags are drafted (``NotifierTemplates/usesPersonalFieldsPlainly(_:)``).
struct MessageDraft: Sendable, Hashable {
    /// Stand-ins rendered in place of the two values. U+FFFF is a noncharacter: no name,
    /// template or report carries it.
    static let recipientNameStandIn = "\u{FFFF}recipientName\u{FFFF}"
    static let ackLinkStandIn = "\u{FFFF}ackLink\u{FFFF}"

    enum Part: Sendable, Hashable {
        case text(String)
        case recipientName
        case ackLink
    }

    var subject: [Part]
    var body: [Part]

    /// Whether the text holds the acknowledgement link (the token is signed only then).
    var hasAckLink: Bool { (subject + body).contains(.ackLink) }

    /// Cuts a rendering made with the stand-ins; nil when the text holds a U+FFFF of its own
    /// (then the message is rendered per recipient).
    init?(_ rendered: RenderedMessage) {
        guard let subject = Self.parts(rendered.subject), let body = Self.parts(rendered.body) else { return nil }
        self.subject = subject
        self.body = body
    }

    /// The text with `recipientName` and `ackLink` in, as rendering with them gives it: the
    /// subject trimmed and the body without leading blank lines, as ``NotifierTemplates`` cuts them.
    func filled(recipientName: String, ackLink: String) -> RenderedMessage {
        func join(_ parts: [Part]) -> String {
            var text = ""
            for part in parts {
                switch part {
                case .text(let literal): text += literal
                case .recipientName: text += recipientName
                case .ackLink: text += ackLink
                }
            }
            return text
        }
        var body = join(body)
        while body.hasPrefix("\n") { body.removeFirst() }
        return RenderedMessage(subject: join(subject).trimmingCharacters(in: .whitespaces), body: body)
    }

    /// Splits on U+FFFF by Unicode scalar (a following combining mark cannot hide it in a
    /// grapheme): literal text and stand-in names alternate; anything else is nil.
    private static func parts(_ text: String) -> [Part]? {
        guard text.unicodeScalars.contains("\u{FFFF}") else { return [.text(text)] }
        var parts: [Part] = []
        let pieces = text.unicodeScalars.split(separator: "\u{FFFF}", omittingEmptySubsequences: false)
        guard !pieces.count.isMultiple(of: 2) else { return nil }
        for (index, piece) in pieces.enumerated() {
            let piece = String(piece)
            if index.isMultiple(of: 2) {
                if !piece.isEmpty { parts.append(.text(piece)) }
            } else if piece == "recipientName" {
                parts.append(.recipientName)
            } else if piece == "ackLink" {
                parts.append(.ackLink)
            } else {
                return nil
            }
        }
        return parts
    }
}
