import Foundation

/// Reading sample lines back: the file, line by line, the JSON values in them, and the
/// typed records (`SampleRecords.swift`) they were written from.
enum SampleLines {
    /// Calls `body` with every non-empty line of the file at `path`.
    static func forEach(in path: String, _ body: (ArraySlice<UInt8>) throws -> Void) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        let bytes = [UInt8](data)
        var start = 0
        while start < bytes.count {
            let newline = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
            if newline > start { try body(bytes[start..<newline]) }
            start = newline + 1
        }
    }

    /// The record's `type`, read from the line's start without parsing it (every writer puts
    /// `"type"` first); nil when the line does not start that way.
    static func recordType(of line: ArraySlice<UInt8>) -> String? {
        let prefix = Array(#"{"type":""#.utf8)
        guard line.count > prefix.count, line.starts(with: prefix) else { return nil }
        let rest = line.dropFirst(prefix.count)
        guard let quote = rest.firstIndex(of: UInt8(ascii: "\"")) else { return nil }
        return String(decoding: rest[..<quote], as: UTF8.self)
    }

    static func parse(_ line: ArraySlice<UInt8>) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any]
    }

    // The writer puts no booleans in sample lines, so every number is a number (on Linux a
    // JSON 0 or 1 would also pass for a Bool, so that is not checked).
    static func number(_ value: Any?) -> Double? { (value as? NSNumber)?.doubleValue }

    static func unsigned(_ value: Any?) -> UInt64? {
        guard let n = value as? NSNumber, n.int64Value >= 0 else { return nil }
        return n.uint64Value
    }

    static func integer(_ value: Any?) -> Int? { (value as? NSNumber)?.intValue }

    static func pid(_ value: Any?) -> Int32? { integer(value).flatMap { Int32(exactly: $0) } }
}

// MARK: records

/// The typed records of parsed lines, for the replay. A field missing from the line (a
/// line of an older or newer writer) reads as 0 (or nil where the record has an optional);
/// per-interval values (`rates`) are present when the line has `dt` (a `host` line:
/// `busy_fraction`). `tcp_info` is not read back: only the generator's own `net` lines have
/// it, and the replay reads lines of an agent, which samples no generator.
extension SampleLines {
    private static func role(_ record: [String: Any]) -> SampleRole {
        record["role"] as? String == "client" ? .client : .server
    }

    static func host(_ r: [String: Any], t: UInt64) -> HostTick {
        let ticks = r["cpu_ticks"] as? [String: Any] ?? [:]
        let cpu = CPUTimes(user: unsigned(ticks["user"]) ?? 0, nice: unsigned(ticks["nice"]) ?? 0,
                           system: unsigned(ticks["system"]) ?? 0, idle: unsigned(ticks["idle"]) ?? 0,
                           iowait: unsigned(ticks["iowait"]) ?? 0, irq: unsigned(ticks["irq"]) ?? 0,
                           softirq: unsigned(ticks["softirq"]) ?? 0, steal: unsigned(ticks["steal"]) ?? 0)
        var host = HostTick(t: t, dt: unsigned(r["dt"]) ?? 0, cpuTicks: cpu, procsRunning: unsigned(r["procs_running"]) ?? 0,
                            procsBlocked: unsigned(r["procs_blocked"]) ?? 0, contextSwitches: unsigned(r["ctxt"]) ?? 0,
                            memTotalBytes: unsigned(r["mem_total"]) ?? 0, memAvailableBytes: unsigned(r["mem_available"]) ?? 0,
                            swapUsedBytes: unsigned(r["swap_used"]) ?? 0, oomKills: unsigned(r["oom_kill"]))
        if let busy = number(r["busy_fraction"]) {
            host.rates = HostTick.Rates(
                busyFraction: busy, busyCores: number(r["busy_cores"]) ?? 0, stealFraction: number(r["steal_fraction"]) ?? 0,
                perCPUBusy: (r["per_cpu_busy"] as? [Any])?.map { number($0) ?? 0 },
                contextSwitchesPerSecond: number(r["ctxt_per_s"]) ?? 0, oomKillsPerSecond: number(r["oom_kill_per_s"]),
                pressureCPU: pressure(r, "cpu"), pressureMemory: pressure(r, "memory"), pressureIO: pressure(r, "io"))
        }
        return host
    }

