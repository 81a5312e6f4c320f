import Testing
@testable import BottleneckCore
@testable import BottleneckLoad
@testable import BottleneckSampling
@testable import BottleneckRun
@testable import BottleneckDiagnosis
@testable import BottleneckReport

@Suite("cgroup v1 (captured here) and v2 (from the kernel docs)")
struct ProcParseCgroupTests {
    @Test func membershipV1Hybrid() throws {
        let entries = try ProcParse.parseCgroupMembership(SamplingFixtures.text("proc/linux-6.18-hybrid/throttled-process.cgroup"))
        #expect(entries.count == 10)
        #expect(entries.contains(CgroupMembership(hierarchyID: 1, controllers: ["cpu"], path: "/bn-fixture")))
        #expect(entries.contains(CgroupMembership(hierarchyID: 0, controllers: [], path: "/")))
        #expect(entries.first { $0.controllers.contains("memory") }?.path == "/process_api/a61fd02450777c04bbc30a357110ed93")
    }

    @Test func membershipV2() throws {
        let entries = try ProcParse.parseCgroupMembership(SamplingFixtures.text("proc/v2-documented/model.cgroup"))
        #expect(entries == [CgroupMembership(hierarchyID: 0, controllers: [], path: "/system.slice/model.service")])
    }

    @Test func v1ThrottledCPU() throws {
        let dir = "cgroup/v1-hybrid/cpu/bn-fixture/"
        let cpu = try ProcParse.parseCgroupV1CPU(stat: SamplingFixtures.text(dir + "cpu.stat"),
                                                 quota: SamplingFixtures.text(dir + "cpu.cfs_quota_us"),
                                                 period: SamplingFixtures.text(dir + "cpu.cfs_period_us"), usage: nil)
        #expect(cpu.periods == 16)
        #expect(cpu.throttledPeriods == 15)
        #expect(cpu.throttledNanoseconds == 1_125_048_854)
        #expect(cpu.quotaCores == 0.2)
    }

    @Test func v1UnlimitedRoot() throws {
        let dir = "cgroup/v1-hybrid/cpu/"
        let cpu = try ProcParse.parseCgroupV1CPU(stat: SamplingFixtures.text(dir + "cpu.stat"),
                                                 quota: SamplingFixtures.text(dir + "cpu.cfs_quota_us"),
                                                 period: SamplingFixtures.text(dir + "cpu.cfs_period_us"),
                                                 usage: SamplingFixtures.text("cgroup/v1-hybrid/cpuacct/cpuacct.usage"))
        #expect(cpu.quotaCores == nil)
        #expect(cpu.usageNanoseconds ?? 0 > 0)
    }

    @Test func v2ThrottledCPUAndMemory() throws {
        let dir = "cgroup/v2-documented/system.slice/model.service/"
        let cpu = try ProcParse.parseCgroupV2CPU(stat: SamplingFixtures.text(dir + "cpu.stat"), max: SamplingFixtures.text(dir + "cpu.max"))
        #expect(cpu.quotaCores == 1.5)
        #expect(cpu.periods == 3120)
        #expect(cpu.throttledPeriods == 871)
        #expect(cpu.throttledNanoseconds == 96_551_032_000)
        #expect(cpu.usageNanoseconds == 48_230_114_000)
        let memory = try ProcParse.parseCgroupV2Memory(current: SamplingFixtures.text(dir + "memory.current"),
                                                        max: SamplingFixtures.text(dir + "memory.max"),
                                                        events: SamplingFixtures.text(dir + "memory.events"))
        #expect(memory == CgroupMemory(currentBytes: 1_374_543_872, limitBytes: 2_147_483_648, limitHits: 57, oomKills: 1))
    }

    @Test func v2Unlimited() throws {
        let dir = "cgroup/v2-documented/user.slice/"
        #expect(try ProcParse.parseCPUMax(SamplingFixtures.text(dir + "cpu.max")) == nil)
        let memory = try ProcParse.parseCgroupV2Memory(current: SamplingFixtures.text(dir + "memory.current"),
                                                        max: SamplingFixtures.text(dir + "memory.max"), events: nil)
        #expect(memory.limitBytes == nil)
    }

