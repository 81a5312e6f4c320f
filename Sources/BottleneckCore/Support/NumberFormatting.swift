/// A rate as users write it: whole numbers without decimals, others with at most two.
package func formatRate(_ rate: Double) -> String {
    rate == rate.rounded() && rate < 1e15 ? String(Int(rate)) : String(format2: rate)
}

extension String {
    /// A double with at most 2 decimals and no trailing zeros, without Foundation.
    package init(format2 value: Double) {
        guard value.isFinite else { self = String(value); return }
        let scaled = (value * 100).rounded()
        let whole = Int(scaled / 100)
        let frac = Int(abs(scaled).truncatingRemainder(dividingBy: 100))
        if frac == 0 { self = String(whole); return }
        let sign = (value < 0 && whole == 0) ? "-" : ""
        var fracText = frac < 10 ? "0\(frac)" : String(frac)
        if fracText.hasSuffix("0") { fracText.removeLast() }
        self = "\(sign)\(whole).\(fracText)"
    }
}
