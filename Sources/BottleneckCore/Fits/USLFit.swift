import Foundation

/// Gunther's Universal Scalability Law fitted to measured throughput at several concurrency
/// levels: X(N) = λN / (1 + σ(N − 1) + κN(N − 1)).
///
/// A handful of measured points says little beyond themselves; the fit says *why* throughput
/// stops growing — σ (contention: the serialised share, e.g. a single model lock or GIL) or
/// κ (coherency: workers slowing each other down, e.g. cache thrashing, cross-talk) — and
/// where the peak lies (N*) even if the sweep stopped before it. λ is the throughput of
/// one worker without interference.
public struct USLFit: Sendable, Codable, Equatable {
    /// Throughput at N = 1 without contention, in the unit of the input (usually req/s).
    public var lambda: Double
    /// Contention coefficient, ≥ 0. Throughput approaches λ/σ when κ = 0.
    public var sigma: Double
    /// Coherency coefficient, ≥ 0. Any κ > 0 makes throughput fall again past N*.
    public var kappa: Double
    /// Coefficient of determination on throughput; 1 when the model explains every point.
    public var r2: Double
    /// N* = √((1 − σ)/κ): the concurrency with the highest throughput. Nil when κ = 0 (no
    /// retrograde region) or σ ≥ 1 (no concurrency helps).
    public var peakConcurrency: Double?
    /// The ceiling: X(N*) when there is a peak, the asymptote λ/σ when κ = 0 and σ > 0,
    /// λ when σ ≥ 1, and nil when the fit is linear (σ = κ = 0: no ceiling was seen).
    public var peakThroughput: Double?

    public init(lambda: Double, sigma: Double, kappa: Double, r2: Double) {
        self.lambda = lambda
        self.sigma = sigma
        self.kappa = kappa
        self.r2 = r2
        if sigma >= 1 {
            peakConcurrency = 1
            peakThroughput = lambda
        } else if kappa > 0 {
            let n = ((1 - sigma) / kappa).squareRoot()
            peakConcurrency = n
            peakThroughput = Self.model(n, lambda, sigma, kappa)
        } else if sigma > 0 {
            peakConcurrency = nil
            peakThroughput = lambda / sigma
        } else {
            peakConcurrency = nil
            peakThroughput = nil
        }
    }

    /// Predicted throughput at concurrency `n`.
    public func throughput(at n: Double) -> Double {
        Self.model(n, lambda, sigma, kappa)
    }

    static func model(_ n: Double, _ lambda: Double, _ sigma: Double, _ kappa: Double) -> Double {
        lambda * n / (1 + sigma * (n - 1) + kappa * n * (n - 1))
    }

    /// Fits λ, σ, κ (σ, κ ≥ 0) by least squares on *relative* residuals (X − X̂)/X.
    ///
    /// Relative residuals give the low-concurrency points, which pin down λ and σ, the same
    /// weight as the high ones; with absolute residuals the largest throughputs dominate and
    /// σ drifts. The start comes from the linearised form Nλ/X − 1 = σ(N − 1) + κN(N − 1),
    /// solved with non-negative least squares for each λ on a search over λ; Levenberg–
    /// Marquardt with σ, κ projected onto ≥ 0 then polishes all three together.
    ///
    /// Points with non-finite or non-positive values are ignored. Returns nil with fewer than
    /// three distinct concurrency levels, which cannot determine three parameters.
    public static func fit(_ points: [(concurrency: Double, throughput: Double)]) -> USLFit? {
        let data = points.filter { $0.concurrency.isFinite && $0.throughput.isFinite && $0.concurrency > 0 && $0.throughput > 0 }
        guard Set(data.map(\.concurrency)).count >= 3 else { return nil }
        let ns = data.map(\.concurrency), xs = data.map(\.throughput)

        // λ is at least max X/N (σ, κ ≥ 0 make X/N ≤ λ); X(1), when measured, is the natural guess.
        let perWorker = zip(ns, xs).map { $1 / $0 }
        let lambdaFloor = perWorker.max()!
        func start(_ lambda: Double) -> (Double, Double) { linearisedStart(ns, xs, lambda: lambda) }
        func cost(_ lambda: Double) -> Double {
            let (s, k) = start(lambda)
            return relativeSSE(ns, xs, lambda, s, k)
        }
        // Golden-section search on log λ over [floor, 16·floor] (the smallest N measured may be well above 1).
        var a = log(lambdaFloor), b = log(lambdaFloor * 16)
        let g = (5.0.squareRoot() - 1) / 2
        var c = b - g * (b - a), d = a + g * (b - a)
        var fc = cost(exp(c)), fd = cost(exp(d))
        for _ in 0..<80 {
            if fc < fd { b = d; d = c; fd = fc; c = b - g * (b - a); fc = cost(exp(c)) }
            else { a = c; c = d; fc = fd; d = a + g * (b - a); fd = cost(exp(d)) }
        }
        var lambda = exp((a + b) / 2)
        if cost(lambdaFloor) < cost(lambda) { lambda = lambdaFloor }
        var (sigma, kappa) = start(lambda)
        (lambda, sigma, kappa) = levenbergMarquardt(ns, xs, lambda, sigma, kappa)

        guard lambda.isFinite, sigma.isFinite, kappa.isFinite, lambda > 0 else { return nil }
        return USLFit(lambda: lambda, sigma: sigma, kappa: kappa, r2: rSquared(ns, xs, lambda, sigma, kappa))
    }

