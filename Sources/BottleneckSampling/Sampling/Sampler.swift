#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Which side of the test a sampled process is on.
enum SampleRole: Int {
    case client = 0
    case server = 1

    var name: StaticString { self == .client ? "client" : "server" }
}

/// The sampling engine: one `sample()` per tick reads everything, writes the lines and
/// feeds the step aggregates. Owned by the sampler thread alone (not `Sendable`), so it
/// keeps its state in plain dictionaries without locks.
final class Sampler {
    let configuration: SamplerConfiguration
    let reader: ProcReader
    let writer: SampleLineWriter
    let now: @Sendable () -> UInt64
    let clockTicksPerSecond: Double
    let pageSize: UInt64
    let selfPID: Int32
    /// How often (in ticks, ≈10 s at 250 ms) to re-read slowly changing things: cgroup
    /// membership, network namespace, a restarted server's listener. Everything else is read
    /// on every tick, but for the connection-state counts.
    let rescanEvery = 40
    /// How often (in ticks) to count connections by state (`SamplerConfiguration.connectionStateInterval`);
    /// the listening sockets (accept queues) are read on every tick.
    let connectionStatesEvery: Int

    private struct Previous {
        var t: UInt64
        var userTicks: UInt64
        var systemTicks: UInt64
        var voluntary: UInt64
        var nonvoluntary: UInt64
        var runDelay: UInt64
    }

    private struct ThreadPrevious {
        var t: UInt64
        var ticks: UInt64
        var runDelay: UInt64
    }

    /// A sampled process; a class, as it is updated in place on every tick.
    private final class Tracked {
        let pid: Int32
        let role: SampleRole
        let root: Int32
        let startTime: UInt64
        var comm: String
        let followChildren: Bool
        var previous: Previous?
        var threads: [Int32: ThreadPrevious] = [:]
        var cgroup: CgroupLocation?
        var fdLimit: UInt64?
        var namespace: UInt64?
        var status: ProcessStatus?
        var statusTime: UInt64 = 0
        var fds: Int?
        /// Time on CPU and number of times scheduled in, of all its threads, when `status`,
        /// `fds` and the children were last read (`Activity`).
        var activity: Activity?

        init(pid: Int32, role: SampleRole, root: Int32, startTime: UInt64, comm: String, followChildren: Bool, namespace: UInt64?) {
            self.pid = pid
            self.role = role
            self.root = root
            self.startTime = startTime
            self.comm = comm
            self.followChildren = followChildren
            self.namespace = namespace
        }
    }

    /// Whether a process ran since it was last looked at, from its `schedstat`: its
    /// context-switch counts, peak RSS, descriptors and children can only change by running
    /// (a task switches, faults pages in, opens files and forks itself), so while the run
    /// time and the number of times scheduled in of all its threads stay put, their last
    /// values are still exact and `status`, the fd count and `children` are not read again
    /// (only on each rescan, for what others can change: the CPU affinity).
    /// `stat` is read on every tick all the same: RSS can shrink (reclaim) and the parent
    /// change (reparenting) while a process sleeps.
    private struct Activity: Equatable {
        var runNanoseconds: UInt64 = 0
        var timeslices: UInt64 = 0
        var threads = 0

        mutating func add(_ schedstat: Schedstat) {
            runNanoseconds &+= schedstat.runNanoseconds
            timeslices &+= schedstat.timeslices
            threads += 1
        }
    }

    private var tracked: [Int32: Tracked] = [:]
    private var order: [Int32] = []
    private var serverPorts: Set<UInt16>
    /// The ports whose sockets are read, either side's, sorted (`refreshListeners` keeps it
    /// in step with `serverPorts`).
    private var socketPorts: [UInt16] = []
    private let targetPorts: Set<UInt16>
    private var listenInodes: Set<UInt64> = []
    private var previousHost: HostSample?
    private var previousHostT: UInt64 = 0
    private var previousCgroup: [String: (t: UInt64, cpu: CgroupCPU?, memory: CgroupMemory?)] = [:]
    private var previousNet: [String: (t: UInt64, counters: TCPCounters)] = [:]
    /// The generator's connections' last `tcp_info`, by socket inode, for per-interval increases.
    private var previousConnectionInfo: [UInt64: TCPConnectionInfo] = [:]
    private var ephemeralPorts: ClosedRange<UInt16>?
    private var lastTick: UInt64?
    private var tickCount = 0
    private(set) var samplesTaken = 0
    private var current: StepAccumulator
    private var finished: [StepAggregate] = []

