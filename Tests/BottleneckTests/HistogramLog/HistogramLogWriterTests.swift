@testable import BottleneckCore
@testable import BottleneckLoad
@testable import BottleneckSampling
@testable import BottleneckRun
@testable import BottleneckDiagnosis
@testable import BottleneckReport
import Foundation
import Histogram
import Testing

/// A fresh temporary directory per test, removed afterwards.
struct HlogTemporaryDirectory: ~Copyable {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("hlog-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func file(_ name: String) -> String { path + "/" + name }
}

/// One parsed interval line of an .hlog.
struct HlogLine: Equatable {
    var tag: String?
    var start: String
    var length: String
    var max: String
    var histogram: String

    init?(_ line: Substring) {
        var fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        if fields.first?.hasPrefix("Tag=") == true {
            tag = String(fields.removeFirst().dropFirst(4))
        }
        guard fields.count == 4 else { return nil }
        (start, length, max, histogram) = (fields[0], fields[1], fields[2], fields[3])
    }
}

@Suite("HistogramLogWriter")
struct HistogramLogWriterTests {
    static let startTime = 1_732_848_000.123 // 2024-11-29 02:40:00.123 UTC

    @Test("writes the header and one line per interval that decodes to the histogram logged")
    func writesReadableLog() throws {
        let dir = try HlogTemporaryDirectory()
        let path = dir.file("run.hlog")
        let step1 = HistogramLogFixtures.logNormal(count: 5_000, between: 1_000_000 ... 50_000_000, seed: 11)
        let step2 = HistogramLogFixtures.bimodal(count: 3_000, seed: 12)
        let writer = try HistogramLogWriter(path: path, startTime: Self.startTime, comment: "[Logged with bottleneck test]")
        try writer.append(tag: "step-1", intervalStart: 0, intervalLength: 1, histogram: step1)
        try writer.append(tag: nil, intervalStart: 1.0004, intervalLength: 0.9996, histogram: step2)
        try writer.append(tag: "empty", intervalStart: 2, intervalLength: 1, histogram: HistogramLogFixtures.latency())
        writer.close()

        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(Array(lines.prefix(5)) == [
            "#[Logged with bottleneck test]",
            "#[Histogram log format version 1.3]",
            "#[StartTime: 1732848000.123 (seconds since epoch), 2024-11-29T02:40:00.123Z]",
            "#[BaseTime: 1732848000.123 (seconds since epoch)]",
            "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"",
        ])
        #expect(lines.count == 9 && lines.last == "", "three intervals, newline-terminated")

        let parsed = lines[5 ..< 8].compactMap(HlogLine.init)
        #expect(parsed.map(\.tag) == ["step-1", nil, "empty"])
        #expect(parsed.map(\.start) == ["0.000", "1.000", "2.000"])
        #expect(parsed.map(\.length) == ["1.000", "1.000", "1.000"])
        for (line, original) in zip(parsed, [step1, step2, HistogramLogFixtures.latency()]) {
            // Interval_Max is the max in ms (ns / 1e6) with three decimals, as Java writes it.
            #expect(line.max == HistogramLogWriter.fixed3(Double(original.max) / 1e6))
            let decoded = try HdrHistogramEncoding.decodeCompressedBase64(line.histogram)
            #expect(decoded == original)
        }
        #expect(parsed[2].max == "0.000")
    }

    @Test("each line is in the file as soon as append returns, before close")
    func flushesEachLine() throws {
        let dir = try HlogTemporaryDirectory()
        let path = dir.file("live.hlog")
        let writer = try HistogramLogWriter(path: path, startTime: 0, comment: nil)
        let header = try String(contentsOfFile: path, encoding: .utf8)
        #expect(header.hasPrefix("#[Histogram log format version 1.3]\n#[StartTime: 0.000 (seconds since epoch), 1970-01-01T00:00:00.000Z]\n"))
        try writer.append(tag: "a", intervalStart: 0, intervalLength: 1, histogram: HistogramLogFixtures.filled([(2_000_000, 3)]))
        let afterOne = try String(contentsOfFile: path, encoding: .utf8)
        #expect(afterOne.hasSuffix("\n") && afterOne.contains("\nTag=a,0.000,1.000,2.001,HISTF"))
        withExtendedLifetime(writer) {}
    }

    @Test("a multi-line comment becomes several comment lines")
    func multiLineComment() throws {
        let dir = try HlogTemporaryDirectory()
        let path = dir.file("c.hlog")
        try HistogramLogWriter(path: path, startTime: 1, comment: "first\nsecond,with comma").close()
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.hasPrefix("#first\n#second,with comma\n#[Histogram log format version 1.3]\n"))
    }

    @Test("tags that would break the line format are refused", arguments: ["a,b", "a b", "", "a\nb", "tab\there"])
    func badTag(_ tag: String) throws {
        let dir = try HlogTemporaryDirectory()
        let writer = try HistogramLogWriter(path: dir.file("t.hlog"), startTime: 1, comment: nil)
        #expect(throws: HistogramLogError(code: .invalidTag, message: "histogram log tag '\(tag)' must be non-empty without commas, spaces or line breaks")) {
            try writer.append(tag: tag, intervalStart: 0, intervalLength: 1, histogram: HistogramLogFixtures.latency())
        }
    }

    @Test("negative or non-finite interval times are refused")
    func badInterval() throws {
        let dir = try HlogTemporaryDirectory()
        let writer = try HistogramLogWriter(path: dir.file("t.hlog"), startTime: 1, comment: nil)
        for (start, length) in [(-1.0, 1.0), (0, -0.5), (.nan, 1), (0, .infinity)] {
            let error = #expect(throws: HistogramLogError.self) {
                try writer.append(tag: nil, intervalStart: start, intervalLength: length, histogram: HistogramLogFixtures.latency())
            }
            #expect(error?.code == .invalidInterval)
        }
    }

    @Test("append after close is an error; close twice is fine")
    func appendAfterClose() throws {
        let dir = try HlogTemporaryDirectory()
        let writer = try HistogramLogWriter(path: dir.file("t.hlog"), startTime: 1, comment: nil)
        writer.close()
        writer.close()
        let error = #expect(throws: HistogramLogError.self) {
            try writer.append(tag: nil, intervalStart: 0, intervalLength: 1, histogram: HistogramLogFixtures.latency())
        }
        #expect(error?.code == .closed)
    }

    @Test("a log that cannot be created says where and why")
    func cannotOpen() throws {
        let error = #expect(throws: HistogramLogError.self) {
            try HistogramLogWriter(path: "/nonexistent-dir/x.hlog", startTime: 1, comment: nil)
        }
        #expect(error?.code == .cannotOpen)
        #expect(error?.errno == ENOENT)
        #expect(error?.message == "cannot create histogram log /nonexistent-dir/x.hlog: No such file or directory")
    }

    @Test("numbers have three decimals and a dot, like Java's %.3f", arguments: [
        (0.0, "0.000"), (0.0004, "0.000"), (0.05, "0.050"), (12.3456, "12.346"), (1.5, "1.500"),
        (-1.5, "-1.500"), (1_732_848_000.123, "1732848000.123"), (3_601_330.077695, "3601330.078"),
    ])
    func fixed3(_ value: Double, _ text: String) {
        #expect(HistogramLogWriter.fixed3(value) == text)
    }
}
