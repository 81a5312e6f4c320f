@testable import BottleneckCore
@testable import BottleneckLoad
@testable import BottleneckSampling
@testable import BottleneckRun
@testable import BottleneckDiagnosis
@testable import BottleneckReport
import Foundation
import Histogram
import Testing

/// Finds a Python that has the `hdrhistogram` package (module `hdrh`): `$HDRH_PYTHON`, then
/// the package's `.build-venv-hdr` (what `make setup` creates), then `python3` on the PATH.
enum HdrhPython {
    static let path: String? = {
        var candidates: [String] = []
        if let fromEnvironment = ProcessInfo.processInfo.environment["HDRH_PYTHON"] { candidates.append(fromEnvironment) }
        var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while dir.path != "/" {
            if FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) {
                candidates.append(dir.appendingPathComponent(".build-venv-hdr/bin/python3").path)
                break
            }
            dir.deleteLastPathComponent()
        }
        candidates.append("/usr/bin/env")
        return candidates.first { run($0, $0 == "/usr/bin/env" ? ["python3", "-c", "import hdrh.log"] : ["-c", "import hdrh.log"]) != nil }
            .map { $0 == "/usr/bin/env" ? "python3" : $0 }
    }()

    static let skipReason: Comment = """
        needs Python with the 'hdrhistogram' PyPI package (module hdrh): `make setup` installs it \
        into .build-venv-hdr, or set HDRH_PYTHON to a python3 that has it
        """

    /// Runs a program; its standard output if it exits 0, else nil.
    static func run(_ executable: String, _ arguments: [String]) -> String? {
        guard FileManager.default.isExecutableFile(atPath: executable) else { return nil }
        guard let result = try? TestChildProcess.run(executable, arguments) else { return nil }
        return result.status == 0 ? result.output : nil
    }

    static func python(_ arguments: [String]) -> String? {
        guard let path else { return nil }
        return path == "python3" ? run("/usr/bin/env", ["python3"] + arguments) : run(path, arguments)
    }

    /// Reads an .hlog with hdrh's own HistogramLogReader and prints what it decoded.
    static let readerScript = #"""
        import json, sys
        from hdrh.histogram import HdrHistogram
        from hdrh.log import HistogramLogReader
        reader = HistogramLogReader(sys.argv[1], HdrHistogram(1, 2, 1))
        intervals = []
        while True:
            h = reader.get_next_interval_histogram()
            if h is None:
                break
            slots = [[h.get_highest_equivalent_value(h.get_value_from_index(i)), h.get_count_at_index(i)]
                     for i in range(h.counts_len) if h.get_count_at_index(i)]
            intervals.append(dict(
                tag=h.get_tag(), start_ms=h.get_start_time_stamp(), end_ms=h.get_end_time_stamp(),
                lowest=h.lowest_trackable_value, highest=h.highest_trackable_value,
                digits=h.significant_figures, counts_len=h.counts_len,
                total=h.get_total_count(), min=h.get_min_value(), max=h.get_max_value(),
                p50=h.get_value_at_percentile(50), p90=h.get_value_at_percentile(90),
                p99=h.get_value_at_percentile(99), p999=h.get_value_at_percentile(99.9), slots=slots))
        print(json.dumps(dict(start_time_sec=reader.start_time_sec, base_time_sec=reader.base_time_sec,
                              intervals=intervals)))
        """#
}

/// What the Python reader saw in one interval.
struct PythonInterval: Decodable {
    let tag: String?
    let start_ms: Double
    let end_ms: Double
    let lowest: UInt64
    let highest: UInt64
    let digits: Int
    let counts_len: Int
    let total: UInt64
    let min: UInt64
    let max: UInt64
    let p50: UInt64
    let p90: UInt64
    let p99: UInt64
    let p999: UInt64
    let slots: [[UInt64]]
}

struct PythonLog: Decodable {
    let start_time_sec: Double
    let base_time_sec: Double
    let intervals: [PythonInterval]
}

/// The independent check: HdrHistogram's Python implementation reads our .hlog back.
@Suite("hlog read by the hdrhistogram Python package")
struct HistogramLogPythonTests {
    @Test("hdrh decodes every interval to the same counts, percentiles and max",
          .enabled(if: HdrhPython.path != nil || TestRequirements.enforced, HdrhPython.skipReason))
    func pythonReadsOurLog() throws {
        let dir = try HlogTemporaryDirectory()
        let path = dir.file("run.hlog")
        let start = 1_732_848_000.123
        // Totals are multiples of 1000 so that every percentile here falls on a whole count:
        // Swift rounds the target count up, Python to nearest, and they differ only between counts.
        let intervals: [(tag: String?, start: Double, length: Double, histogram: Histogram<UInt64>)] = [
            (nil, 0, 1, HistogramLogFixtures.latency()),
            ("lognormal", 1, 1, HistogramLogFixtures.logNormal(count: 10_000, between: 1_000_000 ... 2_000_000_000, seed: 21)),
            ("uniform", 2, 1, HistogramLogFixtures.uniform(count: 20_000, between: 1_000 ... 1_000_000_000, seed: 22)),
            ("bimodal", 3, 1.5, HistogramLogFixtures.bimodal(count: 5_000, seed: 23)),
            ("extremes", 4.5, 0.5, HistogramLogFixtures.extremes()),
            ("single", 5, 1, HistogramLogFixtures.filled([(12_583_000, 1_000)])),
            ("big-counts", 6, 1, HistogramLogFixtures.filled([(5_000, 1 << 40), (900_000_000, 1_000)])),
        ]
        let writer = try HistogramLogWriter(path: path, startTime: start, comment: "[Logged with bottleneck tests]")
        for interval in intervals {
            try writer.append(tag: interval.tag, intervalStart: interval.start, intervalLength: interval.length,
                              histogram: interval.histogram)
        }
        writer.close()

        let script = dir.file("read_hlog.py")
        try HdrhPython.readerScript.write(toFile: script, atomically: true, encoding: .utf8)
        let output = try #require(HdrhPython.python([script, path]), "the Python reader failed on \(path)")
        let log = try JSONDecoder().decode(PythonLog.self, from: Data(output.utf8))

        #expect(abs(log.start_time_sec - start) < 0.0005)
        #expect(abs(log.base_time_sec - start) < 0.0005)
        try #require(log.intervals.count == intervals.count)
        var report: [String] = []
        for (seen, sent) in zip(log.intervals, intervals) {
            let h = sent.histogram
            let layout = HdrHistogramEncoding.BucketLayout(lowestDiscernibleValue: h.lowestDiscernibleValue,
                                                           highestTrackableValue: h.highestTrackableValue, significantDigits: 3)
            func percentile(_ p: Double) -> UInt64 {
                h.totalCount == 0 ? 0 : h.highestEquivalentForValue(h.valueAtPercentile(p))
            }
            let min = h.totalCount == 0 || h.countForValue(0) > 0 ? 0 : h.minNonZero
            let name = sent.tag ?? "untagged"

            #expect(seen.tag == sent.tag)
            #expect(abs(seen.start_ms - (start + sent.start) * 1000) < 1, "\(name)")
            #expect(abs(seen.end_ms - seen.start_ms - sent.length * 1000) < 1, "\(name)")
            #expect([seen.lowest, seen.highest] == [1_000, 3_600_000_000_000], "\(name)")
            #expect(seen.digits == 3, "\(name)")
            #expect(seen.counts_len == layout.countsArrayLength, "\(name)")
            #expect(seen.total == h.totalCount, "\(name)")
            #expect(seen.min == min, "\(name)")
            #expect(seen.max == h.max, "\(name)")
            #expect([seen.p50, seen.p90, seen.p99, seen.p999] == [50, 90, 99, 99.9].map(percentile), "\(name)")
            #expect(seen.slots == HistogramLogFixtures.slots(h), "\(name)")
            report.append("\(name): total \(seen.total) p50 \(seen.p50) p99 \(seen.p99) max \(seen.max) ns"
                + " (Swift: \(h.totalCount) \(percentile(50)) \(percentile(99)) \(h.max)), \(seen.slots.count) slots")
        }
        // The numbers compared, for the record of a CI run.
        print("hdrh read back:\n  " + report.joined(separator: "\n  "))
    }
}
