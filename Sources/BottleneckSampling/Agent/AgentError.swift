/// Everything that can go wrong starting or talking to a `bottleneck agent`: a bad token
/// file, an address that cannot be bound, an agent that refuses the token.
///
/// A user-facing error (one line, exit 2): each message names the option and the fix.
import BottleneckCore

public struct AgentError: UserFacingError, Equatable {
    /// What kind of failure this is.
    public enum Code: String, Sendable, Equatable {
        /// `--token-file` / `--agent-token-file` is missing, empty, too short or readable by others.
        case badToken
        /// `--listen` / `--agent` is not a usable address.
        case badAddress
        /// The listener could not be bound.
        case bindFailed
        /// The agent could not be reached, or answered with an error.
        case unreachable
        /// The agent rejected the token (HTTP 401).
        case unauthorized
        /// The agent answered something that is not the agent protocol.
        case protocolError
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
}
