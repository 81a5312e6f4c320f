extension ProcParse {
    /// `/proc/PID/stat` or `/proc/PID/task/TID/stat`.
    ///
    /// The command name is in parentheses and may itself contain spaces and `)`, so the
    /// fields are counted from the *last* `)` (as procps does).
    static func parseProcessStat(_ text: Substring) throws(SamplerError) -> ProcessStat {
        try withBytes(text) { bytes throws(SamplerError) in try parseProcessStat(bytes: bytes) }
    }

    /// `parseProcessStat` over raw bytes (the reader's buffer): this runs for every process
    /// and thread on every tick, so fields are skipped and numbers read in place.
    static func parseProcessStat(bytes: UnsafeBufferPointer<UInt8>) throws(SamplerError) -> ProcessStat {
        let what = "/proc/PID/stat"
        guard let open = bytes.firstIndex(of: 40), let close = bytes.lastIndex(of: 41), open < close else {
            throw SamplerError.malformed(what, "no (comm)")
        }
        var cursor = TextCursor(bytes)
        let pid = cursor.unsigned()
        cursor.skipBlanks()
        guard let pid, pid <= UInt64(Int32.max), cursor.position == open else {
            throw SamplerError.malformed(what, "bad pid")
        }
        let comm = cursor.text(open + 1..<close)
        cursor.move(to: close + 1)
        // Field 3 is the state; the last one we need is 39 (processor).
        let stateField = cursor.field()
        guard let stateByte = stateField.isEmpty ? nil : bytes[stateField.lowerBound] else {
            throw SamplerError.malformed(what, "only 0 fields after comm (truncated?)")
        }
        var ppid: Int64?, threads: Int64?, lastCPU: Int64?
        var userTicks: UInt64?, systemTicks: UInt64?, startTime: UInt64?, rssPages: UInt64?
        for field in 4...39 {
            cursor.skipBlanks()
            if cursor.isAtEnd || cursor.current == 10 {
                throw SamplerError.malformed(what, "only \(field - 3) fields after comm (truncated?)")
            }
            switch field {
            case 4: ppid = cursor.signed()
            case 14: userTicks = try unsigned(&cursor, what)
            case 15: systemTicks = try unsigned(&cursor, what)
            case 20: threads = cursor.signed()
            case 22: startTime = try unsigned(&cursor, what)
            case 24: rssPages = try unsigned(&cursor, what)
            case 39: lastCPU = cursor.signed()
            default: cursor.skipField()
            }
        }
        guard let ppid, let parent = Int32(exactly: ppid), let threads, let lastCPU,
              let userTicks, let systemTicks, let startTime, let rssPages else {
            throw SamplerError.malformed(what, "bad ppid, num_threads or processor")
        }
        return ProcessStat(pid: Int32(pid), comm: comm, state: Character(Unicode.Scalar(stateByte)), ppid: parent,
                           userTicks: userTicks, systemTicks: systemTicks,
                           threads: Int(threads), startTime: startTime,
                           rssPages: rssPages, lastCPU: Int(lastCPU))
    }

    /// `/proc/PID/status`. The context-switch lines are the last ones, so their absence
    /// marks a truncated read. Kernel threads have no `VmRSS`, hence optional.
    static func parseStatus(_ text: Substring) throws(SamplerError) -> ProcessStatus {
        try withBytes(text) { bytes throws(SamplerError) in try parseStatus(bytes: bytes) }
    }

    /// `parseStatus` over raw bytes: looks only at the lines whose first letter can start
    /// one of the five wanted keys, instead of splitting all ~55 lines.
    static func parseStatus(bytes: UnsafeBufferPointer<UInt8>) throws(SamplerError) -> ProcessStatus {
        let what = "/proc/PID/status"
        var rss: UInt64?
        var hwm: UInt64?
        var voluntary: UInt64?
        var nonvoluntary: UInt64?
        var allowed: Int?
        var cursor = TextCursor(bytes)
        while !cursor.isAtEnd {
            let lineStart = cursor.position
            let lineEnd = cursor.lineEnd
            defer { cursor.move(to: lineEnd + 1) }
            let first = bytes[lineStart]
            guard first == 86 || first == 118 || first == 110 || first == 67 else { continue }   // V v n C
            var colon = lineStart
            while colon < lineEnd, bytes[colon] != 58 { colon += 1 }
            guard colon < lineEnd else { throw SamplerError.malformed(what, "no ':' in a line") }
            let key = lineStart..<colon
            cursor.move(to: colon + 1)
            if cursor.range(key, equals: "VmRSS") { rss = try kilobytes(&cursor, what) }
            else if cursor.range(key, equals: "VmHWM") { hwm = try kilobytes(&cursor, what) }
            else if cursor.range(key, equals: "voluntary_ctxt_switches") { voluntary = try wholeNumber(&cursor, what) }
            else if cursor.range(key, equals: "nonvoluntary_ctxt_switches") { nonvoluntary = try wholeNumber(&cursor, what) }
            else if cursor.range(key, equals: "Cpus_allowed_list") {
                cursor.skipBlanks()
                allowed = try cpuListCount(bytes: UnsafeBufferPointer(rebasing: bytes[cursor.position..<lineEnd]))
            }
        }
        guard let voluntary, let nonvoluntary else { throw SamplerError.malformed(what, "no ctxt_switches lines (truncated?)") }
        return ProcessStatus(rssBytes: rss, rssPeakBytes: hwm, voluntaryContextSwitches: voluntary,
                             nonvoluntaryContextSwitches: nonvoluntary, allowedCPUs: allowed)
    }

    /// A number in place, or a `.malformed` error naming the file.
    @inline(__always)
    static func unsigned(_ cursor: inout TextCursor, _ what: String) throws(SamplerError) -> UInt64 {
        guard let value = cursor.unsigned() else {
            throw SamplerError.malformed(what, "not a number at byte \(cursor.position)")
        }
        return value
    }

    /// A number that is all that is left on its line (trailing blanks allowed).
    private static func wholeNumber(_ cursor: inout TextCursor, _ what: String) throws(SamplerError) -> UInt64 {
        let value = try unsigned(&cursor, what)
        cursor.skipBlanks()
        guard cursor.current == nil || cursor.current == 10 else { throw SamplerError.malformed(what, "text after a number") }
        return value
    }

    /// `  14180 kB`: the number, in bytes (the unit is always kB).
    private static func kilobytes(_ cursor: inout TextCursor, _ what: String) throws(SamplerError) -> UInt64 {
        try unsigned(&cursor, what) &* 1024
    }

    /// `/proc/PID/schedstat`: `run_ns wait_ns timeslices`.
    static func parseSchedstat(_ text: Substring) throws(SamplerError) -> Schedstat {
        try withBytes(text) { bytes throws(SamplerError) in try parseSchedstat(bytes: bytes) }
    }

    static func parseSchedstat(bytes: UnsafeBufferPointer<UInt8>) throws(SamplerError) -> Schedstat {
        var cursor = TextCursor(bytes)
        guard let run = cursor.unsigned(), let delay = cursor.unsigned(), let slices = cursor.unsigned() else {
            throw SamplerError.malformed("/proc/PID/schedstat", "expected 3 numbers")
        }
        cursor.skipBlanks()
        if cursor.current == 10 { cursor.advance() }
        guard cursor.isAtEnd else { throw SamplerError.malformed("/proc/PID/schedstat", "expected 3 numbers") }
        return Schedstat(runNanoseconds: run, runDelayNanoseconds: delay, timeslices: slices)
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
        try withBytes(text) { bytes throws(SamplerError) in try parseChildren(bytes: bytes) }
    }

    static func parseChildren(bytes: UnsafeBufferPointer<UInt8>) throws(SamplerError) -> [Int32] {
        var result: [Int32] = []
        var cursor = TextCursor(bytes)
        while true {
            cursor.skipBlanks()
            if cursor.current == 10 { cursor.advance(); continue }
            if cursor.isAtEnd { return result }
            let start = cursor.position
            guard let pid = cursor.unsigned(), pid > 0, pid <= UInt64(Int32.max) else {
                throw SamplerError.malformed("children", "bad pid \(cursor.text(start..<min(start + 16, cursor.lineEnd)))")
            }
            result.append(Int32(pid))
        }
    }

    /// Counts the CPUs of a list like `0-3,8,10-11` (`Cpus_allowed_list`, `cpuset.cpus`).
    static func parseCPUListCount(_ text: Substring) throws(SamplerError) -> Int {
        try withBytes(text) { bytes throws(SamplerError) in try cpuListCount(bytes: bytes) }
    }

    static func cpuListCount(bytes: UnsafeBufferPointer<UInt8>) throws(SamplerError) -> Int {
        var count = 0
        var cursor = TextCursor(bytes)
        func bad() -> SamplerError { SamplerError.malformed("cpu list", "bad range at byte \(cursor.position)") }
        func number() -> Int? {
            var value = 0, digits = 0
            while let byte = cursor.current, TextCursor.isDigit(byte), digits < 9 {
                value = value * 10 + Int(byte - 48)
                digits += 1
                cursor.advance()
            }
            return digits > 0 ? value : nil
        }
        cursor.skipBlanks()
        while let byte = cursor.current, byte != 10 {
            if byte == UInt8(ascii: ",") { cursor.advance(); continue }
            guard let low = number() else { throw bad() }
            var high = low
            if cursor.current == UInt8(ascii: "-") {
                cursor.advance()
                guard let end = number() else { throw bad() }
                high = end
            }
            guard high >= low else { throw bad() }
            count += high - low + 1
            if let next = cursor.current, next != UInt8(ascii: ","), next != 10, !TextCursor.isBlank(next) { throw bad() }
            cursor.skipBlanks()
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
