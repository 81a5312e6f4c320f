/// Bad input to capacity planning (a zero capacity, a headroom of 100 %): the user's to fix.
import BottleneckCore

public struct CapacityError: UserFacingError, Equatable {
    public enum Code: Sendable, Equatable {
        /// A value is missing, not finite or out of its accepted range.
        case badInput
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
}
