@testable import BottleneckCore
@testable import BottleneckLoad
@testable import BottleneckSampling
@testable import BottleneckRun
@testable import BottleneckDiagnosis
@testable import BottleneckReport
import Testing

@Suite("NiceTicks")
struct NiceTicksTests {
    struct LinearCase: CustomTestStringConvertible, Sendable {
        let min: Double, max: Double, maxTicks: Int, expected: [Double]
        var testDescription: String { "\(min)...\(max) (≤\(maxTicks))" }
    }

    @Test("linear ticks fall on 1-2-5 steps and cover the range", arguments: [
        LinearCase(min: 0, max: 97, maxTicks: 6, expected: [0, 20, 40, 60, 80, 100]),
        LinearCase(min: 0, max: 100, maxTicks: 6, expected: [0, 20, 40, 60, 80, 100]),
        LinearCase(min: 0.001, max: 0.0042, maxTicks: 6, expected: [0.001, 0.002, 0.003, 0.004, 0.005]),
        LinearCase(min: -35, max: -2, maxTicks: 6, expected: [-40, -30, -20, -10, 0]),
        LinearCase(min: -7, max: 12, maxTicks: 6, expected: [-10, -5, 0, 5, 10, 15]),
        LinearCase(min: 5, max: 5, maxTicks: 6, expected: [4.5, 5, 5.5]),
        LinearCase(min: 0, max: 0, maxTicks: 6, expected: [0, 0.2, 0.4, 0.6, 0.8, 1]),
        LinearCase(min: 0, max: 1e12, maxTicks: 6, expected: [0, 2e11, 4e11, 6e11, 8e11, 1e12]),
        LinearCase(min: 97, max: 0, maxTicks: 6, expected: [0, 20, 40, 60, 80, 100]),
        LinearCase(min: 0, max: 97, maxTicks: 3, expected: [0, 50, 100]),
        LinearCase(min: 180, max: 212, maxTicks: 6, expected: [180, 190, 200, 210, 220]),
    ])
    func linear(_ c: LinearCase) {
        #expect(NiceTicks.linear(min: c.min, max: c.max, maxTicks: c.maxTicks) == c.expected)
    }

    @Test("linear ticks never exceed maxTicks and always bracket the data",
          arguments: [(0.0, 1.0), (0.3, 0.31), (-1e6, 3.3e6), (12.5, 9_876.5), (1e-9, 3e-9), (-0.004, -0.001)])
    func linearProperties(_ range: (Double, Double)) {
        for maxTicks in 2...10 {
            let ticks = NiceTicks.linear(min: range.0, max: range.1, maxTicks: maxTicks)
            #expect(ticks.count >= 2 && ticks.count <= maxTicks, "\(range) ≤\(maxTicks): \(ticks)")
            #expect(ticks.first! <= range.0 && ticks.last! >= range.1, "\(range): \(ticks)")
            #expect(ticks == ticks.sorted())
        }
    }

    @Test func linearRejectsNonFiniteAndSurvivesOverflow() {
        #expect(NiceTicks.linear(min: .nan, max: 1).isEmpty)
        #expect(NiceTicks.linear(min: 0, max: .infinity).isEmpty)
        let huge = NiceTicks.linear(min: -1e308, max: 1e308)
        #expect(huge.count >= 2 && huge.allSatisfy(\.isFinite))
        let wide = NiceTicks.linear(min: -1e300, max: 1e300)
        let expected = [-1e300, -5e299, 0, 5e299, 1e300]
        #expect(wide.count == expected.count)
        #expect(zip(wide, expected).allSatisfy { abs($0 - $1) <= 1e-12 * Swift.max(abs($1), 1) })
    }

    @Test func logTicksArePowersOfTen() {
        #expect(NiceTicks.log(min: 3, max: 4_200) == [1, 10, 100, 1_000, 10_000])
        #expect(NiceTicks.log(min: 1, max: 1_000) == [1, 10, 100, 1_000])
        #expect(NiceTicks.log(min: 0.002, max: 0.5) == [0.001, 0.01, 0.1, 1])
        #expect(NiceTicks.log(min: 5, max: 5) == [1, 10])
        #expect(NiceTicks.log(min: 0, max: 10).isEmpty)
        #expect(NiceTicks.log(min: -1, max: 10).isEmpty)
        #expect(NiceTicks.log(min: 1, max: .infinity).isEmpty)
        // 24 decades: thinned to every 3rd decade so labels stay readable.
        let wide = NiceTicks.log(min: 1e-12, max: 1e12)
        #expect(wide.count <= 11 && wide.first == 1e-12 && wide.last! >= 1e12)
    }

    @Test func logMinorTicks() {
        #expect(NiceTicks.logMinor(min: 1, max: 100) == [2, 3, 4, 5, 6, 7, 8, 9, 20, 30, 40, 50, 60, 70, 80, 90])
        #expect(NiceTicks.logMinor(min: 1e-12, max: 1e12).isEmpty)
    }

    @Test func tickLabelsAgreeWithinAnAxis() {
        #expect([0, 0.5, 1, 1.5].map { ChartText.tick($0, step: 0.5) } == ["0", "0.5", "1", "1.5"])
        #expect([0.001, 0.002].map { ChartText.tick($0, step: 0.001) } == ["0.001", "0.002"])
        #expect([10_000, 20_000].map { ChartText.tick($0, step: 10_000) } == ["10k", "20k"])
        #expect(ChartText.tick(2.5e6, step: 5e5) == "2.5M")
    }
}
