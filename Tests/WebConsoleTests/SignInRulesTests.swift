import Acknowledgement
import Directory
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdOTP
import Testing
@testable import WebConsole

/// The lock-out, password and second-factor rules, and the form token, without a server.
@Suite struct SignInRulesTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func fiveFailuresLockForFifteenMinutesAndASixthIsRefused() {
        let rule = LockoutRule.standard
        var state = LockoutRule.State()
        for attempt in 1...4 {
            let (next, locked) = rule.failed(state, now: now)
            #expect(!locked)
            #expect(next.failures == attempt)
            state = next
        }
        let (lockedState, lockedNow) = rule.failed(state, now: now)
        #expect(lockedNow)
        #expect(rule.isLocked(lockedState, now: now.addingTimeInterval(60)))
        #expect(rule.isLocked(lockedState, now: now.addingTimeInterval(15 * 60 - 1)))
        #expect(!rule.isLocked(lockedState, now: now.addingTimeInterval(15 * 60)))
        // After the lock runs out, counting starts again from one.
        let (after, _) = rule.failed(lockedState, now: now.addingTimeInterval(16 * 60))
        #expect(after.failures == 1 && after.lockedUntil == nil)
    }

    @Test func passwordsAreLongConfirmedAndNotTheID() {
        #expect(PasswordRule.check("short", confirmation: "short", personID: "a") == .tooShort)
        #expect(PasswordRule.check("long enough here", confirmation: "long enough herE", personID: "a") == .mismatch)
        #expect(PasswordRule.check("csirt-lead-01", confirmation: "csirt-lead-01", personID: "CSIRT-LEAD-01") == .sameAsID)
        #expect(PasswordRule.check(String(repeating: "あ", count: 30), confirmation: String(repeating: "あ", count: 30), personID: "a") == .tooLong)
        #expect(PasswordRule.check("correct horse battery", confirmation: "correct horse battery", personID: "a") == nil)
    }

    @Test func wardWideRolesNeedASecondFactor() {
        #expect(SecondFactorRule.required(unitCodes: [nil]))
        #expect(SecondFactorRule.required(unitCodes: ["family-registry", nil]))
        #expect(!SecondFactorRule.required(unitCodes: ["family-registry"]))
    }

    @Test func aTOTPCodeWorksWithinOneStepAndOnlyOnce() {
        let secret = Credentials.newTOTPSecret()
        let code = String(format: "%06d", TOTP(secret: secret).compute(date: now))
        let step = Credentials.matchingStep(secret: secret, code: code, now: now, after: nil)
        #expect(step == Int64(now.timeIntervalSince1970 / 30))
        #expect(Credentials.matchingStep(secret: secret, code: code, now: now.addingTimeInterval(30), after: nil) == step)
        #expect(Credentials.matchingStep(secret: secret, code: code, now: now.addingTimeInterval(95), after: nil) == nil)
        #expect(Credentials.matchingStep(secret: secret, code: code, now: now, after: step) == nil, "a code is used once")
        #expect(Credentials.matchingStep(secret: secret, code: "12345", now: now, after: nil) == nil)
        #expect(Credentials.matchingStep(secret: secret, code: nil, now: now, after: nil) == nil)
    }

    @Test func theAuthenticatorURLCarriesTheSecretInBase32() {
        let (url, base32) = Credentials.authenticatorURL(secret: "ABC", personID: "csirt-lead")
        #expect(base32 == "IFBEG")
        #expect(url.hasPrefix("otpauth://totp/ISMS:csirt-lead?secret=IFBEG"))
    }

    @Test func formTokensCompareInConstantTimeAndRedirectsStayHome() {
        #expect(ConsoleStateMiddleware.constantTimeEqual("abc", "abc"))
        #expect(!ConsoleStateMiddleware.constantTimeEqual("abc", "abd"))
        #expect(!ConsoleStateMiddleware.constantTimeEqual("abc", "abcd"))
        #expect(ConsolePageMiddleware.redirect("/cases/1").headers[.location] == "/cases/1")
        #expect(ConsolePageMiddleware.redirect("//evil.example/").headers[.location] == "/")
        #expect(ConsolePageMiddleware.redirect("https://evil.example/").headers[.location] == "/")
        #expect(ConsolePageMiddleware.redirect("/\\evil.example").headers[.location] == "/")
    }

    @Test func aMailedLinkWorksOnlyInItsOwnersSession() throws {
        let token = AcknowledgementToken.sign(caseNumber: "INC-2026-000001", personID: "csirt.lead", expires: now, secret: "s")
        #expect(AcknowledgementToken.claim(token)?.caseNumber == "INC-2026-000001")
        var session = RenderingTests.session()
        session.personID = "csirt.lead"
        try WebConsole.requireOwnLink(token, session: session)
        session.personID = "csirt-analyst"
        #expect(throws: ConsolePageError.notFound) { try WebConsole.requireOwnLink(token, session: session) }
        #expect(AcknowledgementToken.claim("no-dots") == nil)
    }

    @Test func roleChoicesRoundTripThroughTheSwitcher() {
        #expect(RoleChoice(key: "csirt@") == RoleChoice(role: .csirt, unitCode: nil))
        #expect(RoleChoice(key: "sectionSecurityStaff@family-registry") == RoleChoice(role: .sectionSecurityStaff, unitCode: "family-registry"))
        #expect(RoleChoice(key: "mayor@") == nil)
        #expect(RoleChoice(role: .csirt, unitCode: nil).key == "csirt@")
    }
}
