import Foundation
import Testing
@testable import BottleneckCore
@testable import BottleneckLoad
@testable import BottleneckSampling
@testable import BottleneckRun
@testable import BottleneckDiagnosis
@testable import BottleneckReport

@Suite("samples.jsonl lines")
struct SampleLineWriterTests {
    /// What a reader of samples.jsonl gets back: every kind of value, escaped strings, and
    /// a tick of many lines (more than the writer's first buffer) flushed whole.
    @Test func linesReadBackAsWritten() throws {
        let path = NSTemporaryDirectory() + "sample-lines-\(getpid())-\(UUID().uuidString).jsonl"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let writer = try SampleLineWriter(path: path)
        writer.begin("process", t: UInt64.max)
        writer.field("comm", "a \"quoted\" \\ name\u{1}")
        writer.field("pid", Int32(-7))
        writer.field("zero", UInt64(0))
        writer.field("cores", 1.25)
        writer.field("tiny", 0.000_000_4)
        writer.field("negative", -2.5)
        writer.field("absent", nil as UInt64?)
        writer.array("per_cpu", [0.5, 1.0])
        writer.object("sockets") { writer.field(named: "TIME_WAIT", UInt64(3)) }
        writer.end()
        for i in 0..<5_000 {
            writer.begin("host", t: UInt64(i))
            writer.field("busy_fraction", Double(i) / 5_000)
            writer.end()
        }
        writer.flush()
        #expect(writer.writeError == nil)

        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 5_001)
        let first = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(first["type"] as? String == "process")
        #expect((first["t"] as? NSNumber)?.uint64Value == UInt64.max)
        #expect(first["comm"] as? String == "a \"quoted\" \\ name\u{1}")
        #expect(first["pid"] as? Int == -7)
        #expect(first["zero"] as? Int == 0)
        #expect(first["cores"] as? Double == 1.25)
        #expect(first["tiny"] as? Int == 0)   // six decimals
        #expect(first["negative"] as? Double == -2.5)
        #expect(first["absent"] is NSNull)
        #expect(first["per_cpu"] as? [Double] == [0.5, 1])
        #expect((first["sockets"] as? [String: Int]) == ["TIME_WAIT": 3])
        let last = try #require(try JSONSerialization.jsonObject(with: Data(lines[5_000].utf8)) as? [String: Any])
        #expect(last["t"] as? Int == 4_999)
        #expect(last["busy_fraction"] as? Double == 0.9998)
    }
}
