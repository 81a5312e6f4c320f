/// Turns one tick's records into what its interval adds to the step: the `HostInterval` and
/// one `RoleInterval` per side, for `StepAccumulator`. The one place this is done, for the
/// live `Sampler` and for `SampleLineReplay` alike.
///
/// Counter increases (CPU ticks, non-voluntary switches, cgroup periods, TCP counters, OOM
/// kills) come from an entity's raw values in its previous record and this one, taken only
/// when this record has `rates` (the sampler had a previous reading too); what a record only
/// holds per interval (`cores`, `run_delay_fraction`, the fractions) is taken as it is. A
/// live tick's values are exact; a replayed one's were written with six decimals.
struct IntervalFold {
    /// What one tick adds to its step.
    struct Interval {
        var host: HostInterval?
        var client = RoleInterval()
        var server = RoleInterval()

        mutating func withRole(_ role: SampleRole, _ body: (inout RoleInterval) -> Void) {
            if role == .client { body(&client) } else { body(&server) }
        }
    }

    /// The host's CPUs when a `host` record has no per-CPU figures (their number changed).
    var hostCPUs = 0

    private struct ProcessCounters {
        var userTicks: UInt64
        var systemTicks: UInt64
        var nonvoluntary: UInt64
        /// The last reading's memory and place, for the event of its exit.
        var rssBytes: UInt64
        var rssPeakBytes: UInt64?
        var parentPID: Int32
        var cgroup: String?
    }

    private struct CgroupKey: Hashable {
        var role: SampleRole
        var path: String
    }

    private struct CgroupCounters {
        var periods: UInt64?
        var throttledPeriods: UInt64?
        var throttledNanoseconds: UInt64?
        var oomKills: UInt64?
        var memoryLimitBytes: UInt64?
    }

    private struct NetworkKey: Hashable {
        var role: SampleRole
        var namespace: UInt64
    }

    private var processes: [Int32: ProcessCounters] = [:]
    private var cgroups: [CgroupKey: CgroupCounters] = [:]
    private var networks: [NetworkKey: TCPCounters] = [:]
    private var hostOOMKills: UInt64?

    /// Processes that ended or began in a sampled tree, in time order (at most `eventLimit`):
    /// worker deaths, OOM kills, restarts. A process counts as begun when it first shows up
    /// after the session's first tick.
    private(set) var events: [ProcessEvent] = []
    static let eventLimit = 512
    /// The time of the previous tick; nil before the first (and after `forget`).
    private var previousT: UInt64?
    /// The times of the last two ticks in which an OOM-kill counter (the host's, or a sampled
    /// cgroup's) rose: the kernel counts the kill when it sends SIGKILL, and the victim may be
    /// seen gone one tick later.
    private var oomTicks: [UInt64] = []
    /// Whether an OOM-kill counter (the host's, or a sampled cgroup's) rose in this tick.
    private var oomRose = false

    /// Forgets every previous value (a new session, or lines lost).
    mutating func forget() {
        processes = [:]
        cgroups = [:]
        networks = [:]
        hostOOMKills = nil
        previousT = nil
        oomTicks = []
    }

    /// The interval ending with `tick`, folded in the order the lines are written (a process
    /// that exits is forgotten at its `exit` record).
    mutating func interval(of tick: SampleTick) -> Interval {
        var interval = Interval()
        oomRose = false
        if let host = tick.host { interval.host = add(host) }
        for process in tick.processes { add(process, at: tick.t, to: &interval) }
        for cgroup in tick.cgroups { add(cgroup, to: &interval) }
        if oomRose { oomTicks = Array((oomTicks + [tick.t]).suffix(2)) }
        for exit in tick.exits { recordExit(exit, at: tick.t) }
        for network in tick.networks { add(network, to: &interval) }
        previousT = tick.t
        return interval
    }

    /// The event of a process gone at `t`, with its last reading and whether an OOM kill
    /// was counted in its interval or the one before (host-wide, or in its own cgroup).
    private mutating func recordExit(_ exit: ProcessExit, at t: UInt64) {
        let last = processes.removeValue(forKey: exit.pid)
        guard events.count < Self.eventLimit else { return }
        let recentOOM = oomTicks.contains { $0 == t || $0 == previousT }
        let cgroup = last?.cgroup
        var event = ProcessEvent(kind: .exit, nanoseconds: t, previousNanoseconds: previousT, role: exit.role.name.description,
                                 pid: exit.pid, parentPID: last?.parentPID, root: exit.root, comm: exit.comm,
                                 rssBytes: last?.rssBytes ?? 0, rssPeakBytes: last?.rssPeakBytes)
        event.oomKill = recentOOM
        event.cgroup = cgroup
        event.memoryLimitBytes = cgroup.flatMap { path in cgroups.first { $0.key.path == path }?.value.memoryLimitBytes }
        events.append(event)
    }

    private mutating func add(_ host: HostTick) -> HostInterval? {
        let before = hostOOMKills
        hostOOMKills = host.oomKills
        if let before, let after = host.oomKills, after > before { oomRose = true }
        guard let rates = host.rates else { return nil }
        var ooms: UInt64 = 0
        if let before, let after = host.oomKills { ooms = CounterDelta.increase(from: before, to: after) }
        return HostInterval(busyFraction: rates.busyFraction, stealFraction: rates.stealFraction,
                            cpus: rates.perCPUBusy?.count ?? hostCPUs,
                            cpuPressureFraction: rates.pressureCPU?.some.stallFraction, oomKills: ooms)
    }

