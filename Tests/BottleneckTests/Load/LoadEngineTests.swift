import Logging
import NIOConcurrencyHelpers
import Testing
@testable import BottleneckCore
@testable import BottleneckLoad
@testable import BottleneckSampling
@testable import BottleneckRun
@testable import BottleneckDiagnosis
@testable import BottleneckReport

/// Collects records in memory for assertions.
final class CollectingSink: RequestRecordSink {
    let records = NIOLockedValueBox<[RequestRecord]>([])
    func submit(_ batch: [RequestRecord]) { records.withLockedValue { $0.append(contentsOf: batch) } }
    var all: [RequestRecord] { records.withLockedValue { $0 } }
}

/// Keeps what the engine reports.
final class CollectingObserver: LoadObserver {
    let results = NIOLockedValueBox<[StepResult]>([])
    let intervals = NIOLockedValueBox<Int>(0)
    func stepStarted(index: Int, step: LoadStep) {}
    func progress(_ progress: LoadProgress) {}
    func interval(stepIndex: Int, start: UInt64, end: UInt64, latency: Histogram<UInt64>) {
        intervals.withLockedValue { $0 += 1 }
    }
    func stepFinished(_ result: StepResult) { results.withLockedValue { $0.append(result) } }
}

import Histogram

@Suite("Load engine on real loopback sockets", .serialized)
struct LoadEngineTests {
    func plan(port: Int, steps: [LoadStep], host: String = "127.0.0.1") throws -> LoadPlan {
        let target = try TargetURL(parsing: "http://\(host.contains(":") ? "[\(host)]" : host):\(port)/predict?x=1")
        var plan = LoadPlan(target: target, steps: steps, runTag: "abcdef01")
        plan.threads = 2
        return plan
    }

    func run(_ plan: LoadPlan) async throws -> ([StepResult], [RequestRecord]) {
        let sink = CollectingSink()
        let engine = try await LoadEngine.prepare(plan: plan, sink: sink, logger: Logger(label: "test"))
        let observer = CollectingObserver()
        let results = try await engine.run(observer: observer)
        await engine.shutdown()
        return (results, sink.all)
    }

    @Test func closedLoopSendsUniqueRequestIDsAndCountsEveryResponse() async throws {
        let server = try await TestHTTPServer(behaviour: .respond(body: "ok", serverTiming: ["model;dur=2.5, preprocess;dur=1"]))
        defer { Task { await server.stop() } }
        let (results, records) = try await run(plan(port: server.port, steps: [
            LoadStep(name: "c4", shape: .closed(concurrency: 4), duration: 700_000_000)]))
        let seen = server.seen.withLockedValue { $0 }
        let step = try #require(results.first)
        #expect(step.completed > 50)
        #expect(step.errors.isEmpty)
        #expect(step.statusClasses["2xx"] == step.completed)
        // Every request the server saw carried an id, and no id repeats.
        #expect(!seen.requestIDs.contains(""))
        #expect(Set(seen.requestIDs).count == seen.requestIDs.count)
        #expect(seen.requestIDs.allSatisfy { $0.hasPrefix("abcdef01-") })
        // Keep-alive: 4 connections carried all requests (plus the reachability check's own).
        #expect(seen.connections == 5)
        #expect(step.connectionsOpened == 4)
        // Every counted response has a record with ordered timestamps and the parsed header.
        let counted = records.filter { $0.step == 0 && $0.error == .none }
        #expect(UInt64(counted.count) == step.completed)
        for record in counted {
            #expect(record.intended <= record.dispatched && record.dispatched <= record.sent)
            #expect(record.sent < record.firstByte && record.firstByte <= record.lastByte)
            #expect(record.status == 200 && record.localPort > 0)
            #expect(record.serverTiming == "model;dur=2.5, preprocess;dur=1")
        }
    }

