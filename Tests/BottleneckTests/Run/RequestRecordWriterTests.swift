@testable import BottleneckCore
@testable import BottleneckLoad
@testable import BottleneckSampling
@testable import BottleneckRun
@testable import BottleneckDiagnosis
@testable import BottleneckReport
import Foundation
import Testing

/// `requests.csv` is read by the analysis, by pandas and by people; the writer formats it
/// with raw pointers for speed, so its bytes are pinned down here.
@Suite("requests.csv writer")
struct RequestRecordWriterTests {
    private static let payloads = [
        RequestRecordWriter.PayloadDescriptor(payloadClass: "image", bytes: 48_213, pixels: 307_200),
        RequestRecordWriter.PayloadDescriptor(payloadClass: "text", bytes: 900, pixels: 0),
    ]

    private func record(step: Int32 = 0, loop: UInt16 = 1, sequence: UInt64, intended: UInt64 = 1_000_000,
                        status: UInt16 = 200, error: RequestErrorKind = .none, payloadIndex: Int32 = -1,
                        serverTiming: String? = nil) -> RequestRecord {
        RequestRecord(step: step, loop: loop, sequence: sequence, intended: intended, dispatched: intended + 7_001,
                      sent: intended + 9_010, firstByte: intended + 1_234_567, lastByte: intended + 1_250_009,
                      status: status, error: error, bytesOut: 121, bytesIn: 283, payloadIndex: payloadIndex,
                      connectionID: 42, localPort: 51_234, serverTiming: serverTiming)
    }

    private func written(_ records: [[RequestRecord]]) throws -> [String] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("writer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("requests.csv").path
        let worker = BackgroundWorker(name: "test-writer")
        let writer = try RequestRecordWriter(path: path, runTag: "ab12", payloads: Self.payloads, worker: worker)
        for batch in records { writer.submit(batch) }
        worker.finish()
        writer.close()
        #expect(writer.recordsWritten == UInt64(records.reduce(0) { $0 + $1.count }))
        return try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }

    @Test("every column of a success, an error, a payload and Server-Timing")
    func columns() throws {
        let lines = try written([[
            record(sequence: 1),
            record(step: 3, loop: 0, sequence: 18_446_744_073_709_551_615, intended: 0, status: 0, error: .timeout,
                   payloadIndex: 1),
            record(sequence: 3, payloadIndex: 0, serverTiming: "pre;dur=12.5, model;dur=30;desc=\"x, y\""),
            record(sequence: 0, payloadIndex: 7),
        ]])
        #expect(lines.first == RequestRecordWriter.columns.joined(separator: ","))
        #expect(Array(lines.dropFirst()) == [
            "0,ab12-1-1,1000000,1007001,1009010,2234567,2250009,1250.009,1240.999,200,,121,283,,0,0,42,51234,",
            "3,ab12-0-18446744073709551615,0,7001,9010,1234567,1250009,,,0,timeout,121,283,text,900,0,42,51234,",
            "0,ab12-1-3,1000000,1007001,1009010,2234567,2250009,1250.009,1240.999,200,,121,283,image,48213,307200,42,51234,pre=12.5;model=30.0",
            "0,,1000000,1007001,1009010,2234567,2250009,1250.009,1240.999,200,,121,283,,0,0,42,51234,",
            "",
        ])
    }

    @Test("sub-microsecond digits keep their zeros")
    func fractions() throws {
        var r = record(sequence: 1)
        r.lastByte = r.intended + 5_007   // 5.007 µs
        r.sent = r.lastByte - 60           // 0.060 µs
        let fields = try written([[r]])[1].split(separator: ",", omittingEmptySubsequences: false)
        #expect(fields[7] == "5.007")
        #expect(fields[8] == "0.060")
    }

    @Test("lines longer than a batch's first estimate grow its buffer and come out whole and in order")
    func manyBatches() throws {
        let timing = String(repeating: "phase;dur=1.5, ", count: 40) + "model;dur=2"
        let batches = (0..<6).map { b in (0..<1_000).map { i in record(sequence: UInt64(b * 1_000 + i + 1), serverTiming: timing) } }
        let lines = try written(batches)
        #expect(lines.count == 6_000 + 2)  // 640-byte lines where 160 were reserved
        for (i, line) in lines.dropFirst().dropLast().enumerated() {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            guard fields.count == RequestRecordWriter.columns.count, fields[1] == "ab12-1-\(i + 1)" else {
                Issue.record("line \(i + 1) is wrong: \(line.prefix(120))")
                return
            }
        }
    }
}