    @Test func v2CPUStatWithoutController() throws {
        // The hybrid host's unified tree: cpu.stat with usage only (no cpu controller in v2).
        let cpu = try ProcParse.parseCgroupV2CPU(stat: SamplingFixtures.text("cgroup/v1-hybrid/unified/cpu.stat"), max: nil)
        #expect(cpu.periods == nil)
        #expect(cpu.usageNanoseconds ?? 0 > 0)
    }

    @Test func v1MemoryUnlimited() throws {
        let dir = "cgroup/v1-hybrid/memory/process_api/a61fd02450777c04bbc30a357110ed93/"
        let memory = try ProcParse.parseCgroupV1Memory(usage: SamplingFixtures.text(dir + "memory.usage_in_bytes"),
                                                        limit: SamplingFixtures.text(dir + "memory.limit_in_bytes"),
                                                        failcnt: SamplingFixtures.text(dir + "memory.failcnt"),
                                                        oomControl: SamplingFixtures.text(dir + "memory.oom_control"))
        #expect(memory.limitBytes == nil)          // 9223372036854771712 = no limit
        #expect(memory.currentBytes > 0)
        #expect(memory.oomKills == 0)
    }

    @Test(arguments: ["proc/malformed/cgroup-bad"])
    func brokenMembershipThrows(_ path: String) throws {
        let text = try SamplingFixtures.text(path)
        #expect(throws: SamplerError.self) { try ProcParse.parseCgroupMembership(text) }
        #expect(throws: SamplerError.self) { try ProcParse.parseCgroupMembership("") }
    }

    @Test func brokenCPUFilesThrow() throws {
        let bad = try SamplingFixtures.text("proc/malformed/cpu-stat-bad")
        #expect(throws: SamplerError.self) { try ProcParse.parseCgroupV1CPU(stat: bad, quota: nil, period: nil, usage: nil) }
        #expect(throws: SamplerError.self) { try ProcParse.parseCgroupV2CPU(stat: bad, max: nil) }
        #expect(throws: SamplerError.self) { try ProcParse.parseCPUMax("150000") }
        #expect(throws: SamplerError.self) { try ProcParse.parseCPUMax("max 0") }
        #expect(throws: SamplerError.self) { try ProcParse.parseCgroupV2Memory(current: "lots", max: nil, events: nil) }
    }

    /// The reader resolves a v1 process to the cpu hierarchy and its memory hierarchy.
    @Test func readerResolvesV1Hybrid() throws {
        let reader = ProcReader(procRoot: SamplingFixtures.hybridProc, cgroupRoot: SamplingFixtures.hybridCgroup)
        let text = try SamplingFixtures.text("proc/linux-6.18-hybrid/throttled-process.cgroup")
        let location = reader.resolveCgroup(try ProcParse.parseCgroupMembership(text), cacheKey: String(text))
        #expect(location.version == .v1)
        #expect(location.path == "/bn-fixture")
        let cpu = try #require(try reader.readCgroupCPU(location))
        #expect(cpu.throttledPeriods == 15)
        #expect(cpu.quotaCores == 0.2)
        let memory = try #require(try reader.readCgroupMemory(location))
        #expect(memory.currentBytes > 0)
    }

    /// The same reader resolves a v2 process under a pure v2 root.
    @Test func readerResolvesV2() throws {
        let reader = ProcReader(procRoot: SamplingFixtures.hybridProc, cgroupRoot: SamplingFixtures.v2Cgroup)
        let text = try SamplingFixtures.text("proc/v2-documented/model.cgroup")
        let location = reader.resolveCgroup(try ProcParse.parseCgroupMembership(text), cacheKey: String(text))
        #expect(location.version == .v2)
        let cpu = try #require(try reader.readCgroupCPU(location))
        #expect(cpu.throttledPeriods == 871)
        #expect(cpu.quotaCores == 1.5)
        let memory = try #require(try reader.readCgroupMemory(location))
        #expect(memory.oomKills == 1)
    }
}
