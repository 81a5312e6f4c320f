import Glibc
import NIOCore
import NIOPosix
import Testing
@testable import BottleneckCore
@testable import BottleneckLoad
@testable import BottleneckSampling
@testable import BottleneckRun
@testable import BottleneckDiagnosis
@testable import BottleneckReport

/// One open-loop worker on an event loop of its own, driven the way `LoadEngine` drives it
/// (begin, stop, drain, collect), against a real server on loopback.
@Suite("Open-loop worker on real loopback sockets", .serialized)
struct OpenLoopWorkerTests {
    struct Harness {
        let group: MultiThreadedEventLoopGroup
        let worker: NIOLoopBound<LoopWorker>
        var loop: any EventLoop { worker.eventLoop }

        init(port: Int) async throws {
            group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            let loop = group.next()
            let address = try SocketAddress(ipAddress: "127.0.0.1", port: port)
            let settings = WorkerSettings(address: address, timeout: 5_000_000_000, connectTimeout: 2_000_000_000,
                                          keepAlive: true, isHeadRequest: false, seed: 7)
            let target = try TargetURL(parsing: "http://127.0.0.1:\(port)/")
            let sink = CollectingSink()
            worker = try await loop.submit {
                let template = RequestTemplate(method: "GET", target: target, headers: [], contentType: nil, body: nil,
                                               payloadIndex: -1, runTag: "abcdef01", loop: 0, keepAlive: true,
                                               allocator: ByteBufferAllocator())
                return NIOLoopBound(LoopWorker(eventLoop: loop, index: 0, settings: settings, templates: [template], sink: sink),
                                    eventLoop: loop)
            }.get()
        }

        /// Stops generating, waits (at most 5 s) for the requests in flight, returns the step's numbers.
        func finishStep() async throws -> StepStatistics {
            let worker = self.worker
            try await loop.submit { worker.value.stopGenerating() }.get()
            for _ in 0..<500 where try await loop.submit({ worker.value.outstanding }).get() > 0 {
                try await Task.sleep(nanoseconds: 10_000_000)
            }
            return try await loop.submit { worker.value.collectStep() }.get()
        }

        func shutdown() async {
            let worker = self.worker
            try? await loop.submit { worker.value.shutdown() }.get()
            try? await group.shutdownGracefully()
        }
    }

    /// One run: 500 req/s, then the loop is held for 200 ms, as a CPU shared with a busy
    /// neighbour holds it: about 100 requests are due at once when it comes back.
    static func stallAndRecover() async throws -> (late: UInt64, step: StepStatistics) {
        let server = try await TestHTTPServer(behaviour: .respond(body: "ok"))
        defer { Task { await server.stop() } }
        let harness = try await Harness(port: server.port)
        let worker = harness.worker
        try await harness.loop.submit {
            worker.value.beginStep(index: 0, shape: .open(rate: 500, arrivals: .uniform), maxConnections: 1024, counting: true)
            usleep(200_000)
        }.get()
        try await Task.sleep(nanoseconds: 1_000_000_000)
        let step = try await harness.finishStep()
        await harness.shutdown()
        return (step.scheduleLag.max / 2_000_000, step)  // requests due during the stall, one per 2 ms
    }

    @Test func aLoopThatFellBehindReusesItsConnectionsRatherThanOpeningOnePerLateRequest() async throws {
        // The in-process server shares the machine with every other suite, which all start at
        // once: while they saturate both cores the server is slow too, and a loop rightly opens
        // connections for a slow server. So up to three runs; the old behaviour (a connection per
        // late request, then as many again) fails every one of them.
        var attempts: [String] = []
        for attempt in 1...3 {
            let (late, step) = try await Self.stallAndRecover()
            attempts.append("late \(late), unsent \(step.unsent), opened \(step.connectionsOpened)")
            let quiet = step.unsent < late / 4 && step.connectionsOpened < late
            guard quiet || attempt == 3 else { continue }
            #expect(late >= 75, "the stall shows as schedule lag")
            #expect(step.sent + step.unsent >= 575, "1.2 s at 500 req/s: scheduled \(step.sent + step.unsent)")
            #expect(step.unsent < late / 4, "the backlog drained: \(step.unsent) never sent (runs: \(attempts))")
            #expect(step.completed == step.sent && step.transportErrors == 0)
            // Before, the loop opened a connection for every late request and then, busy connecting
            // and kept off its sockets, about as many again (190 to 220 for 100 late requests). It
            // must instead read its sockets between rounds, reuse connections as responses free
            // them, and grow the pool only as far as the server needs (25 to 35 here, 50 while
            // the other suites load the machine).
            #expect(step.connectionsOpened < late, "opened \(step.connectionsOpened) connections for \(late) late requests (runs: \(attempts))")
            return
        }
    }

    /// Linux 6.12 or later: sched_setattr's sched_runtime sets a normal thread's slice.
    static let kernelHasCustomSlices: Bool = {
        var name = utsname()
        uname(&name)
        let release = withUnsafeBytes(of: &name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let parts = release.split(separator: ".").prefix(2).compactMap { Int($0.prefix { $0.isNumber }) }
        return parts.count == 2 && (parts[0], parts[1]) >= (6, 12)
    }()

    @Test(.enabled(if: kernelHasCustomSlices, "custom scheduler slices need Linux 6.12 or later"))
    func openLoopStepsRunTheirLoopOnAShortSchedulerSliceAndClosedLoopStepsDoNot() async throws {
        let server = try await TestHTTPServer(behaviour: .respond(body: "ok"))
        defer { Task { await server.stop() } }
        let harness = try await Harness(port: server.port)
        let worker = harness.worker
        let before = try await harness.loop.submit { ThreadSlice.current() }.get()
        let open = try await harness.loop.submit {
            worker.value.beginStep(index: 0, shape: .open(rate: 100, arrivals: .uniform), maxConnections: 4, counting: true)
            return ThreadSlice.current()
        }.get()
        _ = try await harness.finishStep()
        let closed = try await harness.loop.submit {
            worker.value.beginStep(index: 1, shape: .closed(concurrency: 1), maxConnections: 1, counting: true)
            return ThreadSlice.current()
        }.get()
        _ = try await harness.finishStep()
        await harness.shutdown()

        #expect(open == ThreadSlice.openLoop)
        #expect(before != ThreadSlice.openLoop && closed == before, "closed loops keep the kernel's default slice (\(String(describing: before)))")
    }
}
