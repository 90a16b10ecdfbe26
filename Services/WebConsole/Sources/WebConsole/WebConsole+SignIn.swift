import Directory
import Foundation
import Hummingbird
import HummingbirdAuth
import HummingbirdBcrypt
import NIOPosix
import Postgres

extension WebConsole {
    func addSignInRoutes(to router: some RouterMethods<ConsoleRequestContext>) {
        router.get("/sign-in") { request, context in
            if let session = context.sessions.session { return ConsolePageMiddleware.redirect(ConsoleAccess.home(for: session.current.role)) }
            return signInPage(request, context, person: "", error: nil)
        }
        router.post("/sign-in") { request, context in try await signIn(request, context) }
        router.post("/sign-out") { request, context in try await signOut(request, context) }
        router.post("/session/role") { request, context in try await switchRole(request, context) }
        router.post("/language") { request, context in
            let language = context.form["lang"].flatMap(ConsoleLanguage.init(rawValue:)) ?? .ja
            var response = ConsolePageMiddleware.redirect(context.form["back"] ?? "/")
            response.setCookie(
                Cookie(
                    name: ConsoleStateMiddleware.languageCookie, value: language.rawValue, maxAge: 365 * 24 * 3600, path: "/",
                    secure: configuration.secureCookies, httpOnly: true, sameSite: .strict))
            return response
        }
        router.get("/enrol/:token") { request, context in try await enrolPage(request, context, token: context.parameters.require("token")) }
        router.post("/enrol/:token") { request, context in try await enrol(request, context, token: context.parameters.require("token")) }
    }

    func signInPage(_ request: Request, _ context: ConsoleRequestContext, person: String, error: String?, status: HTTPResponse.Status = .ok) -> Response {
        page(
            "sign-in", title: "signInTitle", request, context,
            data: ["person": person, "next": request.uri.queryParameters.get("next") ?? context.form["next"] ?? "", "formError": error as Any], status: status)
    }

    func signIn(_ request: Request, _ context: ConsoleRequestContext) async throws -> Response {
        let form = context.form
        let personID = form["person"] ?? ""
        let agent = request.headers[.userAgent]
        let result = try await credentials.signIn(
            personID: personID, password: form.raw("password"), code: form["code"], address: context.remoteAddress, userAgent: agent, database: database)
        switch result {
        case .locked:
            return signInPage(request, context, person: personID, error: Labels.text("accountLocked", context.language), status: .unauthorized)
        case .wrongCredentials:
            return signInPage(request, context, person: personID, error: Labels.text("wrongCredentials", context.language), status: .unauthorized)
        case .signedIn:
            break
        }
        let (directory, credentials) = (directory, credentials)
        let (person, assignments) = try await database.withConnection { connection in
            (try directory.person(id: personID, on: connection), try directory.assignments(personID: personID, on: connection))
        }
        guard let person, let first = assignments.first else {
            // Enrolled once, but no longer in the directory or holding no role.
            return signInPage(request, context, person: personID, error: Labels.text("wrongCredentials", context.language), status: .unauthorized)
        }
        let roles = assignments.map { RoleChoice(role: $0.role, unitCode: $0.unitCode) }
        let current = roles.first { ConsoleAccess.handlers.contains($0.role) } ?? RoleChoice(role: first.role, unitCode: first.unitCode)
        let session = try await openSession(person: person, roles: roles, current: current)
        let previous = context.sessions.session?.apiTokenID
        let tokens = directory.tokens
        try await database.withConnection { connection in
            // Signing in over another session ends that session's token too.
            if let previous { try tokens.revoke(id: previous, on: connection) }
            try credentials.log(.signedIn, personID: personID, address: context.remoteAddress, userAgent: agent, role: current.key, on: connection)
        }
        context.sessions.createSession(session, expiresIn: .seconds(Int64(ConsoleSession.idleTimeout)))
        let next = context.form["next"].flatMap { $0.hasPrefix("/") && !$0.hasPrefix("//") ? $0 : nil }
        var response = ConsolePageMiddleware.redirect(next ?? ConsoleAccess.home(for: current.role))
        // A new form token with the new session: one learnt before signing in is worth nothing after.
        response.setCookie(
            Cookie(
                name: ConsoleStateMiddleware.csrfCookie, value: ConsoleStateMiddleware.newToken(), path: "/", secure: configuration.secureCookies,
                httpOnly: true, sameSite: .strict))
        return response
    }

    /// A session acting as `current`, with a fresh API token for that role and unit.
    func openSession(person: Organisation.Person, roles: [RoleChoice], current: RoleChoice) async throws -> ConsoleSession {
        let expiresAt = Date().addingTimeInterval(ConsoleSession.idleTimeout)
        let tokens = directory.tokens
        let (token, id) = try await database.withConnection { connection in
            try tokens.issue(role: current.role, unitCode: current.unitCode, label: "console:\(person.id)", expiresAt: expiresAt, on: connection)
        }
        return ConsoleSession(
            personID: person.id, personName: person.name, roles: roles, current: current, apiToken: token, apiTokenID: id, expiresAt: expiresAt)
    }

