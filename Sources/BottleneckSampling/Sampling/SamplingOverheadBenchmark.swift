#if canImport(Glibc)
import Glibc
import BottleneckCore
#elseif canImport(Darwin)
import Darwin
#endif

/// The overhead benchmark of issue part 5: sample a tree of `processes` processes at `hz`
/// for `seconds`, and report the CPU the sampler thread used, as the kernel accounted it
/// (`utime + stime` of `/proc/self/task/TID/stat`).
///
/// The tree is one `sh` that forks `processes - 1` `sleep`s, in its own process group so
/// one `kill` ends it all. The samples are written to a temporary file, as in a run. As in
/// a run, there is a target port whose sockets are counted on every tick: a loopback
/// listener of this process with a few connections it has not accepted.
/// - Returns: CPU seconds of the sampler thread and that divided by the wall time (the
///   share of one core; the budget is < 0.01).
public func runSamplingOverheadBenchmark(processes: Int, hz: Int, seconds: Int) throws -> (cpuSecondsOfSamplerThread: Double, fractionOfOneCore: Double) {
    precondition(processes >= 1 && hz >= 1 && seconds >= 1, "benchmark needs positive arguments")
    let root = try spawnSleepTree(children: processes - 1)
    defer {
        kill(-root, SIGKILL)
        var status: Int32 = 0
        _ = waitpid(root, &status, 0)
    }
    // Wait until every sleep is forked, so the whole tree is sampled from the first tick.
    let reader = ProcReader()
    let deadline = MonotonicClock.now() + 10_000_000_000
    while ((try? reader.children(root, thread: root))?.count ?? 0) < processes - 1 {
        if MonotonicClock.now() > deadline { throw SamplerError(.unreadable, "benchmark: the sleep tree did not start") }
        usleep(10_000)
    }

    let target = try LoopbackTarget(connections: 4)
    defer { target.closeAll() }

    let output = "/tmp/bottleneck-overhead-\(getpid()).jsonl"
    defer { unlink(output) }
    var configuration = SamplerConfiguration(interval: .nanoseconds(1_000_000_000 / hz), serverPIDs: [root],
                                             targetPorts: [target.port])
    configuration.sampleThreads = true
    let session = try SamplingSession(configuration: configuration, outputPath: output, now: MonotonicClock.now)
    let start = MonotonicClock.now()
    session.start()
    session.markStep(0, name: "overhead")
    var tid: Int32 = 0
    while tid == 0 { usleep(1_000); tid = session.samplerThreadID }
    sleep(UInt32(seconds))
    // Read the thread's accounting before stop(): once joined, its task entry is gone.
    let stat = try reader.readThreadStat(getpid(), tid)
    let elapsed = Double(MonotonicClock.now() - start) / 1e9
    let summary = session.stop()
    precondition(summary.steps.last?.server.processes == processes, "benchmark sampled \(summary.steps.last?.server.processes ?? 0) processes, not \(processes)")
    let ticks = sysconf(Int32(_SC_CLK_TCK))
    let cpu = Double(stat.userTicks + stat.systemTicks) / Double(ticks > 0 ? ticks : 100)
    return (cpu, cpu / elapsed)
}

/// `sh -c 'for i in …; do sleep 3600 & done; wait'` in a new process group; returns its PID.
private func spawnSleepTree(children: Int) throws -> pid_t {
    let script = "i=0; while [ $i -lt \(children) ]; do sleep 3600 & i=$((i+1)); done; wait"
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
    posix_spawnattr_setpgroup(&attributes, 0)
    let arguments: [UnsafeMutablePointer<CChar>?] = ["/bin/sh", "-c", script].map { (s: String) in strdup(s) }
    defer { arguments.forEach { free($0) } }
    var argv = arguments + [nil]
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, "/bin/sh", nil, &attributes, &argv, environ)
    guard rc == 0 else { throw SamplerError(.unreadable, "benchmark: posix_spawn /bin/sh failed: \(String(cString: strerror(rc)))", errno: rc) }
    return pid
}

/// A listening socket on 127.0.0.1 with `connections` clients it never accepts.
private struct LoopbackTarget {
    let port: UInt16
    private let descriptors: [Int32]

    init(connections: Int) throws {
        func failure(_ call: String) -> SamplerError {
            SamplerError(.unreadable, "benchmark: \(call): \(String(cString: strerror(errno)))", errno: errno)
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        var descriptors: [Int32] = []
        var complete = false
        defer { if !complete { descriptors.forEach { close($0) } } }
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw failure("socket") }
        descriptors.append(listener)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, length) == 0 && listen(listener, 64) == 0 && getsockname(listener, $0, &length) == 0
            }
        }
        guard bound else { throw failure("listen") }
        for _ in 0..<connections {
            let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard client >= 0 else { throw failure("socket") }
            descriptors.append(client)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(client, $0, length) == 0 }
            }
            guard connected else { throw failure("connect") }
        }
        self.port = UInt16(bigEndian: address.sin_port)
        self.descriptors = descriptors
        complete = true
    }

    func closeAll() {
        for fd in descriptors { close(fd) }
    }
}
