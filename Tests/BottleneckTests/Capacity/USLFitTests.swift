@testable import BottleneckCore
@testable import BottleneckLoad
@testable import BottleneckSampling
@testable import BottleneckRun
@testable import BottleneckDiagnosis
@testable import BottleneckReport
import Foundation
import Testing

/// Recovery criterion: a fitted coefficient c for a true value t passes when
/// |c − t| ≤ max(0.05·t, floor), floor = 0.005 for σ and 0.0005 for κ (κ is about a hundred
/// times smaller than σ in practice, so σ's floor would make any κ pass).
@Suite("USLFit")
struct USLFitTests {
    struct Truth: Sendable, CustomTestStringConvertible {
        let lambda: Double, sigma: Double, kappa: Double
        var testDescription: String { "λ=\(lambda) σ=\(sigma) κ=\(kappa)" }
    }

    static let truths = [
        Truth(lambda: 100, sigma: 0.05, kappa: 0.001),
        Truth(lambda: 100, sigma: 0.2, kappa: 0),
        Truth(lambda: 50, sigma: 0.01, kappa: 0.02),
    ]
    /// A sweep as `probes/concurrency-sweep` runs it: dense at low N, where σ shows, then doubling.
    static let concurrency: [Double] = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64]

    static func within(_ estimate: Double, _ truth: Double, floor: Double) -> Bool {
        abs(estimate - truth) <= Swift.max(0.05 * truth, floor)
    }

    /// Deterministic ±amplitude multiplicative noise (SplitMix64), so a failure reproduces.
    static func noisy(_ truth: Truth, amplitude: Double, seed: UInt64) -> [(concurrency: Double, throughput: Double)] {
        var state = seed
        func next() -> Double {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            return Double(z >> 11) / Double(1 << 53)
        }
        return concurrency.map { n in
            let x = USLFit.model(n, truth.lambda, truth.sigma, truth.kappa)
            return (n, x * (1 + amplitude * (2 * next() - 1)))
        }
    }

    @Test("recovers σ and κ from exact data", arguments: truths)
    func exact(_ truth: Truth) throws {
        let fit = try #require(USLFit.fit(Self.noisy(truth, amplitude: 0, seed: 1)))
        #expect(abs(fit.sigma - truth.sigma) < 1e-6, "σ \(fit.sigma)")
        #expect(abs(fit.kappa - truth.kappa) < 1e-7, "κ \(fit.kappa)")
        #expect(abs(fit.lambda - truth.lambda) / truth.lambda < 1e-6, "λ \(fit.lambda)")
        #expect(fit.r2 > 0.999_999)
    }

    @Test("recovers σ and κ from data with ±2 % noise", arguments: truths)
    func noisy(_ truth: Truth) throws {
        for seed: UInt64 in [1, 2, 3, 4, 5, 6, 7, 8] {
            let fit = try #require(USLFit.fit(Self.noisy(truth, amplitude: 0.02, seed: seed)))
            #expect(Self.within(fit.sigma, truth.sigma, floor: 0.005), "seed \(seed): σ \(fit.sigma)")
            #expect(Self.within(fit.kappa, truth.kappa, floor: 0.0005), "seed \(seed): κ \(fit.kappa)")
            #expect(abs(fit.lambda - truth.lambda) / truth.lambda < 0.05, "seed \(seed): λ \(fit.lambda)")
            #expect(fit.r2 > 0.95)
        }
    }

    @Test func peakAndCeiling() throws {
        let fit = USLFit(lambda: 100, sigma: 0.05, kappa: 0.001, r2: 1)
        let n = try #require(fit.peakConcurrency)
        #expect(abs(n - (0.95 / 0.001).squareRoot()) < 1e-9)  // ≈ 30.8
        #expect(abs(fit.peakThroughput! - fit.throughput(at: n)) < 1e-9)
        #expect(fit.throughput(at: n) > fit.throughput(at: n - 1) && fit.throughput(at: n) > fit.throughput(at: n + 1))

        let amdahl = USLFit(lambda: 100, sigma: 0.2, kappa: 0, r2: 1)
        #expect(amdahl.peakConcurrency == nil && amdahl.peakThroughput == 500)
        #expect(USLFit(lambda: 100, sigma: 0, kappa: 0, r2: 1).peakThroughput == nil)
    }

    @Test func degenerateInputs() throws {
        #expect(USLFit.fit([]) == nil)
        #expect(USLFit.fit([(1, 100)]) == nil)
        #expect(USLFit.fit([(1, 100), (2, 180), (2, 181)]) == nil)
        #expect(USLFit.fit([(1, 100), (2, .nan), (4, -3), (0, 5)]) == nil)
        // Flat throughput: fully serialised, σ = 1, and the fit says so instead of failing.
        let flat = try #require(USLFit.fit([(1, 100), (2, 100), (4, 100), (8, 100)]))
        #expect(abs(flat.sigma - 1) < 1e-3 && flat.kappa < 1e-4 && abs(flat.lambda - 100) < 0.1)
        #expect(flat.r2 == 1)
        // Perfectly linear scaling: no ceiling seen.
        let linear = try #require(USLFit.fit([(1, 10), (2, 20), (4, 40), (8, 80)]))
        #expect(linear.sigma < 1e-6 && linear.kappa < 1e-8)
        // The sweep did not start at N = 1.
        let late = try #require(USLFit.fit(Self.concurrency.dropFirst(3).map {
            ($0, USLFit.model($0, 100, 0.05, 0.001))
        }))
        #expect(abs(late.sigma - 0.05) < 1e-4 && abs(late.kappa - 0.001) < 1e-6)
    }

    @Test func roundTripsThroughJSON() throws {
        let fit = try #require(USLFit.fit(Self.noisy(Self.truths[0], amplitude: 0.02, seed: 9)))
        let decoded = try JSONDecoder().decode(USLFit.self, from: JSONEncoder().encode(fit))
        #expect(decoded == fit)
    }
}