    private static func pressure(_ r: [String: Any], _ name: String) -> PressureTick? {
        func stall(_ kind: String) -> PressureTick.Stall? {
            guard let fraction = number(r["psi_\(name)_\(kind)_stall_fraction"]) else { return nil }
            return PressureTick.Stall(avg10: number(r["psi_\(name)_\(kind)_avg10"]) ?? 0,
                                      totalMicroseconds: unsigned(r["psi_\(name)_\(kind)_total_us"]) ?? 0,
                                      stallFraction: fraction)
        }
        guard let some = stall("some") else { return nil }
        return PressureTick(some: some, full: stall("full"))
    }

    static func process(_ r: [String: Any], t: UInt64) -> ProcessTick? {
        guard let pid = pid(r["pid"]) else { return nil }
        var process = ProcessTick(
            t: t, role: role(r), source: r["source"] as? String ?? "", pid: pid, ppid: Self.pid(r["ppid"]) ?? 0,
            root: Self.pid(r["root"]) ?? pid, comm: r["comm"] as? String ?? "", state: r["state"] as? String ?? "",
            threads: integer(r["threads"]) ?? 0, lastCPU: integer(r["last_cpu"]) ?? 0,
            userTicks: unsigned(r["utime_ticks"]) ?? 0, systemTicks: unsigned(r["stime_ticks"]) ?? 0,
            rssBytes: unsigned(r["rss_bytes"]) ?? 0, rssPeakBytes: unsigned(r["rss_peak_bytes"]),
            voluntaryContextSwitches: unsigned(r["voluntary_ctxt"]) ?? 0,
            nonvoluntaryContextSwitches: unsigned(r["nonvoluntary_ctxt"]) ?? 0,
            runDelayNanoseconds: unsigned(r["run_delay_ns"]) ?? 0, fds: unsigned(r["fds"]), fdLimit: unsigned(r["fd_limit"]),
            allowedCPUs: unsigned(r["allowed_cpus"]), cgroup: r["cgroup"] as? String)
        process.sockets = unsigned(r["sockets"])
        if let dt = unsigned(r["dt"]) {
            var rates = ProcessTick.Rates(dt: dt, userCores: number(r["user_cores"]) ?? 0, systemCores: number(r["sys_cores"]) ?? 0,
                                          cores: number(r["cores"]) ?? 0, runDelayFraction: number(r["run_delay_fraction"]) ?? 0)
            if let span = unsigned(r["ctxt_dt"]) {
                rates.switches = ProcessTick.Switches(dt: span, voluntaryPerSecond: number(r["voluntary_ctxt_per_s"]) ?? 0,
                                                      nonvoluntaryPerSecond: number(r["nonvoluntary_ctxt_per_s"]) ?? 0)
            }
            process.rates = rates
        }
        return process
    }

    static func exit(_ r: [String: Any], t: UInt64) -> ProcessExit? {
        guard let pid = pid(r["pid"]) else { return nil }
        return ProcessExit(t: t, role: role(r), pid: pid, root: Self.pid(r["root"]) ?? pid, comm: r["comm"] as? String ?? "")
    }