    private mutating func add(_ p: ProcessTick, at t: UInt64, to interval: inout Interval) {
        let counters = ProcessCounters(userTicks: p.userTicks, systemTicks: p.systemTicks,
                                       nonvoluntary: p.nonvoluntaryContextSwitches, rssBytes: p.rssBytes,
                                       rssPeakBytes: p.rssPeakBytes, parentPID: p.ppid, cgroup: p.cgroup)
        let before = processes.updateValue(counters, forKey: p.pid)
        if before == nil, previousT != nil, events.count < Self.eventLimit {
            var event = ProcessEvent(kind: .start, nanoseconds: t, previousNanoseconds: previousT, role: p.role.name.description,
                                     pid: p.pid, parentPID: p.ppid, root: p.root, comm: p.comm, rssBytes: p.rssBytes,
                                     rssPeakBytes: p.rssPeakBytes)
            event.cgroup = p.cgroup
            events.append(event)
        }
        var cores: Double = 0
        var ticks: UInt64 = 0
        var runDelay: UInt64 = 0
        var nonvoluntary: UInt64 = 0
        if let rates = p.rates {
            cores = rates.cores
            if let before {
                // Exact for a live tick: the fraction is the increase over `dt`.
                // A replayed line can carry any fraction (the fuzzer found 1e300): clamp, never trap.
                let delay = (rates.runDelayFraction * Double(rates.dt)).rounded()
                runDelay = delay.isFinite && delay > 0 ? (delay < 1.8e19 ? UInt64(delay) : UInt64.max) : 0
                ticks = CounterDelta.increase(from: before.userTicks, to: counters.userTicks)
                    &+ CounterDelta.increase(from: before.systemTicks, to: counters.systemTicks)
                if rates.switches != nil {
                    nonvoluntary = CounterDelta.increase(from: before.nonvoluntary, to: counters.nonvoluntary)
                }
            }
        }
        interval.withRole(p.role) { r in
            r.cores += cores
            r.rssBytes &+= p.rssBytes
            r.processes += 1
            if ticks > 0 { r.ticksByPID[p.pid] = (p.comm, ticks) }
            r.runDelayNanoseconds &+= runDelay
            r.nonvoluntarySwitches &+= nonvoluntary
            if r.allowedCPUs == nil { r.allowedCPUs = p.allowedCPUs.map { Int($0) } }
            if let sockets = p.sockets.map({ Int(clamping: $0) }) { r.socketsMax = max(r.socketsMax ?? 0, sockets) }
            if let fds = p.fds.map({ Int(clamping: $0) }) {
                r.fdsMax = max(r.fdsMax ?? 0, fds)
                if let limit = p.fdLimit.map({ Int(clamping: $0) }), limit > 0 {
                    let usage = DescriptorUsage(fds: fds, limit: limit)
                    if usage.ratio > (r.fdUsage?.ratio ?? -1) { r.fdUsage = usage }
                }
            }
        }
    }

    private mutating func add(_ c: CgroupTick, to interval: inout Interval) {
        let counters = CgroupCounters(periods: c.cpu?.periods, throttledPeriods: c.cpu?.throttledPeriods,
                                      throttledNanoseconds: c.cpu?.throttledNanoseconds, oomKills: c.memory?.oomKills,
                                      memoryLimitBytes: c.memory?.limitBytes)
        let before = cgroups.updateValue(counters, forKey: CgroupKey(role: c.role, path: c.path))
        if let a = before?.oomKills, let b = counters.oomKills, b > a { oomRose = true }
        var periods: UInt64 = 0, throttled: UInt64 = 0, throttledNanoseconds: UInt64 = 0
        if c.rates != nil, let before {
            if let p0 = before.periods, let p1 = counters.periods, let n0 = before.throttledPeriods, let n1 = counters.throttledPeriods {
                periods = CounterDelta.increase(from: p0, to: p1)
                throttled = CounterDelta.increase(from: n0, to: n1)
            }
            if let a = before.throttledNanoseconds, let b = counters.throttledNanoseconds {
                throttledNanoseconds = CounterDelta.increase(from: a, to: b)
            }
        }
        let quota = c.cpu?.quotaCores
        interval.withRole(c.role) { r in
            r.periods += periods
            r.throttledPeriods += throttled
            r.throttledNanoseconds += throttledNanoseconds
            if let quota { r.quotaCores = min(r.quotaCores ?? quota, quota) }
        }
    }

    private mutating func add(_ n: NetworkTick, to interval: inout Interval) {
        let before = networks.updateValue(n.counters, forKey: NetworkKey(role: n.role, namespace: n.namespace))
        var network = RoleInterval()
        if n.rates != nil, let p = before {
            let c = n.counters
            network.net.retransmittedSegments = CounterDelta.increase(from: p.retransmittedSegments, to: c.retransmittedSegments)
            network.net.outSegments = CounterDelta.increase(from: p.outSegments, to: c.outSegments)
            network.net.listenOverflows = CounterDelta.increase(from: p.listenOverflows, to: c.listenOverflows)
            network.net.passiveOpens = CounterDelta.increase(from: p.passiveOpens, to: c.passiveOpens)
            network.net.listenDrops = CounterDelta.increase(from: p.listenDrops, to: c.listenDrops)
        }
        if let sockets = n.sockets {
            network.socketStates = sockets.states
            // The listening sockets count among the states.
            if let listening = n.listening, !listening.isEmpty { network.socketStates[.listen] = listening.count }
        }
        if let listening = n.listening {
            network.acceptQueueMax = listening.map { Int($0.acceptQueue) }.max() ?? 0
        }
        if let connections = n.connections { network.connections = connections }
        interval.withRole(n.role) { $0.add(network: network) }
    }
}
