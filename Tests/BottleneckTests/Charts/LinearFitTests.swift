@testable import BottleneckCore
@testable import BottleneckLoad
@testable import BottleneckSampling
@testable import BottleneckRun
@testable import BottleneckDiagnosis
@testable import BottleneckReport
import Testing

@Suite("LinearFit")
struct LinearFitTests {
    @Test func exactLineIsRecovered() throws {
        let points = (0..<10).map { (x: Double($0) * 1_000, y: 4 + 0.012 * Double($0) * 1_000) }
        let fit = try #require(LinearFit.leastSquares(points))
        #expect(abs(fit.slope - 0.012) < 1e-12)
        #expect(abs(fit.intercept - 4) < 1e-9)
        #expect(abs(fit.r2 - 1) < 1e-12)
    }

    @Test func knownNoisyData() throws {
        // Textbook example: x = 1...5, y = 2, 4, 5, 4, 5 → y = 0.6x + 2.2, r² = 0.6.
        let fit = try #require(LinearFit.leastSquares([(1, 2), (2, 4), (3, 5), (4, 4), (5, 5)]))
        #expect(abs(fit.slope - 0.6) < 1e-12)
        #expect(abs(fit.intercept - 2.2) < 1e-12)
        #expect(abs(fit.r2 - 0.6) < 1e-12)
    }

    @Test func nonFinitePointsAreIgnoredAndDegenerateInputsGiveNil() {
        let fit = LinearFit.leastSquares([(1, 1), (.nan, 5), (2, 2), (3, .infinity), (3, 3)])
        #expect(fit.map { abs($0.slope - 1) < 1e-12 } == true)
        #expect(LinearFit.leastSquares([(x: Double, y: Double)]()) == nil)
        #expect(LinearFit.leastSquares([(1, 1)]) == nil)
        #expect(LinearFit.leastSquares([(2, 1), (2, 5)]) == nil)
    }
}
