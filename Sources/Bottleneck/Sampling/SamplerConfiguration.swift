/// What to sample and how often, as given on the command line.
///
/// The roots are options so an agent in a container can read the host's `/proc` mounted
/// elsewhere, and so tests can point the readers at fixture trees.
public struct SamplerConfiguration: Sendable {
    /// Time between samples (`--sample-interval`, 250 ms by default: fast enough to see a
    /// step's ramp, slow enough to stay under 1% of a core for a 50-process server).
    /// Everything is read on every sample: per-process CPU, RSS, status (context switches,
    /// peak RSS), run delay, children and fds; host CPU, PSI, memory and OOM kills; cgroups;
    /// TCP counters and the sockets of the server and target ports.
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
}