    @Test func openLoopHoldsTheRateAndMeasuresFromIntendedTime() async throws {
        let server = try await TestHTTPServer(behaviour: .respond(body: "ok"))
        defer { Task { await server.stop() } }
        let steps = [LoadStep(name: "r200", shape: .open(rate: 200, arrivals: .uniform), duration: 2_000_000_000)]
        var (results, records) = try await run(plan(port: server.port, steps: steps))
        // Up to three runs: with every suite starting at once on two shared cores (and a
        // hypervisor that steals some of them) the in-process generator can be starved for a
        // run; one in three that keeps up shows the engine does.
        for _ in 0..<2 where (results.first?.sent ?? 0) < 300 {
            (results, records) = try await run(plan(port: server.port, steps: steps))
        }
        let step = try #require(results.first)
        #expect(step.mode == "open")
        // The schedule produced 200 rps for 2 s whatever the machine's load: what a late loop did
        // not send is counted unsent, so sent + unsent is the schedule. What was sent completed.
        #expect(step.sent + step.unsent >= 398 && step.sent + step.unsent <= 402, "scheduled \(step.sent + step.unsent)")
        #expect(step.sent >= 300, "sent \(step.sent) of 400: the generator fell far behind")
        #expect(step.completed + 2 >= step.sent, "completed \(step.completed) of \(step.sent) sent")
        // No loop scheduled a request past its 2 s share, however late it caught up.
        for loop in Set(records.map(\.loop)) {
            let intended = records.filter { $0.step == 0 && $0.loop == loop }.map(\.intended)
            #expect(intended.max()! - intended.min()! < 2_000_000_000, "loop \(loop)")
        }
        #expect(step.errors.isEmpty)
        // Intended times are evenly spaced per loop: 2 loops at 100 rps each → 10 ms gaps.
        let loop0 = records.filter { $0.loop == 0 && $0.step == 0 }.map(\.intended).sorted()
        let gaps = zip(loop0.dropFirst(), loop0).map { Double($0 - $1) / 1e6 }
        let meanGap = gaps.reduce(0, +) / Double(gaps.count)
        #expect(abs(meanGap - 10) < 0.05, "mean gap \(meanGap) ms")
    }

    @Test func poissonArrivalsHaveExponentialGaps() async throws {
        let server = try await TestHTTPServer(behaviour: .respond(body: "ok"))
        defer { Task { await server.stop() } }
        var p = try plan(port: server.port, steps: [
            LoadStep(name: "p", shape: .open(rate: 400, arrivals: .poisson), duration: 2_000_000_000)])
        p.threads = 1
        let (_, records) = try await run(p)
        let times = records.filter { $0.step == 0 }.map(\.intended).sorted()
        let gaps = zip(times.dropFirst(), times).map { Double($0 - $1) / 1e6 }
        let mean = gaps.reduce(0, +) / Double(gaps.count)
        let variance = gaps.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(gaps.count)
        // An exponential distribution has standard deviation equal to its mean; uniform would have ~0.
        #expect(abs(mean - 2.5) < 0.3, "mean gap \(mean) ms")
        #expect(abs(variance.squareRoot() / mean - 1) < 0.2, "coefficient of variation \(variance.squareRoot() / mean)")
    }

    @Test func slowServerUnderOpenLoopShowsQueueingInLatencyNotServiceTime() async throws {
        // 50 ms per response, one connection allowed, 40 rps offered: the server can do 20 rps,
        // so requests queue for the connection. Latency from intended time must grow well
        // beyond the 50 ms service time (the coordinated-omission correction).
        let server = try await TestHTTPServer(behaviour: .respond(body: "ok", delayMilliseconds: 50))
        defer { Task { await server.stop() } }
        var p = try plan(port: server.port, steps: [
            LoadStep(name: "r40", shape: .open(rate: 40, arrivals: .uniform), duration: 1_500_000_000)])
        p.threads = 1
        p.maxConnections = 1
        let (results, _) = try await run(p)
        let step = try #require(results.first)
        #expect(step.serviceTime.p50 >= 50 && step.serviceTime.p50 < 80)
        #expect(step.latency.p99 > 2 * step.serviceTime.p99, "latency p99 \(step.latency.p99) vs service p99 \(step.serviceTime.p99)")
        #expect(step.connectionWait.p99 > 100)
        #expect(step.scheduleLag.p50 < 2, "the generator itself was not late (median)")
        #expect(step.achievedRatio! < 0.8)
        #expect(!step.warnings.isEmpty)
    }

    @Test func noKeepAliveOpensAConnectionPerRequest() async throws {
        let server = try await TestHTTPServer(behaviour: .respond(body: "ok"))
        defer { Task { await server.stop() } }
        var p = try plan(port: server.port, steps: [LoadStep(name: "c2", shape: .closed(concurrency: 2), duration: 500_000_000)])
        p.keepAlive = false
        let (results, _) = try await run(p)
        let step = try #require(results.first)
        let seen = server.seen.withLockedValue { $0 }
        #expect(step.completed > 20)
        #expect(step.errors.isEmpty)
        #expect(UInt64(seen.connections) >= step.completed)
    }

