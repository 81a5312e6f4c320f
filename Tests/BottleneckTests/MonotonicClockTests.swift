import Testing
@testable import BottleneckCore
@testable import BottleneckLoad
@testable import BottleneckSampling
@testable import BottleneckRun
@testable import BottleneckDiagnosis
@testable import BottleneckReport

@Test func monotonicClockNeverGoesBackwards() {
    var previous = MonotonicClock.now()
    for _ in 0..<1000 {
        let now = MonotonicClock.now()
        #expect(now >= previous)
        previous = now
    }
}