    /// Resolves the server processes now, so a bad `--server-pid`/`--server-port` fails
    /// before any load is sent.
    init(configuration: SamplerConfiguration, writer: SampleLineWriter, now: @escaping @Sendable () -> UInt64) throws(SamplerError) {
        self.configuration = configuration
        self.reader = ProcReader(procRoot: configuration.procRoot, cgroupRoot: configuration.cgroupRoot)
        self.writer = writer
        self.now = now
        let tck = sysconf(Int32(_SC_CLK_TCK))
        self.clockTicksPerSecond = tck > 0 ? Double(tck) : 100
        let page = sysconf(Int32(_SC_PAGESIZE))
        self.pageSize = page > 0 ? UInt64(page) : 4096
        self.selfPID = getpid()
        self.serverPorts = Set(configuration.serverPorts)
        self.targetPorts = Set(configuration.targetPorts)
        self.connectionStatesEvery = configuration.ticks(configuration.connectionStateInterval)
        self.current = StepAccumulator(index: -1, name: "before-first-step", start: now(), clockTicksPerSecond: clockTicksPerSecond)

        for pid in configuration.serverPIDs {
            guard let stat = try? reader.readProcessStat(pid) else { throw SamplerError.noSuchProcess(pid: pid) }
            track(stat, role: .server, root: pid)
        }
        for port in configuration.serverPorts {
            let holders = try ServerDiscovery.listeners(ports: [port], reader: reader)[port] ?? []
            if holders.isEmpty { throw SamplerError.noListener(port: port) }
            addServerRoots(holders)
        }
        refreshListeners()
        if configuration.sampleSelf, let stat = try? reader.readProcessStat(selfPID) {
            // The generator is one process; its descendants (if any) are not load.
            track(stat, role: .client, root: selfPID, followChildren: false)
        }
        ephemeralPorts = try? reader.readEphemeralPortRange()
        writeHeader()
    }

    /// Holders of a listening socket: those whose parent also holds it are workers of it
    /// (gunicorn) and are found again as descendants; the rest are roots.
    private func addServerRoots(_ holders: Set<Int32>) {
        var stats: [Int32: ProcessStat] = [:]
        for pid in holders { stats[pid] = try? reader.readProcessStat(pid) }
        for pid in holders.sorted() {
            guard let stat = stats[pid], tracked[pid] == nil else { continue }
            if holders.contains(stat.ppid) { continue }
            track(stat, role: .server, root: pid)
        }
        for pid in holders.sorted() where tracked[pid] == nil {
            if let stat = stats[pid], let parent = tracked[stat.ppid] {
                track(stat, role: .server, root: parent.root)
            }
        }
    }

    /// Ports and listening inodes of the server trees (for `--server-pid` without a port).
    private func refreshListeners() {
        defer { socketPorts = serverPorts.union(targetPorts).sorted() }
        let serverPIDs = order.filter { tracked[$0]?.role == .server }
        guard !serverPIDs.isEmpty else { return }
        let found = ServerDiscovery.listeningPorts(of: serverPIDs, reader: reader)
        for (port, inodes) in found {
            serverPorts.insert(port)
            listenInodes.formUnion(inodes)
        }
    }

    private func track(_ stat: ProcessStat, role: SampleRole, root: Int32, followChildren: Bool = true) {
        tracked[stat.pid] = Tracked(pid: stat.pid, role: role, root: root, startTime: stat.startTime,
                                    comm: stat.comm, followChildren: followChildren,
                                    namespace: reader.networkNamespace(stat.pid))
        order.append(stat.pid)
    }

