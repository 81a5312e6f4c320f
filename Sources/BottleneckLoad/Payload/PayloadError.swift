/// Bad `--payload` or `--body` input, or a dataset folder that cannot be used.
///
/// The message is one line that quotes what the user typed, names the field, and gives the
/// accepted form, so the command line can print it as is and exit 2 (README "Exit codes").
import BottleneckCore

public struct PayloadError: UserFacingError {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    /// `payload "SPEC": DETAIL` — the form every spec problem is reported in.
    static func spec(_ spec: String, _ detail: String) -> PayloadError {
        PayloadError("payload \"\(spec)\": \(detail)")
    }
}
