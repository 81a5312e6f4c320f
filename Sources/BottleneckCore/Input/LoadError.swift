/// Errors of the load engine and its configuration: all of them are the user's to fix
/// (bad flags, a probe file that does not parse, a target that cannot be reached).
public struct LoadError: UserFacingError, Equatable {
    public enum Code: Sendable, Equatable {
        /// A flag or probe-spec value does not parse or is out of range.
        case badInput
        /// The target could not be resolved or reached before the run started.
        case unreachable
        /// The run directory could not be created or written.
        case output
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
}