    private func writeHeader() {
        writer.begin("header", t: now())
        writer.field("version", 1)
        writer.field("interval_ns", configuration.intervalNanoseconds)
        writer.field("clock", "monotonic")
        writer.field("clk_tck", UInt64(clockTicksPerSecond))
        writer.field("page_size", pageSize)
        writer.field("host_cpus", (try? reader.readHostCPU().perCPU.count).map(UInt64.init))
        writer.field("source", configuration.source)
        if let range = ephemeralPorts { writer.array("ephemeral_ports", [UInt64(range.lowerBound), UInt64(range.upperBound)]) }
        writer.array("server_ports", serverPorts.sorted().map(UInt64.init))
        writer.array("server_pids", order.filter { tracked[$0]?.role == .server }.map { UInt64($0) })
        writer.end()
        writer.flush()
    }

    // MARK: steps

    /// Closes the current step at `t` (the caller has just sampled) and opens the next.
    func beginStep(index: Int, name: String, t: UInt64) {
        closeStep()
        current = StepAccumulator(index: index, name: name, start: t, clockTicksPerSecond: clockTicksPerSecond)
        writer.begin("step", t: t)
        writer.field("index", index)
        writer.field("name", name)
        writer.end()
        writer.flush()
    }

    private func closeStep() {
        if current.index >= 0 || current.intervals > 0 { finished.append(current.aggregate()) }
    }

    func finish() -> SamplingSummary {
        closeStep()
        current = StepAccumulator(index: Int.min, name: "", start: 0, clockTicksPerSecond: clockTicksPerSecond)
        writer.flush()
        return SamplingSummary(intervalNanoseconds: configuration.intervalNanoseconds, source: configuration.source,
                               samples: samplesTaken, steps: finished, writeError: writer.writeError?.message)
    }

    // MARK: one tick

    func sample() {
        let t = now()
        let dt = lastTick.map { t &- $0 } ?? 0
        let rescan = tickCount % rescanEvery == 0
        let connectionStates = tickCount % connectionStatesEvery == 0
        tickCount += 1
        var client = RoleInterval()
        var server = RoleInterval()

        let host = sampleHost(t: t)
        sampleProcesses(t: t, rescan: rescan, client: &client, server: &server)
        sampleCgroups(t: t, client: &client, server: &server)
        sampleNetwork(t: t, connectionStates: connectionStates, client: &client, server: &server)
        if rescan && configuration.serverPorts.count > 0 && !tracked.values.contains(where: { $0.role == .server }) {
            // The server restarted: find the new listener.
            if let found = try? ServerDiscovery.listeners(ports: Set(configuration.serverPorts), reader: reader) {
                for holders in found.values { addServerRoots(holders) }
                refreshListeners()
            }
        }
        if lastTick != nil { current.add(t: t, dt: dt, host: host, client: client, server: server) }
        lastTick = t
        samplesTaken += 1
        writer.flush()
    }

    // MARK: host

