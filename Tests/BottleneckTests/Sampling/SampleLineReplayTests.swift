import Foundation
import Testing
@testable import BottleneckCore
@testable import BottleneckLoad
@testable import BottleneckSampling
@testable import BottleneckRun
@testable import BottleneckDiagnosis
@testable import BottleneckReport

/// The aggregates rebuilt from sample lines (how a run folds an agent's samples) against
/// the ones the sampler folded from its own readings while it wrote those lines.
@Suite("Sample line replay", .serialized)
struct SampleLineReplayTests {
    /// The steps as the sampler began them: at the sample it takes when a step is marked,
    /// the last before its `step` record (which it writes once that sample is taken; a
    /// sampler behind schedule may take a long time over it).
    static func markedSteps(_ path: String) throws -> [SampleLineReplay.StepStart] {
        let records = try SamplingSessionIntegrationTests.records(path)
        let ticks = records.filter { $0["type"] as? String == "host" }.compactMap { ($0["t"] as? NSNumber)?.uint64Value }
        return try records.filter { $0["type"] as? String == "step" }.map { step in
            let marked = try #require((step["t"] as? NSNumber)?.uint64Value)
            return SampleLineReplay.StepStart(index: try #require(step["index"] as? Int), name: try #require(step["name"] as? String),
                                              start: try #require(ticks.last { $0 <= marked }))
        }
    }

    /// Equal but for what the lines hold rounded to six decimals (cores, fractions).
    static func expectSame(_ replayed: RoleAggregate, _ sampled: RoleAggregate, _ label: String) {
        func close(_ a: Double?, _ b: Double?, _ what: String, within: Double = 1e-5) {
            switch (a, b) {
            case let (a?, b?): #expect(abs(a - b) <= within, "\(label) \(what): replayed \(a), sampled \(b)")
            default: #expect(a == nil && b == nil, "\(label) \(what): replayed \(String(describing: a)), sampled \(String(describing: b))")
            }
        }
        #expect(replayed.processes == sampled.processes, "\(label) processes")
        close(replayed.cpuCoresMean, sampled.cpuCoresMean, "cpuCoresMean")
        close(replayed.cpuCoresMax, sampled.cpuCoresMax, "cpuCoresMax")
        close(replayed.coresAllowed, sampled.coresAllowed, "coresAllowed")
        #expect(replayed.busiestProcess == sampled.busiestProcess, "\(label) busiestProcess")
        #expect(replayed.saturatedProcesses == sampled.saturatedProcesses, "\(label) saturatedProcesses")
        #expect(replayed.rssPeakBytes == sampled.rssPeakBytes, "\(label) rssPeakBytes")
        #expect(replayed.rssGrowthBytes == sampled.rssGrowthBytes, "\(label) rssGrowthBytes")
        #expect(replayed.throttledRatio == sampled.throttledRatio, "\(label) throttledRatio")
        close(replayed.throttledSeconds, sampled.throttledSeconds, "throttledSeconds", within: 1e-9)
        close(replayed.quotaCores, sampled.quotaCores, "quotaCores")
        #expect(replayed.retransmittedSegments == sampled.retransmittedSegments, "\(label) retransmittedSegments")
        #expect(replayed.outSegments == sampled.outSegments, "\(label) outSegments")
        #expect(replayed.retransmitRatio == sampled.retransmitRatio, "\(label) retransmitRatio")
        #expect(replayed.listenOverflows == sampled.listenOverflows, "\(label) listenOverflows")
        #expect(replayed.listenDrops == sampled.listenDrops, "\(label) listenDrops")
        #expect(replayed.socketStatesMax == sampled.socketStatesMax, "\(label) socketStatesMax")
        #expect(replayed.acceptQueueMax == sampled.acceptQueueMax, "\(label) acceptQueueMax")
        close(replayed.runDelayFraction, sampled.runDelayFraction, "runDelayFraction")
        close(replayed.nonvoluntaryContextSwitchesPerSecond, sampled.nonvoluntaryContextSwitchesPerSecond,
              "nonvoluntaryContextSwitchesPerSecond", within: 1e-6)
    }

    static func expectSame(_ replayed: SamplingSummary, _ sampled: SamplingSummary) {
        #expect(replayed.samples == sampled.samples)
        #expect(replayed.intervalNanoseconds == sampled.intervalNanoseconds)
        #expect(replayed.source == sampled.source)
        #expect(replayed.steps.map(\.index) == sampled.steps.map(\.index))
        #expect(replayed.steps.map(\.intervals) == sampled.steps.map(\.intervals))
        for (r, s) in zip(replayed.steps, sampled.steps) {
            let label = "step \(s.index)"
            #expect(r.name == s.name, "\(label) name")
            // The sampler dates a step from its `step` record, written after the sample that begins it,
            // and the time before the first step from its start, before any sample.
            if s.index >= 0 { #expect(r.startNanoseconds <= s.startNanoseconds, "\(label) start") }
            #expect(r.endNanoseconds == s.endNanoseconds, "\(label) end")
            #expect(r.host.cpus == s.host.cpus, "\(label) host cpus")
            #expect(abs(r.host.busyFractionMean - s.host.busyFractionMean) <= 1e-5, "\(label) host busy")
            #expect(abs(r.host.busyFractionMax - s.host.busyFractionMax) <= 1e-5, "\(label) host busy max")
            #expect(abs(r.host.stealFractionMean - s.host.stealFractionMean) <= 1e-5, "\(label) host steal")
            #expect(r.host.oomKills == s.host.oomKills, "\(label) host OOM kills")
            #expect((r.host.cpuPressureSomeFraction == nil) == (s.host.cpuPressureSomeFraction == nil), "\(label) PSI")
            expectSame(r.client, s.client, "\(label) client")
            expectSame(r.server, s.server, "\(label) server")
        }
    }

    @Test(.enabled(if: SamplingSessionIntegrationTests.hasPython, "needs python3 to start a server that forks a CPU-burning child"))
    func replayingALiveSessionsLinesGivesItsAggregates() throws {
        let server = try TestChildProcess("/usr/bin/env", ["python3", "-c", SamplingSessionIntegrationTests.serverScript], captureOutput: true)
        let words = (server.readLine() ?? "").split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        let childPID = words.count == 2 ? Int32(words[1]) : nil
        defer {
            if let childPID { kill(childPID, SIGKILL) }
            server.stop()
        }
        let port = try #require(words.first.flatMap { UInt16($0) })
        let sockets = (0..<3).map { _ in SamplingSessionIntegrationTests.connect(port: port) }
        defer { sockets.forEach { close($0) } }

        let output = NSTemporaryDirectory() + "samples-replay-\(getpid())-\(port).jsonl"
        defer { try? FileManager.default.removeItem(atPath: output) }
        // Connection states every other sample, so both kinds of tick are in every step.
        var configuration = SamplerConfiguration(interval: .milliseconds(50), serverPorts: [port], targetPorts: [port])
        configuration.connectionStateInterval = .milliseconds(100)
        let session = try SamplingSession(configuration: configuration, outputPath: output, now: MonotonicClock.now)
        session.start()
        usleep(120_000)
        session.markStep(0, name: "first")
        usleep(700_000)
        session.markStep(1, name: "second")
        usleep(700_000)
        let sampled = session.stop()

        let replayed = try SampleLineReplay.summarize(path: output, steps: try Self.markedSteps(output), end: nil)
        #expect(sampled.steps.map(\.index) == [-1, 0, 1])
        // Not an empty comparison: the burner and the accept queue are in both.
        let second = try #require(sampled.steps.last)
        #expect(second.server.busiestProcess?.pid == childPID)
        #expect(second.server.acceptQueueMax == 3)
        #expect(second.server.coresAllowed != nil)
        Self.expectSame(replayed, sampled)
    }

    /// A run recorded on the test bed: its `samples.jsonl` folds into the `sampling` of its
    /// `summary.json`, but for the cores allowed (its process lines predate `allowed_cpus`).
    @Test func replayingARecordedRunGivesItsSummary() throws {
        let directory = recordedRun("tiny-backlog-warmup")
        let summary = try RunJSON.decode(RunSummary.self, from: Data(contentsOf: URL(fileURLWithPath: directory + "/summary.json")))
        var sampled = try #require(summary.sampling)
        for i in sampled.steps.indices {
            sampled.steps[i].client.coresAllowed = nil
            sampled.steps[i].server.coresAllowed = nil
        }
        let path = directory + "/samples.jsonl"
        let replayed = try SampleLineReplay.summarize(path: path, steps: try Self.markedSteps(path), end: nil)
        #expect(replayed.steps.contains { $0.server.cpuCoresMean > 0.1 })
        Self.expectSame(replayed, sampled)
    }

    /// An agent on a host whose clock is 1000 s ahead of the run's: its samples land in the
    /// run's steps by the clock records, the interval across a gap is not invented, and
    /// samples after the run ended are left out.
    @Test func agentTimesArePlacedOnTheRunsClock() throws {
        let ahead: UInt64 = 1_000_000_000_000
        let tick: UInt64 = 100_000_000
        // Ticks at run time 1.0 s, 1.1 s, …; one process using 10 ticks (0.1 s) per 100 ms, then 30 from 1.5 s on.
        var lines = [#"{"type":"clock","t":1000000000,"agent_t":\#(1_000_000_000 + ahead),"rtt_ns":200000}"#,
                     #"{"type":"header","t":\#(ahead),"version":1,"interval_ns":\#(tick),"clock":"monotonic","clk_tck":100,"source":"agent","host_cpus":2,"seq":1}"#]
        var utime: UInt64 = 0
        for i in 0..<16 {
            let t = ahead + 1_000_000_000 + UInt64(i) * tick
            if i == 8 {
                lines.append(#"{"type":"gap","t":0,"from_seq":9,"to_seq":9,"reason":"test"}"#)
                utime += 30
                continue
            }
            let perTick: UInt64 = i > 5 ? 30 : 10
            utime += i == 0 ? 0 : perTick
            let rates = i == 0 ? "" : #","dt":\#(tick),"cores":\#(Double(perTick) / 10)"#
            lines.append(#"{"type":"process","t":\#(t),"role":"server","source":"agent","pid":7,"ppid":1,"root":7,"comm":"model","utime_ticks":\#(utime),"stime_ticks":0,"rss_bytes":1000,"nonvoluntary_ctxt":0\#(rates),"seq":\#(i + 2)}"#)
        }
        let path = NSTemporaryDirectory() + "samples-agent-clock-\(getpid()).jsonl"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)

        let clock = try #require(try AgentClock.load(path: path))
        #expect(clock.runTime(ahead + 5) == 5)
        let steps = [SampleLineReplay.StepStart(index: 0, name: "low", start: 1_000_000_000),
                     SampleLineReplay.StepStart(index: 1, name: "high", start: 1_520_000_000)]
        // The run ended at 2.33 s: the interval 2.3-2.4 s (midpoint 2.35 s) and later are after it.
        let summary = try SampleLineReplay.summarize(path: path, steps: steps, end: 2_330_000_000, runTime: clock.runTime)
        #expect(summary.source == "agent")
        #expect(summary.steps.map(\.index) == [0, 1])
        let low = summary.steps[0], high = summary.steps[1]
        // 1.0-1.5 s: five intervals of 10 ticks; the one to 1.6 s has its midpoint (1.55 s) in the second step.
        #expect(low.intervals == 5)
        #expect(abs(low.server.cpuCoresMean - 1.0) < 1e-9)
        #expect(low.startNanoseconds == 1_000_000_000 && low.endNanoseconds == 1_500_000_000)
        // 1.5-1.7 s, nothing across the gap (1.7-1.9 s: the line of 1.8 s is lost, so 1.9 s has no
        // previous one), then 1.9-2.3 s: six intervals of 3 cores.
        #expect(high.intervals == 6)
        #expect(abs(high.server.cpuCoresMean - 3.0) < 1e-9)
        #expect(high.server.busiestProcess?.pid == 7 && high.server.busiestProcess?.comm == "model")
        #expect(abs((high.server.busiestProcess?.cores ?? 0) - 3.0) < 1e-9)
        #expect(high.startNanoseconds == 1_520_000_000 && high.endNanoseconds == 2_300_000_000)
    }

    /// A fuzzer find (fuzz/corpus/samples/crash-9433ab70): a process line whose run-delay
    /// fraction times the interval overflowed UInt64 trapped the replay; it is clamped now.
    @Test func aRunDelayBeyondUInt64IsClampedNotATrap() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("fuzz/corpus/samples/crash-9433ab70").path
        _ = try? SampleLineReplay.replay(path: path)
    }

    /// A fuzzer find: run delays each within UInt64 whose sum over a step is not; the step's
    /// counters now stop at their largest value instead of trapping.
    @Test func countersSummedPastTheirLargestValueSaturateNotTrap() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("fuzz/corpus/samples/crash-d5eda12d").path
        _ = try? SampleLineReplay.replay(path: path)
        var sum = UInt64.max - 1
        sum.addSaturating(5)
        var count = 3
        count.addSaturating(4)
        #expect(sum == .max && count == 7)
    }
}
