/// An error the user can fix: bad input, a missing file, an unreachable target.
///
/// The command line prints `message` as one line and exits with `exitCode`
/// (2 for bad usage or input; README "Exit codes"). Each area of the library has its own
/// conforming type (`LoadError`, `PayloadError`, …) so callers can tell them apart.
public protocol UserFacingError: Error, CustomStringConvertible, Sendable {
    /// One line: what is wrong, and the accepted form or the fix.
    var message: String { get }
    /// The process exit code this error maps to.
    var exitCode: Int32 { get }
}

extension UserFacingError {
    public var description: String { message }
    public var exitCode: Int32 { 2 }
}
