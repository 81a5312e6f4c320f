/// A least-squares straight line, y = slope·x + intercept.
///
/// Used for latency against payload size: the slope is the per-byte (or per-pixel) cost and
/// the intercept the fixed per-request cost, which is what a capacity conversation needs.
/// `r2` says how much of the variation the line explains, so a reader can tell a real
/// size dependence from noise.

public struct LinearFit: Sendable, Equatable, Codable {
    public var slope: Double
    public var intercept: Double
    /// Coefficient of determination; 1 when the points lie exactly on the line, and also 1
    /// when all y are equal (a flat line then explains everything there is).
    public var r2: Double

    public init(slope: Double, intercept: Double, r2: Double) {
        self.slope = slope
        self.intercept = intercept
        self.r2 = r2
    }

    public func y(at x: Double) -> Double { slope * x + intercept }

    /// Ordinary least squares over the finite points. Nil with fewer than two distinct x,
    /// where no line is determined.
    public static func leastSquares(_ points: [(x: Double, y: Double)]) -> LinearFit? {
        let finite = points.filter { $0.x.isFinite && $0.y.isFinite }
        guard finite.count >= 2 else { return nil }
        let n = Double(finite.count)
        let meanX = finite.reduce(0) { $0 + $1.x } / n
        let meanY = finite.reduce(0) { $0 + $1.y } / n
        var sxx = 0.0, sxy = 0.0, syy = 0.0
        for p in finite {
            let dx = p.x - meanX, dy = p.y - meanY
            sxx += dx * dx
            sxy += dx * dy
            syy += dy * dy
        }
        guard sxx > 0, sxx.isFinite, sxy.isFinite else { return nil }
        let slope = sxy / sxx
        let intercept = meanY - slope * meanX
        var ssRes = 0.0
        for p in finite {
            let r = p.y - (slope * p.x + intercept)
            ssRes += r * r
        }
        let r2 = syy > 0 ? Swift.max(0, 1 - ssRes / syy) : 1
        return LinearFit(slope: slope, intercept: intercept, r2: r2)
    }
}
