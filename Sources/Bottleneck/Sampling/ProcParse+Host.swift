extension ProcParse {
    /// `/proc/stat`: the `cpu` total, each `cpuN`, `ctxt`, `procs_running`, `procs_blocked`.
    ///
    /// `procs_running` is required: it is near the end of the file, so its absence is how a
    /// truncated read shows.
    static func parseStat(_ text: Substring) throws(SamplerError) -> HostCPUStat {
        var total: CPUTimes?
        var perCPU: [CPUTimes] = []
        var ctxt: UInt64 = 0
        var running: UInt64?
        var blocked: UInt64 = 0
        for line in lines(text) {
            if line.hasPrefix("cpu") {
                let parts = fields(line)
                guard parts.count >= 9 else { throw SamplerError.malformed("/proc/stat", "short cpu line") }
                var v = [UInt64](repeating: 0, count: 8)
                for i in 0..<8 { v[i] = try unsigned(parts[i + 1], "/proc/stat") }
                let times = CPUTimes(user: v[0], nice: v[1], system: v[2], idle: v[3], iowait: v[4],
                                     irq: v[5], softirq: v[6], steal: v[7])
                if parts[0] == "cpu" { total = times } else { perCPU.append(times) }
            } else if line.hasPrefix("ctxt ") {
                ctxt = try unsigned(line.dropFirst(5), "/proc/stat")
            } else if line.hasPrefix("procs_running ") {
                running = try unsigned(line.dropFirst(14), "/proc/stat")
            } else if line.hasPrefix("procs_blocked ") {
                blocked = try unsigned(line.dropFirst(14), "/proc/stat")
            }
        }
        guard let total, !perCPU.isEmpty, let running else {
            throw SamplerError.malformed("/proc/stat", "missing cpu or procs_running lines (truncated?)")
        }
        return HostCPUStat(total: total, perCPU: perCPU, contextSwitches: ctxt, procsRunning: running, procsBlocked: blocked)
    }

    /// A PSI file: `some avg10=0.00 avg60=0.00 avg300=0.00 total=0` and optionally `full …`.
    static func parsePressure(_ text: Substring) throws(SamplerError) -> Pressure {
        var some: PressureLine?
        var full: PressureLine?
        for line in lines(text) {
            let parts = fields(line)
            guard parts.count == 5 else { throw SamplerError.malformed("pressure", "expected 5 fields") }
            var values: [Substring: Substring] = [:]
            for part in parts.dropFirst() {
                guard let eq = part.firstIndex(of: "=") else { throw SamplerError.malformed("pressure", "no '='") }
                values[part[..<eq]] = part[part.index(after: eq)...]
            }
            guard let a10 = values["avg10"].flatMap({ Double($0) }),
                  let a60 = values["avg60"].flatMap({ Double($0) }),
                  let a300 = values["avg300"].flatMap({ Double($0) }),
                  let totalText = values["total"], let total = UInt64(totalText) else {
                throw SamplerError.malformed("pressure", "bad values in '\(line.prefix(60))'")
            }
            let parsed = PressureLine(avg10: a10, avg60: a60, avg300: a300, totalMicroseconds: total)
            switch parts[0] {
            case "some": some = parsed
            case "full": full = parsed
            default: throw SamplerError.malformed("pressure", "unknown line kind \(parts[0])")
            }
        }
        guard let some else { throw SamplerError.malformed("pressure", "no 'some' line") }
        return Pressure(some: some, full: full)
    }

    /// `/proc/meminfo` (`Key:   value kB`).
    static func parseMeminfo(_ text: Substring) throws(SamplerError) -> MemInfo {
        var wanted: [Substring: UInt64] = [:]
        for line in lines(text) {
            guard let colon = line.utf8.firstIndex(of: 58) else { throw SamplerError.malformed("/proc/meminfo", "no ':'") }
            let key = line[..<colon]
            switch key {
            case "MemTotal", "MemAvailable", "MemFree", "Cached", "SwapTotal", "SwapFree":
                let parts = fields(line[line.index(after: colon)...])
                guard let first = parts.first else { throw SamplerError.malformed("/proc/meminfo", "no value for \(key)") }
                let value = try unsigned(first, "/proc/meminfo")
                wanted[key] = parts.count > 1 && parts[1] == "kB" ? value &* 1024 : value
            default: continue
            }
        }
        guard let total = wanted["MemTotal"], let available = wanted["MemAvailable"] else {
            throw SamplerError.malformed("/proc/meminfo", "missing MemTotal or MemAvailable")
        }
        return MemInfo(totalBytes: total, availableBytes: available, freeBytes: wanted["MemFree"] ?? 0,
                       cachedBytes: wanted["Cached"] ?? 0, swapTotalBytes: wanted["SwapTotal"] ?? 0,
                       swapFreeBytes: wanted["SwapFree"] ?? 0)
    }

    /// `oom_kill` from `/proc/vmstat` (since Linux 4.13); nil on older kernels.
    static func parseVMStatOOMKills(_ text: Substring) throws(SamplerError) -> UInt64? {
        var sawAny = false
        for line in lines(text) {
            sawAny = true
            if line.hasPrefix("oom_kill ") {
                return try unsigned(line.dropFirst(9), "/proc/vmstat")
            }
        }
        if !sawAny { throw SamplerError.malformed("/proc/vmstat", "empty") }
        return nil
    }
}
