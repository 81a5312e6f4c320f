import Testing
@testable import BottleneckCore
@testable import BottleneckLoad
@testable import BottleneckSampling
@testable import BottleneckRun
@testable import BottleneckDiagnosis
@testable import BottleneckReport

@Suite("Host parsers on files captured from this machine")
struct ProcParseHostTests {
    @Test func statHasTotalPerCPUAndStealAndProcsRunning() throws {
        let stat = try ProcParse.parseStat(SamplingFixtures.text("proc/linux-6.18-hybrid/stat"))
        #expect(stat.perCPU.count == 2)
        #expect(stat.total.user == 25545)
        #expect(stat.total.steal == 1068)
        #expect(stat.perCPU[1].idle == 13636)
        #expect(stat.procsRunning >= 1)
        #expect(stat.contextSwitches > 0)
        // The total line is the sum of the CPUs (within a tick or two of rounding).
        let summed = stat.perCPU.reduce(0) { $0 + $1.user }
        #expect(abs(Int(summed) - Int(stat.total.user)) <= 2)
    }

    @Test func pressureHasSomeAndFull() throws {
        let cpu = try ProcParse.parsePressure(SamplingFixtures.text("proc/linux-6.18-hybrid/pressure/cpu"))
        #expect(cpu.some.totalMicroseconds > 0)
        #expect(cpu.full != nil)
        let memory = try ProcParse.parsePressure(SamplingFixtures.text("proc/linux-6.18-hybrid/pressure/memory"))
        #expect(memory.some.avg10 == 0)
        #expect(memory.full?.totalMicroseconds == 0)
    }

    /// PSI averages read in place come out as `Double(text)` would make them.
    @Test(arguments: ["0.00", "0.15", "12.34", "99.99", "100.00", "3"])
    func pressureAveragesAreExact(_ text: String) throws {
        let pressure = try ProcParse.parsePressure("some avg10=\(text) avg60=\(text) avg300=\(text) total=42\n"[...])
        #expect(pressure.some.avg10 == Double(text))
        #expect(pressure.some.avg300 == Double(text))
        #expect(pressure.some.totalMicroseconds == 42)
    }

    @Test func meminfoInBytes() throws {
        let info = try ProcParse.parseMeminfo(SamplingFixtures.text("proc/linux-6.18-hybrid/meminfo"))
        #expect(info.totalBytes == 24_684_092 * 1024)
        #expect(info.availableBytes == 24_279_724 * 1024)
        #expect(info.availableBytes <= info.totalBytes)
    }

    @Test func vmstatOOMKills() throws {
        #expect(try ProcParse.parseVMStatOOMKills(SamplingFixtures.text("proc/linux-6.18-hybrid/vmstat")) == 0)
        #expect(try ProcParse.parseVMStatOOMKills("pgfault 12\noom_kill 7\n") == 7)
        #expect(try ProcParse.parseVMStatOOMKills("pgfault 12\n") == nil)   // kernel < 4.13
    }

    @Test(arguments: ["proc/malformed/proc-stat-truncated", "proc/malformed/proc-stat-garbage"])
    func brokenStatThrows(_ path: String) throws {
        let text = try SamplingFixtures.text(path)
        #expect(throws: SamplerError.self) { try ProcParse.parseStat(text) }
    }

    @Test(arguments: ["", "some avg10=0.00\n", "some avg10=x avg60=1 avg300=1 total=1\n", "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n",
                      "weird avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"])
    func brokenPressureThrows(_ text: String) {
        #expect(throws: SamplerError.self) { try ProcParse.parsePressure(text[...]) }
    }

    @Test func brokenPressureFixtureThrows() throws {
        let text = try SamplingFixtures.text("proc/malformed/pressure-garbage")
        #expect(throws: SamplerError.self) { try ProcParse.parsePressure(text) }
    }

    @Test(arguments: ["", "MemTotal: 10 kB\n", "MemTotal: x kB\nMemAvailable: 1 kB\n", "garbage\n"])
    func brokenMeminfoThrows(_ text: String) {
        #expect(throws: SamplerError.self) { try ProcParse.parseMeminfo(text[...]) }
    }

    @Test func everyPrefixOfStatEitherParsesOrThrows() throws {
        // Truncation at any byte must give a value or an error, never a trap.
        let text = try SamplingFixtures.text("proc/linux-6.18-hybrid/stat")
        for cut in stride(from: 0, to: text.utf8.count, by: 7) {
            let prefix = Substring(text.utf8.prefix(cut))
            _ = try? ProcParse.parseStat(prefix)
        }
    }
}
