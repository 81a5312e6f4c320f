import Histogram
import BottleneckCore
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// Drives a `LoadPlan`: one worker per event-loop thread, each owning its connections and
/// histograms; this type is the async shell that starts steps, ticks progress once a
/// second, drains and merges at step end. It never touches a request itself.
public final class LoadEngine: Sendable {
    public let plan: LoadPlan
    public let allowance: CPUAllowance
    public let address: SocketAddress
    private let group: MultiThreadedEventLoopGroup
    private let workers: [NIOLoopBound<LoopWorker>]
    private let interrupted = Atomic<Bool>(false)
    private let logger: Logger

    /// Resolves the target and checks it answers a TCP connect before any load starts, so
    /// an unreachable target is a clear error (exit 2), not a run full of refusals.
    public static func prepare(plan: LoadPlan, sink: any RequestRecordSink, logger: Logger) async throws -> LoadEngine {
        let address: SocketAddress
        do {
            address = try SocketAddress.makeAddressResolvingHost(plan.target.host, port: plan.target.port)
        } catch {
            throw LoadError(.unreachable, "target \(plan.target): cannot resolve host \"\(plan.target.host)\"; check the name or use an IP address")
        }
        let tls = plan.target.isTLS ? try plan.tls.makeContext(http2: plan.http2Streams != nil) : nil
        let allowance = CPUAllowance.current()
        let threads = plan.threads ?? allowance.threads
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        do {
            if plan.http2Streams != nil {
                try await HTTP2Check.run(address: address, target: plan.target, settings: plan.tls, context: tls,
                                         connectTimeout: Int64(min(plan.connectTimeout, 5_000_000_000)), group: group)
            } else if let tls {
                try await TLSHandshakeCheck.run(address: address, target: plan.target, settings: plan.tls, context: tls,
                                                connectTimeout: Int64(min(plan.connectTimeout, 5_000_000_000)), group: group)
            } else {
                try await Self.preflight(address: address, plan: plan, group: group)
            }
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
        return try await LoadEngine(plan: plan, address: address, allowance: allowance, group: group, tls: tls, sink: sink, logger: logger)
    }

    private init(plan: LoadPlan, address: SocketAddress, allowance: CPUAllowance, group: MultiThreadedEventLoopGroup,
                 tls: NIOSSLContext?, sink: any RequestRecordSink, logger: Logger) async throws {
        self.plan = plan
        self.address = address
        self.allowance = allowance
        self.group = group
        self.logger = logger
        let settings = WorkerSettings(address: address, timeout: plan.timeout, connectTimeout: plan.connectTimeout,
                                      keepAlive: plan.keepAlive, isHeadRequest: plan.method == "HEAD", seed: plan.seed,
                                      tls: tls, serverHostname: plan.target.isTLS ? plan.tls.serverHostname(for: plan.target) : nil,
                                      http2Streams: plan.http2Streams)
        var workers: [NIOLoopBound<LoopWorker>] = []
        for (index, loop) in group.makeIterator().enumerated() {
            let plan = plan
            let worker = try await loop.submit {
                let allocator = ByteBufferAllocator()
                let bodies: [RequestBody?] = plan.bodies.isEmpty ? [nil] : plan.bodies.map { $0 }
                let templates = bodies.enumerated().map { payloadIndex, body in
                    RequestTemplate(method: plan.method, target: plan.target, headers: plan.headers, contentType: body?.contentType,
                                    body: body?.bytes, payloadIndex: body == nil ? -1 : Int32(payloadIndex), runTag: plan.runTag,
                                    loop: UInt16(index), keepAlive: plan.keepAlive, http2: plan.http2Streams != nil, allocator: allocator)
                }
                return NIOLoopBound(LoopWorker(eventLoop: loop, index: UInt16(index), settings: settings, templates: templates, sink: sink),
                                    eventLoop: loop)
            }.get()
            workers.append(worker)
        }
        self.workers = workers
    }

    private static func preflight(address: SocketAddress, plan: LoadPlan, group: MultiThreadedEventLoopGroup) async throws {
        let timeout = Int64(min(plan.connectTimeout, 5_000_000_000))
        do {
            let channel = try await ClientBootstrap(group: group)
                .connectTimeout(.nanoseconds(timeout))
                .connect(to: address).get()
            try? await channel.close().get()
        } catch {
            let kind = RequestErrorKind(classifying: error)
            let why = kind == .refused ? "connection refused" : kind == .timeout ? "no answer within the connect timeout" : "\(error)"
            throw LoadError(.unreachable, "target \(plan.target): cannot connect to \(address) (\(why)); start the service or fix the target URL")
        }
    }

    /// Ends the current step early (Ctrl-C); the remaining steps are skipped and the
    /// run still produces complete results for what was measured.
    public func interrupt() {
        interrupted.store(true, ordering: .relaxed)
    }

    public var wasInterrupted: Bool { interrupted.load(ordering: .relaxed) }

    /// Runs every step of the plan and returns their results.
    public func run(observer: any LoadObserver) async throws -> [StepResult] {
        var results: [StepResult] = []
        var index = 0
        var planned = plan.steps.makeIterator()
        while let step = planned.next() ?? plan.nextStep?(results) {
            defer { index += 1 }
            if wasInterrupted { break }
            if index == 0 && plan.warmup > 0 {
                logger.debug("warm-up", metadata: ["seconds": "\(Double(plan.warmup) / 1e9)"])
                let warmup = LoadStep(name: "warmup", shape: step.shape, duration: plan.warmup)
                _ = try await runStep(index: -1, step: warmup, observer: nil)
                if wasInterrupted { break }
            }
            observer.stepStarted(index: index, step: step)
            let result = try await runStep(index: index, step: step, observer: observer)
            if let result {
                observer.stepFinished(result)
                results.append(result)
            }
        }
        return results
    }

    /// Closes all connections and stops the event loops.
    public func shutdown() async {
        for worker in workers {
            try? await worker.eventLoop.submit { worker.value.shutdown() }.get()
        }
        try? await group.shutdownGracefully()
    }

    private func share(of total: Int, worker: Int) -> Int {
        total / workers.count + (worker < total % workers.count ? 1 : 0)
    }

    private func runStep(index: Int, step: LoadStep, observer: (any LoadObserver)?) async throws -> StepResult? {
        let counting = observer != nil
        let cpuStart = ProcessCPUTime.seconds()
        let start = MonotonicClock.now()
        let end = start + step.duration
        for (i, worker) in workers.enumerated() {
            let shape: LoadShape
            let maxConnections: Int
            switch step.shape {
            case .open(let rate, let arrivals):
                shape = .open(rate: rate / Double(workers.count), arrivals: arrivals)
                maxConnections = max(1, share(of: plan.maxConnections, worker: i))
            case .closed(let concurrency):
                shape = .closed(concurrency: share(of: concurrency, worker: i))
                maxConnections = shape == .closed(concurrency: 0) ? 0 : concurrency
            }
            try await worker.eventLoop.submit {
                worker.value.beginStep(index: Int32(index), shape: shape, maxConnections: maxConnections, counting: counting,
                                       duration: step.duration, payloads: step.payloadIndices)
            }.get()
        }

        var cumulative = StepStatistics.makeHistogram()
        var lastTick = start
        var lastCPU = cpuStart
        var interruptedHere = false
        while true {
            let now = MonotonicClock.now()
            if now >= end { break }
            if wasInterrupted { interruptedHere = true; break }
            let nextTick = min(end, lastTick + 1_000_000_000)
            let nap = min(nextTick &- now, 50_000_000)
            try? await Task.sleep(nanoseconds: nap)
            if MonotonicClock.now() >= nextTick && nextTick < end {
                let tickTime = MonotonicClock.now()
                let ticks = try await collectTicks()
                let cpu = ProcessCPUTime.seconds()
                if let observer {
                    var interval = StepStatistics.makeHistogram()
                    for tick in ticks { interval.add(tick.interval) }
                    cumulative.add(interval)
                    observer.interval(stepIndex: index, start: lastTick, end: tickTime, latency: interval)
                    let elapsed = Double(tickTime - start) / 1e9
                    let completed = ticks.reduce(0) { $0 + $1.completed }
                    observer.progress(LoadProgress(
                        stepIndex: index, step: step, elapsed: elapsed, sent: ticks.reduce(0) { $0 + $1.sent },
                        completed: completed, errors: ticks.reduce(0) { $0 + $1.errors },
                        achievedRate: elapsed > 0 ? Double(completed) / elapsed : 0,
                        p50: Double(cumulative.valueAtPercentile(50)) / 1e6, p99: Double(cumulative.valueAtPercentile(99)) / 1e6,
                        generatorCores: (cpu - lastCPU) / (Double(tickTime - lastTick) / 1e9),
                        allowedCores: allowance.cores, inFlight: ticks.reduce(0) { $0 + $1.inFlight + $1.pending }))
                }
                lastTick = tickTime
                lastCPU = cpu
            }
        }

        // Stop generating, then let requests in flight finish (they count for this step).
        let generatingEnd = MonotonicClock.now()
        let scheduledUntil = interruptedHere ? generatingEnd : UInt64.max
        for worker in workers {
            try await worker.eventLoop.submit { worker.value.stopGenerating(scheduledUntil: scheduledUntil) }.get()
        }
        let grace = min(plan.timeout, 5_000_000_000)
        while MonotonicClock.now() - generatingEnd < grace && !(interruptedHere && wasInterrupted && MonotonicClock.now() - generatingEnd > 1_000_000_000) {
            var outstanding = 0
            for worker in workers { outstanding += try await worker.eventLoop.submit { worker.value.outstanding }.get() }
            if outstanding == 0 { break }
            try? await Task.sleep(nanoseconds: 5_000_000)
        }
        let drainedAt = MonotonicClock.now()
        let ticks = try await collectTicks()
        var merged = StepStatistics()
        for worker in workers {
            merged.add(try await worker.eventLoop.submit { worker.value.collectStep() }.get())
        }
        guard let observer else { return nil }
        var interval = StepStatistics.makeHistogram()
        for tick in ticks { interval.add(tick.interval) }
        observer.interval(stepIndex: index, start: lastTick, end: drainedAt, latency: interval)
        let cpuSeconds = ProcessCPUTime.seconds() - cpuStart
        let wall = Double(drainedAt - start) / 1e9
        return StepResult(index: index, step: step, statistics: merged, duration: Double(generatingEnd - start) / 1e9,
                          interrupted: interruptedHere, generatorCores: wall > 0 ? cpuSeconds / wall : 0,
                          allowedCores: allowance.cores)
    }

    private func collectTicks() async throws -> [WorkerTick] {
        var ticks: [WorkerTick] = []
        for worker in workers {
            let fresh = StepStatistics.makeHistogram()
            ticks.append(try await worker.eventLoop.submit { worker.value.tick(replacingIntervalWith: fresh) }.get())
        }
        return ticks
    }
}
