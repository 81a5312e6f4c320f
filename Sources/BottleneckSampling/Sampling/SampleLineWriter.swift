#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes `samples.jsonl`: one JSON object per line, appended as samples are taken, so a
/// run killed mid-way still leaves every sample taken so far.
///
/// Written by hand into one reusable byte buffer rather than with `JSONEncoder`: encoding
/// ~60 records per tick with Foundation would cost more CPU than reading `/proc`.
///
/// This file holds the byte-level part (buffer, keys, numbers, strings); the lines
/// themselves are written from the typed records by `write(_:)` (`SampleLineWriter+Records.swift`).
/// The format (version 1: record types, fields, units, cadence) is in docs/run-directory.md,
/// "samples.jsonl"; a field added here is added there.
final class SampleLineWriter {
    private let fd: Int32
    /// The lines of the current tick, written out by `flush()`. A raw buffer rather than
    /// `[UInt8]`: appending to an array checks uniqueness and capacity for every byte, which
    /// was a third of the sampler's own (user) CPU; here `reserve` checks once per value.
    private var buffer: UnsafeMutablePointer<UInt8>
    private var capacity = 64 * 1024
    private var count = 0
    private var needsComma = false
    private(set) var linesWritten = 0
    private(set) var writeError: SamplerError?

    init(path: String) throws(SamplerError) {
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd < 0 {
            throw SamplerError(.badConfiguration, "\(path): cannot write samples: \(String(cString: strerror(errno)))", errno: errno)
        }
        buffer = .allocate(capacity: capacity)
    }

    deinit {
        close(fd)
        buffer.deallocate()
    }

    // MARK: raw bytes

    /// Makes room for `n` more bytes.
    @inline(__always)
    private func reserve(_ n: Int) {
        if count + n > capacity { grow(to: count + n) }
    }

    private func grow(to needed: Int) {
        var larger = capacity * 2
        while larger < needed { larger *= 2 }
        let moved = UnsafeMutablePointer<UInt8>.allocate(capacity: larger)
        moved.update(from: buffer, count: count)
        buffer.deallocate()
        buffer = moved
        capacity = larger
    }

    /// One byte; the caller has reserved room.
    @inline(__always)
    private func put(_ byte: UInt8) {
        buffer[count] = byte
        count += 1
    }

    private func append(_ byte: UInt8) {
        reserve(1)
        put(byte)
    }

    private func append(_ text: StaticString) {
        text.withUTF8Buffer { append($0) }
    }

