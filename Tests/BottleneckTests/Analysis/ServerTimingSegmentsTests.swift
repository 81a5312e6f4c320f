@testable import BottleneckCore
@testable import BottleneckLoad
@testable import BottleneckSampling
@testable import BottleneckRun
@testable import BottleneckDiagnosis
@testable import BottleneckReport
import Testing

@Suite("Server-Timing phase names to segments")
struct ServerTimingSegmentsTests {
    @Test(arguments: [
        ("queue", ServerTimingSegments.Segment.queue), ("wait_ms", .queue),
        ("preprocess", .preprocess), ("Decode", .preprocess), ("resize", .preprocess), ("tokenize", .preprocess), ("normalise", .preprocess),
        ("model", .model), ("inference", .model), ("forward", .model),
        // `pre` is preprocessing, but the longer `predict` wins: the model.
        ("predict", .model), ("prediction", .model),
        ("postprocess", .postprocess), ("serialize", .postprocess), ("encode", .postprocess),
    ])
    func defaults(name: String, segment: ServerTimingSegments.Segment) {
        #expect(ServerTimingSegments.defaults.segment(for: name) == segment)
    }

    @Test func unknownNamesAreIgnoredNotGuessed() {
        #expect(ServerTimingSegments.defaults.segment(for: "db") == nil)
        #expect(ServerTimingSegments.defaults.segment(for: "total") == nil)
    }

    @Test func userMappingsComeBeforeTheDefaults() throws {
        let segments = try ServerTimingSegments.parse(mappings: ["gpu=model", "Total=postprocess", "pre=model"])
        #expect(segments.segment(for: "gpu_kernel") == .model)
        #expect(segments.segment(for: "total") == .postprocess)
        // The user's `pre` is tried before the defaults: preprocess is the model here.
        #expect(segments.segment(for: "preprocess") == .model)
        // A user's prefix wins even over a longer default one (`encode` is postprocessing by default).
        #expect(try ServerTimingSegments.parse(mappings: ["enc=model"]).segment(for: "encode_gpu") == .model)
        // Defaults still apply to everything else.
        #expect(segments.segment(for: "decode") == .preprocess)
        #expect(segments.readsServerTiming)
        #expect(try !ServerTimingSegments.parse(mappings: [], readsServerTiming: false).readsServerTiming)
    }

    @Test(arguments: [
        ("gpu", "expected NAME=SEGMENT"), ("=model", "expected NAME=SEGMENT"), ("gpu=brain", "unknown segment 'brain'"),
        ("a b=model", "expected NAME=SEGMENT"),
    ])
    func badMappingsNameTheProblemAndTheForm(mapping: String, message: String) {
        #expect {
            _ = try ServerTimingSegments.parse(mappings: [mapping])
        } throws: { error in
            let text = (error as? AnalysisError)?.message ?? ""
            return text.contains(message) && !text.contains("--") && !text.contains("\n")
        }
    }

    @Test("without Server-Timing read, no phase is summed and the service time stays one block")
    func ignoringServerTiming() throws {
        let directory = recordedRun("slow-model")
        let timed = try RunEvidence.load(directory: directory)
        let untimed = try RunEvidence.load(directory: directory, segments: ServerTimingSegments(prefixes: [], readsServerTiming: false))
        #expect((timed.steps[0]["timing.coverage"] ?? 0) > 0.9)
        #expect(untimed.steps[0]["timing.coverage"] == 0)
        #expect(untimed.steps[0]["timing.model_ms"] == nil)
        #expect(untimed.steps[0]["service.mean_ms"] == timed.steps[0]["service.mean_ms"])
    }
}

@Suite("Service time against input size")
struct SizeScalingTests {
    /// Points on an exact line y = fixed + perUnit·x at sizes 1…4 (in millions), step 0.
    static func line(fixed: Double, perUnit: Double) -> [(step: Int, size: Double, ms: Double)] {
        (0..<40).map { i in
            let size = Double(1 + i % 4) * 1e6
            return (0, size, fixed + perUnit * size / 1e6)
        }
    }

    @Test func sizeBoundWorkIsMostOfTheTime() throws {
        // 2 ms fixed + 10 ms per million: mean size 2.5 → 25 of 27 ms grows with size.
        let m = RunEvidence.sizeScaling(Self.line(fixed: 2, perUnit: 10))
        #expect(abs(try #require(m["fit.service_size_ms"]) - 25) < 1e-9)
        #expect(abs(try #require(m["fit.service_fixed_ms"]) - 2) < 1e-9)
        #expect(abs(try #require(m["fit.size_scaled_share"]) - 25.0 / 27) < 1e-9)
        #expect(m["fit.size_range_ratio"] == 4)
        #expect(abs(try #require(m["fit.service_vs_size_r2"]) - 1) < 1e-9)
    }

    @Test func aFixedCostDoesNotScale() throws {
        let m = RunEvidence.sizeScaling(Self.line(fixed: 40, perUnit: 0.2))
        #expect(try #require(m["fit.size_scaled_share"]) < 0.02)
        #expect(abs(try #require(m["fit.service_fixed_ms"]) - 40) < 1e-9)
    }

    @Test func oneSizeOrNothingGivesNoFit() {
        #expect(RunEvidence.sizeScaling([(0, 1e6, 5), (0, 1e6, 7)]).isEmpty)
        #expect(RunEvidence.sizeScaling([]).isEmpty)
    }

    @Test func aNegativeSlopeIsNoSizeWork() throws {
        let m = RunEvidence.sizeScaling(Self.line(fixed: 30, perUnit: -2))
        #expect(m["fit.size_scaled_share"] == 0)
        #expect(m["fit.service_size_ms"] == 0)
    }
}
