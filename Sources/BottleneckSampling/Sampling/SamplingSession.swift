/// Samples `/proc` and cgroups on its own thread for the length of a run, writing
/// `samples.jsonl` as it goes (format: `SampleLineWriter`), and returns per-step aggregates.
///
/// `bottleneck load` creates one, calls `start()`, `markStep` at each step boundary and
/// `stop()` at the end. Creation resolves `--server-pid` / `--server-port` so a wrong PID or
/// port fails with a `SamplerError` before any load is sent.
import BottleneckCore

public final class SamplingSession: Sendable {
    private let thread = SamplerThread()
    private let state: Shared
    private let intervalNanoseconds: UInt64
    private let yieldsToEventLoops: Bool

    /// State shared between the caller and the sampler thread; guarded by `thread`'s lock.
    private final class Shared: @unchecked Sendable {
        let sampler: Sampler        // touched only by the sampler thread after `start()`
        var pendingSteps: [(index: Int, name: String)] = []
        var stopRequested = false
        var started = false
        var summary: SamplingSummary?
        init(sampler: Sampler) { self.sampler = sampler }
    }

    /// - Parameters:
    ///   - now: monotonic nanoseconds, the clock of the load engine's records (`MonotonicClock.now`).
    public init(configuration: SamplerConfiguration, outputPath: String, now: @escaping @Sendable () -> UInt64) throws {
        let interval = configuration.intervalNanoseconds
        guard interval >= 1_000_000 else {
            throw SamplerError(.badConfiguration, "the sample interval must be at least 1ms (e.g. 250ms)")
        }
        intervalNanoseconds = interval
        yieldsToEventLoops = configuration.yieldsToEventLoops
        let writer = try SampleLineWriter(path: outputPath)
        state = Shared(sampler: try Sampler(configuration: configuration, writer: writer, now: now))
    }

    /// The kernel thread id of the sampling thread (0 before `start()`), so its own CPU can
    /// be read from `/proc/self/task/TID/stat`.
    public var samplerThreadID: Int32 { thread.threadID }

    /// Starts sampling: one sample now, then one every interval until `stop()`.
    public func start() {
        let state = self.state
        let alreadyStarted = thread.withLock { () -> Bool in
            defer { state.started = true }
            return state.started
        }
        guard !alreadyStarted else { return }
        let thread = self.thread
        let interval = intervalNanoseconds
        let yields = yieldsToEventLoops
        thread.start {
            HelperThread.name("bn-sampler")
            if yields { HelperThread.yieldToEventLoops() }
            var deadline = MonotonicClock.now()
            while true {
                // Take due step marks and the stop flag under the lock; sample outside it.
                var steps: [(index: Int, name: String)] = []
                var stop = false
                thread.withLock {
                    while state.pendingSteps.isEmpty && !state.stopRequested && MonotonicClock.now() < deadline {
                        thread.waitLocked(until: deadline)
                    }
                    steps = state.pendingSteps
                    state.pendingSteps.removeAll()
                    stop = state.stopRequested
                }
                // A boundary (or the end) gets its own sample so steps do not share intervals.
                state.sampler.sample()
                for step in steps {
                    state.sampler.beginStep(index: step.index, name: step.name, t: state.sampler.now())
                }
                if stop { break }
                if steps.isEmpty {
                    deadline += interval
                    let now = MonotonicClock.now()
                    if deadline <= now { deadline = now + interval }   // fell behind: skip, don't burst
                }
            }
            let summary = state.sampler.finish()
            thread.withLock { state.summary = summary }
        }
    }

    /// Marks the start of load step `index`; a sample is taken at once so the previous step
    /// ends exactly here.
    public func markStep(_ index: Int, name: String) {
        thread.withLock { state.pendingSteps.append((index, name)) }
        thread.signal()
    }

    /// Takes a last sample, stops the thread, flushes and returns the per-step aggregates.
    /// Safe to call more than once, and without `start()` (then nothing was sampled).
    public func stop() -> SamplingSummary {
        let started = thread.withLock { () -> Bool in
            state.stopRequested = true
            return state.started
        }
        if started {
            thread.signal()
            thread.join()
        }
        return thread.withLock { () -> SamplingSummary in
            if let summary = state.summary { return summary }
            let summary = state.sampler.finish()
            state.summary = summary
            return summary
        }
    }
}
