#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A forward reader over the bytes of a kernel text file, for the parsers that run on every
/// tick: numbers and keys are read in place, without building `String`s, `Substring`s or
/// arrays of fields.
///
/// Every read checks the bounds, so a truncated or garbled file makes a read return nil
/// (and the parser throw `.malformed`); nothing ever reads past the buffer.
struct TextCursor {
    let bytes: UnsafeBufferPointer<UInt8>
    private(set) var position: Int

    init(_ bytes: UnsafeBufferPointer<UInt8>, position: Int = 0) {
        self.bytes = bytes
        self.position = position
    }

    var isAtEnd: Bool { position >= bytes.count }

    /// The byte at the cursor, nil at the end.
    var current: UInt8? { position < bytes.count ? bytes[position] : nil }

    @inline(__always)
    static func isBlank(_ byte: UInt8) -> Bool { byte == 32 || byte == 9 }

    @inline(__always)
    static func isDigit(_ byte: UInt8) -> Bool { byte >= 48 && byte <= 57 }

    /// Skips spaces and tabs (not newlines).
    @inline(__always)
    mutating func skipBlanks() {
        while position < bytes.count, Self.isBlank(bytes[position]) { position += 1 }
    }

    /// Moves to `offset` (clamped to the end).
    mutating func move(to offset: Int) {
        position = min(max(offset, 0), bytes.count)
    }

    /// Moves one byte on.
    mutating func advance() {
        if position < bytes.count { position += 1 }
    }

    /// After blanks, a decimal number that ends at a blank, a newline or the end of the
    /// input; nil (cursor unspecified) when there is none, it overflows, or it runs into
    /// another character (`12x`).
    mutating func unsigned() -> UInt64? {
        skipBlanks()
        var value: UInt64 = 0
        var digits = 0
        while position < bytes.count {
            let byte = bytes[position]
            guard Self.isDigit(byte) else { break }
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(byte &- 48))
            if overflow1 || overflow2 { return nil }
            value = sum
            digits += 1
            position += 1
        }
        guard digits > 0, isAtFieldEnd else { return nil }
        return value
    }

    /// Like `unsigned()`, with an optional leading `-`.
    mutating func signed() -> Int64? {
        skipBlanks()
        var negative = false
        if current == UInt8(ascii: "-") {
            negative = true
            position += 1
        }
        guard let magnitude = unsigned(), magnitude <= UInt64(Int64.max) else { return nil }
        return negative ? -Int64(magnitude) : Int64(magnitude)
    }

    /// A non-negative decimal like `12.34` (PSI averages), ending at a field end; nil when
    /// there is none. Computed as an integer over a power of ten, both exact in a `Double`,
    /// so the one rounding gives the same value as `Double("12.34")`.
    mutating func decimal() -> Double? {
        var mantissa: UInt64 = 0
        var digits = 0
        var fractionDigits = 0
        var sawPoint = false
        while let byte = current {
            if byte == UInt8(ascii: "."), !sawPoint {
                sawPoint = true
            } else if Self.isDigit(byte) {
                guard digits < 15 else { return nil }
                mantissa = mantissa * 10 + UInt64(byte - 48)
                digits += 1
                if sawPoint { fractionDigits += 1 }
            } else {
                break
            }
            position += 1
        }
        guard digits > 0, isAtFieldEnd else { return nil }
        var scale: Double = 1
        for _ in 0..<fractionDigits { scale *= 10 }
        return Double(mantissa) / scale
    }

    /// Whether the cursor is at a blank, a newline or the end (where a field ends).
    var isAtFieldEnd: Bool {
        guard let byte = current else { return true }
        return Self.isBlank(byte) || byte == 10
    }

    /// After blanks, skips one field (a run of non-blank, non-newline bytes); false when
    /// there is no field before the end of the line.
    @discardableResult
    mutating func skipField() -> Bool {
        skipBlanks()
        let start = position
        while position < bytes.count, !Self.isBlank(bytes[position]), bytes[position] != 10 { position += 1 }
        return position > start
    }

    /// After blanks, the range of one field (possibly empty).
    mutating func field() -> Range<Int> {
        skipBlanks()
        let start = position
        while position < bytes.count, !Self.isBlank(bytes[position]), bytes[position] != 10 { position += 1 }
        return start..<position
    }

    /// Moves past the next newline (or to the end); false when already at the end.
    @discardableResult
    mutating func nextLine() -> Bool {
        guard position < bytes.count else { return false }
        position = min(lineEnd + 1, bytes.count)
        return true
    }

    /// The offset of the next newline from the cursor, or the end. (`memchr`: the per-tick
    /// files are scanned line by line, ~70 KB of `status` text per tick for 50 processes.)
    var lineEnd: Int {
        guard position < bytes.count, let base = bytes.baseAddress else { return bytes.count }
        guard let newline = memchr(base + position, 10, bytes.count - position) else { return bytes.count }
        return base.distance(to: newline.assumingMemoryBound(to: UInt8.self))
    }

    /// Whether the bytes at the cursor are `prefix`.
    func hasPrefix(_ prefix: StaticString) -> Bool {
        prefix.withUTF8Buffer { p in
            guard bytes.count - position >= p.count else { return false }
            for i in 0..<p.count where bytes[position + i] != p[i] { return false }
            return true
        }
    }

    /// Skips `prefix` if the bytes at the cursor are it.
    mutating func skip(_ prefix: StaticString) -> Bool {
        guard hasPrefix(prefix) else { return false }
        position += prefix.utf8CodeUnitCount
        return true
    }

    /// Whether `range` holds exactly `word`.
    func range(_ range: Range<Int>, equals word: StaticString) -> Bool {
        word.withUTF8Buffer { w in
            guard range.count == w.count, range.lowerBound >= 0, range.upperBound <= bytes.count else { return false }
            for i in 0..<w.count where bytes[range.lowerBound + i] != w[i] { return false }
            return true
        }
    }

    /// The text of `range` (for messages and the rare string field).
    func text(_ range: Range<Int>) -> String {
        let clamped = range.clamped(to: 0..<bytes.count)
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[clamped]), as: UTF8.self)
    }
}

extension ProcParse {
    /// Runs a byte parser over `text`: the parsers' `Substring` entry points (what the tests
    /// call) and the reader's buffer path share one implementation.
    static func withBytes<T>(_ text: Substring, _ body: (UnsafeBufferPointer<UInt8>) throws(SamplerError) -> T) throws(SamplerError) -> T {
        let contiguous = text.utf8.withContiguousStorageIfAvailable { bytes in
            Result { () throws(SamplerError) -> T in try body(bytes) }
        }
        if let contiguous { return try contiguous.get() }
        return try Array(text.utf8).withUnsafeBufferPointer { bytes in
            Result { () throws(SamplerError) -> T in try body(bytes) }
        }.get()
    }
}
