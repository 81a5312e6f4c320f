import Testing
@testable import BottleneckCore
@testable import BottleneckLoad
@testable import BottleneckSampling
@testable import BottleneckRun
@testable import BottleneckDiagnosis
@testable import BottleneckReport

@Suite("Per-process parsers on files captured from this machine")
struct ProcParseProcessTests {
    @Test func processStatOfServerAndChild() throws {
        let server = try ProcParse.parseProcessStat(SamplingFixtures.text("proc/linux-6.18-hybrid/8322/stat"))
        #expect(server.pid == 8322)
        #expect(server.comm == "python3")
        #expect(server.state == "S")
        #expect(server.threads == 2)
        #expect(server.rssPages == 3473)
        let child = try ProcParse.parseProcessStat(SamplingFixtures.text("proc/linux-6.18-hybrid/8380/stat"))
        #expect(child.ppid == 8322)
        #expect(child.state == "R")
        #expect(child.userTicks == 504)       // the burner: all user time
        #expect(child.lastCPU == 0)
        #expect(child.startTime == 32022)
    }

    @Test func commWithSpacesAndParentheses() throws {
        let fields = Array(repeating: "0", count: 40).joined(separator: " ")
        let stat = try ProcParse.parseProcessStat("42 (gunicorn: worker (app)) S \(fields)"[...])
        #expect(stat.comm == "gunicorn: worker (app)")
        #expect(stat.pid == 42)
    }

    @Test func threadStatsParse() throws {
        for tid in ["8322", "8381"] {
            let stat = try ProcParse.parseProcessStat(SamplingFixtures.text("proc/linux-6.18-hybrid/8322/task/\(tid)/stat"))
            #expect(stat.pid == Int32(tid))
        }
    }

    @Test func status() throws {
        let status = try ProcParse.parseStatus(SamplingFixtures.text("proc/linux-6.18-hybrid/8322/status"))
        #expect(status.rssBytes == 14180 * 1024)
        #expect(status.rssPeakBytes == 14180 * 1024)
        #expect(status.voluntaryContextSwitches == 18)
        #expect(status.nonvoluntaryContextSwitches == 19)
        #expect(status.allowedCPUs == 2)
    }

    @Test func schedstatLimitsChildren() throws {
        let sched = try ProcParse.parseSchedstat(SamplingFixtures.text("proc/linux-6.18-hybrid/8322/schedstat"))
        #expect(sched == Schedstat(runNanoseconds: 78_716_422, runDelayNanoseconds: 8_858_634, timeslices: 37))
        let limit = try ProcParse.parseOpenFileLimit(SamplingFixtures.text("proc/linux-6.18-hybrid/8322/limits"))
        #expect(limit == OpenFileLimit(soft: 20000, hard: 20000))
        #expect(try ProcParse.parseChildren(SamplingFixtures.text("proc/linux-6.18-hybrid/8322/task/8322/children")) == [8380])
        #expect(try ProcParse.parseChildren("") == [])
        #expect(try ProcParse.parseOpenFileLimit("Max open files            unlimited            unlimited            files\n") == OpenFileLimit(soft: nil, hard: nil))
    }

    @Test(arguments: [("0-1", 2), ("0", 1), ("0-3,8,10-11", 7)])
    func cpuLists(_ text: String, _ count: Int) throws {
        #expect(try ProcParse.parseCPUListCount(text[...]) == count)
    }

    @Test(arguments: ["proc/malformed/stat-truncated", "proc/malformed/stat-no-paren"])
    func brokenProcessStatThrows(_ path: String) throws {
        let text = try SamplingFixtures.text(path)
        #expect(throws: SamplerError.self) { try ProcParse.parseProcessStat(text) }
    }

    @Test(arguments: ["", "12 34", "a b c", "1 2 3 4"])
    func brokenSchedstatThrows(_ text: String) {
        #expect(throws: SamplerError.self) { try ProcParse.parseSchedstat(text[...]) }
    }

    @Test func truncatedStatusThrows() throws {
        let text = try SamplingFixtures.text("proc/linux-6.18-hybrid/8322/status")
        let cut = Substring(text.utf8.prefix(text.utf8.count / 2))
        #expect(throws: SamplerError.self) { try ProcParse.parseStatus(cut) }
        #expect(throws: SamplerError.self) { try ProcParse.parseStatus("VmRSS 12 kB\nvoluntary_ctxt_switches: x\n") }
    }

    @Test(arguments: ["", "4-2", "a", "1-", ","])
    func brokenCPUListThrows(_ text: String) {
        #expect(throws: SamplerError.self) { try ProcParse.parseCPUListCount(text[...]) }
    }

    @Test func everyPrefixOfProcessFilesParsesOrThrows() throws {
        for path in ["8322/stat", "8322/status", "8322/schedstat", "8322/limits"] {
            let text = try SamplingFixtures.text("proc/linux-6.18-hybrid/" + path)
            for cut in 0..<text.utf8.count {
                let prefix = Substring(text.utf8.prefix(cut))
                _ = try? ProcParse.parseProcessStat(prefix)
                _ = try? ProcParse.parseStatus(prefix)
                _ = try? ProcParse.parseSchedstat(prefix)
                _ = try? ProcParse.parseOpenFileLimit(prefix)
            }
        }
    }
}
