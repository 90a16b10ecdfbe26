public import Foundation
public import Hummingbird
import Directory
import Mustache
import NIOCore

/// Renders the console's pages: Mustache templates from the target's resources, every
/// `{{value}}` HTML-escaped (the templates never use the unescaped forms), inside one layout.
public struct ConsoleRenderer: Sendable {
    let library: MustacheLibrary

    /// Loads every template of `directory` (the bundled `Resources/templates` by default).
    public init(directory: String? = nil) async throws {
        let path = directory ?? Self.resources.appendingPathComponent("templates").path
        library = try await MustacheLibrary(directory: path)
        // Fail at start, not on the first page, when the resources did not ship with the binary.
        guard library.getTemplate(named: "layout") != nil else { throw ConsoleResourcesMissing(path: path) }
    }

    struct ConsoleResourcesMissing: Error, CustomStringConvertible {
        var path: String
        var description: String { "no console templates in \(path) (set ISMS_CONSOLE_RESOURCES to the folder holding templates/ and static/)" }
    }

    /// The bundled resources: templates and the static files.
    public static var resources: URL {
        if let override = ProcessInfo.processInfo.environment["ISMS_CONSOLE_RESOURCES"], !override.isEmpty {
            return URL(fileURLWithPath: override)
        }
        // The target copies the folder `Resources` into its bundle; ask for it by name, since
        // where a bundle's resources start differs between platforms.
        return Bundle.module.url(forResource: "Resources", withExtension: nil) ?? Bundle.module.bundleURL.appendingPathComponent("Resources")
    }

    /// What every page's frame needs: the language, the form token, who is signed in.
    public struct Frame: Sendable {
        public var language: ConsoleLanguage
        public var csrf: String
        public var session: ConsoleSession?
        public var path: String
        public var notice: String?

        public init(language: ConsoleLanguage, csrf: String, session: ConsoleSession?, path: String, notice: String? = nil) {
            self.language = language
            self.csrf = csrf
            self.session = session
            self.path = path
            self.notice = notice
        }
    }

    /// The page `template` with `data`, framed.
    public func page(_ template: String, title: String, data: [String: Any] = [:], frame: Frame, status: HTTPResponse.Status = .ok) -> Response {
        let html = html(template, title: title, data: data, frame: frame)
        return Response(
            status: status, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// The page's HTML.
    func html(_ template: String, title: String, data: [String: Any], frame: Frame) -> String {
        var context = data
        for (key, value) in frameContext(frame, title: title) where context[key] == nil { context[key] = value }
        return library.render(Self.withoutNils(context), withTemplate: template) ?? "template \(template) missing"
    }

    /// The text of the template alone (server-sent fragments, tests).
    public func fragment(_ template: String, data: [String: Any]) -> String {
        library.render(Self.withoutNils(data), withTemplate: template) ?? ""
    }

    /// The context without absent values: pages put optionals in their dictionaries, and a
    /// section over an `Optional.none` boxed in `Any` would otherwise render as "nil".
    static func withoutNils(_ value: Any) -> Any {
        switch value {
        case let dictionary as [String: Any]:
            return dictionary.compactMapValues { unwrapped($0).map(withoutNils) }
        case let array as [[String: Any]]:
            return array.map { withoutNils($0) }
        default:
            return value
        }
    }

    static func unwrapped(_ value: Any) -> Any? {
        let mirror = Mirror(reflecting: value)
        guard mirror.displayStyle == .optional else { return value }
        return mirror.children.first.map { unwrapped($0.value) } ?? nil
    }

    func frameContext(_ frame: Frame, title: String) -> [String: Any] {
        let language = frame.language
        var context: [String: Any] = [
            "t": Labels.all(language),
            "lang": language.rawValue,
            "isJapanese": language == .ja,
            "csrf": frame.csrf,
            "pageTitle": title,
            "backPath": frame.path,
        ]
        if let key = frame.notice, key.hasPrefix("notice_"), Labels.table[key] != nil {
            context["notice"] = Labels.text(key, language)
        }
        guard let session = frame.session else { return context }
        context["who"] = [
            "name": session.personName,
            "role": Labels.roleName(session.current.role, language),
            "unit": session.current.unitCode as Any,
        ]
        context["roles"] = session.roles.map { choice in
            [
                "key": choice.key,
                "label": Labels.roleName(choice.role, language) + (choice.unitCode.map { " (\($0))" } ?? ""),
                "selected": choice == session.current,
            ] as [String: Any]
        }
        context["hasSeveralRoles"] = session.roles.count > 1
        context["nav"] = Self.navigation(for: session.current, language: language).map { item in
            ["href": item.href, "label": item.label, "current": frame.path == item.href || frame.path.hasPrefix(item.href + "/")] as [String: Any]
        }
        return context
    }

    /// The pages a role is offered, in the order of its work.
    static func navigation(for choice: RoleChoice, language: ConsoleLanguage) -> [(href: String, label: String)] {
        let role = choice.role
        var items: [(String, String)] = []
        if ConsoleAccess.handlers.contains(role) {
            items.append(("/queue", Labels.text("navQueue", language)))
            items.append(("/cases", Labels.text("navCases", language)))
        }
        if ConsoleAccess.deciders.contains(role) || role == .departmentSecurityOfficer { items.append(("/decisions", Labels.text("navDecisions", language))) }
        if WebConsole.reviewRoles.contains(role) { items.append(("/management-review", Labels.text("navReview", language))) }
        if ConsoleAccess.reporters.contains(role) { items.append(("/reports/new", Labels.text("navNewReport", language))) }
        if ConsoleAccess.unitReaders.contains(role) { items.append(("/reports", Labels.text("navReports", language))) }
        if ConsoleAccess.assetReaders.contains(role) { items.append(("/assets", Labels.text("navAssets", language))) }
        if WebConsole.dutyOrderers.contains(role) { items.append(("/duties", Labels.text("navDuties", language))) }
        if ConsoleAccess.riskReaders.contains(role) { items.append(("/risks", Labels.text("navRisks", language))) }
        if role == .generalSecurityOfficer { items.append(("/security/sign-ins", Labels.text("navSignIns", language))) }
        if role == .generalSystemAdministrator { items.append(("/operations", Labels.text("navOperations", language))) }
        return items
    }
}
