import Foundation
import Testing
@testable import BottleneckCore
@testable import BottleneckLoad
@testable import BottleneckSampling
@testable import BottleneckRun
@testable import BottleneckDiagnosis
@testable import BottleneckReport

/// The attribution segments in the evidence, as shares of latency, on recorded runs.
@Suite("Attribution shares in the evidence")
struct AttributionSharesTests {
    static let meanSegments = ["generator", "network", "proxy", "queue", "preprocess", "model", "postprocess", "outside", "unknown"]
    static let tailSegments = ["generator", "queue", "preprocess", "model", "postprocess", "outside", "unknown"]

    static func sum(_ step: [String: Double], _ names: [String], suffix: String) -> Double {
        names.reduce(0) { $0 + (step["attribution.\($1)\(suffix)"] ?? 0) }
    }

    @Test(arguments: ["slow-model", "wire-legs", "nginx-image"])
    func meanAndTailSharesAddUpToTheLatency(run: String) throws {
        let evidence = try RunEvidence.load(directory: recordedRun(run))
        for (index, step) in evidence.steps.enumerated() where (step["load.achieved_rps"] ?? 0) > 0 {
            #expect(abs(Self.sum(step, Self.meanSegments, suffix: "_share") - 1) < 0.01, "\(run) step \(index)")
            #expect(abs(Self.sum(step, Self.tailSegments, suffix: "_p99_share") - 1) < 1e-6, "\(run) step \(index)")
        }
    }

    @Test func theWireSplitsNetworkAndProxyOutOfTheService() throws {
        // Both of the proxy's legs captured: the proxy's share is there, and the phases are named.
        let evidence = try RunEvidence.load(directory: recordedRun("wire-legs"))
        for step in evidence.steps {
            #expect((step["attribution.proxy_share"] ?? 0) > 0.001)
            #expect((step["attribution.preprocess_share"] ?? 0) > 0.2, "the healthy bed decodes images")
            #expect(step["attribution.unknown_share"] == 0)
        }
    }

    @Test func withoutServerTimingTheServiceIsUnknownNotGuessed() throws {
        let evidence = try RunEvidence.load(directory: recordedRun("slow-model"), segments: ServerTimingSegments(prefixes: [], readsServerTiming: false))
        for step in evidence.steps {
            #expect(step["attribution.model_share"] == 0 && step["attribution.model_p99_share"] == 0)
            #expect((step["attribution.unknown_share"] ?? 0) > 0.5)
            #expect((step["attribution.unknown_p99_share"] ?? 0) > 0.5)
        }
        // With the header read, the slow model is most of the time, in the mean and in the tail.
        let timed = try RunEvidence.load(directory: recordedRun("slow-model"))
        #expect((timed.steps[0]["attribution.model_share"] ?? 0) > 0.3)
        #expect((timed.steps[0]["attribution.model_p99_share"] ?? 0) > 0.2)
    }

    @Test func everyAttributionMetricIsInTheCatalog() {
        let names = Set(EvidenceCatalog.catalog.names)
        for segment in Self.meanSegments { #expect(names.contains("attribution.\(segment)_share")) }
        for segment in Self.tailSegments { #expect(names.contains("attribution.\(segment)_p99_share")) }
    }
}

@Suite("Fits across steps in the evidence")
struct EvidenceFitTests {
    /// A closed-loop sweep recorded by `bottleneck capacity`-like steps on a one-thread server
    /// would flatten; here synthetic steps on the USL with σ 0.1, κ 0.01 must come back out.
    @Test func throughputAgainstConcurrencyIsFittedWithTheUSL() throws {
        var summary = try RunJSON.decode(RunSummary.self, from: try #require(FileManager.default.contents(atPath: recordedRun("slow-model") + "/summary.json")))
        let template = try #require(summary.steps.first)
        summary.steps = [1, 2, 4, 8, 16].enumerated().map { index, n in
            var step = template
            step.index = index
            step.mode = "closed"
            step.concurrency = n
            step.targetRate = nil
            step.achievedRate = USLFit.model(Double(n), 100, 0.1, 0.01)
            return step
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("usl-evidence-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.copyItem(atPath: recordedRun("slow-model"), toPath: directory.path)
        defer { try? FileManager.default.removeItem(at: directory) }
        try RunJSON.encode(summary).write(to: directory.appendingPathComponent("summary.json"))
        let evidence = try RunEvidence.load(directory: directory.path)
        #expect(abs(try #require(evidence.run["fit.usl_sigma"]) - 0.1) < 1e-6)
        #expect(abs(try #require(evidence.run["fit.usl_kappa"]) - 0.01) < 1e-7)
        #expect(abs(try #require(evidence.run["fit.usl_peak_concurrency"]) - (0.9 / 0.01).squareRoot()) < 1e-3)
    }
}
