import CSIRTTriage
import Foundation
import Testing

/// The checks an order of use restriction passes before anything is stored (pure, no servers).
struct UseRestrictionOrderTests {
    let now = Date(timeIntervalSince1970: 1_743_470_000)

    @Test func aValidOrderIsTrimmedAndMyNumbersInItAreMasked() throws {
        let order = UseRestrictionOrder(
            targets: [.init(kind: .account, name: "  koseki-temp-07 ")], reason: " 個人番号 123456789018 の流出の疑い ", until: now.addingTimeInterval(60))
        let checked = try order.validated(now: now)
        #expect(checked.targets.first?.name == "koseki-temp-07")
        #expect(checked.reason == "個人番号 ************ の流出の疑い")
    }

    @Test func everyProblemIsNamedAtOnce() {
        let order = UseRestrictionOrder(
            targets: [.init(kind: .system, name: "x"), .init(kind: .system, name: "x")], reason: "", from: now.addingTimeInterval(600),
            until: now.addingTimeInterval(300))
        let error = #expect(throws: TriageError.self) { try order.validated(now: now) }
        #expect(error?.code == .invalidRequest)
        #expect(error?.detail == "a target is named twice; the reason is 1 to 2000 characters; until must be after from")
    }

    @Test func anEndInThePastOrNoTargetIsRefused() {
        let error = #expect(throws: TriageError.self) {
            try UseRestrictionOrder(targets: [], reason: "r", until: now.addingTimeInterval(-1)).validated(now: now)
        }
        #expect(error?.detail == "name 1 to 50 assets, systems or accounts; until must be after from; until must be in the future")
    }
}
