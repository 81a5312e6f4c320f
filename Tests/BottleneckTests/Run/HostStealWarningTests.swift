@testable import BottleneckCore
@testable import BottleneckLoad
@testable import BottleneckSampling
@testable import BottleneckRun
@testable import BottleneckDiagnosis
@testable import BottleneckReport
import Foundation
import Testing

/// A step the generator could not keep up in, on a host whose hypervisor took a notable share
/// of the CPU, says so; a quiet host or a step that kept up adds nothing.
@Suite("Host steal warnings")
struct HostStealWarningTests {
    /// A recorded run: step 1 (`rate-12`) sent late, step 0 (`baseline`) kept up.
    private func recorded() throws -> RunSummary {
        let path = recordedRun("slow-model") + "/summary.json"
        return try RunJSON.decode(RunSummary.self, from: try #require(FileManager.default.contents(atPath: path)))
    }

    private func withSteal(_ summary: RunSummary, _ steal: Double) -> SamplingSummary? {
        guard var sampling = summary.sampling else { return nil }
        for i in sampling.steps.indices { sampling.steps[i].host.stealFractionMean = steal }
        return sampling
    }

    @Test("a late step on a host losing 5% of its CPU gets the host's share of the blame")
    func stolenHost() throws {
        let summary = try recorded()
        let warnings = RunSummary.hostWarnings(steps: summary.steps, sampling: withSteal(summary, 0.05))
        #expect(warnings == ["rate-12: the hypervisor took 5% of this host's CPU during the step (steal): a CPU that is not running "
                             + "sends nothing on time, in this generator or any other; rerun on a quieter or dedicated host"])
    }

    @Test("a quiet host, or no sampling, adds nothing")
    func quietHost() throws {
        let summary = try recorded()
        #expect(RunSummary.hostWarnings(steps: summary.steps, sampling: withSteal(summary, 0.005)).isEmpty)
        #expect(RunSummary.hostWarnings(steps: summary.steps, sampling: nil).isEmpty)
    }
}