    func signOut(_ request: Request, _ context: ConsoleRequestContext) async throws -> Response {
        if let session = context.sessions.session {
            let (tokens, credentials) = (directory.tokens, credentials)
            try await database.withConnection { connection in
                try tokens.revoke(id: session.apiTokenID, on: connection)
                try credentials.log(
                    .signedOut, personID: session.personID, address: context.remoteAddress, userAgent: request.headers[.userAgent], role: session.current.key,
                    on: connection)
            }
            context.sessions.clearSession()
        }
        return ConsolePageMiddleware.redirect("/sign-in?notice=notice_signedOut")
    }

    func switchRole(_ request: Request, _ context: ConsoleRequestContext) async throws -> Response {
        var session = try context.requireSession(request)
        guard let choice = context.form["role"].flatMap(RoleChoice.init(key:)), session.roles.contains(choice) else { throw ConsolePageError.forbidden }
        let tokens = directory.tokens
        let expiresAt = Date().addingTimeInterval(ConsoleSession.idleTimeout)
        let (oldID, personID) = (session.apiTokenID, session.personID)
        let (token, id) = try await database.withTransaction { connection in
            try tokens.revoke(id: oldID, on: connection)
            return try tokens.issue(role: choice.role, unitCode: choice.unitCode, label: "console:\(personID)", expiresAt: expiresAt, on: connection)
        }
        session.current = choice
        session.apiToken = token
        session.apiTokenID = id
        session.expiresAt = expiresAt
        _ = context.sessions.updateSession(session, expiresIn: .seconds(Int64(ConsoleSession.idleTimeout)))
        return ConsolePageMiddleware.redirect(ConsoleAccess.home(for: choice.role) + "?notice=notice_roleSwitched")
    }

    // MARK: Enrolment

    /// The person a live invitation is for, and whether they must enrol a second factor.
    func invited(_ token: String) async throws -> (person: Organisation.Person, needsTOTP: Bool)? {
        let credentials = credentials
        return try await database.withConnection { connection -> (Organisation.Person, Bool)? in
            guard let person = try credentials.invitation(token, on: connection) else { return nil }
            return (person, try credentials.needsSecondFactor(personID: person.id, on: connection))
        }
    }

    func invalidInvitation(_ request: Request, _ context: ConsoleRequestContext) -> Response {
        page("enrol", title: "enrolTitle", request, context, data: ["invalid": true, "formError": Labels.text("invitationInvalid", context.language)], status: .notFound)
    }

    func enrolPage(_ request: Request, _ context: ConsoleRequestContext, token: String) async throws -> Response {
        guard let (person, needsTOTP) = try await invited(token) else { return invalidInvitation(request, context) }
        return enrolForm(request, context, token: token, person: person, totpSecret: needsTOTP ? Credentials.newTOTPSecret() : nil, errors: [:])
    }

    func enrolForm(
        _ request: Request, _ context: ConsoleRequestContext, token: String, person: Organisation.Person, totpSecret: String?, errors: [String: String],
        status: HTTPResponse.Status = .ok
    ) -> Response {
        var data: [String: Any] = ["token": token, "personID": person.id, "personName": person.name, "errors": errors]
        if let totpSecret {
            let (url, base32) = Credentials.authenticatorURL(secret: totpSecret, personID: person.id)
            data["totp"] = ["secret": totpSecret, "base32": base32, "url": url]
        }
        return page("enrol", title: "enrolTitle", request, context, data: data, status: status)
    }

    func enrol(_ request: Request, _ context: ConsoleRequestContext, token: String) async throws -> Response {
        guard let (person, needsTOTP) = try await invited(token) else { return invalidInvitation(request, context) }
        let form = context.form
        let password = form.raw("password")
        // The secret shown on the form comes back with it; only one of ours is accepted.
        let secret = needsTOTP ? (form["totpSecret"].flatMap { $0.count == 43 && $0.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" } ? $0 : nil } ?? Credentials.newTOTPSecret()) : nil
        var errors: [String: String] = [:]
        if let problem = PasswordRule.check(password, confirmation: form.raw("password2"), personID: person.id) {
            errors["password"] = Labels.text("pw_" + problem.rawValue, context.language)
        }
        if let secret, Credentials.matchingStep(secret: secret, code: form["code"], now: Date(), after: nil) == nil {
            errors["code"] = Labels.text("codeWrong", context.language)
        }
        guard errors.isEmpty else {
            return enrolForm(request, context, token: token, person: person, totpSecret: secret, errors: errors, status: .unprocessableContent)
        }
        let cost = configuration.bcryptCost
        let hash = try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
        let enrolled = try await credentials.enrol(
            token: token, passwordHash: hash, totpSecret: secret, address: context.remoteAddress, userAgent: request.headers[.userAgent], database: database)
        guard enrolled else { return invalidInvitation(request, context) }
        return ConsolePageMiddleware.redirect("/sign-in?notice=notice_enrolled")
    }
}