    /// Host CPU, PSI, memory and the OOM counter.
    private func sampleHost(t: UInt64) -> HostInterval? {
        guard let sample = try? reader.readHost() else { return nil }
        defer { previousHost = sample; previousHostT = t }
        let w = writer
        w.begin("host", t: t)
        w.field("dt", previousHost == nil ? 0 : t &- previousHostT)
        let c = sample.cpu.total
        w.object("cpu_ticks") {
            w.field("user", c.user); w.field("nice", c.nice); w.field("system", c.system); w.field("idle", c.idle)
            w.field("iowait", c.iowait); w.field("irq", c.irq); w.field("softirq", c.softirq); w.field("steal", c.steal)
        }
        w.field("procs_running", sample.cpu.procsRunning)
        w.field("procs_blocked", sample.cpu.procsBlocked)
        w.field("ctxt", sample.cpu.contextSwitches)
        w.field("mem_total", sample.memory.totalBytes)
        w.field("mem_available", sample.memory.availableBytes)
        w.field("swap_used", sample.memory.swapTotalBytes &- sample.memory.swapFreeBytes)
        w.field("oom_kill", sample.oomKills)
        let dt = t &- previousHostT
        var interval: HostInterval?
        if let previous = previousHost {
            func fraction(_ a: CPUTimes, _ b: CPUTimes) -> (busy: Double, steal: Double) {
                let total = CounterDelta.increase(from: a.total, to: b.total)
                guard total > 0 else { return (0, 0) }
                return (Double(CounterDelta.increase(from: a.busy, to: b.busy)) / Double(total),
                        Double(CounterDelta.increase(from: a.steal, to: b.steal)) / Double(total))
            }
            let total = fraction(previous.cpu.total, c)
            let cpus = sample.cpu.perCPU.count
            w.field("busy_fraction", total.busy)
            w.field("busy_cores", total.busy * Double(cpus))
            w.field("steal_fraction", total.steal)
            if previous.cpu.perCPU.count == cpus {
                w.array("per_cpu_busy", zip(previous.cpu.perCPU, sample.cpu.perCPU).map { fraction($0, $1).busy })
            }
            w.field("ctxt_per_s", CounterDelta.rate(from: previous.cpu.contextSwitches, to: sample.cpu.contextSwitches, nanoseconds: dt))
            var ooms: UInt64 = 0
            if let a = previous.oomKills, let b = sample.oomKills {
                ooms = CounterDelta.increase(from: a, to: b)
                w.field("oom_kill_per_s", CounterDelta.rate(from: a, to: b, nanoseconds: dt))
            }
            var cpuPressure: Double?
            func psi(_ name: String, _ a: Pressure?, _ b: Pressure?) -> Double? {
                guard let a, let b else { return nil }
                w.field(named: "psi_\(name)_some_avg10", b.some.avg10)
                w.field(named: "psi_\(name)_some_total_us", b.some.totalMicroseconds)
                let some = Double(CounterDelta.increase(from: a.some.totalMicroseconds, to: b.some.totalMicroseconds)) * 1000 / Double(max(dt, 1))
                w.field(named: "psi_\(name)_some_stall_fraction", some)
                if let af = a.full, let bf = b.full {
                    w.field(named: "psi_\(name)_full_avg10", bf.avg10)
                    w.field(named: "psi_\(name)_full_total_us", bf.totalMicroseconds)
                    w.field(named: "psi_\(name)_full_stall_fraction",
                            Double(CounterDelta.increase(from: af.totalMicroseconds, to: bf.totalMicroseconds)) * 1000 / Double(max(dt, 1)))
                }
                return some
            }
            cpuPressure = psi("cpu", previous.pressureCPU, sample.pressureCPU)
            _ = psi("memory", previous.pressureMemory, sample.pressureMemory)
            _ = psi("io", previous.pressureIO, sample.pressureIO)
            interval = HostInterval(busyFraction: total.busy, stealFraction: total.steal, cpus: cpus,
                                    cpuPressureFraction: cpuPressure, oomKills: ooms)
        }
        w.end()
        return interval
    }

    // MARK: processes

