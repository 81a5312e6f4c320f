import CPcap
import Foundation
import Synchronization

/// Live capture for the duration of a run: a dedicated thread (never the cooperative pool)
/// blocks in libpcap, writes each packet to the run's raw capture file and feeds an
/// `ExchangeAnalyzer`; `stop()` ends the thread and returns the analysis with `pcap_stats` drops.
///
/// Sendable because the source, dumper and analyzer are touched only by the capture thread
/// between `start()` and the end of `stop()`, which joins that thread before reading them.
public final class LiveCapture: @unchecked Sendable {
    private let source: PacketSource
    private let dumper: PacketDumper?
    private let analyzer: ExchangeAnalyzer
    private let stopRequested = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)
    private let started = Atomic<Bool>(false)
    private let errorBox = Mutex<CaptureError?>(nil)
    /// Where the raw packets go (`capture.pcap` in the run directory), if anywhere.
    public let dumpPath: String?

    /// Opens the device now (so privilege problems surface before load starts).
    /// - Parameters:
    ///   - device: interface, e.g. `lo` or `any`.
    ///   - ports: server ports to capture and analyze (front and back legs).
    ///   - full: keep whole packets (`--capture-full`); default keeps headers only.
    ///   - dumpPath: raw capture file to write (mode 0600), readable by Wireshark.
    public init(device: String, ports: Set<UInt16>, full: Bool = false, dumpPath: String?, bufferSize: Int = 64 << 20) throws {
        let filter = ports.isEmpty ? "tcp" : "tcp and (" + ports.sorted().map { "port \($0)" }.joined(separator: " or ") + ")"
        self.source = try PacketSource.live(
            device: device, filter: filter,
            snapLength: full ? SnapLength.full : SnapLength.headersOnly, bufferSize: bufferSize)
        let source = self.source
        self.dumper = try dumpPath.map { try PacketDumper(source: source, path: $0) }
        self.dumpPath = dumpPath
        self.analyzer = ExchangeAnalyzer(linkType: source.linkType, serverPorts: ports)
    }

    /// Starts the capture thread; call once.
    public func start() {
        guard !started.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let thread = Thread { [self] in
            run()
            finished.signal()
        }
        thread.name = "bottleneck-capture"
        thread.start()
    }

    private func run() {
        // Without immediate mode the kernel hands packets over a block at a time: after a stop
        // is requested, keep reading until a read times out, which means every packet captured
        // before the stop has been delivered (the last block is retired at the timeout).
        while true {
            do {
                let (read, header, data) = try source.readRaw()
                switch read {
                case .packet(let packet):
                    if let dumper, let header, let data { dumper.write(header, data) }
                    analyzer.feed(packet)
                case .timeout:
                    if stopRequested.load(ordering: .acquiring) { return }
                case .end:
                    return
                }
            } catch let error as CaptureError {
                errorBox.withLock { $0 = error }
                return
            } catch {
                return
            }
        }
    }

    /// Stops the capture, waits for its thread, flushes the file and returns the analysis.
    public func stop() -> CaptureAnalysis {
        stopRequested.store(true, ordering: .releasing)
        if started.load(ordering: .acquiring) {
            // Let the thread drain the kernel's buffer; a busy link that never times out is cut after 2 s.
            if finished.wait(timeout: .now() + 2) == .timedOut {
                source.breakLoop()
                finished.wait()
            }
        }
        dumper?.flush()
        let stats = try? source.stats()
        let error = errorBox.withLock { $0 }
        return analyzer.finish(captureStats: stats, readError: error)
    }
}

/// A `pcap_dump` file owned by this object, created with mode 0600 before any byte is written.
final class PacketDumper {
    private let dumper: OpaquePointer

    init(source: PacketSource, path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            let e = errno
            throw CaptureError(.dumpFailed, "cannot create \(path): \(String(cString: strerror(e))); check the run directory is writable")
        }
        // An existing file keeps its mode on O_TRUNC: make it private too.
        _ = fchmod(fd, 0o600)
        guard let file = fdopen(fd, "wb") else {
            close(fd)
            throw CaptureError(.dumpFailed, "cannot open \(path) for writing")
        }
        guard let d = pcap_dump_fopen(source.handle, file) else {
            fclose(file)
            throw CaptureError(.dumpFailed, "cannot write a capture header to \(path)", pcapMessage: String(cString: pcap_geterr(source.handle)))
        }
        dumper = d
    }

    deinit { pcap_dump_close(dumper) }

    @inline(__always)
    func write(_ header: UnsafePointer<pcap_pkthdr>, _ data: UnsafePointer<UInt8>) {
        pcap_dump(UnsafeMutableRawPointer(dumper).assumingMemoryBound(to: UInt8.self), header, data)
    }

    func flush() { _ = pcap_dump_flush(dumper) }
}

extension PacketSource {
    /// Packets copied out of libpcap on a dedicated thread, for async consumers. The thread ends
    /// at end of file, on a read error, or when the stream's consumer goes away.
    /// The source must not be used by anyone else while the stream runs.
    public func packets(bufferingNewest limit: Int = 65536) -> AsyncThrowingStream<OwnedPacket, any Error> {
        let (stream, continuation) = AsyncThrowingStream<OwnedPacket, any Error>.makeStream(bufferingPolicy: .bufferingNewest(limit))
        let box = UncheckedSource(source: self)
        continuation.onTermination = { _ in box.source.breakLoop() }
        let thread = Thread {
            do {
                while let p = try box.source.nextPacket() {
                    if case .terminated = continuation.yield(OwnedPacket(p)) { break }
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        thread.name = "bottleneck-packets"
        thread.start()
        return stream
    }
}

/// Hands the source to the reading thread; only `breakLoop()` is called from elsewhere.
private struct UncheckedSource: @unchecked Sendable {
    let source: PacketSource
}
