import Foundation
import BottleneckCore
import Synchronization

/// Writes request records to `requests.csv`. The event loop that hands over a batch
/// formats it (about 60 ns a record, through a raw buffer with the payload, request-id and
/// error fields formatted once); the run's `BackgroundWorker` writes the bytes, so a disk
/// that stalls never stalls an event loop. Measured against formatting on the worker: a
/// thread at nice 19 woken for every batch and preempted by every event-loop wake-up cost
/// the generator more CPU than the formatting it did (perf, closed loop against nginx).
/// Memory stays flat however long the run is: a batch's lines live until they are written.
///
/// The format is documented in `docs/run-directory.md`; every column is a plain number
/// or a short token so spreadsheets, pandas and DuckDB read it without options.
public final class RequestRecordWriter: RequestRecordSink, Sendable {
    /// The CSV header, in column order.
    public static let columns = [
        "step", "request_id", "intended_ns", "dispatched_ns", "sent_ns", "first_byte_ns", "last_byte_ns",
        "latency_us", "service_us", "status", "error", "bytes_out", "bytes_in", "payload_class", "payload_bytes",
        "pixels", "connection_id", "local_port", "server_timing",
    ]

    private let fd: Int32
    private let worker: BackgroundWorker
    /// The `payload_class,payload_bytes,pixels,` fields of each payload of the pool, by index,
    /// and of a request without a body (last), formatted once.
    private let payloadFields: [[UInt8]]
    /// `runTag-` , the request id's prefix.
    private let requestIDPrefix: [UInt8]
    /// Each error kind's label followed by a comma, by raw value.
    private let errorFields: [[UInt8]]
    private let written = Atomic<UInt64>(0)

    /// The longest a line can be apart from its payload, request-id prefix and Server-Timing
    /// fields: ten 20-digit numbers, two with a decimal part, seven smaller ones, the commas.
    private static let fixedLineBytes = 512
    /// A Server-Timing value longer than this is left out of its line.
    private static let longestServerTiming = 64 * 1024

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
        payloadFields = payloads.map { Array("\($0.payloadClass),\($0.bytes),\($0.pixels),".utf8) } + [Array(",0,0,".utf8)]
        requestIDPrefix = Array("\(runTag)-".utf8)
        errorFields = RequestErrorKind.allCases.map { Array("\($0.label),".utf8) }
        let header = FormattedLines(capacity: 512)
        let text = Array((Self.columns.joined(separator: ",") + "\n").utf8)
        text.withUnsafeBytes { header.room(for: $0.count).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        header.advance(by: text.count)
        write(header)
    }

    public func submit(_ batch: [RequestRecord]) {
        worker.submit(job(for: batch))
    }

    /// Formats the batch here and returns false, dropping the lines, when the worker's queue
    /// is busy at this instant (the caller offers the batch again later).
    public func trySubmit(_ batch: [RequestRecord]) -> Bool {
        worker.trySubmit(job(for: batch))
    }

    private func job(for batch: [RequestRecord]) -> @Sendable () -> Void {
        let lines = FormattedLines(capacity: batch.count * 160)
        for record in batch { append(record, to: lines) }
        let count = UInt64(batch.count)
        return { [self] in
            write(lines)
            written.add(count, ordering: .relaxed)
        }
    }

    /// Records written so far.
    public var recordsWritten: UInt64 { written.load(ordering: .relaxed) }

    /// Flushes the file to disk and closes it. Call after the worker has finished.
    public func close() {
        fsync(fd)
        _ = Glibc.close(fd)
    }

    private func write(_ lines: FormattedLines) {
        var offset = 0
        while offset < lines.count {
            let n = Glibc.write(fd, lines.start + offset, lines.count - offset)
            if n < 0 { if errno == EINTR { continue }; break }
            offset += n
        }
    }

