#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Histogram

/// Writes an HdrHistogram interval log (`.hlog`): one compressed histogram per interval,
/// in the format of Java's `HistogramLogWriter` (log format 1.3), so HdrHistogram's own
/// tools — `HistogramLogProcessor`, HistogramLogAnalyzer, the `hdrhistogram` Python package,
/// HdrHistogram_c — read a run's latencies without bottleneck.
///
/// ```
/// #[Logged with bottleneck]
/// #[Histogram log format version 1.3]
/// #[StartTime: 1732848000.123 (seconds since epoch), 2024-11-29T02:40:00.123Z]
/// #[BaseTime: 1732848000.123 (seconds since epoch)]
/// "StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"
/// Tag=step-1,0.000,1.000,12.583,HISTFAAAAC...
/// ```
///
/// Interval starts are seconds since the run's start, which is also written as the log's
/// `BaseTime`, so readers place every interval on the calendar. `Interval_Max` is the
/// histogram's `max` divided by `maxValueUnitRatio` (1e6 by default: nanoseconds shown as
/// milliseconds, what the tools assume).
///
/// Each line goes to the kernel with its own `write(2)` before `append` returns: there is no
/// user-space buffer to lose, so a run that crashes keeps every interval it logged.
///
/// One writer is owned by one task (it is deliberately not `Sendable`).
public final class HistogramLogWriter {
    /// The log format version written in the header; 1.3 is the first with tags.
    public static let formatVersion = "1.3"

    /// The path the log is written to.
    public let path: String
    private let maxValueUnitRatio: Double
    private var fd: Int32

    /// Creates (or truncates) the log at `path` and writes its header.
    ///
    /// - Parameters:
    ///   - path: The file to write.
    ///   - wallSeconds: The run's start, in seconds since the Unix epoch (UTC); interval starts
    ///     passed to ``append(tag:intervalStart:intervalLength:histogram:)`` are relative to it.
    ///   - comment: Written first, as `#` comment lines (one per line of text), e.g.
    ///     `"[Logged with bottleneck 0.3]"`.
    ///   - maxValueUnitRatio: What `Interval_Max` divides the histogram's max by.
    /// - Throws: ``HistogramLogError`` `.cannotOpen` or `.writeFailed`.
    public init(
        path: String,
        startTime wallSeconds: Double,
        comment: String?,
        maxValueUnitRatio: Double = 1_000_000
    ) throws {
        precondition(maxValueUnitRatio > 0 && maxValueUnitRatio.isFinite, "maxValueUnitRatio must be positive")
        precondition(wallSeconds.isFinite && wallSeconds >= 0, "startTime must be seconds since the epoch")
        self.path = path
        self.maxValueUnitRatio = maxValueUnitRatio
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw HistogramLogError.system(.cannotOpen, "cannot create histogram log", path: path, errno: errno)
        }

        var header = ""
        if let comment {
            for line in comment.split(separator: "\n", omittingEmptySubsequences: false) {
                header += "#\(line.filter { $0 != "\r" })\n"
            }
        }
        header += "#[Histogram log format version \(Self.formatVersion)]\n"
        header += "#[StartTime: \(Self.fixed3(wallSeconds)) (seconds since epoch), \(Self.iso8601(wallSeconds))]\n"
        header += "#[BaseTime: \(Self.fixed3(wallSeconds)) (seconds since epoch)]\n"
        header += "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"\n"
        do {
            try writeAll(header)
        } catch {
            close()
            throw error
        }
    }

    deinit {
        close()
    }

    /// Appends one interval line.
    ///
    /// - Parameters:
    ///   - tag: Names the series (e.g. a step or a payload class); readers keep tagged series
    ///     apart. It must not contain commas, spaces or line breaks. `nil` writes an untagged line.
    ///   - secondsSinceStart: When the interval began, in seconds since the log's start time.
    ///   - intervalLength: The interval's length in seconds.
    ///   - histogram: The values recorded in the interval (nanoseconds, for the default ratio).
    /// - Throws: ``HistogramLogError`` `.invalidTag`, `.invalidInterval`, `.closed` or `.writeFailed`.
    public func append(
        tag: String?,
        intervalStart secondsSinceStart: Double,
        intervalLength: Double,
        histogram: Histogram<UInt64>
    ) throws {
        if let tag {
            guard !tag.isEmpty, !tag.contains(where: { $0 == "," || $0.isWhitespace }) else {
                throw HistogramLogError(
                    code: .invalidTag,
                    message: "histogram log tag '\(tag)' must be non-empty without commas, spaces or line breaks")
            }
        }
        guard secondsSinceStart.isFinite, secondsSinceStart >= 0, intervalLength.isFinite, intervalLength >= 0 else {
            throw HistogramLogError(
                code: .invalidInterval,
                message: "histogram log interval start \(secondsSinceStart) s, length \(intervalLength) s must be finite and not negative")
        }
        guard fd >= 0 else {
            throw HistogramLogError(code: .closed, message: "histogram log \(path) is already closed")
        }
        var line = tag.map { "Tag=\($0)," } ?? ""
        line += Self.fixed3(secondsSinceStart) + ","
        line += Self.fixed3(intervalLength) + ","
        line += Self.fixed3(Double(histogram.max) / maxValueUnitRatio) + ","
        line += HdrHistogramEncoding.compressedBase64(histogram)
        line += "\n"
        try writeAll(line)
    }

    /// Closes the file (syncing it to disk first). Safe to call more than once.
    public func close() {
        guard fd >= 0 else { return }
        _ = fsync(fd)
        #if canImport(Glibc)
        _ = Glibc.close(fd)
        #else
        _ = Darwin.close(fd)
        #endif
        fd = -1
    }

    private func writeAll(_ text: String) throws {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { buffer in
                write(fd, buffer.baseAddress! + offset, buffer.count - offset)
            }
            if written < 0 {
                let err = errno
                if err == EINTR { continue }
                throw HistogramLogError.system(.writeFailed, "cannot write histogram log", path: path, errno: err)
            }
            offset += written
        }
    }

    // MARK: Formatting

    /// `value` with exactly three decimals and a '.' whatever the locale, as Java's
    /// `String.format(Locale.US, "%.3f", value)` for the magnitudes a log holds.
    static func fixed3(_ value: Double) -> String {
        precondition(value.isFinite && value.magnitude < 9e15, "not a log timestamp: \(value)")
        let thousandths = Int64((value * 1000).rounded(.toNearestOrAwayFromZero))
        let magnitude = thousandths.magnitude
        let fraction = magnitude % 1000
        let padding = fraction < 10 ? "00" : fraction < 100 ? "0" : ""
        return "\(thousandths < 0 ? "-" : "")\(magnitude / 1000).\(padding)\(fraction)"
    }

    /// `wallSeconds` as an ISO 8601 UTC timestamp with milliseconds (readers ignore this
    /// part of the StartTime line; it is for people).
    static func iso8601(_ wallSeconds: Double) -> String {
        var millis = Int64((wallSeconds * 1000).rounded(.toNearestOrAwayFromZero))
        var seconds = time_t(millis / 1000)
        millis %= 1000
        var parts = tm()
        guard gmtime_r(&seconds, &parts) != nil else { return "?" }
        func pad(_ n: Int32, _ width: Int) -> String {
            let digits = String(n)
            return String(repeating: "0", count: Swift.max(0, width - digits.count)) + digits
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))"
            + "T\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(millis), 3))Z"
    }
}

@available(*, unavailable)
extension HistogramLogWriter: Sendable {}