    @Test func bodiesArriveWhole() async throws {
        let server = try await TestHTTPServer(behaviour: .respond(body: "{\"label\": 3}", chunked: true))
        defer { Task { await server.stop() } }
        var p = try plan(port: server.port, steps: [LoadStep(name: "c2", shape: .closed(concurrency: 2), duration: 400_000_000)])
        p.method = "POST"
        p.bodies = [RequestBody(bytes: Array(repeating: 7, count: 100_000), contentType: "application/octet-stream"),
                    RequestBody(bytes: Array(repeating: 1, count: 10), contentType: "text/plain")]
        let (results, records) = try await run(p)
        let seen = server.seen.withLockedValue { $0 }
        #expect(results.first?.errors.isEmpty == true)
        #expect(Set(seen.bodyLengths) == [100_000, 10])
        #expect(zip(seen.bodyLengths, seen.contentLengths).allSatisfy { $0 == $1 })
        #expect(seen.methods.allSatisfy { $0 == "POST" })
        #expect(records.filter { $0.error == .none }.allSatisfy { $0.bytesIn > 12 })
    }

    @Test func ipv6LiteralTarget() async throws {
        let server = try await TestHTTPServer(behaviour: .respond(body: "ok"), host: "::1")
        defer { Task { await server.stop() } }
        let (results, _) = try await run(plan(port: server.port, steps: [
            LoadStep(name: "c1", shape: .closed(concurrency: 1), duration: 300_000_000)], host: "::1"))
        #expect((results.first?.completed ?? 0) > 10)
    }

    @Test func hangingServerGivesTimeouts() async throws {
        let server = try await TestHTTPServer(behaviour: .hang)
        defer { Task { await server.stop() } }
        var p = try plan(port: server.port, steps: [LoadStep(name: "c2", shape: .closed(concurrency: 2), duration: 600_000_000)])
        p.timeout = 200_000_000
        let (results, _) = try await run(p)
        let step = try #require(results.first)
        #expect(step.completed == 0)
        #expect((step.errors["timeout"] ?? 0) >= 4)
    }

    @Test func targetDyingMidRunCountsErrorsAndFinishesTheStep() async throws {
        let server = try await TestHTTPServer(behaviour: .respond(body: "ok", delayMilliseconds: 2))
        let p = try plan(port: server.port, steps: [LoadStep(name: "r100", shape: .open(rate: 100, arrivals: .uniform), duration: 1_500_000_000)])
        let sink = CollectingSink()
        let engine = try await LoadEngine.prepare(plan: p, sink: sink, logger: Logger(label: "test"))
        let observer = CollectingObserver()
        async let results = engine.run(observer: observer)
        try await Task.sleep(nanoseconds: 600_000_000)
        await server.stop()
        let step = try #require(try await results.first)
        await engine.shutdown()
        #expect(step.completed > 30)
        #expect(step.errors.values.reduce(0, +) > 30, "errors \(step.errors)")
        #expect((step.errors["refused"] ?? 0) > 0)
        #expect(step.duration >= 1.4)
    }

    @Test func unreachableTargetIsAClearErrorBeforeAnyLoad() async throws {
        let p = try plan(port: 9, steps: [LoadStep(name: "c1", shape: .closed(concurrency: 1), duration: 100_000_000)])
        await #expect(throws: LoadError.self) {
            _ = try await LoadEngine.prepare(plan: p, sink: CollectingSink(), logger: Logger(label: "test"))
        }
    }

    @Test func interruptEndsTheStepEarlyWithResults() async throws {
        let server = try await TestHTTPServer(behaviour: .respond(body: "ok"))
        defer { Task { await server.stop() } }
        let p = try plan(port: server.port, steps: [
            LoadStep(name: "a", shape: .closed(concurrency: 2), duration: 10_000_000_000),
            LoadStep(name: "b", shape: .closed(concurrency: 2), duration: 10_000_000_000)])
        let engine = try await LoadEngine.prepare(plan: p, sink: CollectingSink(), logger: Logger(label: "test"))
        async let results = engine.run(observer: CollectingObserver())
        try await Task.sleep(nanoseconds: 500_000_000)
        engine.interrupt()
        let finished = try await results
        await engine.shutdown()
        #expect(finished.count == 1)
        #expect(finished[0].interrupted)
        #expect(finished[0].duration < 2)
        #expect(finished[0].completed > 0)
    }
}
