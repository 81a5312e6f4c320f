/// Which side of the test a sampled process is on.
enum SampleRole: Int {
    case client = 0
    case server = 1

    var name: StaticString { self == .client ? "client" : "server" }
}

// The typed records of `samples.jsonl`, one struct per line type, holding the fields that
// line has (the format: docs/run-directory.md, "samples.jsonl"). The `Sampler` produces them
// from its readings, `SampleLineWriter` serialises them and `IntervalFold` turns a tick's
// worth into what the interval adds to its step; `SampleLineReplay` decodes an agent's lines
// back into them. Values derived from the previous reading of the same entity (rates,
// fractions, `dt`) are in an optional `rates`, nil on an entity's first reading.

/// The `header` line: how the lines that follow were taken.
struct SampleHeader {
    var t: UInt64
    var intervalNanoseconds: UInt64
    var clockTicksPerSecond: UInt64
    var pageSize: UInt64
    var hostCPUs: UInt64?
    var source: String
    var ephemeralPorts: ClosedRange<UInt16>?
    var serverPorts: [UInt16]
    var serverPIDs: [Int32]
}

/// The `step` line: the sampler began a load step right after the sample at `t`.
struct StepMark {
    var t: UInt64
    var index: Int
    var name: String
}

/// One tick's records, in the order their lines are written. Reused from tick to tick
/// (`removeAll` keeps the arrays' storage), so a tick allocates no new arrays.
struct SampleTick {
    var t: UInt64 = 0
    var host: HostTick?
    var processes: [ProcessTick] = []
    /// The thread lines, in the order read: each process's come right before its own line.
    var threads: [ThreadTick] = []
    /// For each of `processes`, how many of `threads` are written before it (its own and
    /// those of a process that exited while its threads were being read).
    var threadsBefore: [Int] = []
    var exits: [ProcessExit] = []
    var trees: [TreeTick] = []
    var cgroups: [CgroupTick] = []
    var networks: [NetworkTick] = []

    mutating func reset(t: UInt64) {
        self.t = t
        host = nil
        processes.removeAll(keepingCapacity: true)
        threads.removeAll(keepingCapacity: true)
        threadsBefore.removeAll(keepingCapacity: true)
        exits.removeAll(keepingCapacity: true)
        trees.removeAll(keepingCapacity: true)
        cgroups.removeAll(keepingCapacity: true)
        networks.removeAll(keepingCapacity: true)
    }

    /// Adds a process record after the thread records read so far.
    mutating func append(_ process: ProcessTick) {
        processes.append(process)
        threadsBefore.append(threads.count)
    }
}

/// The `host` line: `/proc/stat`, `/proc/meminfo`, PSI and the OOM-kill counter.
struct HostTick {
    var t: UInt64
    /// Time since the previous host reading; 0 on the first.
    var dt: UInt64
    var cpuTicks: CPUTimes
    var procsRunning: UInt64
    var procsBlocked: UInt64
    var contextSwitches: UInt64
    var memTotalBytes: UInt64
    var memAvailableBytes: UInt64
    var swapUsedBytes: UInt64
    var oomKills: UInt64?
    var rates: Rates?

    struct Rates {
        var busyFraction: Double
        var busyCores: Double
        var stealFraction: Double
        /// Per CPU; nil when the number of CPUs changed since the previous reading.
        var perCPUBusy: [Double]?
        var contextSwitchesPerSecond: Double
        var oomKillsPerSecond: Double?
        var pressureCPU: PressureTick?
        var pressureMemory: PressureTick?
        var pressureIO: PressureTick?
    }
}

/// One PSI file in a `host` line (`psi_<resource>_some_*`, `psi_<resource>_full_*`).
struct PressureTick {
    var some: Stall
    var full: Stall?

    struct Stall {
        var avg10: Double
        var totalMicroseconds: UInt64
        /// Share of the interval stalled, from the increase of `totalMicroseconds`.
        var stallFraction: Double
    }
}

