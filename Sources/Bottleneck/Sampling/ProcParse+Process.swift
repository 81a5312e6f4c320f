extension ProcParse {
    /// `/proc/PID/stat` or `/proc/PID/task/TID/stat`.
    ///
    /// The command name is in parentheses and may itself contain spaces and `)`, so the
    /// fields are counted from the *last* `)` (as procps does).
    static func parseProcessStat(_ text: Substring) throws(SamplerError) -> ProcessStat {
        let what = "/proc/PID/stat"
        guard let open = text.utf8.firstIndex(of: 40), let close = text.utf8.lastIndex(of: 41), open < close else {
            throw SamplerError.malformed(what, "no (comm)")
        }
        guard let pid = Int32(text[..<open].trimmedForParsing) else { throw SamplerError.malformed(what, "bad pid") }
        let comm = String(text[text.index(after: open)..<close])
        // rest[0] is field 3 (state); the last field we need is 39 (processor) → rest[36].
        // Only the first 37 fields are split off: this runs for every process every tick.
        let rest = text[text.index(after: close)...].utf8
            .split(separator: 32, maxSplits: 37, omittingEmptySubsequences: true).map { Substring($0) }
        guard rest.count >= 37, let state = rest[0].first else { throw SamplerError.malformed(what, "only \(rest.count) fields after comm (truncated?)") }
        guard let ppid = Int32(rest[1]), let threads = Int(rest[17]), let lastCPU = Int(rest[36]) else {
            throw SamplerError.malformed(what, "bad ppid, num_threads or processor")
        }
        return ProcessStat(pid: pid, comm: comm, state: state, ppid: ppid,
                           userTicks: try unsigned(rest[11], what), systemTicks: try unsigned(rest[12], what),
                           threads: threads, startTime: try unsigned(rest[19], what),
                           rssPages: try unsigned(rest[21], what), lastCPU: lastCPU)
    }

    /// `/proc/PID/status`. The context-switch lines are the last ones, so their absence
    /// marks a truncated read. Kernel threads have no `VmRSS`, hence optional.
    ///
    /// Scans bytes for the five wanted keys instead of splitting ~55 lines: this runs for
    /// every process on every tick.
    static func parseStatus(_ text: Substring) throws(SamplerError) -> ProcessStatus {
        let what = "/proc/PID/status"
        var rss: UInt64?
        var hwm: UInt64?
        var voluntary: UInt64?
        var nonvoluntary: UInt64?
        var allowed: Int?
        var utf8 = text.utf8[...]
        while !utf8.isEmpty {
            let end = utf8.firstIndex(of: 10) ?? utf8.endIndex
            let line = utf8[utf8.startIndex..<end]
            utf8 = end < utf8.endIndex ? utf8[utf8.index(after: end)...] : utf8[end...]
            guard let first = line.first, first == 86 || first == 118 || first == 110 || first == 67 else { continue }
            guard let colon = line.firstIndex(of: 58) else { throw SamplerError.malformed(what, "no ':' in a line") }
            let key = line[line.startIndex..<colon]
            let value = Substring(line[line.index(after: colon)...]).trimmedForParsing
            if key.elementsEqual("VmRSS".utf8) { rss = try kilobytes(value, what) }
            else if key.elementsEqual("VmHWM".utf8) { hwm = try kilobytes(value, what) }
            else if key.elementsEqual("voluntary_ctxt_switches".utf8) { voluntary = try unsigned(value, what) }
            else if key.elementsEqual("nonvoluntary_ctxt_switches".utf8) { nonvoluntary = try unsigned(value, what) }
            else if key.elementsEqual("Cpus_allowed_list".utf8) { allowed = try parseCPUListCount(value) }
        }
        guard let voluntary, let nonvoluntary else { throw SamplerError.malformed(what, "no ctxt_switches lines (truncated?)") }
        return ProcessStatus(rssBytes: rss, rssPeakBytes: hwm, voluntaryContextSwitches: voluntary,
                             nonvoluntaryContextSwitches: nonvoluntary, allowedCPUs: allowed)
    }

    private static func kilobytes(_ value: Substring, _ what: String) throws(SamplerError) -> UInt64 {
        let parts = fields(value)
        guard let first = parts.first else { throw SamplerError.malformed(what, "empty size") }
        return try unsigned(first, what) &* 1024
    }

    /// `/proc/PID/schedstat`: `run_ns wait_ns timeslices`.
    static func parseSchedstat(_ text: Substring) throws(SamplerError) -> Schedstat {
        let parts = fields(text.trimmedForParsing)
        guard parts.count == 3 else { throw SamplerError.malformed("/proc/PID/schedstat", "expected 3 numbers") }
        return Schedstat(runNanoseconds: try unsigned(parts[0], "schedstat"),
                         runDelayNanoseconds: try unsigned(parts[1], "schedstat"),
                         timeslices: try unsigned(parts[2], "schedstat"))
    }

    /// The `Max open files` row of `/proc/PID/limits`.
    static func parseOpenFileLimit(_ text: Substring) throws(SamplerError) -> OpenFileLimit {
        for line in lines(text) where line.hasPrefix("Max open files") {
            let parts = fields(line.dropFirst("Max open files".count))
            guard parts.count >= 2 else { throw SamplerError.malformed("/proc/PID/limits", "short 'Max open files' row") }
            func limit(_ s: Substring) throws(SamplerError) -> UInt64? {
                s == "unlimited" ? nil : try unsigned(s, "/proc/PID/limits")
            }
            return OpenFileLimit(soft: try limit(parts[0]), hard: try limit(parts[1]))
        }
        throw SamplerError.malformed("/proc/PID/limits", "no 'Max open files' row")
    }

    /// `/proc/PID/task/TID/children`: space-separated PIDs (empty when there are none).
    static func parseChildren(_ text: Substring) throws(SamplerError) -> [Int32] {
        var result: [Int32] = []
        for part in fields(text.trimmedForParsing) {
            guard let pid = Int32(part), pid > 0 else { throw SamplerError.malformed("children", "bad pid \(part.prefix(16))") }
            result.append(pid)
        }
        return result
    }

    /// Counts the CPUs of a list like `0-3,8,10-11` (`Cpus_allowed_list`, `cpuset.cpus`).
    static func parseCPUListCount(_ text: Substring) throws(SamplerError) -> Int {
        var count = 0
        for range in text.trimmedForParsing.split(separator: ",") {
            let ends = range.split(separator: "-", omittingEmptySubsequences: false)
            guard ends.count == 1 || ends.count == 2, let low = Int(ends[0]),
                  let high = ends.count == 2 ? Int(ends[1]) : low, high >= low else {
                throw SamplerError.malformed("cpu list", "bad range \(range.prefix(16))")
            }
            count += high - low + 1
        }
        guard count > 0 else { throw SamplerError.malformed("cpu list", "empty") }
        return count
    }
}

extension Substring {
    /// Without leading and trailing spaces, tabs and newlines.
    var trimmedForParsing: Substring {
        var bytes = utf8[...]
        while let c = bytes.first, c == 32 || c == 9 || c == 10 { bytes = bytes.dropFirst() }
        while let c = bytes.last, c == 32 || c == 9 || c == 10 { bytes = bytes.dropLast() }
        return Substring(bytes)
    }
}
