import Testing
@testable import BottleneckLoad
@testable import BottleneckDiagnosis

/// The size sweep of `input-size-and-memory`: bands of doubling size, smallest first, until a
/// band where a request failed.
struct SizeSweepTests {
    private func result(_ step: LoadStep, index: Int, errors: [String: UInt64] = [:]) -> StepResult {
        var r = StepResult(index: index, step: step, statistics: StepStatistics(), duration: 3, interrupted: false,
                           generatorCores: 0.1, allowedCores: 2)
        r.errors = errors
        return r
    }

    @Test func bandsDoubleFromTheSmallestInputAndSkipEmptyOnes() {
        // Pixels of six pool entries: 1 M, 1.5 M, 2.5 M, 9 M, 17 M and one without a size.
        let bands = PlaybookRun.sizeBands([1_000_000, 1_500_000, 2_500_000, 9_000_000, 17_000_000, 0])
        #expect(bands.map(\.indices) == [[0, 1], [2], [3], [4]])
        #expect(bands.map(\.label) == ["1.5M", "2.5M", "9M", "17M"])
    }

    @Test func theSweepRisesBandByBandAndStopsAfterTheFirstFailure() throws {
        let next = PlaybookRun.sizeSweep(id: "size", seconds: 3, sizes: [1_000_000, 2_000_000, 4_000_000, 8_000_000])
        let baseline = result(LoadStep(name: "baseline", shape: .closed(concurrency: 1), duration: 1), index: 0)
        let first = try #require(next([baseline]))
        #expect(first.payloadIndices == [0])
        #expect(first.shape == .closed(concurrency: 1))
        let second = try #require(next([baseline, result(first, index: 1)]))
        #expect(second.payloadIndices == [1])
        // A 4xx is the service refusing the input (a size cap): the sweep goes on.
        let third = try #require(next([baseline, result(first, index: 1), result(second, index: 2, errors: ["http4xx": 3])]))
        #expect(third.payloadIndices == [2])
        // A reset (a worker died under it): the sweep ends there.
        #expect(next([baseline, result(first, index: 1), result(second, index: 2), result(third, index: 3, errors: ["reset": 1])]) == nil)
    }

    @Test func theSweepEndsAfterTheLargestBand() throws {
        let next = PlaybookRun.sizeSweep(id: "size", seconds: 3, sizes: [100, 150])
        let only = try #require(next([]))
        #expect(only.payloadIndices == [0, 1])
        #expect(next([result(only, index: 0)]) == nil)
    }
}
