#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The sampling engine: one `sample()` per tick reads `/proc` and the cgroup files, turns the
/// readings into the tick's records (`SampleTick`: raw values, and rates against each
/// entity's previous reading), hands them to the writer (`samples.jsonl`) and, through
/// `IntervalFold`, to the current step's `StepAccumulator`. Owned by the sampler thread
/// alone (not `Sendable`), so it keeps its state in plain dictionaries without locks.
///
/// The reading is split by what is read: processes and threads (`Sampler+Processes.swift`),
/// host and cgroups (`Sampler+Host.swift`), TCP counters and sockets (`Sampler+Network.swift`).
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

    /// A process's counters at its previous reading.
    struct Previous {
        var t: UInt64
        var userTicks: UInt64
        var systemTicks: UInt64
        var voluntary: UInt64
        var nonvoluntary: UInt64
        var runDelay: UInt64
    }

    /// A thread's counters at its previous reading.
    struct ThreadPrevious {
        var t: UInt64
        var ticks: UInt64
        var runDelay: UInt64
    }

    /// A sampled process; a class, as it is updated in place on every tick.
    final class Tracked {
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
        /// Of `fds`, the sockets (read only with `SamplerConfiguration.countSockets`).
        var sockets: Int?
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
    struct Activity: Equatable {
        var runNanoseconds: UInt64 = 0
        var timeslices: UInt64 = 0
        var threads = 0

        mutating func add(_ schedstat: Schedstat) {
            runNanoseconds &+= schedstat.runNanoseconds
            timeslices &+= schedstat.timeslices
            threads += 1
        }
    }

    var tracked: [Int32: Tracked] = [:]
    var order: [Int32] = []
    var serverPorts: Set<UInt16>
    /// The ports whose sockets are read, either side's, sorted (`refreshListeners` keeps it
    /// in step with `serverPorts`).
    var socketPorts: [UInt16] = []
    let targetPorts: Set<UInt16>
    var listenInodes: Set<UInt64> = []
    var previousHost: HostSample?
    var previousHostT: UInt64 = 0
    /// A cgroup's or a namespace's previous reading, by side.
    struct SideKey<Entity: Hashable>: Hashable {
        var role: SampleRole
        var entity: Entity
    }
    var previousCgroup: [SideKey<String>: (t: UInt64, cpu: CgroupCPU?)] = [:]
    var previousNet: [SideKey<UInt64>: (t: UInt64, counters: TCPCounters)] = [:]
    /// The generator's connections' last `tcp_info`, by socket inode, for per-interval increases.
    var previousConnectionInfo: [UInt64: TCPConnectionInfo] = [:]
    var ephemeralPorts: ClosedRange<UInt16>?
    /// The records of the tick being read (storage reused from tick to tick).
    var tick = SampleTick()
    /// Counter increases of each tick's records, for the step.
    private var fold = IntervalFold()
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
    func addServerRoots(_ holders: Set<Int32>) {
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
    func refreshListeners() {
        defer { socketPorts = serverPorts.union(targetPorts).sorted() }
        let serverPIDs = order.filter { tracked[$0]?.role == .server }
        guard !serverPIDs.isEmpty else { return }
        let found = ServerDiscovery.listeningPorts(of: serverPIDs, reader: reader)
        for (port, inodes) in found {
            serverPorts.insert(port)
            listenInodes.formUnion(inodes)
        }
    }

    func track(_ stat: ProcessStat, role: SampleRole, root: Int32, followChildren: Bool = true) {
        tracked[stat.pid] = Tracked(pid: stat.pid, role: role, root: root, startTime: stat.startTime,
                                    comm: stat.comm, followChildren: followChildren,
                                    namespace: reader.networkNamespace(stat.pid))
        order.append(stat.pid)
    }

    private func writeHeader() {
        let t = now()
        let hostCPUs = (try? reader.readHostCPU().perCPU.count).map(UInt64.init)
        writer.write(SampleHeader(t: t, intervalNanoseconds: configuration.intervalNanoseconds,
                                  clockTicksPerSecond: UInt64(clockTicksPerSecond), pageSize: pageSize,
                                  hostCPUs: hostCPUs, source: configuration.source, ephemeralPorts: ephemeralPorts,
                                  serverPorts: serverPorts.sorted(),
                                  serverPIDs: order.filter { tracked[$0]?.role == .server }))
        writer.flush()
    }

    // MARK: steps

    /// Closes the current step at `t` (the caller has just sampled) and opens the next.
    func beginStep(index: Int, name: String, t: UInt64) {
        closeStep()
        current = StepAccumulator(index: index, name: name, start: t, clockTicksPerSecond: clockTicksPerSecond)
        writer.write(StepMark(t: t, index: index, name: name))
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
                               samples: samplesTaken, steps: finished, writeError: writer.writeError?.message,
                               processEvents: fold.events)
    }

    // MARK: one tick

    func sample() {
        let t = now()
        let dt = lastTick.map { t &- $0 } ?? 0
        let rescan = tickCount % rescanEvery == 0
        let connectionStates = tickCount % connectionStatesEvery == 0
        tickCount += 1

        tick.reset(t: t)
        readHost(t: t)
        readProcesses(t: t, rescan: rescan)
        readCgroups(t: t)
        readNetwork(t: t, connectionStates: connectionStates)
        if rescan && configuration.serverPorts.count > 0 && !tracked.values.contains(where: { $0.role == .server }) {
            // The server restarted: find the new listener.
            if let found = try? ServerDiscovery.listeners(ports: Set(configuration.serverPorts), reader: reader) {
                for holders in found.values { addServerRoots(holders) }
                refreshListeners()
            }
        }
        writer.write(tick)
        // A host record without per-CPU figures (their number changed) has the CPUs read now.
        fold.hostCPUs = previousHost?.cpu.perCPU.count ?? 0
        let interval = fold.interval(of: tick)
        if lastTick != nil { current.add(t: t, dt: dt, host: interval.host, client: interval.client, server: interval.server) }
        lastTick = t
        samplesTaken += 1
        writer.flush()
    }
}
