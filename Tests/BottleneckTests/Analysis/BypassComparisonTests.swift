import Foundation
import Testing
@testable import BottleneckLoad
@testable import BottleneckRun
@testable import BottleneckDiagnosis

/// The proxy's added time is the first step through it against the same step straight to the
/// backend; its medians count only when each step has enough answers for a median to be typical.
@Suite("Bypass comparison")
struct BypassComparisonTests {
    static func summary(achieved: Double, p50: Double) -> RunSummary {
        RunSummary(name: "t", target: "http://x/", runDirectory: "/r", plannedSteps: 1, interrupted: false,
                   steps: [SyntheticSteps.make(0, shape: .closed(concurrency: 1), achieved: achieved, p99: p50, duration: 4)],
                   requestsRecorded: 0, generatorPeakRSSBytes: 0)
    }

    @Test func mediansAreComparedFromSixteenAnswersOn() throws {
        // 4 s at 4 req/s: 16 answers per step, the floor.
        let enough = try #require(RunEvidence.bypassComparison(Self.summary(achieved: 4, p50: 4), summary: Self.summary(achieved: 4, p50: 40)))
        #expect(enough.throughP50 == 40 && enough.backendP50 == 4)
        #expect(enough.backendConnectionsPerRequest == 0)
    }

    @Test func aFewAnswersGiveNoMedianButStillTheConnectionCount() throws {
        // 4 s at 3 req/s (a service whose worker stalls for seconds): 12 answers, where one
        // stalled request makes "the median" a stall. The medians are left out, not guessed.
        let few = try #require(RunEvidence.bypassComparison(Self.summary(achieved: 3, p50: 4), summary: Self.summary(achieved: 3, p50: 2_300)))
        #expect(few.throughP50 == nil && few.backendP50 == nil)
        #expect(few.backendConnectionsPerRequest == 0)
    }
}
