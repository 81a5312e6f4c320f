import Foundation
import Testing
@testable import BottleneckCore
@testable import BottleneckSampling

/// Process deaths and restarts as the sampler records them, replayed from the lines of a
/// real OOM kill (the test bed's oom-large-input: a gunicorn sync worker over its memory
/// cgroup's limit, and the master forking a new one).
@Suite("Process events")
struct ProcessEventTests {
    static let run = recordedRun("oom-large-input")

    @Test func aReplayedOOMKillIsTheEventTheSamplerRecorded() throws {
        let replayed = try SampleLineReplay.summarize(path: Self.run + "/samples.jsonl", steps: [], end: nil)
        let events = try #require(replayed.processEvents)
        let exit = try #require(events.first { $0.kind == .exit })
        #expect(exit.oomKill == true, "the cgroup's oom_kill rose in the interval the worker ended")
        #expect(exit.role == "server" && exit.rssBytes > 200_000_000, "its last RSS: \(exit.rssBytes)")
        #expect(exit.memoryLimitBytes.map { $0 > exit.rssBytes } == true)
        let start = try #require(events.first { $0.kind == .start })
        #expect(start.parentPID == exit.parentPID && start.root == exit.root && start.pid != exit.pid,
                "the master forked a new worker in the same tree")

        // The live sampler recorded the same events while it wrote those lines.
        let summary = try JSONDecoder().decode(SummaryFile.self, from: Data(contentsOf: URL(fileURLWithPath: Self.run + "/summary.json")))
        let recorded = try #require(summary.sampling.processEvents)
        for event in events {
            #expect(recorded.contains(event), "replayed \(event.kind.rawValue) of \(event.pid) as the sampler recorded it")
        }
    }

    private struct SummaryFile: Decodable {
        var sampling: SamplingSummary
    }
}