    private func sampleProcesses(t: UInt64, rescan: Bool, client: inout RoleInterval, server: inout RoleInterval) {
        var trees: [Int32: (role: SampleRole, processes: Int, cores: Double, rss: UInt64)] = [:]
        var index = 0
        var exited: [Int32] = []
        while index < order.count {
            let pid = order[index]
            index += 1
            guard let entry = tracked[pid] else { continue }
            // Gone, replaced by a new process with the same PID, or a zombie: it has exited.
            guard let stat = try? reader.readProcessStat(pid), stat.startTime == entry.startTime,
                  stat.state != "Z", stat.state != "X" else {
                exited.append(pid)
                continue
            }
            entry.comm = stat.comm
            if rescan || entry.cgroup == nil, let membership = try? reader.readCgroupMembership(pid) {
                entry.cgroup = reader.resolveCgroup(membership.entries, cacheKey: membership.text)
            }
            if rescan { entry.namespace = reader.networkNamespace(pid) }
            if entry.fdLimit == nil { entry.fdLimit = (try? reader.readOpenFileLimit(pid))?.soft ?? UInt64.max }

            // Threads: per-thread CPU and run delay (the process schedstat covers the main thread only).
            var runDelay: UInt64 = 0
            var runDelayIncrease: UInt64 = 0
            var activity: Activity? = Activity()
            var threadIDs: [Int32] = []
            if stat.threads > 1 {
                var seen: [Int32: ThreadPrevious] = [:]
                threadIDs = (try? reader.threadIDs(pid)) ?? []
                for tid in threadIDs {
                    guard let ts = try? reader.readThreadStat(pid, tid) else { continue }
                    let sched = try? reader.readSchedstat(pid, thread: tid)
                    if let sched { activity?.add(sched) } else { activity = nil }
                    let ticks = ts.userTicks &+ ts.systemTicks
                    let delay = sched?.runDelayNanoseconds ?? 0
                    runDelay &+= delay
                    let previous = entry.threads[tid]
                    if let previous { runDelayIncrease &+= CounterDelta.increase(from: previous.runDelay, to: delay) }
                    seen[tid] = ThreadPrevious(t: t, ticks: ticks, runDelay: delay)
                    if configuration.sampleThreads {
                        writer.begin("thread", t: t)
                        writer.field("role", entry.role.name)
                        writer.field("pid", pid)
                        writer.field("tid", tid)
                        writer.field("comm", ts.comm)
                        writer.field("last_cpu", ts.lastCPU)
                        writer.field("utime_ticks", ts.userTicks)
                        writer.field("stime_ticks", ts.systemTicks)
                        writer.field("run_delay_ns", delay)
                        if let previous, t > previous.t {
                            let dt = t - previous.t
                            writer.field("dt", dt)
                            writer.field("cores", CounterDelta.rate(from: previous.ticks, to: ticks, nanoseconds: dt) / clockTicksPerSecond)
                            writer.field("run_delay_fraction", CounterDelta.rate(from: previous.runDelay, to: delay, nanoseconds: dt) / 1e9)
                        }
                        writer.end()
                    }
                }
                entry.threads = seen
            } else if let sched = try? reader.readSchedstat(pid) {
                runDelay = sched.runDelayNanoseconds
                if let previous = entry.previous { runDelayIncrease = CounterDelta.increase(from: previous.runDelay, to: runDelay) }
                entry.threads = [:]
                activity?.add(sched)
            } else {
                activity = nil
            }

            // status, fds and children: again only if the process ran (`Activity`).
            let status: ProcessStatus
            if let known = entry.status, !rescan, let activity, activity == entry.activity {
                status = known
            } else {
                guard let fresh = try? reader.readStatus(pid) else {
                    exited.append(pid)
                    continue
                }
                status = fresh
                entry.fds = try? reader.openFileCount(pid)
                entry.activity = activity
                // New children join the tree (and are sampled later in this same tick).
                if entry.followChildren {
                    for tid in threadIDs.isEmpty ? [pid] : threadIDs {
                        for child in (try? reader.children(pid, thread: tid)) ?? [] where tracked[child] == nil {
                            if let childStat = try? reader.readProcessStat(child) {
                                track(childStat, role: entry.role, root: entry.root)
                            }
                        }
                    }
                }
            }
            let fds = entry.fds

            // RSS from stat (same snapshot as the CPU times); peak and context switches from status.
            let rss = stat.rssPages &* pageSize
            let w = writer
            w.begin("process", t: t)
            w.field("role", entry.role.name)
            w.field("source", configuration.source)
            w.field("pid", pid)
            w.field("ppid", stat.ppid)
            w.field("root", entry.root)
            w.field("comm", stat.comm)
            w.field("state", String(stat.state))
            w.field("threads", stat.threads)
            w.field("last_cpu", stat.lastCPU)
            w.field("utime_ticks", stat.userTicks)
            w.field("stime_ticks", stat.systemTicks)
            w.field("rss_bytes", rss)
            w.field("rss_peak_bytes", status.rssPeakBytes)
            w.field("voluntary_ctxt", status.voluntaryContextSwitches)
            w.field("nonvoluntary_ctxt", status.nonvoluntaryContextSwitches)
            w.field("run_delay_ns", runDelay)
            w.field("fds", fds.map { UInt64($0) })
            w.field("fd_limit", entry.fdLimit == UInt64.max ? nil : entry.fdLimit)
            w.field("allowed_cpus", status.allowedCPUs.map { UInt64($0) })
            if let cgroup = entry.cgroup { w.field("cgroup", cgroup.path) }
            var cores: Double = 0
            var tickIncrease: UInt64 = 0
            var nonvoluntaryIncrease: UInt64 = 0
            if let previous = entry.previous, t > previous.t {
                let dt = t - previous.t
                let user = CounterDelta.rate(from: previous.userTicks, to: stat.userTicks, nanoseconds: dt) / clockTicksPerSecond
                let sys = CounterDelta.rate(from: previous.systemTicks, to: stat.systemTicks, nanoseconds: dt) / clockTicksPerSecond
                cores = user + sys
                tickIncrease = CounterDelta.increase(from: previous.userTicks, to: stat.userTicks)
                    &+ CounterDelta.increase(from: previous.systemTicks, to: stat.systemTicks)
                w.field("dt", dt)
                w.field("user_cores", user)
                w.field("sys_cores", sys)
                w.field("cores", cores)
                w.field("run_delay_fraction", Double(runDelayIncrease) / Double(dt))
                if let before = entry.status, t > entry.statusTime {
                    // Context-switch rates over the time since the previous status read.
                    let span = t - entry.statusTime
                    nonvoluntaryIncrease = CounterDelta.increase(from: before.nonvoluntaryContextSwitches, to: status.nonvoluntaryContextSwitches)
                    w.field("ctxt_dt", span)
                    w.field("voluntary_ctxt_per_s", CounterDelta.rate(from: before.voluntaryContextSwitches, to: status.voluntaryContextSwitches, nanoseconds: span))
                    w.field("nonvoluntary_ctxt_per_s", Double(nonvoluntaryIncrease) * 1e9 / Double(span))
                }
            }
            w.end()
            entry.status = status
            entry.statusTime = t
            entry.previous = Previous(t: t, userTicks: stat.userTicks, systemTicks: stat.systemTicks,
                                      voluntary: status.voluntaryContextSwitches,
                                      nonvoluntary: status.nonvoluntaryContextSwitches, runDelay: runDelay)

            var tree = trees[entry.root] ?? (entry.role, 0, 0, 0)
            tree.processes += 1
            tree.cores += cores
            tree.rss &+= rss
            trees[entry.root] = tree

            func account(_ r: inout RoleInterval) {
                r.cores += cores
                r.rssBytes &+= rss
                r.processes += 1
                if tickIncrease > 0 { r.ticksByPID[pid] = (stat.comm, tickIncrease) }
                r.runDelayNanoseconds &+= runDelayIncrease
                r.nonvoluntarySwitches &+= nonvoluntaryIncrease
                if r.allowedCPUs == nil { r.allowedCPUs = status.allowedCPUs }
            }
            if entry.role == .client { account(&client) } else { account(&server) }
        }
        for pid in exited {
            guard let entry = tracked.removeValue(forKey: pid) else { continue }
            order.removeAll { $0 == pid }
            reader.forget(pid)
            writer.begin("exit", t: t)
            writer.field("role", entry.role.name)
            writer.field("pid", pid)
            writer.field("root", entry.root)
            writer.field("comm", entry.comm)
            writer.end()
        }
        for (root, tree) in trees.sorted(by: { $0.key < $1.key }) {
            writer.begin("tree", t: t)
            writer.field("role", tree.role.name)
            writer.field("root", root)
            writer.field("processes", tree.processes)
            writer.field("cores", tree.cores)
            writer.field("rss_bytes", tree.rss)
            writer.end()
        }
    }

