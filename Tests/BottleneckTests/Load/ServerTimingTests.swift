import Testing
@testable import BottleneckCore
@testable import BottleneckLoad
@testable import BottleneckSampling
@testable import BottleneckRun
@testable import BottleneckDiagnosis
@testable import BottleneckReport

@Suite("Server-Timing parsing (W3C grammar)")
struct ServerTimingTests {
    struct Case: Sendable, CustomStringConvertible {
        let header: [String]
        let expected: [ServerTimingMetric]
        var description: String { header.joined(separator: " | ") }
    }

    static let cases: [Case] = [
        Case(header: ["preprocess;dur=12.1, model;dur=41.3"],
             expected: [.init(name: "preprocess", duration: 12.1), .init(name: "model", duration: 41.3)]),
        // Several header lines are one list.
        Case(header: ["queue;dur=0.5", "model;dur=3"],
             expected: [.init(name: "queue", duration: 0.5), .init(name: "model", duration: 3)]),
        // Quoted desc with an escaped quote and a comma inside.
        Case(header: [#"model;desc="resnet \"50\", int8";dur=7"#],
             expected: [.init(name: "model", duration: 7, description: #"resnet "50", int8"#)]),
        // Missing dur is nil, not 0.
        Case(header: ["cache"], expected: [.init(name: "cache")]),
        Case(header: ["miss, db;dur=53, app;dur=47.2"],
             expected: [.init(name: "miss"), .init(name: "db", duration: 53), .init(name: "app", duration: 47.2)]),
        // Whitespace around separators; parameter names are case-insensitive.
        Case(header: ["  infer ;  DUR = 9.5 ; desc=gpu  ,post;dur=1"],
             expected: [.init(name: "infer", duration: 9.5, description: "gpu"), .init(name: "post", duration: 1)]),
        // The first of duplicate parameters wins.
        Case(header: ["model;dur=1;dur=2"], expected: [.init(name: "model", duration: 1)]),
        // A non-numeric dur is treated as missing.
        Case(header: ["model;dur=fast"], expected: [.init(name: "model")]),
        // Garbage is skipped to the next comma, good metrics survive.
        Case(header: ["@@@, model;dur=4, ;;, =x"], expected: [.init(name: "model", duration: 4)]),
        Case(header: ["model;dur=4 trailing junk, pre;dur=1"], expected: [.init(name: "pre", duration: 1)]),
        // Unterminated quote: the metric is dropped, no crash.
        Case(header: [#"model;desc="oops;dur=3"#], expected: [.init(name: "model")]),
        Case(header: [""], expected: []),
        Case(header: [",,,"], expected: []),
    ]

    @Test(arguments: cases)
    func parses(_ c: Case) {
        #expect(ServerTiming.parse(c.header) == c.expected)
    }

    @Test func randomBytesNeverCrash() {
        var generator = SplitMix64(seed: 42)
        let alphabet = Array(#"abc;=,"\ 1.5dur desc"#.utf8)
        for _ in 0..<2000 {
            let length = Int(generator.next() % 40)
            let bytes = (0..<length).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] }
            _ = ServerTiming.parse(String(decoding: bytes, as: UTF8.self))
        }
    }

    @Test func compactFormRoundTrips() {
        let metrics = ServerTiming.parse("preprocess;dur=12.5, model;dur=41, cache")
        let compact = ServerTiming.compact(metrics)
        #expect(compact == "preprocess=12.5;model=41.0;cache")
        #expect(ServerTiming.parseCompact(Substring(compact)).map(\.name) == ["preprocess", "model", "cache"])
        #expect(ServerTiming.parseCompact(Substring(compact)).map(\.duration) == [12.5, 41, nil])
    }
}
