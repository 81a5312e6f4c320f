import Foundation
import Histogram
import Synchronization

/// The run directory: everything a run measured, written as it happens, so an
/// interrupted or crashed run is still complete up to that moment and every later
/// command (`report`, `diagnose --from`) works from it alone.
///
///     runs/20261129T031500Z-ramp/
///       run.json        what ran, with which settings, on which machine
///       requests.csv    one line per request (docs/run-directory.md lists the columns)
///       latency.hlog    HdrHistogram interval log, one tagged series per step
///       summary.json    per-step results, rewritten after every step
public final class RunDirectory: Sendable {
    public let path: String
    public let wallStartNs: UInt64
    public let monotonicStartNs: UInt64
    private let log: Mutex<HistogramLogWriter?>
    /// Where files are written (and histograms compressed) at the lowest priority, off the event loops.
    public let worker: BackgroundWorker

    /// Creates `runs/<UTC timestamp>-<name>` under the current directory, or `explicitPath`.
    public init(name: String, explicitPath: String?) throws {
        let wall = MonotonicClock.wallNow()
        wallStartNs = wall
        monotonicStartNs = MonotonicClock.now()
        let directory: String
        if let explicitPath {
            directory = explicitPath
        } else {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "UTC")
            formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
            let stamp = formatter.string(from: Date(timeIntervalSince1970: Double(wall) / 1e9))
            let safeName = String(name.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "-" })
            directory = "runs/\(stamp)-\(safeName)"
        }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw LoadError(.output, "run directory \(directory): cannot create the run directory (\(error.localizedDescription)); choose a writable path")
        }
        if let existing = try? FileManager.default.contentsOfDirectory(atPath: directory),
           existing.contains(RunFile.summary.rawValue) || existing.contains(RunFile.requests.rawValue) {
            throw LoadError(.output, "run directory \(directory): already holds a run; choose a new directory so nothing measured is overwritten")
        }
        path = directory
        worker = BackgroundWorker(name: "bn-writer")
        let logWriter = try? HistogramLogWriter(path: RunFile.latencyLog.path(in: directory), startTime: Double(wall) / 1e9,
                                                comment: "[Logged with bottleneck \(BottleneckVersion.current); values in ns; tags are steps]")
        log = Mutex(logWriter)
    }

    public func file(_ name: String) -> String { path + "/" + name }

    /// Deletes the directory; only for a run that failed before measuring anything.
    public func remove() {
        worker.finish()
        try? FileManager.default.removeItem(atPath: path)
    }

    public func write<T: Encodable>(_ document: T, to name: String) throws {
        do {
            let data = try RunJSON.encode(document)
            let temporary = file(name + ".tmp")
            try data.write(to: URL(fileURLWithPath: temporary))
            // Atomic replace: a reader never sees a half-written summary.
            _ = rename(temporary, file(name))
        } catch {
            throw LoadError(.output, "cannot write \(file(name)): \(error.localizedDescription)")
        }
    }

    /// Appends a step's latency interval to `latency.hlog` (times are monotonic ns).
    public func logInterval(stepIndex: Int, start: UInt64, end: UInt64, latency: Histogram<UInt64>) {
        let begin = Double(start &- monotonicStartNs) / 1e9
        let length = Double(end &- start) / 1e9
        // Compressing a histogram takes a millisecond or two: do it on the idle-priority worker.
        worker.submit { [self] in
            log.withLock { writer in
                try? writer?.append(tag: "step-\(stepIndex)", intervalStart: max(0, begin), intervalLength: max(0, length), histogram: latency)
            }
        }
    }

    /// Runs every pending write job, then closes the interval log.
    public func finishWriting() {
        worker.finish()
        log.withLock { writer in
            writer?.close()
            writer = nil
        }
    }
}
