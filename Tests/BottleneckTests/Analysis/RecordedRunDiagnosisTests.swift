import Foundation
import Testing
@testable import BottleneckCore
@testable import BottleneckLoad
@testable import BottleneckSampling
@testable import BottleneckRun
@testable import BottleneckDiagnosis
@testable import BottleneckReport

/// Diagnosis of a real recorded run: the test bed's slow-model scenario (a baseline and
/// an open-loop ramp against the Python service behind nginx, service sampled by PID).
@Suite("Diagnosis of a recorded run")
struct RecordedRunDiagnosisTests {
    static let directory = recordedRun("slow-model")

    @Test func evidenceComesFromTheRunDirectoryAlone() throws {
        let evidence = try RunEvidence.load(directory: Self.directory, sloP99Milliseconds: 300)
        #expect(evidence.stepCount == evidence.summary.steps.count && evidence.stepCount >= 2)
        let knee = try #require(evidence.kneeStep)
        // Server-Timing phases were parsed from requests.csv and map to segments.
        let model = try #require(evidence.value("timing.model_ms", step: .step(knee)))
        let service = try #require(evidence.value("service.mean_ms", step: .step(knee)))
        let share = try #require(evidence.value("timing.model_share", step: .step(knee)))
        #expect(model > 0 && service > model)
        #expect(abs(share - model / service) < 1e-9)
        // Phases never exceed what the client waited for.
        let server = try #require(evidence.value("timing.server_ms", step: .step(knee)))
        #expect(server <= service)
        // The server was sampled: CPU and processes are there; the capture was not: wire metrics are absent, not zero.
        #expect(evidence.value("server.processes", step: .step(knee)) != nil)
        #expect(evidence.value("wire.server_ms", step: .run) == nil)
    }

    @Test func anOOMKilledWorkerIsPreprocessingWithTheInputThatKilledIt() throws {
        // The test bed's oom-large-input, diagnosed on the ramp path: images up to 27 Mpx, a
        // memory cgroup 200 MB above the service's resting usage.
        let rules = try DefaultRules.load(catalog: EvidenceCatalog.catalog)
        let result = try DiagnosisResult.evaluate(directory: recordedRun("oom-large-input"), sloP99Milliseconds: 300, rules: rules)
        let first = try #require(result.verdicts.first)
        #expect(first.culprit == .preprocessing && first.cause == "oom-kill-on-large-input" && first.severity == .critical)
        #expect(first.explain.contains("Mpx") && !first.explain.contains("n/a"), "\(first.explain)")
        let causes = try #require(result.failedRequests)
        #expect(causes.first?.cause == "oom-kill")
        let failed = try RunEvidence.load(directory: recordedRun("oom-large-input")).value(Metric.failuresFailedRequests, step: .run)
        #expect(Double(causes.reduce(0) { $0 + $1.requests }) == failed, "every failed request counted once")
        // Every form of the report lists them too.
        let report = try RunReport.load(directory: recordedRun("oom-large-input"))
        for format in [RunReport.Format.text, .markdown, .html] {
            let text = String(decoding: try RunReport.render(report, format: format), as: UTF8.self)
            #expect(text.contains("Failed requests") && text.contains("in flight when its worker was OOM-killed"), "\(format)")
        }
    }

    @Test func theExitCodeFollowsValidityThenTheCulpritsAskedFor() throws {
        let rules = try DefaultRules.load(catalog: EvidenceCatalog.catalog)
        var result = try DiagnosisResult.evaluate(directory: Self.directory, sloP99Milliseconds: 100, rules: rules)
        #expect(result.exitCode(failingOn: []) == 0)
        #expect(result.exitCode(failingOn: [.proxy]) == 0)
        #expect(result.exitCode(failingOn: [.network, .model]) == 1)
        result.valid = false
        #expect(result.exitCode(failingOn: [.model]) == 3, "an invalid run is reported as invalid before any culprit")
    }

    @Test func theModelIsNamedFirstWhenTheSLOBreaks() throws {
        let rules = try DefaultRules.load(catalog: EvidenceCatalog.catalog)
        // The recorded ramp reached p99 ≈ 230 ms: against p99 ≤ 100 ms it is under pressure.
        let result = try DiagnosisResult.evaluate(directory: Self.directory, sloP99Milliseconds: 100, rules: rules)
        #expect(result.valid)
        #expect(result.culprits.first == .model)
        let verdict = try #require(result.verdicts.first)
        // Judged on the service's own work, not on a share of a latency queueing has swollen.
        #expect(verdict.evidence.contains { $0.metric.hasPrefix("timing.model_work_share") && ($0.value ?? 0) >= ($0.threshold ?? 1) })
        #expect(!verdict.explain.contains("n/a"))
    }

    @Test func aTighterSLOMovesTheKneeEarlier() throws {
        let rules = try DefaultRules.load(catalog: EvidenceCatalog.catalog)
        let loose = try DiagnosisResult.evaluate(directory: Self.directory, sloP99Milliseconds: 10_000, rules: rules)
        let tight = try DiagnosisResult.evaluate(directory: Self.directory, sloP99Milliseconds: 1, rules: rules)
        // The knee is the least loaded step that broke; the one-connection baseline is the reference, not a candidate.
        let leastLoaded = try #require(tight.knee)
        #expect(leastLoaded.broken && leastLoaded.name != RunEvidence.baselineStepName)
        let evidence = try RunEvidence.load(directory: Self.directory, sloP99Milliseconds: 1)
        let lowestRate = evidence.summary.steps.compactMap(\.targetRate).min()
        #expect(leastLoaded.offeredRps != nil && leastLoaded.offeredRps == lowestRate)
        #expect(tight.sloMet == false && tight.capacityAtSloRps == nil)
        #expect((loose.knee?.step ?? 0) >= (tight.knee?.step ?? 0))
    }
}

/// The test bed's tiny-backlog scenario under `diagnose`'s closed-loop probe: every listen
/// overflow happened while the warm-up opened its 32 connections (the last retry 4 ms before
/// the step began), none in the step. Recorded from a CI run that called it healthy.
@Suite("Diagnosis of a backlog that overflowed during the warm-up")
struct WarmupOverflowDiagnosisTests {
    static let directory = recordedRun("tiny-backlog-warmup")

    @Test func overflowsBeforeTheFirstStepCountForIt() throws {
        let evidence = try RunEvidence.load(directory: Self.directory, sloP99Milliseconds: 300)
        #expect(evidence.value("server.listen_overflows", step: .step(0)) == 26)
    }

    @Test func theBacklogIsNamed() throws {
        let rules = try DefaultRules.load(catalog: EvidenceCatalog.catalog)
        let result = try DiagnosisResult.evaluate(directory: Self.directory, sloP99Milliseconds: 300, rules: rules)
        #expect(result.verdicts.contains { $0.rule == "accept-queue-overflow" })
    }
}

/// The directory of a run recorded under `Fixtures/runs/`.
func recordedRun(_ name: String) -> String {
    Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("runs/\(name)").path
}
