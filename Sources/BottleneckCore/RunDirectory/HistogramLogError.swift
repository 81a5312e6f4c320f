#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A failure writing an `.hlog` interval log or reading a histogram out of one.
public struct HistogramLogError: UserFacingError, Equatable {
    /// What went wrong, for callers that react differently to each.
    public enum Code: Sendable, Equatable {
        /// The log file could not be created.
        case cannotOpen
        /// A line could not be written (disk full, I/O error).
        case writeFailed
        /// `append` was called after `close()`.
        case closed
        /// A tag holds a comma, a space or a line break, which would break the line format.
        case invalidTag
        /// An interval start or length is negative or not finite.
        case invalidInterval
        /// The bytes are not a well-formed V2 HdrHistogram.
        case malformedHistogram
        /// A well-formed histogram that `Histogram<UInt64>` cannot hold.
        case unsupportedHistogram
    }

    public let code: Code
    public let message: String
    /// The `errno` of a failed system call, if one caused this.
    public let errno: Int32?

    public init(code: Code, message: String, errno: Int32? = nil) {
        self.code = code
        self.message = message
        self.errno = errno
    }

    static func malformed(_ what: String) -> Self {
        Self(code: .malformedHistogram, message: "cannot read HdrHistogram: \(what)")
    }

    static func unsupported(_ what: String) -> Self {
        Self(code: .unsupportedHistogram, message: "cannot read HdrHistogram: \(what)")
    }

    /// An error for a failed system call on `path`, with the system's reason appended.
    static func system(_ code: Code, _ what: String, path: String, errno err: Int32) -> Self {
        Self(code: code, message: "\(what) \(path): \(String(cString: strerror(err)))", errno: err)
    }
}
