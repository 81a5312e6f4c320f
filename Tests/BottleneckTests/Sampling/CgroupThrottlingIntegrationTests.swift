import Foundation
import Testing
@testable import BottleneckCore
@testable import BottleneckLoad
@testable import BottleneckSampling
@testable import BottleneckRun
@testable import BottleneckDiagnosis
@testable import BottleneckReport

/// A process under a CPU quota of 0.2 cores in a cgroup this test creates (v2 `cpu.max`
/// where the cpu controller is on v2, else v1 `cpu.cfs_quota_us`) must show throttling.
@Suite("cgroup throttling", .serialized)
struct CgroupThrottlingIntegrationTests {
    static let v2CPU = ((try? String(contentsOfFile: "/sys/fs/cgroup/cgroup.controllers", encoding: .utf8)) ?? "")
        .split(separator: " ").contains { $0.trimmingCharacters(in: .whitespacesAndNewlines) == "cpu" }
    static let v1CPU = FileManager.default.fileExists(atPath: "/sys/fs/cgroup/cpu/cpu.cfs_quota_us")
    static let canCreate = getuid() == 0 && (v2CPU || v1CPU)

    @Test(.enabled(if: canCreate || TestRequirements.enforced, "needs root and a cpu controller (v2 cpu.max or v1 cpu.cfs_quota_us) to create a cgroup with a quota"))
    func throttlingIsSeen() throws {
        let name = "bottleneck-test-\(getpid())"
        let dir = Self.v2CPU ? "/sys/fs/cgroup/\(name)" : "/sys/fs/cgroup/cpu/\(name)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
        defer { rmdir(dir) }
        if Self.v2CPU {
            try "20000 100000".write(toFile: dir + "/cpu.max", atomically: false, encoding: .utf8)
        } else {
            try "100000".write(toFile: dir + "/cpu.cfs_period_us", atomically: false, encoding: .utf8)
            try "20000".write(toFile: dir + "/cpu.cfs_quota_us", atomically: false, encoding: .utf8)
        }
        // The burner moves itself into the cgroup before burning.
        let burner = try TestChildProcess("/bin/sh", ["-c", "echo $$ > \(dir)/cgroup.procs && exec /bin/sh -c 'while :; do :; done'"])
        defer { burner.stop() }
        usleep(300_000)

        let output = NSTemporaryDirectory() + "samples-throttle-\(getpid()).jsonl"
        defer { try? FileManager.default.removeItem(atPath: output) }
        let session = try SamplingSession(configuration: SamplerConfiguration(interval: .milliseconds(100), serverPIDs: [burner.pid]),
                                          outputPath: output, now: MonotonicClock.now)
        session.start()
        session.markStep(0, name: "throttled")
        usleep(1_500_000)
        let summary = session.stop()

        let step = try #require(summary.steps.first { $0.index == 0 })
        #expect(step.server.quotaCores == 0.2)
        #expect(step.server.throttledRatio ?? 0 > 0.5)
        #expect(step.server.throttledSeconds > 0.5)
        #expect(step.server.cpuCoresMean < 0.35)       // held near the 0.2-core quota
        let records = try SamplingSessionIntegrationTests.records(output)
        let cgroups = records.filter { $0["type"] as? String == "cgroup" && $0["path"] as? String == "/\(name)" }
        #expect(!cgroups.isEmpty)
        #expect(cgroups.contains { ($0["throttled_ratio"] as? Double ?? 0) > 0.5 })
        #expect(cgroups.allSatisfy { $0["version"] as? Int == (Self.v2CPU ? 2 : 1) })
    }
}
