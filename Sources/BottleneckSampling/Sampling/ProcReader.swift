/// Reads `/proc` (and, through `ProcReader+Cgroup`, the cgroup tree) under configurable roots.
///
/// The roots are parameters so the same code reads this machine, a fixture tree copied
/// from another machine, or a container's view (`/host/proc`). One reader belongs to one
/// thread: it owns the reusable read buffer and the cgroup-location cache.
final class ProcReader {
    let procRoot: String
    let cgroupRoot: String
    let files: ProcFileReader
    /// Resolved cgroup directories, keyed by the text of `/proc/PID/cgroup`.
    var cgroupLocations: [String: CgroupLocation] = [:]
    #if os(Linux)
    /// sock_diag sockets by network namespace inode, and the namespaces where none can be made.
    private var diagnosticsSockets: [UInt64: InetDiagSocket] = [:]
    private var namespacesWithoutDiagnostics: Set<UInt64> = []
    /// The sampler thread's own network namespace (of the real `/proc`, whatever `procRoot` is).
    private lazy var ownNetworkNamespace: UInt64? = Self.namespaceInode(files.readLink("/proc/thread-self/ns/net"))
    #endif

    init(procRoot: String = "/proc", cgroupRoot: String = "/sys/fs/cgroup") {
        self.procRoot = procRoot
        self.cgroupRoot = cgroupRoot
        self.files = ProcFileReader()
    }

    // MARK: host

    func readHostCPU() throws(SamplerError) -> HostCPUStat {
        try ProcParse.parseStat(bytes: files.readBytes(procRoot + "/stat", singleShot: true, keepOpen: true))
    }

    /// A PSI file, or nil when the kernel has no PSI (`CONFIG_PSI=n`, `psi=0`).
    func readPressure(_ resource: String) throws(SamplerError) -> Pressure? {
        do {
            return try ProcParse.parsePressure(bytes: files.readBytes(procRoot + "/pressure/" + resource, singleShot: true, keepOpen: true))
        } catch where error.code == .gone || error.code == .unreadable {
            return nil   // absent or EOPNOTSUPP: PSI disabled
        }
    }

    func readMeminfo() throws(SamplerError) -> MemInfo {
        try ProcParse.parseMeminfo(bytes: files.readBytes(procRoot + "/meminfo", singleShot: true, keepOpen: true))
    }

    func readOOMKills() throws(SamplerError) -> UInt64? {
        // Not single_open: read to EOF (the final read is cheap, vmstat_start stops at once).
        try ProcParse.parseVMStatOOMKills(bytes: files.readBytes(procRoot + "/vmstat", keepOpen: true))
    }

    func readHost() throws(SamplerError) -> HostSample {
        HostSample(cpu: try readHostCPU(), pressureCPU: try readPressure("cpu"),
                   pressureMemory: try readPressure("memory"), pressureIO: try readPressure("io"),
                   memory: try readMeminfo(), oomKills: try readOOMKills())
    }

    // MARK: processes

    func processDirectory(_ pid: Int32) -> String { procRoot + "/" + String(pid) }

    func readProcessStat(_ pid: Int32) throws(SamplerError) -> ProcessStat {
        try ProcParse.parseProcessStat(bytes: files.readBytes(.stat, pid: pid) { processDirectory(pid) + "/stat" })
    }

    func readThreadStat(_ pid: Int32, _ tid: Int32) throws(SamplerError) -> ProcessStat {
        try ProcParse.parseProcessStat(bytes: files.readBytes(.stat, pid: pid, tid: tid) { processDirectory(pid) + "/task/" + String(tid) + "/stat" })
    }

    func readStatus(_ pid: Int32) throws(SamplerError) -> ProcessStatus {
        try ProcParse.parseStatus(bytes: files.readBytes(.status, pid: pid) { processDirectory(pid) + "/status" })
    }

    /// `/proc/PID/schedstat`, or `/proc/PID/task/TID/schedstat` for one thread.
    /// The process-level file covers the main thread only.
    func readSchedstat(_ pid: Int32, thread tid: Int32? = nil) throws(SamplerError) -> Schedstat {
        try ProcParse.parseSchedstat(bytes: files.readBytes(.schedstat, pid: pid, tid: tid ?? 0) {
            tid.map { processDirectory(pid) + "/task/" + String($0) + "/schedstat" } ?? processDirectory(pid) + "/schedstat"
        })
    }

    func readOpenFileLimit(_ pid: Int32) throws(SamplerError) -> OpenFileLimit {
        try ProcParse.parseOpenFileLimit(files.read(processDirectory(pid) + "/limits", singleShot: true)[...])
    }

    func openFileCount(_ pid: Int32) throws(SamplerError) -> Int {
        try files.openFileCount(pid: pid) { processDirectory(pid) + "/fd" }
    }

    func socketCount(_ pid: Int32) throws(SamplerError) -> Int {
        try files.socketCount(fdDirectory: processDirectory(pid) + "/fd")
    }

    func threadIDs(_ pid: Int32) throws(SamplerError) -> [Int32] {
        try files.numericEntries(processDirectory(pid) + "/task")
    }

    /// Children forked by one thread (`CONFIG_PROC_CHILDREN`, on in every distribution kernel).
    func children(_ pid: Int32, thread tid: Int32) throws(SamplerError) -> [Int32] {
        try ProcParse.parseChildren(bytes: files.readBytes(.children, pid: pid, tid: tid) { processDirectory(pid) + "/task/" + String(tid) + "/children" })
    }

    func allPIDs() throws(SamplerError) -> [Int32] {
        try files.numericEntries(procRoot)
    }

