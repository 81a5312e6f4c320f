import Foundation

/// Maps data values to pixels along one axis, linear or log10.
struct ChartScaleMap {
    let scale: ChartScale
    let domainMin: Double
    let domainMax: Double
    let pixelStart: Double
    let pixelEnd: Double

    /// Whether `value` can be placed on this scale at all (log needs a positive value).
    func accepts(_ value: Double) -> Bool {
        value.isFinite && (scale == .linear || value > 0)
    }

    func pixel(_ value: Double) -> Double {
        let t: Double
        switch scale {
        case .linear:
            t = (value - domainMin) / (domainMax - domainMin)
        case .log:
            t = (log10(value) - log10(domainMin)) / (log10(domainMax) - log10(domainMin))
        }
        return pixelStart + (t.isFinite ? t : 0.5) * (pixelEnd - pixelStart)
    }

    /// Ticks for `values` on `scale`, with the domain they define; nil when no value fits.
    static func ticks(for values: [Double], scale: ChartScale, includesZero: Bool, maxTicks: Int)
        -> (major: [Double], minor: [Double])?
    {
        let usable = values.filter { $0.isFinite && (scale == .linear || $0 > 0) }
        guard var lo = usable.min(), var hi = usable.max() else { return nil }
        switch scale {
        case .linear:
            if includesZero {
                lo = Swift.min(lo, 0)
                hi = Swift.max(hi, 0)
            }
            let major = NiceTicks.linear(min: lo, max: hi, maxTicks: maxTicks)
            return major.count >= 2 ? (major, []) : nil
        case .log:
            let major = NiceTicks.log(min: lo, max: hi)
            return major.count >= 2 ? (major, NiceTicks.logMinor(min: lo, max: hi)) : nil
        }
    }
}
