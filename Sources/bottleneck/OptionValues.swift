import ArgumentParser
import BottleneckCore
import BottleneckLoad
import BottleneckDiagnosis
import BottleneckReport

/// The parsers of typed option values, for `@Option(transform:)`. Each library parser's
/// error says what is wrong with the value and the accepted form; ArgumentParser adds the
/// flag and the value, and `BottleneckCommand.main` prints them on one line:
/// `bottleneck: --rate "0": the rate must be …`. (A transform, not `ExpressibleByArgument`,
/// whose failable initializer would drop that reason.)
enum OptionValue {
    static let duration: @Sendable (String) throws -> UInt64 = { try LoadValueParsing.duration($0) }
    static let rate: @Sendable (String) throws -> Double = { try LoadValueParsing.rate($0) }
    static let rateList: @Sendable (String) throws -> [Double] = { try LoadValueParsing.rateList($0) }
    static let ramp: @Sendable (String) throws -> [Double] = { try LoadValueParsing.ramp($0) }
    static let concurrency: @Sendable (String) throws -> Int = { try LoadValueParsing.concurrency($0) }
    static let concurrencyList: @Sendable (String) throws -> [Int] = { try LoadValueParsing.concurrencyList($0) }
    static let portList: @Sendable (String) throws -> [UInt16] = { try LoadValueParsing.portList($0) }
    static let method: @Sendable (String) throws -> String = { try LoadValueParsing.method($0) }
    static let header: @Sendable (String) throws -> RequestHeader = { try RequestHeader(parsing: $0) }
    static let target: @Sendable (String) throws -> TargetURL = { try TargetURL(parsing: $0) }
    static let body: @Sendable (String) throws -> BodyWrapping = { try BodyWrapping.parse($0) }
    static let seed: @Sendable (String) throws -> UInt64 = { try LoadValueParsing.seed($0) }
    static let slo: @Sendable (String) throws -> Double = { try SLOSpec.parseP99Milliseconds($0) }
    static let culprits: @Sendable (String) throws -> [Culprit] = { try Culprit.parseList($0) }
    static let reportFormat: @Sendable (String) throws -> RunReport.Format = { try RunReport.Format.parse($0) }
    static let arrivals: @Sendable (String) throws -> ArrivalProcess = { text in
        guard let arrivals = ArrivalProcess(rawValue: text.lowercased()) else { throw LoadError(.badInput, "use uniform or poisson") }
        return arrivals
    }

    /// A whole number of `noun` in `range`.
    static func count(in range: ClosedRange<Int>, of noun: String) -> @Sendable (String) throws -> Int {
        { try LoadValueParsing.count($0, in: range, of: noun) }
    }

    /// A number checked by `isValid`, `accepted` saying the form, like "a fraction in 0 ..< 1".
    static func number(_ accepted: String, _ isValid: @escaping @Sendable (Double) -> Bool) -> @Sendable (String) throws -> Double {
        { text in
            guard let value = Double(text), value.isFinite, isValid(value) else { throw ValidationError("give \(accepted)") }
            return value
        }
    }
}