    func readCgroupMembership(_ pid: Int32) throws(SamplerError) -> (text: String, entries: [CgroupMembership]) {
        let text = try files.read(processDirectory(pid) + "/cgroup", singleShot: true)
        return (text, try ProcParse.parseCgroupMembership(text[...]))
    }

    // MARK: network (through the PID, so the process's network namespace is the one read)

    /// Releases the descriptors kept for a process that exited.
    func forget(_ pid: Int32) {
        files.closeFiles(of: pid, under: processDirectory(pid) + "/")
    }

    /// The inode of the process's network namespace (`net:[4026531833]`), nil if it is gone.
    func networkNamespace(_ pid: Int32) -> UInt64? {
        Self.namespaceInode(files.readLink(processDirectory(pid) + "/ns/net"))
    }

    /// The inode of a namespace link's target (`net:[4026531833]`).
    private static func namespaceInode(_ link: String?) -> UInt64? {
        guard let link, let open = link.firstIndex(of: "["), let close = link.lastIndex(of: "]") else { return nil }
        return UInt64(link[link.index(after: open)..<close])
    }

    /// `snmp` and `netstat` are each generated in one go (`single_open`), so one read each.
    func readTCPCounters(_ pid: Int32) throws(SamplerError) -> TCPCounters {
        var counters = TCPCounters()
        try ProcParse.addSNMPCounters(bytes: files.readBytes(processDirectory(pid) + "/net/snmp", singleShot: true, keepOpen: true), to: &counters)
        try ProcParse.addNetstatCounters(bytes: files.readBytes(processDirectory(pid) + "/net/netstat", singleShot: true, keepOpen: true), to: &counters)
        return counters
    }

    /// TCP sockets (IPv4 and IPv6) whose local or remote port is in `ports` (sorted), in the
    /// network namespace `namespace` that `pid` is in; only the listening ones when
    /// `listeningOnly`, which is much cheaper (`InetDiag.listenState`).
    ///
    /// Through `sock_diag` (`InetDiag`), one dump per namespace; for a namespace other than
    /// the sampler's own, the netlink socket is made inside it, which needs CAP_SYS_ADMIN.
    /// Where that is not possible (no privilege, not Linux) the text tables
    /// `/proc/PID/net/tcp{,6}` are read instead: the same rows, at several times the cost.
    func readTCPSockets(_ pid: Int32, namespace: UInt64, ports: [UInt16], listeningOnly: Bool = false, withInfo: Bool = false) throws(SamplerError) -> [TCPSocket] {
        guard !ports.isEmpty else { return [] }
        #if os(Linux)
        if let diagnostics = diagnosticsSocket(namespace: namespace, pid: pid) {
            do {
                return try diagnostics.tcpSockets(ports: ports, states: listeningOnly ? InetDiag.listenState : InetDiag.allStates,
                                                  withInfo: withInfo && !listeningOnly)
            } catch {
                diagnosticsSockets[namespace] = nil   // a fresh socket next tick; the tables this once
            }
        }
        #endif
        let sockets = try readTCPSockets(pid, ports: Set(ports))
        return listeningOnly ? sockets.filter { $0.state == .listen } : sockets
    }

    #if os(Linux)
    /// The sock_diag socket of a namespace, made on first use; nil (remembered) when one
    /// cannot be made there.
    private func diagnosticsSocket(namespace: UInt64, pid: Int32) -> InetDiagSocket? {
        if let existing = diagnosticsSockets[namespace] { return existing }
        guard !namespacesWithoutDiagnostics.contains(namespace) else { return nil }
        let made: InetDiagSocket?
        if namespace == ownNetworkNamespace {
            made = try? InetDiagSocket()
        } else {
            made = try? InetDiagSocket(namespaceFile: processDirectory(pid) + "/ns/net")
        }
        if let made { diagnosticsSockets[namespace] = made } else { namespacesWithoutDiagnostics.insert(namespace) }
        return made
    }
    #endif

    /// IPv4 and IPv6 sockets of the process's namespace; a missing `tcp6` (IPv6 disabled) is fine.
    ///
    /// Each table read walks the kernel's whole established hash, whatever the number of
    /// sockets; `tcp6` is skipped when `sockstat6` says the namespace has no TCPv6 socket.
    func readTCPSockets(_ pid: Int32, ports: Set<UInt16>? = nil) throws(SamplerError) -> [TCPSocket] {
        var sockets = try ProcParse.parseTCPTable(files.read(processDirectory(pid) + "/net/tcp", keepOpen: true)[...], ports: ports)
        if let text = try? files.read(processDirectory(pid) + "/net/sockstat6", singleShot: true, keepOpen: true),
           let inUse = try? ProcParse.parseSockstatTCP6InUse(text[...]), inUse == 0 {
            return sockets
        }
        do {
            sockets += try ProcParse.parseTCPTable(files.read(processDirectory(pid) + "/net/tcp6", keepOpen: true)[...], ports: ports)
        } catch where error.code == .gone {}
        return sockets
    }

    func readEphemeralPortRange() throws(SamplerError) -> ClosedRange<UInt16> {
        try ProcParse.parsePortRange(files.read(procRoot + "/sys/net/ipv4/ip_local_port_range", singleShot: true)[...])
    }

    /// Socket inodes held by a process (`/proc/PID/fd/N -> socket:[INODE]`).
    func socketInodes(_ pid: Int32) -> Set<UInt64> {
        let dir = processDirectory(pid) + "/fd"
        guard let fds = try? files.numericEntries(dir) else { return [] }
        var result: Set<UInt64> = []
        for fd in fds {
            guard let link = files.readLink(dir + "/" + String(fd)), link.hasPrefix("socket:["),
                  let inode = UInt64(link.dropFirst(8).dropLast()) else { continue }
            result.insert(inode)
        }
        return result
    }
}
