import BottleneckCore

/// Capture errors are the user's to fix (a file that is not a capture, a bad filter, a
/// missing interface or privilege), so the command line prints them as one line, exit 2.
extension CaptureError: UserFacingError {
    public var exitCode: Int32 { 2 }
}
