/// What to sample and how often, as given on the command line.
///
/// The roots are options so an agent in a container can read the host's `/proc` mounted
/// elsewhere, and so tests can point the readers at fixture trees.
public struct SamplerConfiguration: Sendable {
    /// Time between samples (`--sample-interval`, 250 ms by default: fast enough to see a
    /// step's ramp, slow enough to stay under 1% of a core for a 50-process server).
    /// Everything is read on every sample — per-process CPU, RSS, status (context switches,
    /// peak RSS), run delay, children and fds; host CPU, PSI, memory and OOM kills; cgroups;
    /// TCP counters and the listening sockets (accept queues) of the server ports — but
    /// the connection-state counts (`connectionStateInterval`).
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
    /// Whether the sampling thread runs at the lowest priority (nice 19). On for sessions
    /// inside the load generator, which share its cores with the event loops: a sample costs
    /// 0.6-1.3 ms of CPU, and at normal priority it delayed sends by up to 1 ms at 10k req/s
    /// (`HelperThread.yieldToEventLoops`). Off for the agent on the server, so a saturated
    /// server cannot starve the sampler that is to show it saturated.
    public var yieldsToEventLoops: Bool = true
    /// How often to count the connections of the server and target ports by state
    /// (ESTABLISHED, TIME_WAIT, …, with their queues); never more often than `interval`.
    ///
    /// Counting them makes the kernel walk its whole established-socket hash, whatever the
    /// number of matching sockets: 262,144 buckets plus every connection and TIME_WAIT
    /// socket of the host, 0.6-1.3 ms of CPU per walk measured here at 250 ms spacing (the
    /// table is out of the caches by then), and more with the tens of thousands of TIME_WAIT
    /// sockets a load test without keep-alive leaves. Every 250 ms that alone was a third
    /// to a half of the 1% budget (`make bench`), so it is every second by default. The
    /// accept queues come from the kernel's small listening hash and stay on every sample.
    public var connectionStateInterval: Duration = .seconds(1)
    /// Whether to count each sampled process's sockets (its fds that are `socket:[…]`): what a
    /// proxy such as nginx counts against worker_connections (listeners, clients and upstream
    /// connections). It costs a readlink per fd, so only the connections probe turns it on.
    public var countSockets: Bool = false

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
