/// The processes and threads of a tick: reading, following children, noticing exits, and
/// the per-interval values against each one's previous reading, into the tick's records.
extension Sampler {
    func readProcesses(t: UInt64, rescan: Bool) {
        var trees: [Int32: TreeTick] = [:]
        var index = 0
        var exited: [Int32] = []
        while index < order.count {
            let pid = order[index]
            index += 1
            guard let entry = tracked[pid] else { continue }
            // Gone, replaced by a new process with the same PID, or a zombie: it has exited.
            guard let stat = try? reader.readProcessStat(pid), stat.startTime == entry.startTime,
                  stat.state != "Z", stat.state != "X" else {
                exited.append(pid)
                continue
            }
            entry.comm = stat.comm
            if rescan || entry.cgroup == nil, let membership = try? reader.readCgroupMembership(pid) {
                entry.cgroup = reader.resolveCgroup(membership.entries, cacheKey: membership.text)
            }
            if rescan { entry.namespace = reader.networkNamespace(pid) }
            if entry.fdLimit == nil { entry.fdLimit = (try? reader.readOpenFileLimit(pid))?.soft ?? UInt64.max }

            let (runDelay, runDelayIncrease, activity, threadIDs) = readThreads(t: t, pid: pid, stat: stat, entry: entry)

            // status, fds and children: again only if the process ran (`Activity`).
            let status: ProcessStatus
            if let known = entry.status, !rescan, let activity, activity == entry.activity {
                status = known
            } else {
                guard let fresh = try? reader.readStatus(pid) else {
                    exited.append(pid)
                    continue
                }
                status = fresh
                entry.fds = try? reader.openFileCount(pid)
                if configuration.countSockets { entry.sockets = try? reader.socketCount(pid) }
                entry.activity = activity
                // New children join the tree (and are sampled later in this same tick).
                if entry.followChildren {
                    for tid in threadIDs.isEmpty ? [pid] : threadIDs {
                        for child in (try? reader.children(pid, thread: tid)) ?? [] where tracked[child] == nil {
                            if let childStat = try? reader.readProcessStat(child) {
                                track(childStat, role: entry.role, root: entry.root)
                            }
                        }
                    }
                }
            }

            // RSS from stat (same snapshot as the CPU times); peak and context switches from status.
            var record = ProcessTick(
                t: t, role: entry.role, source: configuration.source, pid: pid, ppid: stat.ppid, root: entry.root,
                comm: stat.comm, state: String(stat.state), threads: stat.threads, lastCPU: stat.lastCPU,
                userTicks: stat.userTicks, systemTicks: stat.systemTicks, rssBytes: stat.rssPages &* pageSize,
                rssPeakBytes: status.rssPeakBytes, voluntaryContextSwitches: status.voluntaryContextSwitches,
                nonvoluntaryContextSwitches: status.nonvoluntaryContextSwitches, runDelayNanoseconds: runDelay,
                fds: entry.fds.map { UInt64($0) }, fdLimit: entry.fdLimit == UInt64.max ? nil : entry.fdLimit,
                allowedCPUs: status.allowedCPUs.map { UInt64($0) }, cgroup: entry.cgroup?.path)
            record.sockets = entry.sockets.map { UInt64($0) }
            if let previous = entry.previous, t > previous.t {
                let dt = t - previous.t
                let user = CounterDelta.rate(from: previous.userTicks, to: stat.userTicks, nanoseconds: dt) / clockTicksPerSecond
                let sys = CounterDelta.rate(from: previous.systemTicks, to: stat.systemTicks, nanoseconds: dt) / clockTicksPerSecond
                var rates = ProcessTick.Rates(dt: dt, userCores: user, systemCores: sys, cores: user + sys,
                                              runDelayFraction: Double(runDelayIncrease) / Double(dt))
                if let before = entry.status, t > entry.statusTime {
                    // Context-switch rates over the time since the previous status read.
                    let span = t - entry.statusTime
                    rates.switches = ProcessTick.Switches(
                        dt: span,
                        voluntaryPerSecond: CounterDelta.rate(from: before.voluntaryContextSwitches,
                                                              to: status.voluntaryContextSwitches, nanoseconds: span),
                        nonvoluntaryPerSecond: CounterDelta.rate(from: before.nonvoluntaryContextSwitches,
                                                                 to: status.nonvoluntaryContextSwitches, nanoseconds: span))
                }
                record.rates = rates
            }
            tick.append(record)
            entry.status = status
            entry.statusTime = t
            entry.previous = Previous(t: t, userTicks: stat.userTicks, systemTicks: stat.systemTicks,
                                      voluntary: status.voluntaryContextSwitches,
                                      nonvoluntary: status.nonvoluntaryContextSwitches, runDelay: runDelay)

            var tree = trees[entry.root] ?? TreeTick(t: t, role: entry.role, root: entry.root, processes: 0, cores: 0, rssBytes: 0)
            tree.processes += 1
            tree.cores += record.rates?.cores ?? 0
            tree.rssBytes &+= record.rssBytes
            trees[entry.root] = tree
        }
        for pid in exited {
            guard let entry = tracked.removeValue(forKey: pid) else { continue }
            order.removeAll { $0 == pid }
            reader.forget(pid)
            tick.exits.append(ProcessExit(t: t, role: entry.role, pid: pid, root: entry.root, comm: entry.comm))
        }
        for (_, tree) in trees.sorted(by: { $0.key < $1.key }) { tick.trees.append(tree) }
    }

