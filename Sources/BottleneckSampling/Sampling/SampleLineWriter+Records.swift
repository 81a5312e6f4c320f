/// Serialisation of the typed records (`SampleRecords.swift`): one line each, keys in a fixed
/// order. A key added here is added to docs/run-directory.md, "samples.jsonl".
extension SampleLineWriter {
    /// Writes a tick's lines in the order they were read: host, processes (each after its
    /// threads), exits, trees, cgroups, networks.
    func write(_ tick: SampleTick) {
        if let host = tick.host { write(host) }
        var thread = 0
        for (process, before) in zip(tick.processes, tick.threadsBefore) {
            while thread < before { write(tick.threads[thread]); thread += 1 }
            write(process)
        }
        while thread < tick.threads.count { write(tick.threads[thread]); thread += 1 }
        for exit in tick.exits { write(exit) }
        for tree in tick.trees { write(tree) }
        for cgroup in tick.cgroups { write(cgroup) }
        for network in tick.networks { write(network) }
    }

    func write(_ header: SampleHeader) {
        begin("header", t: header.t)
        field("version", 1)
        field("interval_ns", header.intervalNanoseconds)
        field("clock", "monotonic")
        field("clk_tck", header.clockTicksPerSecond)
        field("page_size", header.pageSize)
        field("host_cpus", header.hostCPUs)
        field("source", header.source)
        if let range = header.ephemeralPorts { array("ephemeral_ports", [UInt64(range.lowerBound), UInt64(range.upperBound)]) }
        array("server_ports", header.serverPorts.map(UInt64.init))
        array("server_pids", header.serverPIDs.map { UInt64($0) })
        end()
    }

    func write(_ step: StepMark) {
        begin("step", t: step.t)
        field("index", step.index)
        field("name", step.name)
        end()
    }

    func write(_ host: HostTick) {
        begin("host", t: host.t)
        field("dt", host.dt)
        let c = host.cpuTicks
        object("cpu_ticks") {
            field("user", c.user); field("nice", c.nice); field("system", c.system); field("idle", c.idle)
            field("iowait", c.iowait); field("irq", c.irq); field("softirq", c.softirq); field("steal", c.steal)
        }
        field("procs_running", host.procsRunning)
        field("procs_blocked", host.procsBlocked)
        field("ctxt", host.contextSwitches)
        field("mem_total", host.memTotalBytes)
        field("mem_available", host.memAvailableBytes)
        field("swap_used", host.swapUsedBytes)
        field("oom_kill", host.oomKills)
        if let r = host.rates {
            field("busy_fraction", r.busyFraction)
            field("busy_cores", r.busyCores)
            field("steal_fraction", r.stealFraction)
            if let perCPU = r.perCPUBusy { array("per_cpu_busy", perCPU) }
            field("ctxt_per_s", r.contextSwitchesPerSecond)
            if let oom = r.oomKillsPerSecond { field("oom_kill_per_s", oom) }
            write(pressure: r.pressureCPU, "cpu")
            write(pressure: r.pressureMemory, "memory")
            write(pressure: r.pressureIO, "io")
        }
        end()
    }

    private func write(pressure: PressureTick?, _ name: String) {
        guard let pressure else { return }
        field(named: "psi_\(name)_some_avg10", pressure.some.avg10)
        field(named: "psi_\(name)_some_total_us", pressure.some.totalMicroseconds)
        field(named: "psi_\(name)_some_stall_fraction", pressure.some.stallFraction)
        if let full = pressure.full {
            field(named: "psi_\(name)_full_avg10", full.avg10)
            field(named: "psi_\(name)_full_total_us", full.totalMicroseconds)
            field(named: "psi_\(name)_full_stall_fraction", full.stallFraction)
        }
    }

    func write(_ p: ProcessTick) {
        begin("process", t: p.t)
        field("role", p.role.name)
        field("source", p.source)
        field("pid", p.pid)
        field("ppid", p.ppid)
        field("root", p.root)
        field("comm", p.comm)
        field("state", p.state)
        field("threads", p.threads)
        field("last_cpu", p.lastCPU)
        field("utime_ticks", p.userTicks)
        field("stime_ticks", p.systemTicks)
        field("rss_bytes", p.rssBytes)
        field("rss_peak_bytes", p.rssPeakBytes)
        field("voluntary_ctxt", p.voluntaryContextSwitches)
        field("nonvoluntary_ctxt", p.nonvoluntaryContextSwitches)
        field("run_delay_ns", p.runDelayNanoseconds)
        field("fds", p.fds)
        field("fd_limit", p.fdLimit)
        field("sockets", p.sockets)
        field("allowed_cpus", p.allowedCPUs)
        if let cgroup = p.cgroup { field("cgroup", cgroup) }
        if let r = p.rates {
            field("dt", r.dt)
            field("user_cores", r.userCores)
            field("sys_cores", r.systemCores)
            field("cores", r.cores)
            field("run_delay_fraction", r.runDelayFraction)
            if let s = r.switches {
                field("ctxt_dt", s.dt)
                field("voluntary_ctxt_per_s", s.voluntaryPerSecond)
                field("nonvoluntary_ctxt_per_s", s.nonvoluntaryPerSecond)
            }
        }
        end()
    }

