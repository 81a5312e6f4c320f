/// Pure parsers of the kernel's text files, one `parse…(_ text: Substring)` per format.
///
/// They never touch the file system, so the tests feed them real files captured from a
/// machine (and hand-written v2 files from the kernel documentation), truncated and broken
/// copies included: every malformed input throws `SamplerError` with code `.malformed`,
/// never traps. Readers (`ProcReader`) do the I/O and call these.
package enum ProcParse {
    /// Splits on runs of spaces and tabs. Works on UTF-8 bytes: splitting on `Character`s
    /// runs grapheme breaking and made parsing cost more than the syscalls.
    @inline(__always)
    static func fields(_ line: Substring) -> [Substring] {
        line.utf8.split(whereSeparator: { $0 == 32 || $0 == 9 }).map { Substring($0) }
    }

    @inline(__always)
    static func lines(_ text: Substring) -> [Substring] {
        text.utf8.split(separator: 10).map { Substring($0) }
    }

    /// A decimal unsigned value, or a `.malformed` error naming the file.
    @inline(__always)
    static func unsigned(_ field: Substring, _ what: String) throws(SamplerError) -> UInt64 {
        guard let value = UInt64(field) else { throw SamplerError.malformed(what, "not a number: \(field.prefix(32))") }
        return value
    }

    @inline(__always)
    static func signed(_ field: Substring, _ what: String) throws(SamplerError) -> Int64 {
        guard let value = Int64(field) else { throw SamplerError.malformed(what, "not a number: \(field.prefix(32))") }
        return value
    }

    /// `key value` lines (cgroup `cpu.stat`, `memory.events`, `/proc/vmstat`).
    static func parseFlatKeyed(_ text: Substring, what: String) throws(SamplerError) -> [Substring: UInt64] {
        var result: [Substring: UInt64] = [:]
        for line in lines(text) {
            let parts = fields(line)
            guard parts.count == 2 else { throw SamplerError.malformed(what, "expected 'key value', got '\(line.prefix(40))'") }
            result[parts[0]] = try unsigned(parts[1], what)
        }
        if result.isEmpty { throw SamplerError.malformed(what, "empty") }
        return result
    }
}
