import Foundation
import Synchronization

/// Writes request records to `requests.csv` on the run's `BackgroundWorker`, so
/// formatting and disk writes never run on an event loop and never delay its timers.
/// Event loops hand over batches; the worker formats them as they come, which keeps
/// memory flat however long the run is.
///
/// The format is documented in `docs/run-directory.md`; every column is a plain number
/// or a short token so spreadsheets, pandas and DuckDB read it without options.
public final class RequestRecordWriter: RequestRecordSink, @unchecked Sendable {
    // @unchecked: `fd` and `out` are touched only by jobs on the serial background worker
    // (and by `close()` after the worker has finished); `written` is atomic.

    /// The CSV header, in column order.
    public static let columns = [
        "step", "request_id", "intended_ns", "dispatched_ns", "sent_ns", "first_byte_ns", "last_byte_ns",
        "latency_us", "service_us", "status", "error", "bytes_out", "bytes_in", "payload_class", "payload_bytes",
        "pixels", "connection_id", "local_port", "server_timing",
    ]

    private let fd: Int32
    private let worker: BackgroundWorker
    private let payloads: [PayloadDescriptor]
    private let runTag: String
    private var out: [UInt8] = []
    private let written = Atomic<UInt64>(0)

    /// What the records say about each payload of the pool, by index.
    public struct PayloadDescriptor: Sendable {
        public var payloadClass: String
        public var bytes: Int
        public var pixels: Int
        public init(payloadClass: String, bytes: Int, pixels: Int) {
            self.payloadClass = payloadClass
            self.bytes = bytes
            self.pixels = pixels
        }
    }

    public init(path: String, runTag: String, payloads: [PayloadDescriptor], worker: BackgroundWorker) throws {
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw LoadError(.output, "cannot create \(path) (\(String(cString: strerror(errno)))); check that the run directory is writable")
        }
        self.worker = worker
        self.payloads = payloads
        self.runTag = runTag
        out.reserveCapacity(1 << 20)
        out.append(contentsOf: (Self.columns.joined(separator: ",") + "\n").utf8)
        flush()
    }

    public func submit(_ batch: [RequestRecord]) {
        worker.submit(job(for: batch))
    }

    public func trySubmit(_ batch: [RequestRecord]) -> Bool {
        worker.trySubmit(job(for: batch))
    }

    private func job(for batch: [RequestRecord]) -> @Sendable () -> Void {
        { [self] in
            for record in batch { format(record, into: &out) }
            written.add(UInt64(batch.count), ordering: .relaxed)
            if out.count > 256 * 1024 { flush() }
        }
    }

    /// Records written so far.
    public var recordsWritten: UInt64 { written.load(ordering: .relaxed) }

    /// Writes what is buffered and closes the file. Call after the worker has finished.
    public func close() {
        flush()
        fsync(fd)
        _ = Glibc.close(fd)
    }

    private func flush() {
        out.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let n = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                if n < 0 { if errno == EINTR { continue }; break }
                offset += n
            }
        }
        out.removeAll(keepingCapacity: true)
    }

    private func format(_ r: RequestRecord, into out: inout [UInt8]) {
        let comma = UInt8(ascii: ",")
        out.appendDecimal(Int64(r.step)); out.append(comma)
        if r.sequence > 0 {
            out.append(contentsOf: runTag.utf8); out.append(UInt8(ascii: "-"))
            out.appendDecimal(Int64(r.loop)); out.append(UInt8(ascii: "-"))
            out.appendDecimal(Int64(r.sequence))
        }
        out.append(comma)
        out.appendDecimal(Int64(r.intended)); out.append(comma)
        out.appendDecimal(Int64(r.dispatched)); out.append(comma)
        out.appendDecimal(Int64(r.sent)); out.append(comma)
        out.appendDecimal(Int64(r.firstByte)); out.append(comma)
        out.appendDecimal(Int64(r.lastByte)); out.append(comma)
        if r.error == .none {
            out.appendMicroseconds(r.latency); out.append(comma)
            out.appendMicroseconds(r.serviceTime); out.append(comma)
        } else {
            out.append(comma); out.append(comma)
        }
        out.appendDecimal(Int64(r.status)); out.append(comma)
        out.append(contentsOf: r.error.label.utf8); out.append(comma)
        out.appendDecimal(Int64(r.bytesOut)); out.append(comma)
        out.appendDecimal(Int64(r.bytesIn)); out.append(comma)
        if r.payloadIndex >= 0, Int(r.payloadIndex) < payloads.count {
            let p = payloads[Int(r.payloadIndex)]
            out.append(contentsOf: p.payloadClass.utf8); out.append(comma)
            out.appendDecimal(Int64(p.bytes)); out.append(comma)
            out.appendDecimal(Int64(p.pixels)); out.append(comma)
        } else {
            out.append(comma); out.appendDecimal(0); out.append(comma); out.appendDecimal(0); out.append(comma)
        }
        out.appendDecimal(Int64(r.connectionID)); out.append(comma)
        out.appendDecimal(Int64(r.localPort)); out.append(comma)
        if let timing = r.serverTiming {
            // Parsed by the W3C grammar, stored compactly: name=ms;name=ms (no commas or quotes).
            out.append(contentsOf: ServerTiming.compact(ServerTiming.parse(timing)).utf8)
        }
        out.append(UInt8(ascii: "\n"))
    }
}

extension Array where Element == UInt8 {
    @inline(__always)
    mutating func appendDecimal(_ value: Int64) {
        if value < 0 { append(UInt8(ascii: "-")) }
        var v = value.magnitude
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        Swift.withUnsafeMutableBytes(of: &digits) { scratch in
            var i = 24
            repeat {
                i -= 1
                scratch[i] = UInt8(truncatingIfNeeded: v % 10) &+ 0x30
                v /= 10
            } while v > 0
            append(contentsOf: scratch[i..<24])
        }
    }

    /// Nanoseconds as microseconds with three decimals ("1234.567").
    @inline(__always)
    mutating func appendMicroseconds(_ nanoseconds: UInt64) {
        appendDecimal(Int64(nanoseconds / 1000))
        append(UInt8(ascii: "."))
        let fraction = nanoseconds % 1000
        if fraction < 100 { append(UInt8(ascii: "0")) }
        if fraction < 10 { append(UInt8(ascii: "0")) }
        appendDecimal(Int64(fraction))
    }
}