    /// Per-thread CPU and run delay (the process `schedstat` covers the main thread only):
    /// the process's run delay (all threads), its increase since the previous tick (threads
    /// alive at both), whether it ran (`Activity`, nil when unknown) and the thread IDs read.
    private func readThreads(t: UInt64, pid: Int32, stat: ProcessStat, entry: Tracked)
        -> (runDelay: UInt64, increase: UInt64, activity: Activity?, threadIDs: [Int32]) {
        var runDelay: UInt64 = 0
        var runDelayIncrease: UInt64 = 0
        var activity: Activity? = Activity()
        var threadIDs: [Int32] = []
        if stat.threads > 1 {
            var seen: [Int32: ThreadPrevious] = [:]
            threadIDs = (try? reader.threadIDs(pid)) ?? []
            for tid in threadIDs {
                guard let ts = try? reader.readThreadStat(pid, tid) else { continue }
                let sched = try? reader.readSchedstat(pid, thread: tid)
                if let sched { activity?.add(sched) } else { activity = nil }
                let ticks = ts.userTicks &+ ts.systemTicks
                let delay = sched?.runDelayNanoseconds ?? 0
                runDelay &+= delay
                let previous = entry.threads[tid]
                if let previous { runDelayIncrease &+= CounterDelta.increase(from: previous.runDelay, to: delay) }
                seen[tid] = ThreadPrevious(t: t, ticks: ticks, runDelay: delay)
                if configuration.sampleThreads {
                    var record = ThreadTick(t: t, role: entry.role, pid: pid, tid: tid, comm: ts.comm, lastCPU: ts.lastCPU,
                                            userTicks: ts.userTicks, systemTicks: ts.systemTicks, runDelayNanoseconds: delay)
                    if let previous, t > previous.t {
                        let dt = t - previous.t
                        record.rates = ThreadTick.Rates(
                            dt: dt, cores: CounterDelta.rate(from: previous.ticks, to: ticks, nanoseconds: dt) / clockTicksPerSecond,
                            runDelayFraction: CounterDelta.rate(from: previous.runDelay, to: delay, nanoseconds: dt) / 1e9)
                    }
                    tick.threads.append(record)
                }
            }
            entry.threads = seen
        } else if let sched = try? reader.readSchedstat(pid) {
            runDelay = sched.runDelayNanoseconds
            if let previous = entry.previous { runDelayIncrease = CounterDelta.increase(from: previous.runDelay, to: runDelay) }
            entry.threads = [:]
            activity?.add(sched)
        } else {
            activity = nil
        }
        return (runDelay, runDelayIncrease, activity, threadIDs)
    }
}