    static func cgroup(_ r: [String: Any], t: UInt64) -> CgroupTick {
        // `quota_cores` and `mem_current` open the CPU and the memory fields (null when unknown).
        let cpu = r["quota_cores"] == nil ? nil
            : CgroupCPU(periods: unsigned(r["nr_periods"]), throttledPeriods: unsigned(r["nr_throttled"]),
                        throttledNanoseconds: unsigned(r["throttled_ns"]), usageNanoseconds: unsigned(r["usage_ns"]),
                        quotaCores: number(r["quota_cores"]))
        let memory = r["mem_current"] == nil ? nil
            : CgroupMemory(currentBytes: unsigned(r["mem_current"]) ?? 0, limitBytes: unsigned(r["mem_limit"]),
                           limitHits: unsigned(r["mem_limit_hits"]), oomKills: unsigned(r["oom_kill"]))
        var cgroup = CgroupTick(t: t, role: role(r), path: r["path"] as? String ?? "",
                                version: integer(r["version"]).flatMap(CgroupVersion.init(rawValue:)) ?? .v2,
                                cpu: cpu, memory: memory)
        if let dt = unsigned(r["dt"]) {
            cgroup.rates = CgroupTick.Rates(dt: dt, throttledRatio: number(r["throttled_ratio"]),
                                            throttledNanosecondsPerSecond: number(r["throttled_ns_per_s"]),
                                            usageCores: number(r["usage_cores"]))
        }
        return cgroup
    }

    static func network(_ r: [String: Any], t: UInt64) -> NetworkTick {
        var counters = TCPCounters()
        counters.retransmittedSegments = unsigned(r["RetransSegs"]) ?? 0
        counters.outSegments = unsigned(r["OutSegs"]) ?? 0
        counters.activeOpens = unsigned(r["ActiveOpens"]) ?? 0
        counters.passiveOpens = unsigned(r["PassiveOpens"]) ?? 0
        counters.attemptFails = unsigned(r["AttemptFails"]) ?? 0
        counters.establishedResets = unsigned(r["EstabResets"]) ?? 0
        counters.outResets = unsigned(r["OutRsts"]) ?? 0
        counters.listenOverflows = unsigned(r["ListenOverflows"]) ?? 0
        counters.listenDrops = unsigned(r["ListenDrops"]) ?? 0
        counters.backlogDrops = unsigned(r["TCPBacklogDrop"]) ?? 0
        counters.timeouts = unsigned(r["TCPTimeouts"]) ?? 0
        counters.syncookiesSent = unsigned(r["SyncookiesSent"]) ?? 0
        var net = NetworkTick(t: t, role: role(r), namespace: unsigned(r["netns"]) ?? 0, pid: pid(r["pid"]) ?? 0,
                              counters: counters,
                              ports: (r["ports"] as? [Any] ?? []).compactMap { integer($0).flatMap { UInt16(exactly: $0) } })
        if let dt = unsigned(r["dt"]) {
            net.rates = NetworkTick.Rates(dt: dt, countersPerSecond: counters.named.map { number(r[$0.0 + "_per_s"]) ?? 0 },
                                          retransmitRatio: number(r["retransmit_ratio"]) ?? 0)
        }
        if let sockets = r["sockets"] as? [String: Any] {
            var states: [TCPState: Int] = [:]
            for state in TCPState.allCases {
                if let count = integer(sockets[state.name]), count > 0 { states[state] = count }
            }
            net.sockets = NetworkTick.SocketCounts(states: states, rxQueue: unsigned(r["rx_queue"]) ?? 0,
                                                   txQueue: unsigned(r["tx_queue"]) ?? 0)
        }
        if let listening = r["listen"] as? [[String: Any]] {
            net.listening = listening.map {
                ListenerTick(port: integer($0["port"]).flatMap { UInt16(exactly: $0) } ?? 0, inode: unsigned($0["inode"]) ?? 0,
                             acceptQueue: unsigned($0["accept_queue"]) ?? 0)
            }
        }
        if let range = r["ephemeral_ports"] as? [Any], range.count == 2,
           let low = integer(range[0]).flatMap({ UInt16(exactly: $0) }), let high = integer(range[1]).flatMap({ UInt16(exactly: $0) }),
           low <= high {
            net.ephemeralPorts = low...high
        }
        return net
    }
}