    /// Formats one line at the end of `lines`.
    private func append(_ r: RequestRecord, to lines: FormattedLines) {
        let payload = payloadFields[r.payloadIndex >= 0 && Int(r.payloadIndex) < payloadFields.count - 1
                                    ? Int(r.payloadIndex) : payloadFields.count - 1]
        var timing = r.serverTiming.map { Array(ServerTiming.compact(ServerTiming.parse($0)).utf8) }
        if (timing?.count ?? 0) > Self.longestServerTiming { timing = nil }
        var line = LineCursor(lines.room(for: Self.fixedLineBytes + requestIDPrefix.count + payload.count + (timing?.count ?? 0)))
        line.decimal(Int64(r.step)); line.comma()
        if r.sequence > 0 {
            line.bytes(requestIDPrefix)
            line.decimal(UInt64(r.loop)); line.byte(UInt8(ascii: "-"))
            line.decimal(r.sequence)
        }
        line.comma()
        line.decimal(r.intended); line.comma()
        line.decimal(r.dispatched); line.comma()
        line.decimal(r.sent); line.comma()
        line.decimal(r.firstByte); line.comma()
        line.decimal(r.lastByte); line.comma()
        if r.error == .none {
            line.microseconds(r.latency); line.comma()
            line.microseconds(r.serviceTime); line.comma()
        } else {
            line.comma(); line.comma()
        }
        line.decimal(UInt64(r.status)); line.comma()
        line.bytes(errorFields[Int(r.error.rawValue)])
        line.decimal(UInt64(r.bytesOut)); line.comma()
        line.decimal(UInt64(r.bytesIn)); line.comma()
        line.bytes(payload)
        line.decimal(UInt64(r.connectionID)); line.comma()
        line.decimal(UInt64(r.localPort)); line.comma()
        // Parsed by the W3C grammar, stored compactly: name=ms;name=ms (no commas or quotes).
        if let timing { line.bytes(timing) }
        line.byte(UInt8(ascii: "\n"))
        lines.advance(by: line.count)
    }
}

/// Lines formatted by one thread and written by another; owns its memory.
private final class FormattedLines: @unchecked Sendable {
    // @unchecked: filled by the thread that formats it before it is handed to the worker,
    // then only read there.
    private var storage: UnsafeMutableRawBufferPointer
    private(set) var count = 0

    init(capacity: Int) {
        storage = .allocate(byteCount: max(capacity, 4_096), alignment: 8)
    }

    deinit { storage.deallocate() }

    var start: UnsafeRawPointer { UnsafeRawPointer(storage.baseAddress!) }

    /// Where the next `bytes` bytes go, growing the storage when they would not fit.
    func room(for bytes: Int) -> UnsafeMutableRawPointer {
        if count + bytes > storage.count {
            let grown = UnsafeMutableRawBufferPointer.allocate(byteCount: max(storage.count * 2, count + bytes), alignment: 8)
            grown.baseAddress!.copyMemory(from: storage.baseAddress!, byteCount: count)
            storage.deallocate()
            storage = grown
        }
        return storage.baseAddress! + count
    }

    func advance(by bytes: Int) { count += bytes }
}

/// Writes a line's bytes at a raw position; the caller has made room for them.
private struct LineCursor {
    private let start: UnsafeMutableRawPointer
    private var end: UnsafeMutableRawPointer

    init(_ start: UnsafeMutableRawPointer) {
        self.start = start
        end = start
    }

    var count: Int { end - start }

    @inline(__always)
    mutating func byte(_ value: UInt8) {
        end.storeBytes(of: value, as: UInt8.self)
        end += 1
    }

    @inline(__always)
    mutating func comma() { byte(UInt8(ascii: ",")) }

    @inline(__always)
    mutating func bytes(_ value: [UInt8]) {
        value.withUnsafeBytes { source in
            end.copyMemory(from: source.baseAddress!, byteCount: source.count)
            end += source.count
        }
    }

    @inline(__always)
    mutating func decimal(_ value: Int64) {
        if value < 0 { byte(UInt8(ascii: "-")) }
        decimal(value.magnitude)
    }

    /// Digits written from the last backwards, after counting them.
    @inline(__always)
    mutating func decimal(_ value: UInt64) {
        var digits = 1
        var rest = value
        while rest >= 10 { rest /= 10; digits += 1 }
        var position = end + digits
        rest = value
        repeat {
            position -= 1
            position.storeBytes(of: UInt8(truncatingIfNeeded: rest % 10) &+ 0x30, as: UInt8.self)
            rest /= 10
        } while rest > 0
        end += digits
    }

    /// Nanoseconds as microseconds with three decimals ("1234.567").
    @inline(__always)
    mutating func microseconds(_ nanoseconds: UInt64) {
        decimal(nanoseconds / 1000)
        byte(UInt8(ascii: "."))
        let fraction = nanoseconds % 1000
        byte(UInt8(truncatingIfNeeded: fraction / 100) &+ 0x30)
        byte(UInt8(truncatingIfNeeded: fraction / 10 % 10) &+ 0x30)
        byte(UInt8(truncatingIfNeeded: fraction % 10) &+ 0x30)
    }
}
