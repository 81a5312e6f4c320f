import Foundation

/// Rebuilds per-step aggregates from sample lines (the format `SampleLineWriter` writes),
/// for samples taken by another process: a `bottleneck agent` on the server host, whose
/// lines reach the run as `samples-agent.jsonl`.
///
/// Each tick's records (they share one `t`) become the same `RoleInterval`s and
/// `HostInterval` the `Sampler` builds from its readings, and are folded by the same
/// `StepAccumulator`: counter increases (CPU ticks, context switches, cgroup periods, TCP
/// counters) come from each entity's raw values in consecutive lines, exactly the pairs the
/// sampler subtracted; what the lines only hold as a per-interval value (`cores`,
/// `run_delay_fraction`) is taken as written (six decimals). The one difference is where
/// steps begin: the sampler starts a step with a sample taken at that moment, while here a
/// step is given as a time on the run's clock, and each interval goes to the step its
/// midpoint falls in — the same split when the sample stream has a sample at the boundary
/// (the agent takes one when told of the step), and the nearer one when it has none.
struct SampleLineReplay {
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
    private var hostCPUs = 0
    private var ticks = 0

    private var pending: Tick?
    private var lastTick: UInt64?
    private var processes: [Int32: ProcessCounters] = [:]
    private var cgroups: [String: CgroupCounters] = [:]
    private var networks: [String: NetworkCounters] = [:]
    private var hostOOMKills: UInt64?

    /// Position in `steps` of the step being accumulated; -1 before the first.
    private var stepPosition = -1
    private var current: StepAccumulator?
    private var finished: [StepAggregate] = []

    private struct Tick {
        var t: UInt64
        var host: HostInterval?
        var client = RoleInterval()
        var server = RoleInterval()
    }

    private struct ProcessCounters {
        var userTicks: UInt64
        var systemTicks: UInt64
        var nonvoluntary: UInt64
    }

    private struct CgroupCounters {
        var periods: UInt64?
        var throttledPeriods: UInt64?
        var throttledNanoseconds: UInt64?
    }

