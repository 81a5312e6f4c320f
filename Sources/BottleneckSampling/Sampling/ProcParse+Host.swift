extension ProcParse {
    /// `/proc/stat`: the `cpu` total, each `cpuN`, `ctxt`, `procs_running`, `procs_blocked`.
    ///
    /// `procs_running` is required: it is near the end of the file, so its absence is how a
    /// truncated read shows.
    static func parseStat(_ text: Substring) throws(SamplerError) -> HostCPUStat {
        try withBytes(text) { bytes throws(SamplerError) in try parseStat(bytes: bytes) }
    }

    static func parseStat(bytes: UnsafeBufferPointer<UInt8>) throws(SamplerError) -> HostCPUStat {
        let what = "/proc/stat"
        var total: CPUTimes?
        var perCPU: [CPUTimes] = []
        var ctxt: UInt64 = 0
        var running: UInt64?
        var blocked: UInt64 = 0
        var cursor = TextCursor(bytes)
        while !cursor.isAtEnd {
            let lineEnd = cursor.lineEnd
            defer { cursor.move(to: lineEnd + 1) }
            if cursor.skip("cpu") {
                // `cpu  …` is the total, `cpuN …` one CPU (skip its number).
                let isTotal = cursor.current.map(TextCursor.isBlank) ?? false
                if !isTotal { cursor.skipField() }
                guard let user = cursor.unsigned(), let nice = cursor.unsigned(), let system = cursor.unsigned(),
                      let idle = cursor.unsigned(), let iowait = cursor.unsigned(), let irq = cursor.unsigned(),
                      let softirq = cursor.unsigned(), let steal = cursor.unsigned() else {
                    throw SamplerError.malformed(what, "short or bad cpu line")
                }
                let times = CPUTimes(user: user, nice: nice, system: system, idle: idle, iowait: iowait,
                                     irq: irq, softirq: softirq, steal: steal)
                if isTotal { total = times } else { perCPU.append(times) }
            } else if cursor.skip("ctxt ") {
                ctxt = try lineNumber(&cursor, what)
            } else if cursor.skip("procs_running ") {
                running = try lineNumber(&cursor, what)
            } else if cursor.skip("procs_blocked ") {
                blocked = try lineNumber(&cursor, what)
            }
        }
        guard let total, !perCPU.isEmpty, let running else {
            throw SamplerError.malformed(what, "missing cpu or procs_running lines (truncated?)")
        }
        return HostCPUStat(total: total, perCPU: perCPU, contextSwitches: ctxt, procsRunning: running, procsBlocked: blocked)
    }

    /// A number that ends its line.
    private static func lineNumber(_ cursor: inout TextCursor, _ what: String) throws(SamplerError) -> UInt64 {
        let value = try unsigned(&cursor, what)
        cursor.skipBlanks()
        guard cursor.current == nil || cursor.current == 10 else { throw SamplerError.malformed(what, "text after a number") }
        return value
    }

    /// A PSI file: `some avg10=0.00 avg60=0.00 avg300=0.00 total=0` and optionally `full …`.
    static func parsePressure(_ text: Substring) throws(SamplerError) -> Pressure {
        try withBytes(text) { bytes throws(SamplerError) in try parsePressure(bytes: bytes) }
    }

    static func parsePressure(bytes: UnsafeBufferPointer<UInt8>) throws(SamplerError) -> Pressure {
        var some: PressureLine?
        var full: PressureLine?
        var cursor = TextCursor(bytes)
        while !cursor.isAtEnd {
            let lineEnd = cursor.lineEnd
            defer { cursor.move(to: lineEnd + 1) }
            if cursor.position == lineEnd { continue }   // an empty line
            let isSome: Bool
            if cursor.skip("some ") { isSome = true } else if cursor.skip("full ") { isSome = false } else {
                throw SamplerError.malformed("pressure", "unknown line kind \(cursor.text(cursor.position..<min(lineEnd, cursor.position + 16)))")
            }
            func value(_ key: StaticString) throws(SamplerError) -> Double {
                cursor.skipBlanks()
                guard cursor.skip(key), let number = cursor.decimal() else {
                    throw SamplerError.malformed("pressure", "expected \(key)N.NN in '\(cursor.text(cursor.position..<lineEnd).prefix(60))'")
                }
                return number
            }
            let a10 = try value("avg10="), a60 = try value("avg60="), a300 = try value("avg300=")
            cursor.skipBlanks()
            guard cursor.skip("total="), let total = cursor.unsigned() else {
                throw SamplerError.malformed("pressure", "expected total=N")
            }
            cursor.skipBlanks()
            guard cursor.position == lineEnd else { throw SamplerError.malformed("pressure", "expected 5 fields") }
            let parsed = PressureLine(avg10: a10, avg60: a60, avg300: a300, totalMicroseconds: total)
            if isSome { some = parsed } else { full = parsed }
        }
        guard let some else { throw SamplerError.malformed("pressure", "no 'some' line") }
        return Pressure(some: some, full: full)
    }

    /// `/proc/meminfo` (`Key:   value kB`).
    static func parseMeminfo(_ text: Substring) throws(SamplerError) -> MemInfo {
        try withBytes(text) { bytes throws(SamplerError) in try parseMeminfo(bytes: bytes) }
    }

    static func parseMeminfo(bytes: UnsafeBufferPointer<UInt8>) throws(SamplerError) -> MemInfo {
        let what = "/proc/meminfo"
        var total: UInt64?, available: UInt64?, free: UInt64 = 0, cached: UInt64 = 0, swapTotal: UInt64 = 0, swapFree: UInt64 = 0
        var cursor = TextCursor(bytes)
        while !cursor.isAtEnd {
            let lineStart = cursor.position
            let lineEnd = cursor.lineEnd
            defer { cursor.move(to: lineEnd + 1) }
            if lineStart == lineEnd { continue }
            var colon = lineStart
            while colon < lineEnd, bytes[colon] != 58 { colon += 1 }
            guard colon < lineEnd else { throw SamplerError.malformed(what, "no ':'") }
            let key = lineStart..<colon
            let first = bytes[lineStart]
            guard first == UInt8(ascii: "M") || first == UInt8(ascii: "C") || first == UInt8(ascii: "S") else { continue }
            func amount() throws(SamplerError) -> UInt64 {
                cursor.move(to: colon + 1)
                let value = try unsigned(&cursor, what)
                cursor.skipBlanks()
                return cursor.skip("kB") ? value &* 1024 : value
            }
            if cursor.range(key, equals: "MemTotal") { total = try amount() }
            else if cursor.range(key, equals: "MemAvailable") { available = try amount() }
            else if cursor.range(key, equals: "MemFree") { free = try amount() }
            else if cursor.range(key, equals: "Cached") { cached = try amount() }
            else if cursor.range(key, equals: "SwapTotal") { swapTotal = try amount() }
            else if cursor.range(key, equals: "SwapFree") { swapFree = try amount() }
        }
        guard let total, let available else {
            throw SamplerError.malformed(what, "missing MemTotal or MemAvailable")
        }
        return MemInfo(totalBytes: total, availableBytes: available, freeBytes: free,
                       cachedBytes: cached, swapTotalBytes: swapTotal, swapFreeBytes: swapFree)
    }

    /// `oom_kill` from `/proc/vmstat` (since Linux 4.13); nil on older kernels.
    static func parseVMStatOOMKills(_ text: Substring) throws(SamplerError) -> UInt64? {
        try withBytes(text) { bytes throws(SamplerError) in try parseVMStatOOMKills(bytes: bytes) }
    }

    static func parseVMStatOOMKills(bytes: UnsafeBufferPointer<UInt8>) throws(SamplerError) -> UInt64? {
        var cursor = TextCursor(bytes)
        var sawAny = false
        while !cursor.isAtEnd {
            if cursor.current != 10 { sawAny = true }
            if cursor.skip("oom_kill ") { return try lineNumber(&cursor, "/proc/vmstat") }
            cursor.nextLine()
        }
        if !sawAny { throw SamplerError.malformed("/proc/vmstat", "empty") }
        return nil
    }
}
