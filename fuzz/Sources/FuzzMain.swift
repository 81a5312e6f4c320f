import BottleneckCapture
import BottleneckCore
import BottleneckDiagnosis
import BottleneckLoad
import BottleneckReport
import BottleneckSampling
import CFuzzer
import Foundation
import Logging
import NIOCore
import NIOEmbedded

/// The libFuzzer driver behind `make fuzz` (fuzz/README.md): one executable, `FUZZ_TARGET`
/// picks the parser, the libFuzzer options follow on the command line. A target's input is
/// whatever the tool reads from outside; it must come back with a result or an error, never
/// a trap, a hang or unbounded memory.
struct FuzzTarget: Sendable {
    let name: String
    let run: @Sendable ([UInt8]) -> Void
}

let targets: [FuzzTarget] = [
    // The load engine's response framer, over every read size a connection may see.
    FuzzTarget(name: "http-response") { bytes in
        let readSize = Int(bytes.first ?? 0) + 1
        let body = Array(bytes.dropFirst())
        _ = HTTPResponseScanner.frameResponses(in: body, readSize: readSize)
        _ = HTTPResponseScanner.frameResponses(in: body, readSize: body.count, requestsWereHead: readSize % 2 == 0)
    },
    FuzzTarget(name: "server-timing") { bytes in
        let text = String(decoding: bytes, as: UTF8.self)
        _ = ServerTiming.compact(ServerTiming.parse(text))
        _ = ServerTiming.parseCompact(Substring(text))
    },
    // pcap and pcapng through libpcap, link-layer decoding, TCP reassembly and HTTP exchanges.
    FuzzTarget(name: "pcap") { bytes in
        withInputFile(bytes, suffix: "pcap") { path in _ = try? analyzeFile(path: path) }
    },
    // /proc and cgroup files: the first byte picks the parser.
    FuzzTarget(name: "proc") { bytes in
        _ = try? ProcParse.parse(selector: bytes.first ?? 0, text: Substring(String(decoding: bytes.dropFirst(), as: UTF8.self)))
    },
    FuzzTarget(name: "rules") { bytes in
        _ = try? RuleFile.parse(text: String(decoding: bytes, as: UTF8.self), source: "fuzz.yaml", catalog: EvidenceCatalog.catalog)
    },
    // A `when:` expression alone, in a rule that is otherwise valid.
    FuzzTarget(name: "rule-expression") { bytes in
        let expression = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            .map { "    " + $0 }.joined(separator: "\n")
        let yaml = """
            - id: fuzz
              culprit: load-generator
              cause: client-cpu
              description: "fuzz"
              when: |-
            \(expression)
              severity: {warn: 0.9, high: 0.95, critical: 0.98}
              explain: "{client.cpu_cores:.2f}"

            """
        _ = try? RuleFile.parse(text: yaml, source: "fuzz.yaml", catalog: EvidenceCatalog.catalog)
    },
    FuzzTarget(name: "probe-spec") { bytes in
        _ = try? ProbeSpec.parse(String(decoding: bytes, as: UTF8.self), source: "fuzz.yaml")
    },
    // One connection's bytes through the agent's pipeline: NIOHTTP1, its handler, its router.
    FuzzTarget(name: "agent-http") { bytes in
        // POST /v1/session restarts sampling on another thread, which an EmbeddedChannel cannot host.
        guard !bytes.contains(subsequence: Array("session".utf8)) else { return }
        let server = AgentServer(sampler: AgentSampler(), token: agentToken, logger: Logger(label: "fuzz", factory: { _ in SwiftLogNoOpLogHandler() }))
        let channel = EmbeddedChannel()
        defer { _ = try? channel.finish() }
        do {
            try server.addHTTPHandlers(to: channel.pipeline.syncOperations)
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9)).wait()
            try channel.writeInbound(channel.allocator.buffer(bytes: bytes))
        } catch {
            return
        }
        channel.embeddedEventLoop.run()
        while (try? channel.readOutbound(as: ByteBuffer.self)) != nil {}
    },
    // samples.jsonl / samples-agent.jsonl replayed into step aggregates.
    FuzzTarget(name: "samples") { bytes in
        withInputFile(bytes, suffix: "jsonl") { path in try? SampleLineReplay.replay(path: path) }
    },
    // A gRPC server's replies: the framing, ModelMetadataResponse, ModelStatisticsResponse (and
    // its REST JSON form), all written by hand from the wire format.
    FuzzTarget(name: "grpc-reply") { bytes in
        let message = GRPCFraming.firstMessage(bytes) ?? bytes
        _ = try? KServeV2GRPCMessages.decodeMetadata(message)
        _ = try? ModelStatisticsSnapshot(protobuf: message)
        _ = try? ModelStatisticsSnapshot(json: bytes)
    },
    // latency.hlog: the report's per-step distributions, and each histogram decoded alone.
    FuzzTarget(name: "hlog") { bytes in
        let text = String(decoding: bytes, as: UTF8.self)
        _ = try? RunReport.distributions(hlog: text, stepNames: ["step 1", "step 2"])
        for line in text.split(whereSeparator: \.isNewline) {
            _ = try? HdrHistogramEncoding.decodeCompressedBase64(line.split(separator: ",").last ?? line)
        }
    },
]

let agentToken = try? AgentToken(value: "fuzz-token-0123456789abcdef")

/// Where path-reading parsers find their input: one file per process, on tmpfs when there is one.
let inputDirectory = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()

func withInputFile(_ bytes: [UInt8], suffix: String, _ body: (String) -> Void) {
    let path = "\(inputDirectory)/bottleneck-fuzz-\(getpid()).\(suffix)"
    guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { fatalError("cannot write \(path)") }
    body(path)
}

extension Array where Element == UInt8 {
    func contains(subsequence: [UInt8]) -> Bool {
        guard count >= subsequence.count else { return false }
        return (0...(count - subsequence.count)).contains { self[$0..<($0 + subsequence.count)].elementsEqual(subsequence) }
    }
}

let selected: FuzzTarget = {
    let name = ProcessInfo.processInfo.environment["FUZZ_TARGET"] ?? ""
    guard let target = targets.first(where: { $0.name == name }) else {
        FileHandle.standardError.write(Data("FUZZ_TARGET must be one of: \(targets.map(\.name).joined(separator: " "))\n".utf8))
        exit(2)
    }
    return target
}()

/// The executable's entry point (SwiftPM renames an executable's `main` to `<module>_main`):
/// libFuzzer's driver, calling the selected target with each input.
@_cdecl("BottleneckFuzz_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    if CommandLine.arguments.dropFirst().first == "--list" {
        print(targets.map(\.name).joined(separator: "\n"))
        return 0
    }
    _ = selected
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in
        selected.run(size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size)))
        return 0
    }
}
