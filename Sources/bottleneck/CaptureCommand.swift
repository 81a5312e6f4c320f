import ArgumentParser
import BottleneckCapture
import Foundation

/// `bottleneck capture`: packet-level timing from captures people already have.
struct CaptureCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "capture",
        abstract: "Analyze packet captures: HTTP exchange timings per leg.",
        subcommands: [Analyze.self]
    )

    struct Analyze: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Per-exchange wire timings (t1..t4), per-leg latency percentiles, handshake RTT and retransmits from a .pcap file.",
            discussion: """
                Reads pcap or pcapng files from tcpdump or Wireshark (Ethernet, Linux cooked SLL/SLL2, raw IP). \
                t1/t2 are the first/last request byte, t3/t4 the first/last response byte, as seen where the capture sat. \
                A headers-only capture (tcpdump -s 1024) is enough: body sizes come from TCP sequence numbers.

                Example: bottleneck capture analyze run.pcap --ports 80,8000 --json > exchanges.jsonl
                """
        )

        @Argument(help: "The capture file.")
        var file: String

        @Option(help: "Server ports to analyze, comma separated (default: every port that answered HTTP).")
        var ports: String?

        @Option(help: "A BPF filter applied while reading, e.g. 'host 10.0.0.5'.")
        var filter: String?

        @Flag(help: "Print every exchange as JSON Lines instead of the summary.")
        var json = false

        func run() throws {
            var portSet: Set<UInt16> = []
            if let ports {
                for part in ports.split(separator: ",") {
                    guard let port = UInt16(part.trimmingCharacters(in: .whitespaces)), port > 0 else {
                        throw ValidationError("--ports \"\(ports)\": give port numbers separated by commas, like 80,8000")
                    }
                    portSet.insert(port)
                }
            }
            let analysis = try analyzeFile(path: file, ports: portSet, filter: filter)
            if json {
                try CaptureAnalyzeCommandOutput.writeJSONLines(analysis, toFileDescriptor: 1)
            } else {
                print(CaptureAnalyzeCommandOutput.text(analysis, file: file), terminator: "")
            }
        }
    }
}
