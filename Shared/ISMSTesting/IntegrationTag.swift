public import Testing
import Foundation

extension Tag {
    /// A test that needs the real broker or database of the test stack (`make test` starts it).
    @Tag public static var integration: Self
}

extension Trait where Self == ConditionTrait {
    /// Skips an integration test when `ISMS_TEST_UNIT_ONLY` is set: `make test-unit` runs every
    /// other test with no server at all. Swift Testing's `--filter` and `--skip` match names,
    /// not tags, so the tag alone cannot leave these out.
    public static var needsTestServers: Self {
        .enabled(if: ProcessInfo.processInfo.environment["ISMS_TEST_UNIT_ONLY"] == nil, "an integration test: needs the test stack (make test)")
    }
}