    /// Non-negative least squares of y = σ·a + κ·b with y = Nλ/X − 1, a = N − 1, b = N(N − 1),
    /// each row weighted by X/(Nλ) so the residual approximates the relative error in X.
    private static func linearisedStart(_ ns: [Double], _ xs: [Double], lambda: Double) -> (Double, Double) {
        var saa = 0.0, sab = 0.0, sbb = 0.0, say = 0.0, sby = 0.0
        for (n, x) in zip(ns, xs) {
            let w = x / (n * lambda)
            let y = (n * lambda / x - 1) * w, a = (n - 1) * w, b = n * (n - 1) * w
            saa += a * a; sab += a * b; sbb += b * b; say += a * y; sby += b * y
        }
        var candidates: [(Double, Double)] = [(0, 0)]
        let det = saa * sbb - sab * sab
        if det > 1e-12 * saa * sbb, det != 0 {
            let s = (say * sbb - sby * sab) / det, k = (sby * saa - say * sab) / det
            if s >= 0, k >= 0 { candidates.append((s, k)) }
        }
        if saa > 0 { candidates.append((Swift.max(0, say / saa), 0)) }
        if sbb > 0 { candidates.append((0, Swift.max(0, sby / sbb))) }
        return candidates.min { relativeSSE(ns, xs, lambda, $0.0, $0.1) < relativeSSE(ns, xs, lambda, $1.0, $1.1) }!
    }

    private static func relativeSSE(_ ns: [Double], _ xs: [Double], _ l: Double, _ s: Double, _ k: Double) -> Double {
        var sum = 0.0
        for (n, x) in zip(ns, xs) {
            let r = (x - model(n, l, s, k)) / x
            sum += r * r
        }
        return sum.isFinite ? sum : .greatestFiniteMagnitude
    }

    private static func rSquared(_ ns: [Double], _ xs: [Double], _ l: Double, _ s: Double, _ k: Double) -> Double {
        let mean = xs.reduce(0, +) / Double(xs.count)
        var ssRes = 0.0, ssTot = 0.0
        for (n, x) in zip(ns, xs) {
            ssRes += pow(x - model(n, l, s, k), 2)
            ssTot += pow(x - mean, 2)
        }
        if ssTot == 0 { return ssRes <= 1e-12 * Swift.max(1, mean * mean) ? 1 : 0 }
        return Swift.max(0, 1 - ssRes / ssTot)
    }

    private static func levenbergMarquardt(_ ns: [Double], _ xs: [Double], _ l0: Double, _ s0: Double, _ k0: Double)
        -> (Double, Double, Double)
    {
        var p = [l0, s0, k0]
        var cost = relativeSSE(ns, xs, p[0], p[1], p[2])
        var mu = 1e-3
        for _ in 0..<300 {
            // Normal equations JᵀJ δ = −Jᵀr for r_i = (X_i − f_i)/X_i.
            var jtj = [[Double]](repeating: [0, 0, 0], count: 3)
            var jtr = [0.0, 0.0, 0.0]
            for (n, x) in zip(ns, xs) {
                let den = 1 + p[1] * (n - 1) + p[2] * n * (n - 1)
                let f = p[0] * n / den
                let r = (x - f) / x
                let grad = [-(n / den) / x, (p[0] * n * (n - 1) / (den * den)) / x, (p[0] * n * n * (n - 1) / (den * den)) / x]
                for i in 0..<3 {
                    jtr[i] += grad[i] * r
                    for j in 0..<3 { jtj[i][j] += grad[i] * grad[j] }
                }
            }
            var improved = false
            for _ in 0..<20 {
                var a = jtj
                for i in 0..<3 { a[i][i] += mu * Swift.max(jtj[i][i], 1e-30) }
                guard let delta = solve3(a, jtr.map { -$0 }) else { mu *= 10; continue }
                let candidate = [Swift.max(p[0] + delta[0], 1e-12), Swift.max(0, p[1] + delta[1]), Swift.max(0, p[2] + delta[2])]
                let c = relativeSSE(ns, xs, candidate[0], candidate[1], candidate[2])
                if c < cost {
                    let gain = cost - c
                    p = candidate
                    cost = c
                    mu = Swift.max(mu / 3, 1e-12)
                    improved = gain > 1e-15 * Swift.max(cost, 1e-300)
                    break
                }
                mu *= 4
            }
            if !improved { break }
        }
        return (p[0], p[1], p[2])
    }

    /// Gaussian elimination with partial pivoting for the 3×3 normal equations.
    private static func solve3(_ matrix: [[Double]], _ rhs: [Double]) -> [Double]? {
        var m = matrix, b = rhs
        for col in 0..<3 {
            let pivot = (col..<3).max { abs(m[$0][col]) < abs(m[$1][col]) }!
            guard abs(m[pivot][col]) > 1e-300 else { return nil }
            m.swapAt(col, pivot)
            b.swapAt(col, pivot)
            for row in (col + 1)..<3 {
                let factor = m[row][col] / m[col][col]
                for k in col..<3 { m[row][k] -= factor * m[col][k] }
                b[row] -= factor * b[col]
            }
        }
        var x = [0.0, 0.0, 0.0]
        for row in stride(from: 2, through: 0, by: -1) {
            var sum = b[row]
            for k in (row + 1)..<3 { sum -= m[row][k] * x[k] }
            x[row] = sum / m[row][row]
        }
        return x.allSatisfy(\.isFinite) ? x : nil
    }
}
