import Testing
@testable import Bottleneck

@Test func monotonicClockNeverGoesBackwards() {
    var previous = MonotonicClock.now()
    for _ in 0..<1000 {
        let now = MonotonicClock.now()
        #expect(now >= previous)
        previous = now
    }
}