    // MARK: cgroups

    private func sampleCgroups(t: UInt64, client: inout RoleInterval, server: inout RoleInterval) {
        var seen: Set<String> = []
        // Both sides often share a cgroup: its files are read once per tick.
        var read: [CgroupLocation: (cpu: CgroupCPU?, memory: CgroupMemory?)] = [:]
        for pid in order {
            guard let entry = tracked[pid], let location = entry.cgroup else { continue }
            let key = (entry.role == .client ? "c" : "s") + location.path
            guard seen.insert(key).inserted else { continue }
            let values = read[location] ?? (try? reader.readCgroupCPU(location), try? reader.readCgroupMemory(location))
            read[location] = values
            let (cpu, memory) = values
            if cpu == nil && memory == nil { continue }
            let previous = previousCgroup[key]
            previousCgroup[key] = (t, cpu, memory)
            let w = writer
            w.begin("cgroup", t: t)
            w.field("role", entry.role.name)
            w.field("path", location.path)
            w.field("version", location.version.rawValue)
            if let cpu {
                w.field("quota_cores", cpu.quotaCores)
                w.field("nr_periods", cpu.periods)
                w.field("nr_throttled", cpu.throttledPeriods)
                w.field("throttled_ns", cpu.throttledNanoseconds)
                w.field("usage_ns", cpu.usageNanoseconds)
            }
            if let memory {
                w.field("mem_current", memory.currentBytes)
                w.field("mem_limit", memory.limitBytes)
                w.field("mem_limit_hits", memory.limitHits)
                w.field("oom_kill", memory.oomKills)
            }
            var contribution = RoleInterval()
            contribution.quotaCores = cpu?.quotaCores
            if let previous, t > previous.t, let cpu, let before = previous.cpu {
                let dt = t - previous.t
                w.field("dt", dt)
                if let p0 = before.periods, let p1 = cpu.periods, let n0 = before.throttledPeriods, let n1 = cpu.throttledPeriods {
                    let periods = CounterDelta.increase(from: p0, to: p1)
                    let throttled = CounterDelta.increase(from: n0, to: n1)
                    w.field("throttled_ratio", periods > 0 ? Double(throttled) / Double(periods) : 0)
                    contribution.periods = periods
                    contribution.throttledPeriods = throttled
                }
                if let a = before.throttledNanoseconds, let b = cpu.throttledNanoseconds {
                    contribution.throttledNanoseconds = CounterDelta.increase(from: a, to: b)
                    w.field("throttled_ns_per_s", CounterDelta.rate(from: a, to: b, nanoseconds: dt))
                }
                if let a = before.usageNanoseconds, let b = cpu.usageNanoseconds {
                    w.field("usage_cores", CounterDelta.rate(from: a, to: b, nanoseconds: dt) / 1e9)
                }
            }
            w.end()
            func add(_ r: inout RoleInterval) {
                r.periods += contribution.periods
                r.throttledPeriods += contribution.throttledPeriods
                r.throttledNanoseconds += contribution.throttledNanoseconds
                if let q = contribution.quotaCores { r.quotaCores = min(r.quotaCores ?? q, q) }
            }
            if entry.role == .client { add(&client) } else { add(&server) }
        }
    }