    func write(_ thread: ThreadTick) {
        begin("thread", t: thread.t)
        field("role", thread.role.name)
        field("pid", thread.pid)
        field("tid", thread.tid)
        field("comm", thread.comm)
        field("last_cpu", thread.lastCPU)
        field("utime_ticks", thread.userTicks)
        field("stime_ticks", thread.systemTicks)
        field("run_delay_ns", thread.runDelayNanoseconds)
        if let r = thread.rates {
            field("dt", r.dt)
            field("cores", r.cores)
            field("run_delay_fraction", r.runDelayFraction)
        }
        end()
    }

    func write(_ exit: ProcessExit) {
        begin("exit", t: exit.t)
        field("role", exit.role.name)
        field("pid", exit.pid)
        field("root", exit.root)
        field("comm", exit.comm)
        end()
    }

    func write(_ tree: TreeTick) {
        begin("tree", t: tree.t)
        field("role", tree.role.name)
        field("root", tree.root)
        field("processes", tree.processes)
        field("cores", tree.cores)
        field("rss_bytes", tree.rssBytes)
        end()
    }

    func write(_ cgroup: CgroupTick) {
        begin("cgroup", t: cgroup.t)
        field("role", cgroup.role.name)
        field("path", cgroup.path)
        field("version", cgroup.version.rawValue)
        if let cpu = cgroup.cpu {
            field("quota_cores", cpu.quotaCores)
            field("nr_periods", cpu.periods)
            field("nr_throttled", cpu.throttledPeriods)
            field("throttled_ns", cpu.throttledNanoseconds)
            field("usage_ns", cpu.usageNanoseconds)
        }
        if let memory = cgroup.memory {
            field("mem_current", memory.currentBytes)
            field("mem_limit", memory.limitBytes)
            field("mem_limit_hits", memory.limitHits)
            field("oom_kill", memory.oomKills)
        }
        if let r = cgroup.rates {
            field("dt", r.dt)
            if let ratio = r.throttledRatio { field("throttled_ratio", ratio) }
            if let throttled = r.throttledNanosecondsPerSecond { field("throttled_ns_per_s", throttled) }
            if let usage = r.usageCores { field("usage_cores", usage) }
        }
        end()
    }

    func write(_ net: NetworkTick) {
        begin("net", t: net.t)
        field("role", net.role.name)
        field("netns", net.namespace)
        field("pid", net.pid)
        let named = net.counters.named
        for (name, value) in named { field(named: name, value) }
        if let r = net.rates {
            field("dt", r.dt)
            for ((name, _), rate) in zip(named, r.countersPerSecond) { field(named: name + "_per_s", rate) }
            field("retransmit_ratio", r.retransmitRatio)
        }
        array("ports", net.ports.map(UInt64.init))
        if let sockets = net.sockets {
            object("sockets") {
                for state in TCPState.allCases where state != .listen {
                    if let n = sockets.states[state] { field(named: state.name, UInt64(n)) }
                }
            }
            field("rx_queue", sockets.rxQueue)
            field("tx_queue", sockets.txQueue)
        }
        if let listening = net.listening {
            objects("listen", listening) { s in
                field("port", UInt64(s.port))
                field("inode", s.inode)
                field("accept_queue", s.acceptQueue)
            }
        }
        if let c = net.connections { write(connections: c) }
        if let range = net.ephemeralPorts { array("ephemeral_ports", [UInt64(range.lowerBound), UInt64(range.upperBound)]) }
        end()
    }

    private func write(connections c: ConnectionInterval) {
        object("tcp_info") {
            field("connections", UInt64(c.sampled))
            field("rtt_us_mean", c.rttMicrosSum / Double(c.sampled))
            field("rtt_us_max", c.rttMicrosMax)
            field("delivery_rate_bps_max", c.deliveryBytesPerSecondMax * 8)
            field("busy_us", c.busyMicros)
            field("rwnd_limited_us", c.receiveWindowLimitedMicros)
            field("sndbuf_limited_us", c.sendBufferLimitedMicros)
            field("bytes_acked", c.bytesAcked)
            field("bytes_received", c.bytesReceived)
            field("retransmits", c.retransmits)
            field("segs_out", c.segmentsOut)
        }
    }
}
