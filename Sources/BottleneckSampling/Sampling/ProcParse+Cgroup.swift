extension ProcParse {
    /// `/proc/PID/cgroup`: one `ID:controllers:path` line per hierarchy.
    static func parseCgroupMembership(_ text: Substring) throws(SamplerError) -> [CgroupMembership] {
        var result: [CgroupMembership] = []
        for line in lines(text) {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3, let id = Int(parts[0]), parts[2].hasPrefix("/") else {
                throw SamplerError.malformed("/proc/PID/cgroup", "expected 'ID:controllers:/path', got '\(line.prefix(60))'")
            }
            let controllers = parts[1].split(separator: ",").map(String.init)
            result.append(CgroupMembership(hierarchyID: id, controllers: controllers, path: String(parts[2])))
        }
        if result.isEmpty { throw SamplerError.malformed("/proc/PID/cgroup", "empty") }
        return result
    }

    /// v2 `cpu.stat` (+ `cpu.max`): times in µs, converted to ns.
    static func parseCgroupV2CPU(stat: Substring, max: Substring?) throws(SamplerError) -> CgroupCPU {
        let keys = try parseFlatKeyed(stat, what: "cpu.stat")
        guard let usage = keys["usage_usec"] else { throw SamplerError.malformed("cpu.stat", "no usage_usec") }
        return CgroupCPU(periods: keys["nr_periods"], throttledPeriods: keys["nr_throttled"],
                         throttledNanoseconds: keys["throttled_usec"].map { $0 &* 1000 },
                         usageNanoseconds: usage &* 1000,
                         quotaCores: try max.flatMap { m throws(SamplerError) in try parseCPUMax(m) })
    }

    /// v2 `cpu.max`: `$MAX $PERIOD`, `$MAX` may be `max`. Returns cores, nil when unlimited.
    static func parseCPUMax(_ text: Substring) throws(SamplerError) -> Double? {
        let parts = fields(text.trimmedForParsing)
        guard parts.count == 2 else { throw SamplerError.malformed("cpu.max", "expected '$MAX $PERIOD'") }
        let period = try unsigned(parts[1], "cpu.max")
        guard period > 0 else { throw SamplerError.malformed("cpu.max", "zero period") }
        if parts[0] == "max" { return nil }
        return Double(try unsigned(parts[0], "cpu.max")) / Double(period)
    }

    /// v1 `cpu.stat` (`throttled_time` in ns) + `cpu.cfs_quota_us` (-1 = unlimited) + period.
    static func parseCgroupV1CPU(stat: Substring, quota: Substring?, period: Substring?, usage: Substring?) throws(SamplerError) -> CgroupCPU {
        let keys = try parseFlatKeyed(stat, what: "cpu.stat")
        guard let periods = keys["nr_periods"], let throttled = keys["nr_throttled"] else {
            throw SamplerError.malformed("cpu.stat", "no nr_periods/nr_throttled")
        }
        var cores: Double?
        if let quota, let period {
            let q = try signed(quota.trimmedForParsing, "cpu.cfs_quota_us")
            let p = try unsigned(period.trimmedForParsing, "cpu.cfs_period_us")
            if q > 0 && p > 0 { cores = Double(q) / Double(p) }
        }
        return CgroupCPU(periods: periods, throttledPeriods: throttled, throttledNanoseconds: keys["throttled_time"],
                         usageNanoseconds: try usage.map { u throws(SamplerError) in try unsigned(u.trimmedForParsing, "cpuacct.usage") },
                         quotaCores: cores)
    }

    /// v2 `memory.current`, `memory.max` (`max` = unlimited), `memory.events`.
    static func parseCgroupV2Memory(current: Substring, max: Substring?, events: Substring?) throws(SamplerError) -> CgroupMemory {
        let cur = try unsigned(current.trimmedForParsing, "memory.current")
        var limit: UInt64?
        if let max {
            let m = max.trimmedForParsing
            limit = m == "max" ? nil : try unsigned(m, "memory.max")
        }
        let keys = try events.map { e throws(SamplerError) in try parseFlatKeyed(e, what: "memory.events") }
        return CgroupMemory(currentBytes: cur, limitBytes: limit, limitHits: keys?["max"], oomKills: keys?["oom_kill"])
    }

    /// v1 `memory.usage_in_bytes`, `limit_in_bytes` (≥ 2^62 means unlimited), `failcnt`,
    /// `memory.oom_control` (`oom_kill N` since Linux 4.13).
    static func parseCgroupV1Memory(usage: Substring, limit: Substring?, failcnt: Substring?, oomControl: Substring?) throws(SamplerError) -> CgroupMemory {
        let cur = try unsigned(usage.trimmedForParsing, "memory.usage_in_bytes")
        var limitBytes: UInt64?
        if let limit {
            let l = try unsigned(limit.trimmedForParsing, "memory.limit_in_bytes")
            limitBytes = l >= (1 << 62) ? nil : l
        }
        let hits = try failcnt.map { f throws(SamplerError) in try unsigned(f.trimmedForParsing, "memory.failcnt") }
        let oom = try oomControl.flatMap { o throws(SamplerError) in try parseFlatKeyed(o, what: "memory.oom_control")["oom_kill"] }
        return CgroupMemory(currentBytes: cur, limitBytes: limitBytes, limitHits: hits, oomKills: oom)
    }
}
