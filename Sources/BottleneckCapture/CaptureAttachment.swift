import Foundation
import BottleneckCore
import Synchronization

/// Live packet capture during `bottleneck load --capture IFACE`: one `LiveCapture` per
/// interface, started before the first step, stopped after the last. Writes the raw
/// packets (`capture.pcap`, or `capture-IFACE.pcap` for the second and later interfaces,
/// mode 0600), every HTTP exchange with its wire times (`capture-exchanges.jsonl`), and a
/// summary per leg with the capture's own drop counters (`capture-summary.json`). When the
/// front leg (the target's port) and a back leg were both captured, the summary also carries
/// their join and the per-request proxy time (`legJoin`, see `LegJoinSummary`).
///
/// Without the privilege to capture, the run goes on without it and says what is lost.
public final class CaptureAttachment: RunAttachment {
    public let name = "capture"
    public let interfaces: [String]
    public let ports: Set<UInt16>
    public let full: Bool
    /// The port the load generator connects to: exchanges on it are the front leg, exchanges on
    /// the other `ports` the back leg(s). nil joins nothing.
    public let frontPort: UInt16?
    private let captures = Mutex<[(String, LiveCapture)]>([])

    public init(interfaces: [String], ports: Set<UInt16>, full: Bool, frontPort: UInt16? = nil) {
        self.interfaces = interfaces
        self.ports = ports
        self.full = full
        self.frontPort = frontPort
    }

    public func start(directory: RunDirectory) throws -> [String] {
        var notes: [String] = []
        var opened: [(String, LiveCapture)] = []
        for (index, interface) in interfaces.enumerated() {
            let file = index == 0 ? RunFile.capture.rawValue : "capture-\(interface).pcap"
            do {
                let capture = try LiveCapture(device: interface, ports: ports, full: full, dumpPath: directory.file(file))
                opened.append((interface, capture))
            } catch let error as CaptureError where error.code == .permissionDenied {
                notes.append("capture: \(error.description); the run continues without it")
            }
        }
        for (_, capture) in opened { capture.start() }
        captures.withLock { $0 = opened }
        if !opened.isEmpty {
            notes.append("capture: recording \(opened.map(\.0).joined(separator: ", ")) (\(full ? "whole packets" : "headers only; --capture-full keeps bodies"))")
        }
        return notes
    }

    public func stop(directory: RunDirectory) -> [String] {
        let opened = captures.withLock { current -> [(String, LiveCapture)] in
            let taken = current
            current = []
            return taken
        }
        var notes: [String] = []
        var summaries: [CaptureSummary.Interface] = []
        var exchanges: [HTTPExchange] = []
        for (interface, capture) in opened {
            let analysis = capture.stop()
            exchanges.append(contentsOf: analysis.exchanges)
            let drops = analysis.captureStats.map { $0.droppedByKernel + $0.droppedByInterface } ?? 0
            summaries.append(CaptureSummary.Interface(interface: interface, packets: analysis.packets.packets, drops: drops,
                                                      stats: analysis.captureStats, legs: analysis.legs, readError: analysis.readError))
            if drops > 0 {
                notes.append("capture: \(drops) packets on \(interface) were dropped by the kernel; wire timings for some requests are missing (raise the buffer or capture headers only)")
            }
        }
        guard !opened.isEmpty else { return notes }
        let merged = CaptureAnalysis(exchanges: exchanges.sorted { ($0.t1 ?? 0) < ($1.t1 ?? 0) }, connections: [],
                                     packets: PacketCounters(), captureStats: nil, readError: nil)
        let legJoin = frontPort.flatMap { LegJoinSummary(exchanges: merged.exchanges, frontPort: $0) }
        if let legJoin { notes.append(Self.note(legJoin)) }
        do {
            try CaptureAnalyzeCommandOutput.writeJSONLines(merged, toFile: directory.file(RunFile.captureExchanges.rawValue))
            try directory.write(CaptureSummary(interfaces: summaries, ports: ports.sorted(), full: full, legJoin: legJoin),
                                to: RunFile.captureSummary.rawValue)
        } catch {
            notes.append("capture: could not write the capture files: \(error)")
        }
        return notes
    }

    /// One line for the user: how many requests were joined across the legs and what the proxy added.
    static func note(_ join: LegJoinSummary) -> String {
        let legs = ":\(join.frontPort) → " + join.backPorts.map { ":\($0)" }.joined(separator: ",")
        guard let proxy = join.proxyTime else {
            return "capture: no request could be timed on both legs \(legs) (\(join.joined) of \(join.frontExchanges) joined, \(join.excluded) incomplete)"
        }
        var line = "capture: proxy time on \(legs): p50 \(CaptureAnalyzeCommandOutput.duration(proxy.p50)), "
            + "p99 \(CaptureAnalyzeCommandOutput.duration(proxy.p99)) over \(proxy.count) of \(join.frontExchanges) requests"
        if join.backLongerThanFront > 0 {
            line += "; \(join.backLongerThanFront) joined with a back leg longer than the front (a wrong join?)"
        }
        return line
    }
}

/// `capture-summary.json`: what each interface saw and dropped, per leg (server port).
public struct CaptureSummary: Sendable, Codable {
    public struct Interface: Sendable, Codable {
        public var interface: String
        public var packets: UInt64
        public var drops: UInt64
        public var stats: CaptureStats?
        public var legs: [LegSummary]
        public var readError: String?
    }

    public var schema = "bottleneck.capture/v1"
    public var interfaces: [Interface]
    public var ports: [UInt16]
    public var full: Bool
    /// The front leg joined to the back leg(s), with the per-request proxy time (ns); absent
    /// (not null) when the run did not capture both legs. Shape documented on `LegJoinSummary`.
    public var legJoin: LegJoinSummary?
}