    private struct NetworkCounters {
        var retransmitted: UInt64
        var out: UInt64
        var listenOverflows: UInt64
        var listenDrops: UInt64
        var passiveOpens: UInt64
    }

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
            hostCPUs = SampleLines.integer(record["host_cpus"]) ?? hostCPUs
        case "gap":
            // Lines were lost: the interval across the gap is unknown, not guessed.
            flush()
            forgetPrevious()
        case "host", "process", "exit", "cgroup", "net":
            if let pending, pending.t != t { flush() }
            if pending == nil { pending = Tick(t: t) }
            switch type {
            case "host": addHost(record)
            case "process": addProcess(record)
            case "exit": if let pid = SampleLines.pid(record["pid"]) { processes[pid] = nil }
            case "cgroup": addCgroup(record)
            default: addNetwork(record)
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
                               steps: finished, writeError: nil)
    }

    // MARK: ticks and steps

    private mutating func forgetPrevious() {
        pending = nil
        lastTick = nil
        processes = [:]
        cgroups = [:]
        networks = [:]
        hostOOMKills = nil
    }

    /// Ends the tick being read: its interval (from the tick before) goes to its step.
    private mutating func flush() {
        guard let tick = pending else { return }
        pending = nil
        defer { lastTick = tick.t }
        if end.map({ runTime(tick.t) <= $0 }) ?? true { ticks += 1 }
        guard let previous = lastTick, tick.t > previous else { return }
        let dt = tick.t - previous
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
        current?.add(t: runTime(tick.t), dt: dt, host: tick.host, client: tick.client, server: tick.server)
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

    // MARK: records

    private mutating func addHost(_ record: [String: Any]) {
        let oomKills = SampleLines.unsigned(record["oom_kill"])
        defer { hostOOMKills = oomKills }
        guard let busy = SampleLines.number(record["busy_fraction"]) else { return }
        var ooms: UInt64 = 0
        if let before = hostOOMKills, let after = oomKills { ooms = CounterDelta.increase(from: before, to: after) }
        let cpus = (record["per_cpu_busy"] as? [Any])?.count ?? hostCPUs
        pending?.host = HostInterval(busyFraction: busy, stealFraction: SampleLines.number(record["steal_fraction"]) ?? 0,
                                     cpus: cpus, cpuPressureFraction: SampleLines.number(record["psi_cpu_some_stall_fraction"]),
                                     oomKills: ooms)
    }

    private mutating func addProcess(_ record: [String: Any]) {
        guard let pid = SampleLines.pid(record["pid"]) else { return }
        let counters = ProcessCounters(userTicks: SampleLines.unsigned(record["utime_ticks"]) ?? 0,
                                       systemTicks: SampleLines.unsigned(record["stime_ticks"]) ?? 0,
                                       nonvoluntary: SampleLines.unsigned(record["nonvoluntary_ctxt"]) ?? 0)
        let before = processes[pid]
        processes[pid] = counters
        var interval = RoleInterval()
        interval.cores = SampleLines.number(record["cores"]) ?? 0
        interval.rssBytes = SampleLines.unsigned(record["rss_bytes"]) ?? 0
        interval.processes = 1
        interval.allowedCPUs = SampleLines.integer(record["allowed_cpus"])
        if let dt = SampleLines.unsigned(record["dt"]), let before {
            let cpuTicks = CounterDelta.increase(from: before.userTicks, to: counters.userTicks)
                &+ CounterDelta.increase(from: before.systemTicks, to: counters.systemTicks)
            if cpuTicks > 0 { interval.ticksByPID[pid] = (record["comm"] as? String ?? "", cpuTicks) }
            interval.runDelayNanoseconds = UInt64(max(0, ((SampleLines.number(record["run_delay_fraction"]) ?? 0) * Double(dt)).rounded()))
            if record["ctxt_dt"] != nil {
                interval.nonvoluntarySwitches = CounterDelta.increase(from: before.nonvoluntary, to: counters.nonvoluntary)
            }
        }
        withRole(record) { role in
            role.cores += interval.cores
            role.rssBytes &+= interval.rssBytes
            role.processes += 1
            role.ticksByPID.merge(interval.ticksByPID) { $1 }
            role.runDelayNanoseconds &+= interval.runDelayNanoseconds
            role.nonvoluntarySwitches &+= interval.nonvoluntarySwitches
            if role.allowedCPUs == nil { role.allowedCPUs = interval.allowedCPUs }
        }
    }

    private mutating func addCgroup(_ record: [String: Any]) {
        let key = "\(record["role"] as? String ?? "")\u{0}\(record["path"] as? String ?? "")"
        let counters = CgroupCounters(periods: SampleLines.unsigned(record["nr_periods"]),
                                      throttledPeriods: SampleLines.unsigned(record["nr_throttled"]),
                                      throttledNanoseconds: SampleLines.unsigned(record["throttled_ns"]))
        let before = cgroups[key]
        cgroups[key] = counters
        var contribution = RoleInterval()
        contribution.quotaCores = SampleLines.number(record["quota_cores"])
        if record["dt"] != nil, let before {
            if let p0 = before.periods, let p1 = counters.periods, let n0 = before.throttledPeriods, let n1 = counters.throttledPeriods {
                contribution.periods = CounterDelta.increase(from: p0, to: p1)
                contribution.throttledPeriods = CounterDelta.increase(from: n0, to: n1)
            }
            if let a = before.throttledNanoseconds, let b = counters.throttledNanoseconds {
                contribution.throttledNanoseconds = CounterDelta.increase(from: a, to: b)
            }
        }
        withRole(record) { role in
            role.periods += contribution.periods
            role.throttledPeriods += contribution.throttledPeriods
            role.throttledNanoseconds += contribution.throttledNanoseconds
            if let q = contribution.quotaCores { role.quotaCores = min(role.quotaCores ?? q, q) }
        }
    }

    private mutating func addNetwork(_ record: [String: Any]) {
        let key = "\(record["role"] as? String ?? "")\u{0}\(SampleLines.unsigned(record["netns"]) ?? 0)"
        let counters = NetworkCounters(retransmitted: SampleLines.unsigned(record["RetransSegs"]) ?? 0,
                                       out: SampleLines.unsigned(record["OutSegs"]) ?? 0,
                                       listenOverflows: SampleLines.unsigned(record["ListenOverflows"]) ?? 0,
                                       listenDrops: SampleLines.unsigned(record["ListenDrops"]) ?? 0,
                                       passiveOpens: SampleLines.unsigned(record["PassiveOpens"]) ?? 0)
        let before = networks[key]
        networks[key] = counters
        var interval = RoleInterval()
        if record["dt"] != nil, let before {
            interval.net.retransmittedSegments = CounterDelta.increase(from: before.retransmitted, to: counters.retransmitted)
            interval.net.outSegments = CounterDelta.increase(from: before.out, to: counters.out)
            interval.net.listenOverflows = CounterDelta.increase(from: before.listenOverflows, to: counters.listenOverflows)
            interval.net.listenDrops = CounterDelta.increase(from: before.listenDrops, to: counters.listenDrops)
            interval.net.passiveOpens = CounterDelta.increase(from: before.passiveOpens, to: counters.passiveOpens)
        }
        let listening = record["listen"] as? [[String: Any]]
        if let sockets = record["sockets"] as? [String: Any] {
            // The sampler counts listening sockets among the states; the line lists them apart.
            for state in TCPState.allCases {
                if let count = SampleLines.integer(sockets[state.name]), count > 0 { interval.socketStates[state] = count }
            }
            if let listening, !listening.isEmpty { interval.socketStates[.listen] = listening.count }
        }
        if let listening {
            interval.acceptQueueMax = listening.compactMap { SampleLines.integer($0["accept_queue"]) }.max() ?? 0
        }
        withRole(record) { $0.add(network: interval) }
    }

    private mutating func withRole(_ record: [String: Any], _ body: (inout RoleInterval) -> Void) {
        guard pending != nil else { return }
        if record["role"] as? String == "client" { body(&pending!.client) } else { body(&pending!.server) }
    }
}