/// The `process` line: one sampled process.
struct ProcessTick {
    var t: UInt64
    var role: SampleRole
    var source: String
    var pid: Int32
    var ppid: Int32
    var root: Int32
    var comm: String
    var state: String
    var threads: Int
    var lastCPU: Int
    var userTicks: UInt64
    var systemTicks: UInt64
    var rssBytes: UInt64
    var rssPeakBytes: UInt64?
    var voluntaryContextSwitches: UInt64
    var nonvoluntaryContextSwitches: UInt64
    /// Run delay of all its threads (the sum of the live ones: it can go down).
    var runDelayNanoseconds: UInt64
    var fds: UInt64?
    /// nil when unlimited.
    var fdLimit: UInt64?
    var allowedCPUs: UInt64?
    var cgroup: String?
    var rates: Rates?
    /// Of `fds`, the sockets; nil unless counted (`SamplerConfiguration.countSockets`).
    var sockets: UInt64? = nil

    struct Rates {
        var dt: UInt64
        var userCores: Double
        var systemCores: Double
        var cores: Double
        /// Run delay added in the interval (by the threads alive at both ends) over `dt`.
        var runDelayFraction: Double
        var switches: Switches?
    }

    /// Context-switch rates over the time since `status` was last read (`ctxt_dt`).
    struct Switches {
        var dt: UInt64
        var voluntaryPerSecond: Double
        var nonvoluntaryPerSecond: Double
    }
}

/// The `thread` line (`--sample-threads`): one thread of a multi-threaded process.
struct ThreadTick {
    var t: UInt64
    var role: SampleRole
    var pid: Int32
    var tid: Int32
    var comm: String
    var lastCPU: Int
    var userTicks: UInt64
    var systemTicks: UInt64
    var runDelayNanoseconds: UInt64
    var rates: Rates?

    struct Rates {
        var dt: UInt64
        var cores: Double
        var runDelayFraction: Double
    }
}

/// The `exit` line: a sampled process is gone (or a zombie, or its PID reused).
struct ProcessExit {
    var t: UInt64
    var role: SampleRole
    var pid: Int32
    var root: Int32
    var comm: String
}

/// The `tree` line: the sums over one root's process tree.
struct TreeTick {
    var t: UInt64
    var role: SampleRole
    var root: Int32
    var processes: Int
    var cores: Double
    var rssBytes: UInt64
}

/// The `cgroup` line: CPU bandwidth and memory of a side's cgroup.
struct CgroupTick {
    var t: UInt64
    var role: SampleRole
    var path: String
    var version: CgroupVersion
    var cpu: CgroupCPU?
    var memory: CgroupMemory?
    /// Only when both this reading and the previous have CPU figures.
    var rates: Rates?

    struct Rates {
        var dt: UInt64
        var throttledRatio: Double?
        var throttledNanosecondsPerSecond: Double?
        var usageCores: Double?
    }
}

/// The `net` line: TCP counters and sockets of a side in one network namespace.
struct NetworkTick {
    var t: UInt64
    var role: SampleRole
    var namespace: UInt64
    var pid: Int32
    var counters: TCPCounters
    var rates: Rates?
    /// The ports the side's sockets are matched on.
    var ports: [UInt16]
    /// Counts by state; nil between connection-state ticks, or when the sockets were unreadable.
    var sockets: SocketCounts?
    /// The side's listening sockets; nil when the sockets were unreadable.
    var listening: [ListenerTick]?
    /// The generator's connections to the target (`tcp_info`), on connection-state ticks.
    var connections: ConnectionInterval?
    var ephemeralPorts: ClosedRange<UInt16>?

    struct Rates {
        var dt: UInt64
        /// Per second, in the order of `TCPCounters.named`.
        var countersPerSecond: [Double]
        var retransmitRatio: Double
    }

    struct SocketCounts {
        /// The line lists listening sockets under `listen`, not here: a `.listen` entry is not written.
        var states: [TCPState: Int]
        var rxQueue: UInt64
        var txQueue: UInt64
    }
}

/// One listening socket in a `net` line.
struct ListenerTick {
    var port: UInt16
    var inode: UInt64
    var acceptQueue: UInt64
}
