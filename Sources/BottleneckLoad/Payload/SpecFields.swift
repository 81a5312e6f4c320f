import Foundation

/// The `key=value,key=value` part of a payload spec, consumed key by key.
///
/// Each kind takes the keys it knows; `finish()` then rejects whatever is left, so a typo
/// such as `widht=64` is an error instead of being silently ignored.
struct SpecFields {
    let spec: String
    private var values: [(key: String, value: String)]

    init(spec: String, text: Substring) throws(PayloadError) {
        self.spec = spec
        values = []
        guard !text.isEmpty else { return }
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let eq = part.firstIndex(of: "=") else {
                throw .spec(spec, "\"\(part)\" must be key=value (e.g. w=64..1024)")
            }
            let key = part[..<eq].trimmingSpaces()
            let value = part[part.index(after: eq)...].trimmingSpaces()
            guard !key.isEmpty else {
                throw .spec(spec, "\"\(part)\" must be key=value (e.g. w=64..1024)")
            }
            guard !values.contains(where: { $0.key == key }) else {
                throw .spec(spec, "\(key) is given twice; give each key once")
            }
            values.append((key, value))
        }
    }

    /// Removes and returns the value of `key`, if it was given.
    mutating func take(_ key: String) -> String? {
        guard let index = values.firstIndex(where: { $0.key == key }) else { return nil }
        return values.remove(at: index).value
    }

    /// Fails on the first key nobody took, listing the keys this kind accepts.
    func finish(kind: String, accepted: [String]) throws(PayloadError) {
        if let extra = values.first {
            throw .spec(spec, "unknown key \"\(extra.key)\" for \(kind); use \(accepted.joined(separator: ", "))")
        }
    }

    // MARK: typed values

    /// `a..b` or a single `a`, each an integer within `limits`.
    mutating func intRange(
        _ key: String, default fallback: ClosedRange<Int>, limits: ClosedRange<Int>, form: String
    ) throws(PayloadError) -> ClosedRange<Int> {
        guard let text = take(key) else { return fallback }
        let bad = PayloadError.spec(spec, "\(key) must be \(form)")
        let (lowText, highText) = Self.splitRange(text)
        guard let low = Int(lowText), let high = Int(highText), low <= high else { throw bad }
        guard limits.contains(low), limits.contains(high) else {
            throw .spec(spec, "\(key) must be between \(limits.lowerBound) and \(limits.upperBound) (got \(text))")
        }
        return low...high
    }

    /// `a..b` or a single `a`, each a finite number within `limits`.
    mutating func doubleRange(
        _ key: String, default fallback: ClosedRange<Double>, limits: ClosedRange<Double>, form: String
    ) throws(PayloadError) -> ClosedRange<Double> {
        guard let text = take(key) else { return fallback }
        let bad = PayloadError.spec(spec, "\(key) must be \(form)")
        let (lowText, highText) = Self.splitRange(text)
        guard let low = Double(lowText), let high = Double(highText),
            low.isFinite, high.isFinite, low <= high
        else { throw bad }
        guard limits.contains(low), limits.contains(high) else {
            throw .spec(spec, "\(key) must be between \(limits.lowerBound.compact) and \(limits.upperBound.compact) (got \(text))")
        }
        return low...high
    }

    /// One of a fixed set of words.
    mutating func choice<T>(_ key: String, default fallback: T, _ options: [(String, T)]) throws(PayloadError) -> T {
        guard let text = take(key) else { return fallback }
        guard let match = options.first(where: { $0.0 == text.lowercased() }) else {
            throw .spec(spec, "\(key) must be \(options.map(\.0).joined(separator: " or "))")
        }
        return match.1
    }

    /// The sampling distribution for a range (`dist=uniform|lognormal`).
    mutating func distribution() throws(PayloadError) -> SizeDistribution {
        try choice("dist", default: .uniform, [("uniform", .uniform), ("lognormal", .logNormal)])
    }

    /// `weight=N`, a positive finite number; 1 when absent.
    mutating func weight() throws(PayloadError) -> Double {
        guard let text = take("weight") else { return 1 }
        guard let value = Double(text), value.isFinite, value > 0 else {
            throw .spec(spec, "weight must be a positive number like 1 or 2.5")
        }
        return value
    }

    private static func splitRange(_ text: String) -> (Substring, Substring) {
        if let dots = text.range(of: "..") {
            return (text[..<dots.lowerBound], text[dots.upperBound...])
        }
        return (text[...], text[...])
    }
}

extension Substring {
    func trimmingSpaces() -> String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}

extension Double {
    /// `2` rather than `2.0`, for messages and labels.
    var compact: String {
        self == rounded() && abs(self) < 1e15 ? String(Int(self)) : String(self)
    }
}