/// Reading sample lines back: the file, line by line, and the JSON values in them.
enum SampleLines {
    /// Calls `body` with every non-empty line of the file at `path`.
    static func forEach(in path: String, _ body: (ArraySlice<UInt8>) throws -> Void) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        let bytes = [UInt8](data)
        var start = 0
        while start < bytes.count {
            let newline = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
            if newline > start { try body(bytes[start..<newline]) }
            start = newline + 1
        }
    }

    /// The record's `type`, read from the line's start without parsing it (every writer puts
    /// `"type"` first); nil when the line does not start that way.
    static func recordType(of line: ArraySlice<UInt8>) -> String? {
        let prefix = Array(#"{"type":""#.utf8)
        guard line.count > prefix.count, line.starts(with: prefix) else { return nil }
        let rest = line.dropFirst(prefix.count)
        guard let quote = rest.firstIndex(of: UInt8(ascii: "\"")) else { return nil }
        return String(decoding: rest[..<quote], as: UTF8.self)
    }

    static func parse(_ line: ArraySlice<UInt8>) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any]
    }

    // The writer puts no booleans in sample lines, so every number is a number (on Linux a
    // JSON 0 or 1 would also pass for a Bool, so that is not checked).
    static func number(_ value: Any?) -> Double? { (value as? NSNumber)?.doubleValue }

    static func unsigned(_ value: Any?) -> UInt64? {
        guard let n = value as? NSNumber, n.int64Value >= 0 else { return nil }
        return n.uint64Value
    }

    static func integer(_ value: Any?) -> Int? { (value as? NSNumber)?.intValue }

    static func pid(_ value: Any?) -> Int32? { integer(value).flatMap { Int32(exactly: $0) } }
}
