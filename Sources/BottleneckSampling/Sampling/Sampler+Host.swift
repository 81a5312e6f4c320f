/// Host-wide and cgroup readings of a tick, into the tick's records.
extension Sampler {
    /// Host CPU, PSI, memory and the OOM counter.
    func readHost(t: UInt64) {
        guard let sample = try? reader.readHost() else { return }
        defer { previousHost = sample; previousHostT = t }
        var host = HostTick(t: t, dt: previousHost == nil ? 0 : t &- previousHostT, cpuTicks: sample.cpu.total,
                            procsRunning: sample.cpu.procsRunning, procsBlocked: sample.cpu.procsBlocked,
                            contextSwitches: sample.cpu.contextSwitches, memTotalBytes: sample.memory.totalBytes,
                            memAvailableBytes: sample.memory.availableBytes,
                            swapUsedBytes: sample.memory.swapTotalBytes &- sample.memory.swapFreeBytes,
                            oomKills: sample.oomKills)
        if let previous = previousHost {
            let dt = t &- previousHostT
            func fraction(_ a: CPUTimes, _ b: CPUTimes) -> (busy: Double, steal: Double) {
                let total = CounterDelta.increase(from: a.total, to: b.total)
                guard total > 0 else { return (0, 0) }
                return (Double(CounterDelta.increase(from: a.busy, to: b.busy)) / Double(total),
                        Double(CounterDelta.increase(from: a.steal, to: b.steal)) / Double(total))
            }
            func pressure(_ a: Pressure?, _ b: Pressure?) -> PressureTick? {
                guard let a, let b else { return nil }
                func stall(_ a: PressureLine, _ b: PressureLine) -> PressureTick.Stall {
                    PressureTick.Stall(avg10: b.avg10, totalMicroseconds: b.totalMicroseconds,
                                       stallFraction: Double(CounterDelta.increase(from: a.totalMicroseconds, to: b.totalMicroseconds))
                                           * 1000 / Double(max(dt, 1)))
                }
                var full: PressureTick.Stall?
                if let af = a.full, let bf = b.full { full = stall(af, bf) }
                return PressureTick(some: stall(a.some, b.some), full: full)
            }
            let total = fraction(previous.cpu.total, sample.cpu.total)
            let cpus = sample.cpu.perCPU.count
            var oomKillsPerSecond: Double?
            if let a = previous.oomKills, let b = sample.oomKills {
                oomKillsPerSecond = CounterDelta.rate(from: a, to: b, nanoseconds: dt)
            }
            host.rates = HostTick.Rates(
                busyFraction: total.busy, busyCores: total.busy * Double(cpus), stealFraction: total.steal,
                perCPUBusy: previous.cpu.perCPU.count == cpus
                    ? zip(previous.cpu.perCPU, sample.cpu.perCPU).map { fraction($0, $1).busy } : nil,
                contextSwitchesPerSecond: CounterDelta.rate(from: previous.cpu.contextSwitches, to: sample.cpu.contextSwitches,
                                                            nanoseconds: dt),
                oomKillsPerSecond: oomKillsPerSecond,
                pressureCPU: pressure(previous.pressureCPU, sample.pressureCPU),
                pressureMemory: pressure(previous.pressureMemory, sample.pressureMemory),
                pressureIO: pressure(previous.pressureIO, sample.pressureIO))
        }
        tick.host = host
    }

    /// Each side's cgroups (a side's processes can be in several).
    func readCgroups(t: UInt64) {
        var seen: Set<SideKey<String>> = []
        // Both sides often share a cgroup: its files are read once per tick.
        var read: [CgroupLocation: (cpu: CgroupCPU?, memory: CgroupMemory?)] = [:]
        for pid in order {
            guard let entry = tracked[pid], let location = entry.cgroup else { continue }
            let key = SideKey(role: entry.role, entity: location.path)
            guard seen.insert(key).inserted else { continue }
            let values = read[location] ?? (try? reader.readCgroupCPU(location), try? reader.readCgroupMemory(location))
            read[location] = values
            let (cpu, memory) = values
            if cpu == nil && memory == nil { continue }
            let previous = previousCgroup[key]
            previousCgroup[key] = (t, cpu)
            var record = CgroupTick(t: t, role: entry.role, path: location.path, version: location.version,
                                    cpu: cpu, memory: memory)
            if let previous, t > previous.t, let cpu, let before = previous.cpu {
                let dt = t - previous.t
                var rates = CgroupTick.Rates(dt: dt)
                if let p0 = before.periods, let p1 = cpu.periods, let n0 = before.throttledPeriods, let n1 = cpu.throttledPeriods {
                    let periods = CounterDelta.increase(from: p0, to: p1)
                    let throttled = CounterDelta.increase(from: n0, to: n1)
                    rates.throttledRatio = periods > 0 ? Double(throttled) / Double(periods) : 0
                }
                if let a = before.throttledNanoseconds, let b = cpu.throttledNanoseconds {
                    rates.throttledNanosecondsPerSecond = CounterDelta.rate(from: a, to: b, nanoseconds: dt)
                }
                if let a = before.usageNanoseconds, let b = cpu.usageNanoseconds {
                    rates.usageCores = CounterDelta.rate(from: a, to: b, nanoseconds: dt) / 1e9
                }
                record.rates = rates
            }
            tick.cgroups.append(record)
        }
    }
}