    private func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        reserve(bytes.count)
        if let base = bytes.baseAddress { (buffer + count).update(from: base, count: bytes.count) }
        count += bytes.count
    }

    // MARK: building one line

    func begin(_ type: StaticString, t: UInt64) {
        append(UInt8(ascii: "{"))
        needsComma = false
        field("type", type)
        field("t", t)
    }

    func end() {
        reserve(2)
        put(UInt8(ascii: "}"))
        put(UInt8(ascii: "\n"))
        linesWritten += 1
    }

    private func key(_ name: StaticString) {
        name.withUTF8Buffer { name in
            reserve(name.count + 4)
            if needsComma { put(UInt8(ascii: ",")) }
            put(UInt8(ascii: "\""))
            (buffer + count).update(from: name.baseAddress!, count: name.count)
            count += name.count
            put(UInt8(ascii: "\""))
            put(UInt8(ascii: ":"))
        }
        needsComma = true
    }

    private func key(_ name: String) {
        if needsComma { append(UInt8(ascii: ",")) }
        needsComma = true
        appendString(name)
        append(UInt8(ascii: ":"))
    }

    private func appendDecimal(_ value: UInt64) {
        reserve(20)   // UInt64.max has 20 digits
        if value == 0 { put(UInt8(ascii: "0")); return }
        var digits = 0
        var v = value
        while v > 0 { v /= 10; digits += 1 }
        v = value
        var position = count + digits
        while v > 0 {
            position -= 1
            buffer[position] = UInt8(48 + v % 10)
            v /= 10
        }
        count += digits
    }

    private func appendDouble(_ value: Double) {
        guard value.isFinite else { append("null"); return }
        // Six decimals are plenty for cores and fractions; integral values print short.
        let scaled = (value * 1_000_000).rounded()
        if abs(scaled) < 9e15 {
            let negative = scaled < 0
            let magnitude = UInt64(abs(scaled))
            if negative { append(UInt8(ascii: "-")) }
            appendDecimal(magnitude / 1_000_000)
            var fraction = magnitude % 1_000_000
            if fraction != 0 {
                reserve(7)
                put(UInt8(ascii: "."))
                var divisor: UInt64 = 100_000
                while fraction != 0 {
                    put(UInt8(48 + fraction / divisor))
                    fraction %= divisor
                    divisor /= 10
                }
            }
        } else {
            var text = String(value)
            text.withUTF8 { append($0) }
        }
    }

    private func appendString(_ value: String) {
        var value = value
        value.withUTF8 { utf8 in
            // Worst case every byte becomes a \u00XX escape.
            reserve(utf8.count * 6 + 2)
            put(UInt8(ascii: "\""))
            for byte in utf8 {
                switch byte {
                case UInt8(ascii: "\""): put(92); put(34)
                case UInt8(ascii: "\\"): put(92); put(92)
                case 0..<0x20:
                    let hex: StaticString = "0123456789abcdef"
                    put(92); put(UInt8(ascii: "u")); put(48); put(48)
                    hex.withUTF8Buffer { put($0[Int(byte >> 4)]); put($0[Int(byte & 15)]) }
                default: put(byte)
                }
            }
            put(UInt8(ascii: "\""))
        }
    }

    func field(_ name: StaticString, _ value: UInt64) { key(name); appendDecimal(value) }
    func field(_ name: StaticString, _ value: Int) {
        key(name)
        if value < 0 { append(UInt8(ascii: "-")) }
        appendDecimal(value.magnitude.toUInt64)
    }
    func field(_ name: StaticString, _ value: Int32) { field(name, Int(value)) }
    func field(_ name: StaticString, _ value: Double) { key(name); appendDouble(value) }
    func field(_ name: StaticString, _ value: String) { key(name); appendString(value) }
    func field(_ name: StaticString, _ value: StaticString) {
        key(name)
        append(UInt8(ascii: "\""))
        append(value)
        append(UInt8(ascii: "\""))
    }
    func field(_ name: StaticString, _ value: UInt64?) {
        key(name)
        if let value { appendDecimal(value) } else { append("null") }
    }
    func field(_ name: StaticString, _ value: Double?) {
        key(name)
        if let value { appendDouble(value) } else { append("null") }
    }
    /// A field whose name is computed (TCP counter names), used sparingly.
    func field(named name: String, _ value: UInt64) { key(name); appendDecimal(value) }
    func field(named name: String, _ value: Double) { key(name); appendDouble(value) }

    func array(_ name: StaticString, _ values: [Double]) {
        key(name)
        append(UInt8(ascii: "["))
        for (i, v) in values.enumerated() {
            if i > 0 { append(UInt8(ascii: ",")) }
            appendDouble(v)
        }
        append(UInt8(ascii: "]"))
    }

    func array(_ name: StaticString, _ values: [UInt64]) {
        key(name)
        append(UInt8(ascii: "["))
        for (i, v) in values.enumerated() {
            if i > 0 { append(UInt8(ascii: ",")) }
            appendDecimal(v)
        }
        append(UInt8(ascii: "]"))
    }

    /// A nested object; `body` adds its fields.
    func object(_ name: StaticString, _ body: () -> Void) {
        key(name)
        append(UInt8(ascii: "{"))
        needsComma = false
        body()
        append(UInt8(ascii: "}"))
        needsComma = true
    }

    /// An array of objects, `body` called once per element with the element already opened.
    func objects<T>(_ name: StaticString, _ elements: [T], _ body: (T) -> Void) {
        key(name)
        append(UInt8(ascii: "["))
        for (i, element) in elements.enumerated() {
            if i > 0 { append(UInt8(ascii: ",")) }
            append(UInt8(ascii: "{"))
            needsComma = false
            body(element)
            append(UInt8(ascii: "}"))
        }
        append(UInt8(ascii: "]"))
        needsComma = true
    }

    /// Writes the buffered lines to the file (once per tick).
    func flush() {
        var offset = 0
        while offset < count {
            let n = systemWrite(fd, buffer + offset, count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                writeError = SamplerError(.unreadable, "writing samples failed: \(String(cString: strerror(errno)))", errno: errno)
                break
            }
            offset += n
        }
        count = 0
    }
}

extension UInt {
    fileprivate var toUInt64: UInt64 { UInt64(self) }
}

/// `write(2)`, under a name of its own: inside the writer `write` names the record writers.
private func systemWrite(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    Glibc.write(fd, bytes, count)
    #else
    Darwin.write(fd, bytes, count)
    #endif
}
