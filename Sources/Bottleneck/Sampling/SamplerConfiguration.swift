/// What to sample and how often, as given on the command line.
///
/// The roots are options so an agent in a container can read the host's `/proc` mounted
/// elsewhere, and so tests can point the readers at fixture trees.
public struct SamplerConfiguration: Sendable {
    /// Time between samples (`--sample-interval`, 250 ms by default: fast enough to see a
    /// step's ramp, slow enough to stay under 1% of a core for a 50-process server).
    public var interval: Duration = .milliseconds(250)
    public var procRoot: String = "/proc"
    public var cgroupRoot: String = "/sys/fs/cgroup"
    /// `--server-pid`, repeatable: each is the root of a tree whose descendants are followed.
    public var serverPIDs: [Int32] = []
    /// `--server-port`: the processes holding the listening socket are found at start.
    public var serverPorts: [UInt16] = []
    /// Ports whose sockets to count on the client side (the target's port).
    public var targetPorts: [UInt16] = []
    /// Whether to write one record per thread of multi-threaded processes.
    public var sampleThreads: Bool = true
    /// Where the samples come from, written in each record (`local`, or `agent` when an agent
    /// on the server host runs this code and forwards its lines).
    public var source: String = "local"
    /// Whether the sampling process itself is sampled as the load generator (the `client`
    /// role). On for `bottleneck load`; off for the agent, which is not the generator.
    public var sampleSelf: Bool = true
    /// How often to read the socket tables (`/proc/PID/net/tcp{,6}`) for state counts and
    /// accept queues. Reading one walks the kernel's whole established-socket hash
    /// (≈2.5 ms per file on this 24 GiB host, whatever the number of sockets), so they are
    /// read less often than the counters; never more often than `interval`.
    public var socketTableInterval: Duration = .seconds(5)
    /// How often to read the slower-moving per-process details: `/proc/PID/status`
    /// (context switches, peak RSS), `task/*/children` (new workers) and the fd count. CPU,
    /// RSS, state and run delay are read every `interval`. Each process reads its details
    /// on a different tick, so the cost is spread evenly. Together with the socket-table
    /// cadence this is what keeps sampling 50 processes at 4 Hz under 1% of a core: the
    /// kernel's own formatting of `status` costs ~10 µs per read.
    public var detailInterval: Duration = .seconds(1)

    public init(interval: Duration = .milliseconds(250), procRoot: String = "/proc", cgroupRoot: String = "/sys/fs/cgroup",
                serverPIDs: [Int32] = [], serverPorts: [UInt16] = [], targetPorts: [UInt16] = []) {
        self.interval = interval
        self.procRoot = procRoot
        self.cgroupRoot = cgroupRoot
        self.serverPIDs = serverPIDs
        self.serverPorts = serverPorts
        self.targetPorts = targetPorts
    }

    var intervalNanoseconds: UInt64 { Self.nanoseconds(interval) }

    static func nanoseconds(_ duration: Duration) -> UInt64 {
        let c = duration.components
        return UInt64(max(0, c.seconds)) * 1_000_000_000 + UInt64(max(0, c.attoseconds) / 1_000_000_000)
    }

    /// How many ticks of `interval` make `duration` (at least 1).
    func ticks(_ duration: Duration) -> Int {
        let interval = max(intervalNanoseconds, 1)
        return max(1, Int((Self.nanoseconds(duration) + interval - 1) / interval))
    }
}
