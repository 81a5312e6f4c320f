import Foundation

/// Rebuilds per-step aggregates from sample lines (the format `SampleLineWriter` writes),
/// for samples taken by another process: a `bottleneck agent` on the server host, whose
/// lines reach the run as `samples-agent.jsonl`.
///
/// Each tick's lines (they share one `t`) are decoded into the sampler's own records
/// (`SampleTick`, through `SampleLines`) and turned into the step's intervals by the same
/// `IntervalFold` and `StepAccumulator`: counter increases (CPU ticks, context switches,
/// cgroup periods, TCP counters) come from each entity's raw values in consecutive lines,
/// exactly the pairs the sampler subtracted; what the lines only hold as a per-interval value
/// (`cores`, `run_delay_fraction`) is taken as written (six decimals). The one difference is where
/// steps begin: the sampler starts a step with a sample taken at that moment, while here a
/// step is given as a time on the run's clock, and each interval goes to the step its
/// midpoint falls in — the same split when the sample stream has a sample at the boundary
/// (the agent takes one when told of the step), and the nearer one when it has none.
package struct SampleLineReplay {
    /// A load step and when it began, on the run's clock.
    struct StepStart: Sendable, Equatable {
        var index: Int
        var name: String
        var start: UInt64
    }

    private let steps: [StepStart]
    private let end: UInt64?
    private let runTime: (UInt64) -> UInt64

    private var clockTicksPerSecond = 100.0
    private var intervalNanoseconds: UInt64 = 0
    private var source = "local"
    private var ticks = 0

    /// The records of the tick being read, when one is.
    private var pending = SampleTick()
    private var reading = false
    private var lastTick: UInt64?
    private var fold = IntervalFold()

    /// Position in `steps` of the step being accumulated; -1 before the first.
    private var stepPosition = -1
    private var current: StepAccumulator?
    private var finished: [StepAggregate] = []

    /// - Parameters:
    ///   - steps: the run's steps in order.
    ///   - end: when the run ended (run clock); intervals whose midpoint is later are left out.
    ///   - runTime: a sample's `t` on the run's clock (identity for samples taken locally).
    init(steps: [StepStart], end: UInt64?, runTime: @escaping (UInt64) -> UInt64 = { $0 }) {
        self.steps = steps
        self.end = end
        self.runTime = runTime
    }

    /// The aggregates of the lines of `path`, read through; `thread` and `tree` records,
    /// which the aggregates do not use, are skipped unparsed.
    static func summarize(path: String, steps: [StepStart], end: UInt64?,
                          runTime: @escaping (UInt64) -> UInt64 = { $0 }) throws -> SamplingSummary {
        var replay = SampleLineReplay(steps: steps, end: end, runTime: runTime)
        try SampleLines.forEach(in: path) { line in
            switch SampleLines.recordType(of: line) {
            case "thread", "tree": return
            default:
                if let record = SampleLines.parse(line) { replay.add(record) }
            }
        }
        return replay.finish()
    }

    mutating func add(_ record: [String: Any]) {
        guard let type = record["type"] as? String, let t = SampleLines.unsigned(record["t"]) else { return }
        switch type {
        case "header":
            flush()
            // A new session (an agent restarted or reconfigured): nothing before it is a previous value.
            forgetPrevious()
            if let ticks = SampleLines.number(record["clk_tck"]), ticks > 0 { clockTicksPerSecond = ticks }
            intervalNanoseconds = SampleLines.unsigned(record["interval_ns"]) ?? intervalNanoseconds
            source = record["source"] as? String ?? source
            fold.hostCPUs = SampleLines.integer(record["host_cpus"]) ?? fold.hostCPUs
        case "gap":
            // Lines were lost: the interval across the gap is unknown, not guessed.
            flush()
            forgetPrevious()
        case "host", "process", "exit", "cgroup", "net":
            if reading, pending.t != t { flush() }
            if !reading {
                pending.reset(t: t)
                reading = true
            }
            switch type {
            case "host": pending.host = SampleLines.host(record, t: t)
            case "process": if let process = SampleLines.process(record, t: t) { pending.append(process) }
            case "exit": if let exit = SampleLines.exit(record, t: t) { pending.exits.append(exit) }
            case "cgroup": pending.cgroups.append(SampleLines.cgroup(record, t: t))
            default: pending.networks.append(SampleLines.network(record, t: t))
            }
        default:
            // `step` marks are the sampler's own boundaries; the run's are given. `clock`
            // records are the caller's (`runTime`).
            break
        }
    }

    mutating func finish() -> SamplingSummary {
        flush()
        closeStep()
        listEmptySteps(before: steps.count)
        return SamplingSummary(intervalNanoseconds: intervalNanoseconds, source: source, samples: ticks,
                               steps: finished, writeError: nil, processEvents: fold.events)
    }

    // MARK: ticks and steps

    private mutating func forgetPrevious() {
        reading = false
        lastTick = nil
        fold.forget()
    }

    /// Ends the tick being read: its interval (from the tick before) goes to its step.
    private mutating func flush() {
        guard reading else { return }
        reading = false
        let tick = pending.t
        // Every tick updates the previous values, whichever step (if any) its interval goes to.
        let interval = fold.interval(of: pending)
        defer { lastTick = tick }
        if end.map({ runTime(tick) <= $0 }) ?? true { ticks += 1 }
        guard let previous = lastTick, tick > previous else { return }
        let dt = tick - previous
        let midpoint = runTime(previous + dt / 2)
        if let end, midpoint > end { return }
        // Steps only go forward, whatever a new clock reading says.
        let position = max(steps.lastIndex(where: { $0.start <= midpoint }) ?? -1, stepPosition)
        if current == nil || position != stepPosition {
            closeStep()
            listEmptySteps(before: position)
            stepPosition = position
            let begin = runTime(previous)
            current = position < 0
                ? StepAccumulator(index: -1, name: "before-first-step", start: begin, clockTicksPerSecond: clockTicksPerSecond)
                : StepAccumulator(index: steps[position].index, name: steps[position].name,
                                  start: max(begin, steps[position].start), clockTicksPerSecond: clockTicksPerSecond)
        }
        current?.add(t: runTime(tick), dt: dt, host: interval.host, client: interval.client, server: interval.server)
    }

    /// Lists the steps after the current one and before `position` that no interval fell in
    /// (shorter than the time between two samples, or after the last sample), as the sampler
    /// lists every step.
    private mutating func listEmptySteps(before position: Int) {
        while stepPosition + 1 < position {
            stepPosition += 1
            let step = steps[stepPosition]
            finished.append(StepAccumulator(index: step.index, name: step.name, start: step.start,
                                            clockTicksPerSecond: clockTicksPerSecond).aggregate())
        }
    }

    /// Keeps the step being accumulated, by the sampler's rule: every load step, and the
    /// time before the first only when samples fell in it.
    private mutating func closeStep() {
        guard let step = current else { return }
        current = nil
        if step.index >= 0 || step.intervals > 0 { finished.append(step.aggregate()) }
    }
}

extension SampleLineReplay {
    /// Replays the sample lines of `path` (`samples.jsonl`, `samples-agent.jsonl`) over two
    /// steps, as the run's analysis does; the replay stays internal, this is its entry for
    /// the fuzzer (fuzz/README.md) and for the tests that replay what it found.
    package static func replay(path: String) throws {
        let steps = [StepStart(index: 0, name: "step 1", start: 0), StepStart(index: 1, name: "step 2", start: 1_000_000_000)]
        _ = try summarize(path: path, steps: steps, end: nil)
    }
}
