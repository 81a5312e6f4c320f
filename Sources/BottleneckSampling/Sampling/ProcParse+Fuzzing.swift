extension ProcParse {
    /// The number of parsers `parse(selector:text:)` chooses from.
    package static let fuzzedParsers = 22

    /// Runs the parser `selector` picks (modulo `fuzzedParsers`) over `text`; a parser that
    /// reads several files (cgroup CPU and memory, snmp and netstat) gets them split at NUL
    /// bytes, absent ones as nil. A malformed input must throw, never trap.
    ///
    /// The parsers stay internal; this is their entry for the fuzzer (fuzz/README.md) and
    /// for the tests that replay what it found.
    package static func parse(selector: UInt8, text: Substring) throws(SamplerError) {
        let files = text.split(separator: "\0", omittingEmptySubsequences: false)
        let first = files.first ?? text
        let second: Substring? = files.count > 1 ? files[1] : nil
        let third: Substring? = files.count > 2 ? files[2] : nil
        let fourth: Substring? = files.count > 3 ? files[3] : nil
        switch Int(selector) % fuzzedParsers {
        case 0: _ = try parseCgroupMembership(text)
        case 1: _ = try parseCgroupV2CPU(stat: first, max: second)
        case 2: _ = try parseCPUMax(text)
        case 3: _ = try parseCgroupV1CPU(stat: first, quota: second, period: third, usage: fourth)
        case 4: _ = try parseCgroupV2Memory(current: first, max: second, events: third)
        case 5: _ = try parseCgroupV1Memory(usage: first, limit: second, failcnt: third, oomControl: fourth)
        case 6: _ = try parseStat(text)
        case 7: _ = try parsePressure(text)
        case 8: _ = try parseMeminfo(text)
        case 9: _ = try parseVMStatOOMKills(text)
        case 10: _ = try parseTCPCounters(snmp: first, netstat: second ?? Substring())
        case 11: _ = try parseTCPTable(text)
        case 12: _ = try parseTCPTable(text, ports: [80, 8080])
        case 13: _ = try parseSockstatTCP6InUse(text)
        case 14: _ = try parsePortRange(text)
        case 15: _ = try parseProcessStat(text)
        case 16: _ = try parseStatus(text)
        case 17: _ = try parseSchedstat(text)
        case 18: _ = try parseOpenFileLimit(text)
        case 19: _ = try parseChildren(text)
        case 20: _ = try parseCPUListCount(text)
        default: _ = try parseFlatKeyed(text, what: "fuzz")
        }
    }
}
