#if canImport(Glibc)
import Glibc
import BottleneckCore
#elseif canImport(Darwin)
import Darwin
#endif

/// Everything that can go wrong while finding or sampling processes.
///
/// One error type for the area (as `CaptureError` and `LoadError` are for theirs), so the
/// command line can print `message` as one line, and callers can still tell a process that
/// exited (`.gone`, expected mid-run) from a file we could not parse (`.malformed`, a bug or
/// an unexpected kernel) by `code`.
public struct SamplerError: UserFacingError, Equatable {
    /// What kind of failure this is; the sampler reacts to `.gone` by dropping the process.
    public enum Code: String, Sendable, Equatable {
        /// `--server-port` matched no listening socket.
        case noListener
        /// `--server-pid` names no running process.
        case noSuchProcess
        /// A file exists but its text is not in the format the kernel documents.
        case malformed
        /// A file could not be read (permissions, missing controller, …).
        case unreadable
        /// The process or thread exited while it was being read (ENOENT / ESRCH).
        case gone
        /// A bad option value (interval, output path).
        case badConfiguration
    }

    public var code: Code
    /// The errno of the failing call, when there was one.
    public var errno: Int32?
    public var message: String

    public init(_ code: Code, _ message: String, errno: Int32? = nil) {
        self.code = code
        self.message = message
        self.errno = errno
    }

    static func malformed(_ what: String, _ detail: String) -> SamplerError {
        SamplerError(.malformed, "\(what): unexpected format (\(detail))")
    }

    static func noListener(port: UInt16) -> SamplerError {
        SamplerError(.noListener,
                     "no process listens on port \(port); start the server, or name its process by PID")
    }

    static func noSuchProcess(pid: Int32) -> SamplerError {
        SamplerError(.noSuchProcess, "no process \(pid); check the PID, or name the server by its port")
    }

    /// Maps a failed open/read of `path` to `.gone` when the process vanished, else `.unreadable`.
    static func fromErrno(_ err: Int32, path: String) -> SamplerError {
        if err == ENOENT || err == ESRCH {
            return SamplerError(.gone, "\(path): no longer exists", errno: err)
        }
        return SamplerError(.unreadable, "\(path): \(String(cString: strerror(err)))", errno: err)
    }
}
