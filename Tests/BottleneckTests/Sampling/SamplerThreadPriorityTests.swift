@testable import BottleneckCore
@testable import BottleneckLoad
@testable import BottleneckSampling
@testable import BottleneckRun
@testable import BottleneckDiagnosis
@testable import BottleneckReport
import Foundation
import Testing

/// Inside the generator the sampler shares the event loops' cores and must yield to them
/// (nice 19); as the server's agent it must not, or a saturated server would starve it.
/// Read back from the kernel: `/proc/self/task/TID/stat` (nice is field 19) and `comm`.
@Suite("Sampler thread priority")
struct SamplerThreadPriorityTests {
    private func samplerThread(yielding: Bool) throws -> (nice: Int, name: String) {
        let output = NSTemporaryDirectory() + "samples-priority-\(getpid())-\(yielding).jsonl"
        defer { try? FileManager.default.removeItem(atPath: output) }
        var configuration = SamplerConfiguration(interval: .milliseconds(50))
        configuration.yieldsToEventLoops = yielding
        let session = try SamplingSession(configuration: configuration, outputPath: output, now: MonotonicClock.now)
        session.start()
        defer { _ = session.stop() }
        var tid: Int32 = 0
        for _ in 0..<200 where tid == 0 {
            tid = session.samplerThreadID
            if tid == 0 { usleep(5_000) }
        }
        usleep(100_000)  // the thread sets its priority and name before its first sample
        let stat = try String(contentsOfFile: "/proc/self/task/\(tid)/stat", encoding: .utf8)
        // After "pid (comm) ": state is field 3, nice field 19.
        let fields = stat[stat.range(of: ") ")!.upperBound...].split(separator: " ")
        let name = try String(contentsOfFile: "/proc/self/task/\(tid)/comm", encoding: .utf8)
        return (Int(fields[19 - 3])!, name.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    @Test("in the generator it runs at nice 19 and is named")
    func generatorSamplerYields() throws {
        let thread = try samplerThread(yielding: true)
        #expect(thread.nice == 19)
        #expect(thread.name == "bn-sampler")
    }

    @Test("as the agent it keeps the normal priority")
    func agentSamplerDoesNot() throws {
        #expect(try samplerThread(yielding: false).nice == 0)
    }
}
