import Foundation

/// Parsers for the small value languages of flags and probe specs: durations ("10s",
/// "250ms", "2m"), rate lists ("50,100,200"), ramps ("50..400/8") and step lists.
/// An error says what is wrong with the value and the accepted form; it does not name
/// where the value came from. The command line prefixes the flag, a probe spec its file,
/// line and key.
public enum LoadValueParsing: Sendable {
    /// "10s", "250ms", "1.5m", "1h", "500us", or a bare number of seconds. Returns nanoseconds.
    public static func duration(_ text: String) throws(LoadError) -> UInt64 {
        let t = text.trimmingWhitespace().lowercased()
        let units: [(String, Double)] = [("ns", 1), ("us", 1e3), ("µs", 1e3), ("ms", 1e6), ("s", 1e9), ("m", 60e9), ("h", 3600e9)]
        var number = Substring(t)
        var scale = 1e9
        for (suffix, factor) in units where t.hasSuffix(suffix) {
            let candidate = t.dropLast(suffix.count)
            if Double(candidate) != nil { number = candidate; scale = factor; break }
        }
        guard let value = Double(number), value.isFinite, value >= 0 else {
            throw LoadError(.badInput, "not a duration; use a number with a unit, like 30s, 250ms or 2m")
        }
        // A year is longer than any run or timeout; past it the nanoseconds would overflow UInt64.
        let nanoseconds = (value * scale).rounded()
        guard nanoseconds <= maximumDurationNanoseconds else {
            throw LoadError(.badInput, "the duration is longer than a year; use a number with a unit, like 30s, 250ms or 2m")
        }
        return UInt64(nanoseconds)
    }

    /// The longest duration accepted: 365 days, in nanoseconds.
    public static let maximumDurationNanoseconds = 365.0 * 86_400 * 1e9

    /// A positive request rate.
    public static func rate(_ text: String) throws(LoadError) -> Double {
        guard let value = Double(text.trimmingWhitespace()), value.isFinite, value > 0 else {
            throw LoadError(.badInput, "the rate must be a number of requests per second above 0, like 200")
        }
        guard value <= 10_000_000 else {
            throw LoadError(.badInput, "the rate must be at most 10000000 requests per second")
        }
        return value
    }

    /// "50,100,200" → [50, 100, 200].
    public static func rateList(_ text: String) throws(LoadError) -> [Double] {
        var rates: [Double] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            do { rates.append(try rate(String(part))) } catch {
                throw LoadError(.badInput, "give a comma-separated list of rates above 0, like 50,100,200")
            }
        }
        return rates
    }

    /// "50..400/8" → 8 evenly spaced rates from 50 to 400 inclusive.
    public static func ramp(_ text: String) throws(LoadError) -> [Double] {
        let trimmed = text.trimmingWhitespace()
        guard let dots = trimmed.range(of: ".."), let slash = trimmed.lastIndex(of: "/"), dots.upperBound <= slash,
              let from = Double(trimmed[..<dots.lowerBound]), let to = Double(trimmed[dots.upperBound..<slash]),
              let steps = Int(trimmed[trimmed.index(after: slash)...])
        else { throw LoadError(.badInput, "use FROM..TO/STEPS, like 50..400/8") }
        guard from > 0, to >= from, from.isFinite, to.isFinite else {
            throw LoadError(.badInput, "FROM must be above 0 and TO at least FROM, like 50..400/8")
        }
        guard (1...1000).contains(steps) else {
            throw LoadError(.badInput, "STEPS must be from 1 to 1000, like 50..400/8")
        }
        if steps == 1 { return [from] }
        return (0..<steps).map { i in
            let value = from + (to - from) * Double(i) / Double(steps - 1)
            return (value * 100).rounded() / 100
        }
    }

    /// "1,2,4,8" → [1, 2, 4, 8] connection counts.
    public static func concurrencyList(_ text: String) throws(LoadError) -> [Int] {
        var values: [Int] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            values.append(try concurrency(String(part)))
        }
        return values
    }

    public static func concurrency(_ text: String) throws(LoadError) -> Int {
        try count(text, in: 1...100_000, of: "connections")
    }

    /// A whole number in `range`; `noun` says what is counted ("connections", "payloads").
    public static func count(_ text: String, in range: ClosedRange<Int>, of noun: String) throws(LoadError) -> Int {
        guard let value = Int(text.trimmingWhitespace()), range.contains(value) else {
            throw LoadError(.badInput, "give a whole number of \(noun) from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    /// A seed for the payload and arrival generators: any 64-bit unsigned number.
    public static func seed(_ text: String) throws(LoadError) -> UInt64 {
        guard let value = UInt64(text.trimmingWhitespace()) else {
            throw LoadError(.badInput, "give a whole number from 0 to 18446744073709551615")
        }
        return value
    }

    /// "80,8000" → [80, 8000].
    public static func portList(_ text: String) throws(LoadError) -> [UInt16] {
        var ports: [UInt16] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let port = UInt16(part.trimmingCharacters(in: .whitespaces)), port > 0 else {
                throw LoadError(.badInput, "give TCP ports from 1 to 65535 separated by commas, like 80,8000")
            }
            ports.append(port)
        }
        return ports
    }

    /// The methods a prediction endpoint is called with.
    public static let methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]

    /// An HTTP method, upper-cased: one of `methods`.
    public static func method(_ text: String) throws(LoadError) -> String {
        let method = text.trimmingWhitespace().uppercased()
        guard methods.contains(method) else {
            throw LoadError(.badInput, "use one of \(methods.joined(separator: ", "))")
        }
        return method
    }
}

/// A request header the user adds, checked: a token name, a value without line breaks,
/// and none of the headers the engine sets itself.
public struct RequestHeader: Sendable, Equatable {
    public var name: String
    public var value: String

    /// Parses "Name: value".
    public init(parsing text: String) throws(LoadError) {
        guard let colon = text.firstIndex(of: ":") else {
            throw LoadError(.badInput, "a header must look like 'Name: value'")
        }
        let name = String(text[..<colon]).trimmingWhitespace()
        let value = String(text[text.index(after: colon)...]).trimmingWhitespace()
        let tokenCharacters = Set("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
        guard !name.isEmpty, name.allSatisfy({ tokenCharacters.contains($0) }) else {
            throw LoadError(.badInput, "\"\(name)\" is not a valid header name; a header must look like 'Name: value'")
        }
        guard !value.contains("\r"), !value.contains("\n") else {
            throw LoadError(.badInput, "a header value cannot contain line breaks")
        }
        let owned = ["content-length", "transfer-encoding", "connection", "host", "x-request-id"]
        if owned.contains(name.lowercased()) {
            throw LoadError(.badInput, "\(name) is set by bottleneck itself (turn keep-alive off for Connection: close)")
        }
        self.name = name
        self.value = value
    }
}
