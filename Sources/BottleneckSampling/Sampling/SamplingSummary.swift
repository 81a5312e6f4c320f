/// Per-step aggregates of a sampling session: what the analysis rules read.
///
/// Each load step gets one `StepAggregate`, computed from the samples whose intervals
/// fall in it (a sample is taken at every `markStep`, so steps do not bleed into each other).
public struct SamplingSummary: Sendable, Codable, Equatable {
    public var version: Int = 1
    public var intervalNanoseconds: UInt64
    public var source: String
    public var samples: Int
    public var steps: [StepAggregate]
    /// The first error that stopped writing samples, if any (the run is still usable).
    public var writeError: String?
    /// Processes that ended or began in the sampled trees, in time order (at most 512):
    /// worker deaths, OOM kills, restarts. nil in runs before they were kept.
    public var processEvents: [ProcessEvent]? = nil
}

/// A sampled process that ended, or a new one in a sampled tree (a worker a master forked
/// again, a restarted server found by its port). It happened between two samples:
/// after `previousNanoseconds` and by `nanoseconds` (the run's monotonic clock).
public struct ProcessEvent: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable {
        case exit, start
    }

    public var kind: Kind
    public var nanoseconds: UInt64
    public var previousNanoseconds: UInt64?
    /// "server" or "client".
    public var role: String
    public var pid: Int32
    public var parentPID: Int32?
    /// The root of its sampled tree (a `--server-pid`, or a listener found by its port).
    public var root: Int32
    public var comm: String
    /// Exit: resident memory at the last sample before it ended; start: at the first.
    public var rssBytes: UInt64
    public var rssPeakBytes: UInt64?
    /// Exit: the kernel counted an OOM kill (host-wide, or in a sampled cgroup) in this
    /// interval or the one before; nil for a start.
    public var oomKill: Bool?
    /// Its cgroup, and that cgroup's memory limit when it has one.
    public var cgroup: String?
    public var memoryLimitBytes: UInt64?
}

/// The aggregates of one step (`markStep(index, name:)`); index -1 is the time before the
/// first step, reported only when samples were taken in it.
public struct StepAggregate: Sendable, Codable, Equatable {
    public var index: Int
    public var name: String
    public var startNanoseconds: UInt64
    public var endNanoseconds: UInt64
    /// Intervals (pairs of consecutive samples) that contributed.
    public var intervals: Int
    public var host: HostAggregate
    /// The load generator (this process).
    public var client: RoleAggregate
    /// All server processes (every tree of `--server-pid` / `--server-port`).
    public var server: RoleAggregate
}

/// Host CPU over a step.
public struct HostAggregate: Sendable, Codable, Equatable {
    public var cpus: Int
    /// Mean busy CPUs (1.0 = one CPU fully busy), steal included.
    public var busyCoresMean: Double
    public var busyFractionMean: Double
    public var busyFractionMax: Double
    public var stealFractionMean: Double
    /// Share of time some task waited for a CPU (PSI cpu some), when PSI exists.
    public var cpuPressureSomeFraction: Double?
    public var oomKills: UInt64
}

/// The process with the most CPU over a step.
public struct BusiestProcess: Sendable, Codable, Equatable {
    public var pid: Int32
    public var comm: String
    public var cores: Double
}

/// One side (client or server) over a step.
///
/// The fields are the evidence the rules need: is the generator CPU-bound (`cpuCoresMean`
/// vs `coresAllowed`), is one server worker pegged (`busiestProcess`), is the cgroup
/// throttled, is memory growing, is the accept queue overflowing, is the network dropping.
public struct RoleAggregate: Sendable, Codable, Equatable {
    public var processes: Int = 0
    public var cpuCoresMean: Double = 0
    /// The largest single-interval CPU of the whole side.
    public var cpuCoresMax: Double = 0
    /// min(affinity CPUs, cgroup quota): what the side could use at most.
    public var coresAllowed: Double?
    public var busiestProcess: BusiestProcess?
    /// Processes that used at least 0.85 of a core over the step: single-threaded Python
    /// workers at their ceiling (the GIL lets one process use one core at most).
    public var saturatedProcesses: Int?
    public var rssPeakBytes: UInt64 = 0
    /// RSS at the step's last sample minus at its first (negative when memory was freed).
    public var rssGrowthBytes: Int64 = 0
    /// Throttled periods / periods of the side's cgroups during the step; nil without a quota.
    public var throttledRatio: Double?
    public var throttledSeconds: Double = 0
    public var quotaCores: Double?
    public var retransmittedSegments: UInt64 = 0
    public var outSegments: UInt64 = 0
    /// Retransmitted / sent segments in the side's network namespaces.
    public var retransmitRatio: Double?
    public var listenOverflows: UInt64 = 0
    public var listenDrops: UInt64 = 0
    /// Connections the side's namespaces accepted during the step (nil in runs before it was read).
    public var passiveOpens: UInt64? = nil
    /// Largest count per TCP state (sockets of the target/server ports) seen in the step.
    public var socketStatesMax: [String: Int] = [:]
    public var acceptQueueMax: Int = 0
    public var runDelayFraction: Double = 0
    public var nonvoluntaryContextSwitchesPerSecond: Double = 0
    /// The kernel's account of the side's connections to the target (the generator's, from
    /// `tcp_info` through sock_diag); nil where it was not read.
    public var connections: TCPConnectionAccount?
    /// Open fds / soft open-file limit of the process nearest its limit, at its highest in the
    /// step, with that process's fds and limit then; nil where fds were not read.
    public var fdUsageMax: Double?
    public var fdsAtUsageMax: Int?
    public var fdLimitAtUsageMax: Int?
    /// The most open fds of any one process of the side in the step.
    public var fdsMax: Int?
    /// The most sockets of any one process of the side in the step (listeners, clients and
    /// upstream connections: what nginx counts against worker_connections); nil unless counted.
    public var socketsMax: Int?

    /// The share of one core from which a process counts as saturated.
    public static let saturatedProcessCores = 0.85

    public init() {}
}

/// What `tcp_info` says about a side's connections over a step: sums of the per-connection
/// increases between samples, and the RTT and delivery rate the kernel last measured.
public struct TCPConnectionAccount: Sendable, Codable, Equatable {
    /// Most connections with `tcp_info` seen in one sample.
    public var connectionsMax: Int = 0
    /// Mean over samples and connections of the smoothed RTT, and its largest value, ms.
    public var rttMsMean: Double = 0
    public var rttMsMax: Double = 0
    /// The highest delivery rate one connection reached, Mbit/s.
    public var deliveryMbpsMax: Double = 0
    /// Time with data in flight, and of it stopped by the receiver's window or the send buffer, s (summed over connections).
    public var busySeconds: Double = 0
    public var receiveWindowLimitedSeconds: Double = 0
    public var sendBufferLimitedSeconds: Double = 0
    public var bytesAcked: UInt64 = 0
    public var bytesReceived: UInt64 = 0
    public var retransmits: UInt64 = 0
    /// Segments the connections sent, retransmissions included (nil in runs before it was read).
    public var segmentsOut: UInt64? = nil

    public init() {}
}