    // MARK: network

    private func sampleNetwork(t: UInt64, connectionStates: Bool, client: inout RoleInterval, server: inout RoleInterval) {
        // One read per network namespace, through a live process in it; each side present in
        // that namespace then gets its own record (its own ports, its own rates).
        var namespaces: [(namespace: UInt64, pid: Int32, roles: [SampleRole])] = []
        for pid in order {
            guard let entry = tracked[pid], let namespace = entry.namespace else { continue }
            if let i = namespaces.firstIndex(where: { $0.namespace == namespace }) {
                if !namespaces[i].roles.contains(entry.role) { namespaces[i].roles.append(entry.role) }
            } else {
                namespaces.append((namespace, pid, [entry.role]))
            }
        }
        for (namespace, pid, roles) in namespaces {
            guard let counters = try? reader.readTCPCounters(pid) else { continue }
            // Only rows of the ports any side cares about (listening inodes are on server ports
            // discovered at start, so they are covered too); only the listeners between
            // connection-state ticks.
            let sockets = try? reader.readTCPSockets(pid, namespace: namespace, ports: socketPorts, listeningOnly: !connectionStates,
                                                     withInfo: roles.contains(.client))
            for role in roles {
                var interval = RoleInterval()
                writeNetwork(t: t, role: role, namespace: namespace, pid: pid, counters: counters, sockets: sockets,
                             connectionStates: connectionStates, into: &interval)
                if role == .client { client.add(network: interval) } else { server.add(network: interval) }
            }
        }
    }

