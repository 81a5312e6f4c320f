import Foundation

/// Tests that need a dependency `make setup` installs skip, saying why, where it is missing —
/// except under `make test`, which runs setup first and sets BOTTLENECK_REQUIRE_TEST_DEPENDENCIES=1:
/// there they run regardless and fail on the missing dependency instead of skipping unnoticed.
enum TestRequirements {
    static let enforced = ProcessInfo.processInfo.environment["BOTTLENECK_REQUIRE_TEST_DEPENDENCIES"] == "1"
}
