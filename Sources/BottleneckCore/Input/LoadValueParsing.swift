import Foundation

/// Parsers for the small value languages of flags and probe specs: durations ("10s",
/// "250ms", "2m"), rate lists ("50,100,200"), ramps ("50..400/8") and step lists.
/// Each error names the field and the accepted form.
public enum LoadValueParsing: Sendable {
    /// "10s", "250ms", "1.5m", "1h", "500us", or a bare number of seconds. Returns nanoseconds.
    public static func duration(_ text: String, field: String) throws(LoadError) -> UInt64 {
        let t = text.trimmingWhitespace().lowercased()
        let units: [(String, Double)] = [("ns", 1), ("us", 1e3), ("µs", 1e3), ("ms", 1e6), ("s", 1e9), ("m", 60e9), ("h", 3600e9)]
        var number = Substring(t)
        var scale = 1e9
        for (suffix, factor) in units where t.hasSuffix(suffix) {
            let candidate = t.dropLast(suffix.count)
            if Double(candidate) != nil { number = candidate; scale = factor; break }
        }
        guard let value = Double(number), value.isFinite, value >= 0 else {
            throw LoadError(.badInput, "\(field) \"\(text)\": not a duration; use a number with a unit, like 30s, 250ms or 2m")
        }
        return UInt64((value * scale).rounded())
    }

    /// A positive request rate.
    public static func rate(_ text: String, field: String) throws(LoadError) -> Double {
        guard let value = Double(text.trimmingWhitespace()), value.isFinite, value > 0 else {
            throw LoadError(.badInput, "\(field) \"\(text)\": the rate must be a number of requests per second above 0, like 200")
        }
        guard value <= 10_000_000 else {
            throw LoadError(.badInput, "\(field) \"\(text)\": the rate must be at most 10000000 requests per second")
        }
        return value
    }

    /// "50,100,200" → [50, 100, 200].
    public static func rateList(_ text: String, field: String) throws(LoadError) -> [Double] {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
        guard !parts.isEmpty else {
            throw LoadError(.badInput, "\(field) \"\(text)\": give a comma-separated list of rates, like 50,100,200")
        }
        var rates: [Double] = []
        for part in parts { rates.append(try rate(String(part), field: field)) }
        return rates
    }

    /// "50..400/8" → 8 evenly spaced rates from 50 to 400 inclusive.
    public static func ramp(_ text: String, field: String) throws(LoadError) -> [Double] {
        let form = "\(field) \"\(text)\": use FROM..TO/STEPS, like 50..400/8"
        let trimmed = text.trimmingWhitespace()
        guard let dots = trimmed.range(of: ".."), let slash = trimmed.lastIndex(of: "/"), dots.upperBound <= slash,
              let from = Double(trimmed[..<dots.lowerBound]), let to = Double(trimmed[dots.upperBound..<slash]),
              let steps = Int(trimmed[trimmed.index(after: slash)...])
        else { throw LoadError(.badInput, form) }
        guard from > 0, to >= from, from.isFinite, to.isFinite else {
            throw LoadError(.badInput, "\(field) \"\(text)\": FROM must be above 0 and TO at least FROM")
        }
        guard (1...1000).contains(steps) else {
            throw LoadError(.badInput, "\(field) \"\(text)\": STEPS must be from 1 to 1000")
        }
        if steps == 1 { return [from] }
        return (0..<steps).map { i in
            let value = from + (to - from) * Double(i) / Double(steps - 1)
            return (value * 100).rounded() / 100
        }
    }

    /// "1,2,4,8" → [1, 2, 4, 8] connection counts.
    public static func concurrencyList(_ text: String, field: String) throws(LoadError) -> [Int] {
        var values: [Int] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            values.append(try concurrency(String(part), field: field))
        }
        return values
    }

    public static func concurrency(_ text: String, field: String) throws(LoadError) -> Int {
        guard let value = Int(text.trimmingWhitespace()), (1...100_000).contains(value) else {
            throw LoadError(.badInput, "\(field) \"\(text)\": the concurrency must be a whole number of connections from 1 to 100000")
        }
        return value
    }

    /// "80,8000" → [80, 8000].
    public static func portList(_ text: String, field: String) throws(LoadError) -> [UInt16] {
        var ports: [UInt16] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let port = UInt16(part.trimmingCharacters(in: .whitespaces)), port > 0 else {
                throw LoadError(.badInput, "\(field) \"\(text)\": give TCP ports from 1 to 65535 separated by commas, like 80,8000")
            }
            ports.append(port)
        }
        return ports
    }

    /// "Name: value" → (name, value). Refuses headers the engine owns.
    public static func header(_ text: String) throws(LoadError) -> (name: String, value: String) {
        guard let colon = text.firstIndex(of: ":") else {
            throw LoadError(.badInput, "-H \"\(text)\": a header must look like 'Name: value'")
        }
        let name = String(text[..<colon]).trimmingWhitespace()
        let value = String(text[text.index(after: colon)...]).trimmingWhitespace()
        let tokenCharacters = Set("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
        guard !name.isEmpty, name.allSatisfy({ tokenCharacters.contains($0) }) else {
            throw LoadError(.badInput, "-H \"\(text)\": \"\(name)\" is not a valid header name")
        }
        guard !value.contains("\r"), !value.contains("\n") else {
            throw LoadError(.badInput, "-H \"\(text)\": a header value cannot contain line breaks")
        }
        let owned = ["content-length", "transfer-encoding", "connection", "host", "x-request-id"]
        if owned.contains(name.lowercased()) {
            throw LoadError(.badInput, "-H \"\(text)\": \(name) is set by bottleneck itself (use --no-keepalive for Connection: close)")
        }
        return (name, value)
    }
}