    private func writeNetwork(t: UInt64, role: SampleRole, namespace: UInt64, pid: Int32, counters: TCPCounters,
                              sockets: [TCPSocket]?, connectionStates: Bool, into interval: inout RoleInterval) {
        let key = (role == .client ? "c" : "s") + String(namespace)
        let ports = role == .client ? targetPorts : serverPorts
        var states: [TCPState: Int] = [:]
        var rx: UInt64 = 0, tx: UInt64 = 0
        var listening: [TCPSocket] = []
        for s in sockets ?? [] {
            let matches = role == .client
                ? ports.contains(s.remotePort) && s.state != .listen
                : ports.contains(s.localPort) || (s.inode != 0 && listenInodes.contains(s.inode))
            guard matches else { continue }
            states[s.state, default: 0] += 1
            rx += UInt64(s.rxQueue)
            tx += UInt64(s.txQueue)
            if s.state == .listen { listening.append(s) }
        }
        let previous = previousNet[key]
        previousNet[key] = (t, counters)
        let w = writer
        w.begin("net", t: t)
        w.field("role", role.name)
        w.field("netns", namespace)
        w.field("pid", pid)
        for (name, value) in counters.named { w.field(named: name, value) }
        if let previous, t > previous.t {
            let dt = t - previous.t
            w.field("dt", dt)
            for ((name, before), (_, after)) in zip(previous.counters.named, counters.named) {
                w.field(named: name + "_per_s", CounterDelta.rate(from: before, to: after, nanoseconds: dt))
            }
            let p = previous.counters
            interval.net.retransmittedSegments = CounterDelta.increase(from: p.retransmittedSegments, to: counters.retransmittedSegments)
            interval.net.outSegments = CounterDelta.increase(from: p.outSegments, to: counters.outSegments)
            interval.net.listenOverflows = CounterDelta.increase(from: p.listenOverflows, to: counters.listenOverflows)
            interval.net.passiveOpens = CounterDelta.increase(from: p.passiveOpens, to: counters.passiveOpens)
            interval.net.listenDrops = CounterDelta.increase(from: p.listenDrops, to: counters.listenDrops)
            let out = interval.net.outSegments
            w.field("retransmit_ratio", out > 0 ? Double(interval.net.retransmittedSegments) / Double(out) : 0)
        }
        w.array("ports", ports.sorted().map(UInt64.init))
        if sockets != nil {
            if connectionStates {
                w.object("sockets") {
                    for state in TCPState.allCases where state != .listen {
                        if let n = states[state] { w.field(named: state.name, UInt64(n)) }
                    }
                }
                w.field("rx_queue", rx)
                w.field("tx_queue", tx)
                interval.socketStates = states
            }
            w.objects("listen", listening) { s in
                w.field("port", UInt64(s.localPort))
                w.field("inode", s.inode)
                w.field("accept_queue", UInt64(s.rxQueue))
            }
            interval.acceptQueueMax = listening.map { Int($0.rxQueue) }.max() ?? 0
            if role == .client && connectionStates {
                writeConnectionInfo(sockets ?? [], into: &interval)
            }
        }
        if role == .client, let range = ephemeralPorts {
            w.array("ephemeral_ports", [UInt64(range.lowerBound), UInt64(range.upperBound)])
        }
        w.end()
    }

    /// The generator's established connections to the target: what `tcp_info` says happened on
    /// them since the last sample, into the interval and the `net` record (`tcp_info`).
    private func writeConnectionInfo(_ sockets: [TCPSocket], into interval: inout RoleInterval) {
        var account = ConnectionInterval()
        var seen: [UInt64: TCPConnectionInfo] = [:]
        for s in sockets where s.state == .established && targetPorts.contains(s.remotePort) && s.inode != 0 {
            guard let info = s.info else { continue }
            account.add(info, previous: previousConnectionInfo[s.inode])
            seen[s.inode] = info
        }
        previousConnectionInfo = seen
        guard account.sampled > 0 else { return }
        interval.connections = account
        let w = writer
        w.object("tcp_info") {
            w.field("connections", UInt64(account.sampled))
            w.field("rtt_us_mean", account.rttMicrosSum / Double(account.sampled))
            w.field("rtt_us_max", account.rttMicrosMax)
            w.field("delivery_rate_bps_max", account.deliveryBytesPerSecondMax * 8)
            w.field("busy_us", account.busyMicros)
            w.field("rwnd_limited_us", account.receiveWindowLimitedMicros)
            w.field("sndbuf_limited_us", account.sendBufferLimitedMicros)
            w.field("bytes_acked", account.bytesAcked)
            w.field("bytes_received", account.bytesReceived)
            w.field("retransmits", account.retransmits)
            w.field("segs_out", account.segmentsOut)
        }
    }
}
