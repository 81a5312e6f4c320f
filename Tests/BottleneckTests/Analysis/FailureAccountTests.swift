import Foundation
import Testing
@testable import BottleneckSampling
@testable import BottleneckDiagnosis

/// Each failed request counted under a cause, and each server death named by what the
/// kernel and the requests it took with it say.
@Suite("Failure account")
struct FailureAccountTests {
    static let second: UInt64 = 1_000_000_000

    static func failed(sent: Double, end: Double, status: Int = 0, error: String = "", pixels: Double = 0) -> RequestAggregates.FailedRequest {
        RequestAggregates.FailedRequest(step: 0, sentNanoseconds: UInt64(sent * 1e9), endNanoseconds: UInt64(end * 1e9), status: status,
                                        error: error, payloadBytes: pixels / 4, pixels: pixels)
    }

    static func exit(at t: Double, pid: Int32, oom: Bool) -> ProcessEvent {
        var event = ProcessEvent(kind: .exit, nanoseconds: UInt64(t * 1e9), previousNanoseconds: UInt64((t - 0.25) * 1e9), role: "server",
                                 pid: pid, parentPID: 1, root: 1, comm: "python", rssBytes: 300_000_000, rssPeakBytes: nil)
        event.oomKill = oom
        return event
    }

    static func start(at t: Double, pid: Int32) -> ProcessEvent {
        ProcessEvent(kind: .start, nanoseconds: UInt64(t * 1e9), previousNanoseconds: UInt64((t - 0.25) * 1e9), role: "server",
                     pid: pid, parentPID: 1, root: 1, comm: "python", rssBytes: 90_000_000, rssPeakBytes: nil)
    }

    static let healthy: [Int: [Double]] = [0: Array(repeating: 20, count: 50)]

    @Test func anOOMKillTakesItsInFlightRequestsAndNamesTheLargestInput() {
        let failures = [Self.failed(sent: 9.5, end: 10.1, status: 502, pixels: 30e6), Self.failed(sent: 9.9, end: 10.1, status: 502, pixels: 2e6),
                        Self.failed(sent: 20, end: 50, error: "timeout")]
        let account = FailureAccount(failures: failures, events: [Self.exit(at: 10.25, pid: 7, oom: true), Self.start(at: 10.5, pid: 8)],
                                     successServiceMs: Self.healthy, sampleInterval: 250_000_000)
        let death = account.deaths[0]
        #expect(death.kind == .oomKill && death.inFlight.count == 2 && death.largestInput?.pixels == 30e6)
        #expect(death.replacement?.pid == 8)
        #expect(account.causes == ["oom-kill": 2, "timeout": 1])
        #expect(account.metrics[Metric.failuresKilledInputMpx] == 30 && account.metrics[Metric.failuresGatewayAtDeaths] == 2)
    }

    @Test func aWorkerKilledHoldingAStuckRequestIsATimeoutAndOneHoldingAFastOneACrash() {
        // 2.5 s against healthy requests of 20 ms: stuck. 40 ms: a crash mid-request.
        let stuck = FailureAccount(failures: [Self.failed(sent: 7.5, end: 10.0, status: 500)], events: [Self.exit(at: 10.5, pid: 7, oom: false)],
                                   successServiceMs: Self.healthy, sampleInterval: 250_000_000)
        #expect(stuck.deaths.map(\.kind) == [.timeout] && stuck.causes == ["worker-timeout": 1])
        let crash = FailureAccount(failures: [Self.failed(sent: 9.96, end: 10.0, error: "reset")], events: [Self.exit(at: 10.25, pid: 7, oom: false)],
                                   successServiceMs: Self.healthy, sampleInterval: 250_000_000)
        #expect(crash.deaths.map(\.kind) == [.crash] && crash.causes == ["worker-crash": 1])
    }

    @Test func aWorkerThatTookNoRequestWithItWasRecycledAndEveryFailureHasACause() {
        let failures = [Self.failed(sent: 1, end: 1.1, status: 503), Self.failed(sent: 2, end: 2.1, status: 500),
                        Self.failed(sent: 3, end: 3.0, error: "refused"), Self.failed(sent: 4, end: 4.0, error: "too-many-files"),
                        Self.failed(sent: 5, end: 5.0, error: "malformed")]
        let account = FailureAccount(failures: failures, events: [Self.exit(at: 30, pid: 7, oom: false)],
                                     successServiceMs: Self.healthy, sampleInterval: 250_000_000)
        #expect(account.deaths.map(\.kind) == [.recycled])
        #expect(account.causes == ["gateway-5xx": 1, "service-5xx": 1, "refused": 1, "generator": 1, "other": 1])
        #expect(account.causes.values.reduce(0, +) == failures.count, "no failed request left uncounted")
        #expect(account.gatewayErrors == 1 && account.serviceErrors == 1 && account.metrics[Metric.failuresUnexplained] == 1)
    }
}
