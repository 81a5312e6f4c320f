/// Where in a rules file something is, 1-based like compilers and Yams report it.
import BottleneckCore

public struct RuleSourceLocation: Sendable, Hashable, Codable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    /// `file:line:col`, the form editors and terminals turn into a link.
    public var description: String { "\(file):\(line):\(column)" }
}

/// One problem in a rules file, as `bottleneck rules check` prints it:
/// `rules/x.yaml:12:34: unknown metric "client.proces.cpu_cores" (did you mean …?)`.
///
/// A check reports every problem it finds, so this is data; `RuleError` is the thrown form.
public struct RuleDiagnostic: Sendable, Hashable, Codable, CustomStringConvertible {
    public var location: RuleSourceLocation
    /// The problem and, where there is one, the fix; never contains a newline.
    public var message: String

    public init(location: RuleSourceLocation, message: String) {
        self.location = location
        self.message = message
    }

    public var description: String { "\(location): \(message)" }
}

/// A rules file the user must fix before rules can run; exit code 2 like all bad input.
public struct RuleError: UserFacingError, Equatable {
    public enum Code: Sendable, Equatable {
        /// The file could not be read.
        case unreadable
        /// YAML syntax, an unknown key or culprit, a duplicate id, a bad expression or template.
        case invalidRule
        /// A metric name that is not in the catalog.
        case unknownMetric
    }

    public let code: Code
    /// Where the first problem is; nil when the file could not be read at all.
    public let location: RuleSourceLocation?
    /// All problems found in the file, first one first (`message` shows only the first).
    public let diagnostics: [RuleDiagnostic]
    public let message: String

    public init(_ code: Code, _ message: String, location: RuleSourceLocation? = nil) {
        self.code = code
        self.location = location
        self.diagnostics = location.map { [RuleDiagnostic(location: $0, message: message)] } ?? []
        self.message = location.map { "\($0): \(message)" } ?? message
    }

    init(diagnostics: [RuleDiagnostic]) {
        precondition(!diagnostics.isEmpty, "a RuleError needs at least one diagnostic")
        let first = diagnostics[0]
        self.code = first.message.hasPrefix("unknown metric") ? .unknownMetric : .invalidRule
        self.location = first.location
        self.diagnostics = diagnostics
        let more = diagnostics.count > 1 ? " (and \(diagnostics.count - 1) more; run `bottleneck rules check`)" : ""
        self.message = first.description + more
    }
}
