@testable import BottleneckCore
@testable import BottleneckLoad
@testable import BottleneckSampling
@testable import BottleneckRun
@testable import BottleneckDiagnosis
@testable import BottleneckReport
import Testing

/// The open-loop queue test: the backlog a step leaves against what a steady queue holds.
@Suite("Backlog at the end of an open-loop step")
struct BacklogTests {
    /// An open-loop step as the engine reports it: `scheduled` requests, `finished` of them done
    /// by the schedule's end, the first third's requests at `firstThirdMs` mean latency.
    static func step(rate: Double, seconds: Double, scheduled: UInt64, finished: UInt64, firstThirdMs: Double,
                     p99Ms: Double, interrupted: Bool = false) -> StepResult {
        var s = StepStatistics()
        s.sent = scheduled
        s.completed = scheduled
        s.statusClasses[2] = scheduled
        s.finishedByScheduleEnd = finished
        for _ in 0..<scheduled { _ = s.latency.record(UInt64(p99Ms * 1e6)) }
        let third = scheduled / 3
        s.earlyCount = third
        s.earlyLatencySum = Double(third) * firstThirdMs * 1e6
        s.lateCount = third
        s.lateLatencySum = Double(third) * p99Ms * 1e6
        let load = LoadStep(name: "rate-\(Int(rate))", shape: .open(rate: rate, arrivals: .poisson), duration: UInt64(seconds * 1e9))
        return StepResult(index: 0, step: load, statistics: s, duration: seconds, interrupted: interrupted,
                          generatorCores: 0.1, allowedCores: 2)
    }

    @Test func aShortStepAboveCapacityLeavesAGrowingQueue() throws {
        // 30 req/s offered to a 20 req/s service for 3.25 s: 97 scheduled, 65 answered in time;
        // the first third already waited 0.27 s on average (a queue building at 10 req/s).
        let result = Self.step(rate: 30, seconds: 3.25, scheduled: 97, finished: 65, firstThirdMs: 320, p99Ms: 1_700)
        let backlog = try #require(result.backlog)
        #expect(backlog.atEnd == 32)
        #expect(backlog.expected == 9.6)
        #expect(backlog.growing && result.queueGrowing, "\(backlog)")
    }

    @Test func aSteadyQueueNearCapacityDoesNot() throws {
        // 18 req/s at 90 % utilisation: 0.275 s mean latency, so about 5 requests in the system,
        // and by chance twice that at the end.
        let result = Self.step(rate: 18, seconds: 3.25, scheduled: 58, finished: 48, firstThirdMs: 275, p99Ms: 900)
        let backlog = try #require(result.backlog)
        #expect(backlog.atEnd == 10)
        #expect(!backlog.growing, "\(backlog)")
    }

    @Test func aStallOfAFewMillisecondsAtAHighRateDoesNot() throws {
        // 2,000 req/s against a fast service (0.5 ms), and a 10 ms stall just before the end:
        // 20 requests more than the steady one in flight; 5 % of the schedule allows for it.
        let result = Self.step(rate: 2_000, seconds: 5, scheduled: 10_000, finished: 9_979, firstThirdMs: 0.5, p99Ms: 3)
        let backlog = try #require(result.backlog)
        #expect(backlog.atEnd == 21 && !backlog.growing, "\(backlog)")
        // The same fast service falling 10 % behind for the whole step does.
        let behind = Self.step(rate: 2_000, seconds: 5, scheduled: 10_000, finished: 9_000, firstThirdMs: 0.5, p99Ms: 3)
        #expect(behind.queueGrowing)
    }

    @Test func noVerdictWithoutAScheduleEndOrWhenInterrupted() {
        #expect(Self.step(rate: 30, seconds: 3, scheduled: 90, finished: 0, firstThirdMs: 300, p99Ms: 1_000).backlog == nil)
        #expect(Self.step(rate: 30, seconds: 3, scheduled: 90, finished: 60, firstThirdMs: 300, p99Ms: 1_000, interrupted: true).backlog == nil)
    }
}
